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

use crate::local::{self, LOCAL};
use crate::region::Region;
use std::alloc::Layout;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::*;

/// A pre-allocated region that serves allocations while entered.
pub struct Workspace {
    inner: Box<Region>,
    /// The region belongs to the caller ([`Workspace::over`]): never freed here.
    external: bool,
}

// SAFETY: the region pointer is owned by the workspace; every shared field is
// an atomic, and only the thread that owns the region (claimed atomically in
// `enter`) carves from it, whichever threads hold guards.
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
        let inner = local::with_busy(|| Box::new(Region::new(region, layout.size())));
        Some(Workspace {
            inner,
            external: false,
        })
    }

    /// A workspace over memory the caller owns, e.g. a buffer it mapped
    /// with `mmap`: allocations made while it is entered are carved from
    /// `[ptr, ptr + len)`. The memory is never freed by the workspace. The
    /// tracker counts what is carved from it (under the tags current at
    /// each allocation), not the region itself, which it never allocated.
    ///
    /// Returns `None` if `ptr` is null or not 64-byte aligned.
    ///
    /// ```
    /// let mut buf = vec![0u64; 1 << 14]; // 128 KiB, 8-byte aligned
    /// let p = buf.as_mut_ptr().cast::<u8>();
    /// let (ptr, len) = if (p as usize) % 64 == 0 { (p, 1 << 17) } else {
    ///     let skip = 64 - (p as usize) % 64; (unsafe { p.add(skip) }, (1 << 17) - skip) };
    /// // SAFETY: `buf` outlives `ws` and is used for nothing else meanwhile.
    /// let mut ws = unsafe { arenaprof_alloc::Workspace::over(ptr, len) }.unwrap();
    /// {
    ///     let _scope = ws.enter();
    ///     drop(vec![1u8; 4096]);
    /// }
    /// drop(ws);
    /// drop(buf);
    /// ```
    ///
    /// # Safety
    /// `[ptr, ptr + len)` must be valid for reads and writes and used for
    /// nothing else until the workspace is dropped and every block carved
    /// from it has been freed.
    pub unsafe fn over(ptr: *mut u8, len: usize) -> Option<Workspace> {
        if ptr.is_null() || (ptr as usize) % 64 != 0 {
            return None;
        }
        let inner = local::with_busy(|| Box::new(Region::new(ptr, len)));
        Some(Workspace {
            inner,
            external: true,
        })
    }

    /// Serves this thread's allocations from the region until the guard drops.
    /// Scopes nest: the previous workspace (if any) is restored on drop.
    ///
    /// One thread carves at a time: if a guard on another thread is still
    /// alive (or was forgotten), this thread's requests overflow to the
    /// inner allocator instead, and are counted as overflows.
    pub fn enter(&mut self) -> WorkspaceGuard<'_> {
        let ws: *const Region = &*self.inner;
        let me = local::token();
        let owned = self.inner.enter(me);
        let prev = LOCAL.try_with(|l| l.set_ws(ws)).unwrap_or(std::ptr::null());
        WorkspaceGuard {
            ws,
            prev,
            me,
            owned,
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

    /// Bytes besides its size that the first block of alignment `align`
    /// (at most 64, the region's own alignment) takes in a region: the block
    /// head rounded up to `align`, and the 8-byte trailer header of blocks
    /// aligned above 8. A region of `size + Workspace::block_slack(align)`
    /// bytes serves one such block of `size` bytes.
    ///
    /// ```
    /// use arenaprof_alloc::Workspace;
    /// assert_eq!(Workspace::block_slack(64), 72);
    /// assert_eq!(Workspace::block_slack(8), 24);
    /// ```
    pub const fn block_slack(align: usize) -> usize {
        crate::region::block_slack(align)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if self.inner.live_blocks.load(Acquire) != 0 || self.inner.entered.load(Acquire) != 0 {
            // Blocks still point into the region, or a guard was forgotten
            // (`mem::forget`) and a thread may still serve allocations from
            // it: leaking region and record is the only safe choice.
            let inner = local::with_busy(|| {
                std::mem::replace(
                    &mut self.inner,
                    Box::new(Region::new(std::ptr::null_mut(), 0)),
                )
            });
            std::mem::forget(inner);
            return;
        }
        self.inner.unregister();
        if self.external {
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

/// Restores the previous workspace (or none) when dropped.
pub struct WorkspaceGuard<'a> {
    ws: *const Region,
    prev: *const Region,
    me: usize,
    owned: bool,
    _ws: PhantomData<&'a mut Workspace>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for WorkspaceGuard<'_> {
    fn drop(&mut self) {
        let _ = LOCAL.try_with(|l| l.set_ws(self.prev));
        // SAFETY: the workspace outlives its guard (the guard borrows it).
        unsafe { &*self.ws }.leave(self.me, self.owned);
    }
}
