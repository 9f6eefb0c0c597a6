//! The region behind a scoped [`Workspace`](crate::Workspace): a bump
//! allocator over one pre-allocated block, carved only by its owner thread.
//!
//! Safety from safe code rests on ownership, not on guards being dropped: a
//! `Workspace` is `Send + Sync` and a guard can be forgotten, so two threads
//! may both point at one region. Only the thread that holds [`Region::owner`]
//! carves; any other thread's requests overflow to the inner allocator. The
//! owner is claimed by the first `enter` and given back when that thread's
//! last guard drops (never, if one was forgotten: then only that thread
//! carves, for good).
//!
//! Blocks are carved by bumping `used`; freeing the topmost block rolls
//! `used` back to where that block started, and freeing the last live block
//! rewinds to 0, so a long-lived block pins only the space below it.

use crate::header::{self, Header, FLAG_WORKSPACE};
use std::alloc::Layout;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

/// Bytes in front of each block: the region pointer, the bump offset the
/// block was carved at, and the tracker's header (last, right before the
/// block). Blocks aligned above 8 keep the header behind them instead, as
/// every tracked block of that alignment does (see [`header`]), and the word
/// in front unused.
const BLOCK_HEAD: usize = 24;

/// Bytes a block aligned to `align` takes besides its size when it is the
/// first block of a region whose base is aligned to `align` (regions are
/// 64-aligned): the block head rounded up to the alignment, plus the
/// trailer header that blocks aligned above 8 carry.
pub(crate) const fn block_slack(align: usize) -> usize {
    let a = if align < 8 { 8 } else { align };
    let head = BLOCK_HEAD.div_ceil(a) * a;
    if header::is_wide(a) {
        head + header::HEADER_SIZE
    } else {
        head
    }
}

/// Bytes a block of `layout` takes behind its `size`: its trailer header.
fn tail(layout: Layout) -> usize {
    if header::is_wide(layout.align()) {
        header::HEADER_SIZE
    } else {
        0
    }
}

/// Regions that can be registered at once; a workspace made past this
/// serves nothing from its region (every request overflows).
const MAX_REGIONS: usize = 256;
#[allow(clippy::declare_interior_mutable_const)]
const NO_RANGE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
/// `[start, end)` of each registered region (0, 0 when the slot is free).
static RANGES: [[AtomicUsize; 2]; MAX_REGIONS] = [NO_RANGE; MAX_REGIONS];
/// Registered regions.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// One past the highest slot ever used: lookups scan only that far.
static HIGH: AtomicUsize = AtomicUsize::new(0);

/// Whether any region is registered: without a header, a free can tell a
/// block carved from a region only by its address, and checks the
/// registered ranges only while there are any.
#[inline(always)]
#[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
pub(crate) fn any() -> bool {
    LIVE.load(Relaxed) != 0
}

/// Whether `p` lies in a registered region.
#[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
pub(crate) fn contains(p: *const u8) -> bool {
    let p = p as usize;
    let high = HIGH.load(Acquire).min(MAX_REGIONS);
    RANGES[..high].iter().any(|r| {
        let start = r[0].load(Acquire);
        start != 0 && p >= start && p < r[1].load(Acquire)
    })
}

/// Registers `[start, start + len)`; the slot, or `None` when all are taken.
fn register(start: usize, len: usize) -> Option<usize> {
    let end = start.checked_add(len)?;
    for (i, r) in RANGES.iter().enumerate() {
        // A slot is claimed by its end (non-zero) and published by its start.
        if r[1].compare_exchange(0, end, AcqRel, Relaxed).is_ok() {
            HIGH.fetch_max(i + 1, AcqRel);
            r[0].store(start, Release);
            LIVE.fetch_add(1, AcqRel);
            return Some(i);
        }
    }
    None
}

/// A workspace's region and figures.
pub(crate) struct Region {
    pub(crate) region: *mut u8,
    pub(crate) capacity: usize,
    /// The region's slot in the registered ranges, or `usize::MAX`.
    slot: usize,
    /// Bump offset: the end of the topmost live block.
    pub(crate) used: AtomicUsize,
    pub(crate) live_blocks: AtomicUsize,
    /// Guards alive (or forgotten), on any thread.
    pub(crate) entered: AtomicUsize,
    /// Token of the thread that may carve (0: none).
    pub(crate) owner: AtomicUsize,
    /// The owner's guards alive (or forgotten); written by the owner only.
    pub(crate) owner_depth: AtomicUsize,
    pub(crate) peak_used: AtomicUsize,
    pub(crate) served_count: AtomicU64,
    pub(crate) served_bytes: AtomicU64,
    pub(crate) overflow_count: AtomicU64,
    pub(crate) overflow_bytes: AtomicU64,
}

impl Region {
    /// A region over `capacity` bytes at `region` (null and 0 for none).
    pub(crate) fn new(region: *mut u8, capacity: usize) -> Region {
        let slot = if region.is_null() || capacity == 0 {
            None
        } else {
            register(region as usize, capacity)
        };
        Region {
            region,
            capacity,
            slot: slot.unwrap_or(usize::MAX),
            used: AtomicUsize::new(0),
            live_blocks: AtomicUsize::new(0),
            entered: AtomicUsize::new(0),
            owner: AtomicUsize::new(0),
            owner_depth: AtomicUsize::new(0),
            peak_used: AtomicUsize::new(0),
            served_count: AtomicU64::new(0),
            served_bytes: AtomicU64::new(0),
            overflow_count: AtomicU64::new(0),
            overflow_bytes: AtomicU64::new(0),
        }
    }

    /// Notes a guard for thread `me` (a non-zero token unique among live
    /// threads); returns whether `me` owns the region, i.e. may carve.
    pub(crate) fn enter(&self, me: usize) -> bool {
        self.entered.fetch_add(1, AcqRel);
        let owned = match self.owner.compare_exchange(0, me, AcqRel, Acquire) {
            Ok(_) => true,
            Err(cur) => cur == me,
        };
        if owned {
            self.owner_depth.fetch_add(1, Relaxed);
        }
        owned
    }

    /// Drops a guard of thread `me`, taken when [`enter`](Self::enter)
    /// returned `owned`.
    pub(crate) fn leave(&self, me: usize, owned: bool) {
        if owned && self.owner_depth.fetch_sub(1, Relaxed) == 1 {
            let _ = self.owner.compare_exchange(me, 0, AcqRel, Relaxed);
        }
        self.entered.fetch_sub(1, AcqRel);
    }

    fn overflow(&self, size: usize) -> Option<*mut u8> {
        self.overflow_count.fetch_add(1, Relaxed);
        self.overflow_bytes.fetch_add(size as u64, Relaxed);
        None
    }
}

impl Region {
    /// Takes the region out of the registered ranges: before its memory is
    /// freed (after which its addresses may be handed out again), once no
    /// block carved from it is live.
    pub(crate) fn unregister(&mut self) {
        if let Some(r) = RANGES.get(self.slot) {
            r[0].store(0, Release);
            LIVE.fetch_sub(1, AcqRel);
            r[1].store(0, Release);
        }
        self.slot = usize::MAX;
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// Serves `layout` from region `ws` for thread `me`, or `None` (an overflow,
/// counted) when `me` is not the owner or the block does not fit.
#[inline(never)]
pub(crate) fn try_alloc(
    ws: *const Region,
    me: usize,
    layout: Layout,
    zeroed: bool,
) -> Option<*mut u8> {
    // SAFETY: a region set on a thread outlives every guard that set it: a
    // `Workspace` whose guards were forgotten leaks its region (see its Drop).
    let w = unsafe { &*ws };
    if w.owner.load(Acquire) != me || w.slot == usize::MAX {
        return w.overflow(layout.size());
    }
    if w.live_blocks.load(Acquire) == 0 {
        w.used.store(0, Relaxed);
    }
    let base = w.region as usize;
    let used = w.used.load(Acquire);
    let align = layout.align().max(8);
    let Some(user) = base
        .checked_add(used)
        .and_then(|s| s.checked_add(BLOCK_HEAD + align - 1))
        .map(|s| s & !(align - 1))
    else {
        return w.overflow(layout.size());
    };
    let end = match user.checked_add(layout.size() + tail(layout)) {
        Some(e) if e <= base + w.capacity => e,
        _ => return w.overflow(layout.size()),
    };
    let new_used = end - base;
    // Remote frees may roll `used` back concurrently; only a free of the
    // topmost block does, and that block is not this one.
    if w.used
        .compare_exchange(used, new_used, AcqRel, Acquire)
        .is_err()
    {
        return w.overflow(layout.size());
    }
    w.peak_used.fetch_max(new_used, Relaxed);
    w.live_blocks.fetch_add(1, AcqRel);
    w.served_count.fetch_add(1, Relaxed);
    w.served_bytes.fetch_add(layout.size() as u64, Relaxed);
    let user = user as *mut u8;
    // SAFETY: `user - 24 .. user + size + tail` lies inside the region
    // (checked above: `user >= base + used + 24`, `end <= capacity`); `user`
    // is at least 8-aligned, so the two words in front are aligned, and the
    // header goes where `header::write` puts it for this layout.
    unsafe {
        user.sub(BLOCK_HEAD).cast::<*const Region>().write(ws);
        user.sub(BLOCK_HEAD - 8).cast::<usize>().write(used);
        header::write(
            user,
            layout,
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

/// Frees a block carved from a region, on any thread.
pub(crate) fn dealloc(user: *mut u8, layout: Layout) {
    // SAFETY: region blocks store their region pointer and start offset in
    // the 24 bytes in front (written by `try_alloc`).
    let (ws, start) = unsafe {
        (
            user.sub(BLOCK_HEAD).cast::<*const Region>().read(),
            user.sub(BLOCK_HEAD - 8).cast::<usize>().read(),
        )
    };
    // SAFETY: a workspace (or its leaked region) outlives its live blocks.
    if let Some(w) = unsafe { ws.as_ref() } {
        let end = (user as usize + layout.size() + tail(layout)).wrapping_sub(w.region as usize);
        // The topmost block gives its space back at once.
        let _ = w.used.compare_exchange(end, start, AcqRel, Relaxed);
        w.live_blocks.fetch_sub(1, AcqRel);
    }
}
