//! Scoped workspaces: a pre-allocated region that serves one thread's
//! allocations while a scope is active.
//!
//! This is how a third-party kernel that allocates internally (matrixmultiply
//! allocates its packing buffer on every call) runs with zero traffic to the
//! inner allocator and a hard cap. The region itself is one allocation, made
//! under the tag current when [`Workspace::new`] runs, so its bytes show up
//! under that tag (e.g. `Tag::GEMM_WORKSPACE`).
//!
//! Blocks are carved by bumping an offset; when the last block is freed the
//! next allocation starts again at offset 0. A request that does not fit is an
//! *overflow*: it is served by the inner allocator as usual and counted.
//!
//! ```
//! use arenaprof_alloc::Workspace;
//! let mut ws = Workspace::new(1 << 20).unwrap();
//! {
//!     let _scope = ws.enter();
//!     let v = vec![0u8; 4096]; // served from the workspace
//!     drop(v);
//! }
//! // The counts only move when the tracker is the global allocator.
//! assert!(ws.stats().served_count <= 1);
//! ```

use crate::header::{self, Header, FLAG_WORKSPACE};
use crate::local::LOCAL;
use std::alloc::Layout;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

/// Bytes in front of each workspace block: the owner pointer and the header.
const BLOCK_HEAD: usize = 16;

pub(crate) struct WsInner {
    region: *mut u8,
    capacity: usize,
    /// Bump offset; written only by the thread the workspace is entered on.
    used: AtomicUsize,
    live_blocks: AtomicUsize,
    /// Guards alive (or forgotten) that made this the active workspace.
    entered: AtomicUsize,
    peak_used: AtomicUsize,
    served_count: AtomicU64,
    served_bytes: AtomicU64,
    overflow_count: AtomicU64,
    overflow_bytes: AtomicU64,
}

/// A pre-allocated region that serves allocations while entered.
pub struct Workspace {
    inner: Box<WsInner>,
}

// SAFETY: the region pointer is owned by the workspace; all shared counters
// are atomics, and bumping happens only on the thread that holds `&mut self`
// through `enter`.
unsafe impl Send for Workspace {}
// SAFETY: `&Workspace` only reads atomics (`stats`).
unsafe impl Sync for Workspace {}

/// Figures of one workspace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkspaceStats {
    /// Size of the region.
    pub capacity: usize,
    /// Bytes in use by live blocks' bump range right now.
    pub used: usize,
    /// Highest bump offset reached.
    pub peak_used: usize,
    /// Live blocks carved from the region.
    pub live_blocks: usize,
    /// Allocations served from the region.
    pub served_count: u64,
    /// Bytes served from the region.
    pub served_bytes: u64,
    /// Allocations that did not fit and went to the inner allocator.
    pub overflow_count: u64,
    /// Bytes of those allocations.
    pub overflow_bytes: u64,
}

impl Workspace {
    /// Allocates a region of `capacity` bytes under the current tag, or `None`
    /// if the allocator refused.
    pub fn new(capacity: usize) -> Option<Workspace> {
        let layout = Layout::from_size_align(capacity.max(64), 64).ok()?;
        // SAFETY: the layout has a non-zero size.
        let region = unsafe { std::alloc::alloc(layout) };
        if region.is_null() {
            return None;
        }
        // The bookkeeping is the profiler's own; only the region is tagged.
        let inner = crate::local::with_busy(|| {
            Box::new(WsInner {
                region,
                capacity: layout.size(),
                ..empty()
            })
        });
        Some(Workspace { inner })
    }

    /// Serves this thread's allocations from the region until the guard drops.
    /// Scopes nest: the previous workspace (if any) is restored on drop.
    pub fn enter(&mut self) -> WorkspaceGuard<'_> {
        let me: *const WsInner = &*self.inner;
        self.inner.entered.fetch_add(1, AcqRel);
        let prev = LOCAL.try_with(|l| l.set_ws(me)).unwrap_or(std::ptr::null());
        WorkspaceGuard {
            ws: me,
            prev,
            _ws: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// Current figures.
    pub fn stats(&self) -> WorkspaceStats {
        let w = &self.inner;
        WorkspaceStats {
            capacity: w.capacity,
            used: w.used.load(Relaxed),
            peak_used: w.peak_used.load(Relaxed),
            live_blocks: w.live_blocks.load(Relaxed),
            served_count: w.served_count.load(Relaxed),
            served_bytes: w.served_bytes.load(Relaxed),
            overflow_count: w.overflow_count.load(Relaxed),
            overflow_bytes: w.overflow_bytes.load(Relaxed),
        }
    }

    /// Size of the region.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if self.inner.live_blocks.load(Acquire) != 0 || self.inner.entered.load(Acquire) != 0 {
            // Blocks still point into the region, or a guard was forgotten
            // (`mem::forget`) and a thread may still serve allocations from
            // it: leaking region and record is the only safe choice.
            let inner =
                crate::local::with_busy(|| std::mem::replace(&mut self.inner, Box::new(empty())));
            std::mem::forget(inner);
            return;
        }
        let layout = Layout::from_size_align(self.inner.capacity, 64);
        if let Ok(layout) = layout {
            // SAFETY: the region was allocated with this layout in `new` and
            // no block carved from it is live.
            unsafe { std::alloc::dealloc(self.inner.region, layout) };
        }
    }
}

fn empty() -> WsInner {
    WsInner {
        region: std::ptr::null_mut(),
        capacity: 0,
        used: AtomicUsize::new(0),
        live_blocks: AtomicUsize::new(0),
        entered: AtomicUsize::new(0),
        peak_used: AtomicUsize::new(0),
        served_count: AtomicU64::new(0),
        served_bytes: AtomicU64::new(0),
        overflow_count: AtomicU64::new(0),
        overflow_bytes: AtomicU64::new(0),
    }
}

/// Restores the previous workspace (or none) when dropped.
pub struct WorkspaceGuard<'a> {
    ws: *const WsInner,
    prev: *const WsInner,
    _ws: PhantomData<&'a mut Workspace>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for WorkspaceGuard<'_> {
    fn drop(&mut self) {
        let _ = LOCAL.try_with(|l| l.set_ws(self.prev));
        // SAFETY: the workspace outlives its guard (the guard borrows it).
        unsafe { &*self.ws }.entered.fetch_sub(1, AcqRel);
    }
}

/// Serves `layout` from the active workspace, or `None` (overflow counted).
#[inline(never)]
pub(crate) fn try_alloc(ws: *const WsInner, layout: Layout, zeroed: bool) -> Option<*mut u8> {
    // SAFETY: an active workspace outlives its guard, and the guard is what
    // set this pointer on this thread.
    let w = unsafe { &*ws };
    if w.live_blocks.load(Acquire) == 0 {
        w.used.store(0, Relaxed);
    }
    let used = w.used.load(Relaxed);
    let align = layout.align().max(8);
    let start = (w.region as usize)
        .checked_add(used)?
        .checked_add(BLOCK_HEAD)?;
    let user = start.checked_add(align - 1)? & !(align - 1);
    let end = user.checked_add(layout.size())?;
    if end > w.region as usize + w.capacity {
        w.overflow_count.fetch_add(1, Relaxed);
        w.overflow_bytes.fetch_add(layout.size() as u64, Relaxed);
        return None;
    }
    let new_used = end - w.region as usize;
    w.used.store(new_used, Relaxed);
    w.peak_used.fetch_max(new_used, Relaxed);
    w.live_blocks.fetch_add(1, AcqRel);
    w.served_count.fetch_add(1, Relaxed);
    w.served_bytes.fetch_add(layout.size() as u64, Relaxed);
    let user = user as *mut u8;
    // SAFETY: `user - 16 .. user + size` lies inside the region (checked
    // above); `user` is at least 8-aligned, so both words are aligned.
    unsafe {
        user.sub(BLOCK_HEAD).cast::<*const WsInner>().write(ws);
        header::write(
            user,
            Header {
                tag: 0,
                flags: FLAG_WORKSPACE,
                slot: 0,
            },
        );
        if zeroed {
            std::ptr::write_bytes(user, 0, layout.size());
        }
    }
    Some(user)
}

/// Frees a block carved from a workspace.
pub(crate) fn dealloc(user: *mut u8, _h: Header) {
    // SAFETY: workspace blocks store their owner pointer 16 bytes in front.
    let ws = unsafe { user.sub(BLOCK_HEAD).cast::<*const WsInner>().read() };
    // SAFETY: a workspace (or its leaked inner) outlives its live blocks.
    if let Some(w) = unsafe { ws.as_ref() } {
        w.live_blocks.fetch_sub(1, AcqRel);
    }
}
