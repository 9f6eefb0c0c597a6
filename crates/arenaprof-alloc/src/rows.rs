//! Counter rows: one per thread, one cell per tag.
//!
//! A row belongs to the thread that registered it. The owner updates its own
//! cells with plain loads and stores (no lock prefix: this is what keeps the
//! tracker close to bare jemalloc); frees of the owner's blocks made on other
//! threads go to separate `remote_*` fields with atomic adds. Live bytes of a
//! cell are `allocated - freed_local - freed_remote`, exact at any quiescent
//! moment.
//!
//! Tag totals across threads are also kept in [`totals`], fed in batches of at
//! most [`FLUSH_BYTES`] per thread and tag, so the tag peak is exact to within
//! `FLUSH_BYTES` per thread that holds a partial batch, and exact for any single
//! allocation of at least `FLUSH_BYTES`.

use crate::capacity::{BUCKETS, FLUSH_BYTES, MAX_ROWS, MAX_TAGS};
use crate::clock::now_ns;
use crate::counts::{self, own_add};
use crate::mmap::map_zeroed;
use crate::ring;
use crate::spin::SpinFlag;
use crate::totals::{self, TAGS_USED, TOTAL};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::*};

/// Counters of one (thread, tag) cell.
///
/// The first cache line is written only by the owning thread; the second holds
/// the fields other threads write (remote frees) and rarely-written ones.
/// Counts that follow from others are not stored: allocations are the sum of
/// the histogram, and bytes freed on the owning thread are
/// `allocated_bytes - live - remote_seen`.
///
/// The owner's hot path compares `live` with one bound per direction: above
/// `hi` (a new peak, or a batch to publish) or below `lo` (a batch to publish)
/// it takes the cold `alloc_edge` or `free_edge`, which moves the bounds.
#[repr(C, align(128))]
pub(crate) struct Cell {
    pub(crate) allocated_bytes: AtomicU64,
    /// Owner's view of live bytes: exact except for remote frees not yet folded in.
    pub(crate) live: AtomicU64,
    /// `min(peak_bytes, published + FLUSH_BYTES - 1)`: `live` above it is an edge.
    pub(crate) hi: AtomicU64,
    /// `published - FLUSH_BYTES + 1` (as i64): `live` below it is an edge.
    pub(crate) lo: AtomicU64,
    pub(crate) free_count: AtomicU64,
    /// Part of `live` already added to `GLOBAL`.
    pub(crate) published: AtomicU64,
    /// The sampling epoch while backtrace sampling is on, else 0: a copy of
    /// the global switch in every cell, so the hot path reads a line it
    /// touches anyway (and compares its countdown's epoch with it, without
    /// a global load). Written by [`set_sampling_flags`] and registration,
    /// read by the owner.
    pub(crate) sampling: AtomicU64,
    /// This cell's size histogram (in the row's `hists`), set at registration.
    pub(crate) hist: AtomicPtr<[AtomicU64; BUCKETS]>,
    // -- second line --
    pub(crate) peak_bytes: AtomicU64,
    /// `remote_freed_bytes` already folded into `live`.
    pub(crate) remote_seen: AtomicU64,
    pub(crate) realloc_count: AtomicU64,
    pub(crate) failed_count: AtomicU64,
    pub(crate) peak_at_ns: AtomicU64,
    pub(crate) remote_freed_bytes: AtomicU64,
    pub(crate) remote_free_count: AtomicU64,
    /// Largest allocation that took the edge path: every allocation of at
    /// least `2 * FLUSH_BYTES` does, so it is the exact largest size whenever
    /// that is at least 128 KiB.
    pub(crate) max_size: AtomicU64,
}

/// The cell a thread's hot path sees while it may not use its own (not
/// registered, busy, in a workspace, or on the shared row): `hi` is the
/// lowest value, so every allocation takes the edge path, which sends it on
/// to the slow path. Never written.
pub(crate) static CLOSED: Cell = Cell {
    allocated_bytes: AtomicU64::new(0),
    live: AtomicU64::new(0),
    hi: AtomicU64::new(i64::MIN as u64),
    lo: AtomicU64::new(i64::MIN as u64),
    free_count: AtomicU64::new(0),
    published: AtomicU64::new(0),
    sampling: AtomicU64::new(0),
    hist: AtomicPtr::new(std::ptr::null_mut()),
    peak_bytes: AtomicU64::new(0),
    remote_seen: AtomicU64::new(0),
    realloc_count: AtomicU64::new(0),
    failed_count: AtomicU64::new(0),
    peak_at_ns: AtomicU64::new(0),
    remote_freed_bytes: AtomicU64::new(0),
    remote_free_count: AtomicU64::new(0),
    max_size: AtomicU64::new(0),
};

/// One thread's counters.
#[repr(C)]
pub(crate) struct Row {
    pub(crate) cells: [Cell; MAX_TAGS],
    /// Allocations per size bucket (see [`bucket`]), one histogram per cell.
    pub(crate) hists: [[AtomicU64; BUCKETS]; MAX_TAGS],
    pub(crate) slot: u32,
    pub(crate) shared: bool,
    pub(crate) alive: AtomicBool,
    pub(crate) os_tid: AtomicU64,
    pub(crate) name: [AtomicU64; 2],
}

#[allow(clippy::declare_interior_mutable_const)]
const NULL_ROW: AtomicPtr<Row> = AtomicPtr::new(std::ptr::null_mut());
static ROWS: [AtomicPtr<Row>; MAX_ROWS] = [NULL_ROW; MAX_ROWS];
static NEXT_SLOT: AtomicU32 = AtomicU32::new(0);

/// Size-histogram bucket: 4 sub-buckets per power of two, `4 * lg + the two
/// bits after the leading one`. Sizes 1, 2 and 3 have buckets 0, 4 and 6.
///
/// Up to [`SMALL_SIZES`] bytes it is one load from a table (the allocation
/// path's common case: a tight loop took 1.13x → 1.11x bare jemalloc's
/// time, 1.25x → 1.21x with the block written; docs/performance.md). Above,
/// on x86-64 it is read off the size converted to `f64` (the exponent is
/// `lg`, the top two mantissa bits the sub-bucket): four instructions, no
/// branch; exact up to 2^53 bytes, beyond which a size can round into the
/// next bucket. Elsewhere it is [`bucket_portable`].
#[inline(always)]
pub(crate) fn bucket(size: usize) -> usize {
    if size <= SMALL_SIZES {
        return SMALL_BUCKETS[size] as usize;
    }
    bucket_large(size)
}

/// Sizes whose bucket [`bucket`] reads from a table.
const SMALL_SIZES: usize = 1024;
/// The bucket of every size up to [`SMALL_SIZES`], computed at compile time
/// with [`bucket_portable`] (a `const`, so each caller's crate carries its
/// own copy, reached without the GOT).
const SMALL_BUCKETS: [u8; SMALL_SIZES + 1] = {
    let mut t = [0u8; SMALL_SIZES + 1];
    let mut s = 0;
    while s <= SMALL_SIZES {
        t[s] = bucket_portable(s as u64) as u8;
        s += 1;
    }
    t
};

/// [`bucket`] without floating point: `(4 * size) >> lg` gives the leading
/// bit and the next two, also when `lg < 2`. At most 255 (`lg` < 64).
const fn bucket_portable(s: u64) -> usize {
    let lg = 63 - (s | 1).leading_zeros() as u64;
    let sub = (s << 2 >> lg) & 3;
    ((lg << 2) | sub) as usize
}

/// [`bucket`] of a size above [`SMALL_SIZES`].
#[inline(always)]
fn bucket_large(size: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let bits: u64;
        // SAFETY: register-only SSE2 instructions (x86-64 baseline). The
        // register is zeroed first so the conversion does not wait on
        // whatever last wrote it. Sizes are at most isize::MAX, so the signed
        // conversion is enough.
        unsafe {
            std::arch::asm!(
                "xorps {x}, {x}",
                "cvtsi2sd {x}, {s}",
                "movq {o}, {x}",
                s = in(reg) size,
                o = lateout(reg) bits,
                x = out(xmm_reg) _,
                options(pure, nomem, nostack, preserves_flags)
            )
        };
        ((bits >> 50).wrapping_sub(1023 << 2) as usize) & (BUCKETS - 1)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        bucket_portable(size as u64)
    }
}

/// Smallest size that falls in bucket `b`.
pub(crate) fn bucket_lower(b: usize) -> u64 {
    let b = b as u64;
    if b < 8 {
        return match b {
            4 | 5 => 2,
            6 | 7 => 3,
            _ => 1,
        };
    }
    let lg = b >> 2;
    let sub = b & 3;
    (1u64 << lg) | (sub << (lg - 2))
}

impl Row {
    /// Registers a new row for the calling thread and returns it, or `None`
    /// if the OS refused memory. Called once per thread, while the tracker is
    /// busy.
    pub(crate) fn register() -> Option<&'static Row> {
        let slot = NEXT_SLOT.fetch_add(1, Relaxed);
        if slot as usize >= MAX_ROWS - 1 {
            NEXT_SLOT.store(MAX_ROWS as u32 - 1, Relaxed);
            return shared_row();
        }
        let row = map_zeroed(std::mem::size_of::<Row>()).cast::<Row>();
        if row.is_null() {
            return shared_row();
        }
        // SAFETY: `row` is a fresh zeroed mapping of the right size; all-zero is
        // a valid `Row` (atomics at zero, `shared = false`), and no other thread
        // can see it before it is published in `ROWS` below.
        unsafe {
            (*row).slot = slot;
            (*row).alive.store(true, Relaxed);
            (*row).os_tid.store(os_tid(), Relaxed);
            (*row).name[0].store(thread_name_word(0), Relaxed);
            (*row).name[1].store(thread_name_word(1), Relaxed);
        }
        init_row(row);
        Some(publish_row(slot as usize, row))
    }

    /// The thread slot of this row.
    pub(crate) fn slot(&self) -> u32 {
        self.slot
    }

    /// The cell of `tag`.
    #[inline(always)]
    pub(crate) fn cell(&self, tag: u16) -> &Cell {
        &self.cells[tag as usize & (MAX_TAGS - 1)]
    }

    /// Counts an allocation of `size` bytes under `tag`.
    #[inline(always)]
    pub(crate) fn on_alloc(&self, tag: u16, size: usize) {
        if self.shared {
            return self.shared_change(tag, size as i64, true);
        }
        self.cell(tag).own_alloc(tag, size);
    }

    /// Counts a free, on the owning thread, of `size` bytes made under `tag`.
    #[inline(always)]
    pub(crate) fn on_free_local(&self, tag: u16, size: usize) {
        if self.shared {
            return self.shared_change(tag, -(size as i64), false);
        }
        self.cell(tag).own_free(tag, size);
    }

    /// The overflow row's path: every field updated atomically, every change
    /// published at once.
    #[cold]
    fn shared_change(&self, tag: u16, delta: i64, alloc: bool) {
        let c = self.cell(tag);
        let size = delta.unsigned_abs();
        if alloc {
            c.allocated_bytes.fetch_add(size, Relaxed);
            c.hist()[bucket(size as usize)].fetch_add(1, Relaxed);
            let live = c
                .live
                .fetch_add(size, Relaxed)
                .wrapping_add(size)
                .wrapping_sub(c.remote_freed_bytes.load(Relaxed));
            if live > c.peak_bytes.fetch_max(live, Relaxed) {
                c.peak_at_ns.store(now_ns(), Relaxed);
            }
            c.max_size.fetch_max(size, Relaxed);
        } else {
            c.live.fetch_sub(size, Relaxed);
            c.free_count.fetch_add(1, Relaxed);
        }
        publish(tag, delta);
    }

    /// Counts a free, on another thread, of `size` bytes made under `tag`.
    pub(crate) fn on_free_remote(&self, tag: u16, size: usize) {
        let c = self.cell(tag);
        counts::remote_free(&c.remote_freed_bytes, size as u64);
        c.remote_free_count.fetch_add(1, Relaxed);
        totals::global(tag).live.fetch_sub(size as i64, Relaxed);
        TOTAL.live.fetch_sub(size as i64, Relaxed);
    }

    /// Publishes every pending batch of this row (owner thread only).
    pub(crate) fn flush(&self) {
        if self.shared {
            return;
        }
        for (tag, c) in self.cells.iter().enumerate() {
            publish_cell(c, tag as u16);
            set_bounds(c);
        }
    }

    /// Counts the new block of a reallocation (`new` bytes) in this cell: an
    /// allocation that is also a reallocation. The old block was counted as a
    /// free in its own cell, so live counts stay exact per cell.
    #[inline(always)]
    pub(crate) fn on_realloc_in(&self, tag: u16, new: usize) {
        self.on_alloc(tag, new);
        self.alloc_to_realloc(tag);
    }

    /// Marks the allocation just counted under `tag` as a reallocation
    /// (used when a realloc is carried out as allocate, copy, free).
    pub(crate) fn alloc_to_realloc(&self, tag: u16) {
        self.cell(tag).realloc_count.fetch_add(1, Relaxed);
    }

    /// Counts a request the inner allocator refused.
    #[cold]
    pub(crate) fn on_failed(&self, tag: u16) {
        self.cell(tag).on_failed();
    }
}

impl Cell {
    /// Counts an allocation of `size` bytes in a cell of a thread's own row:
    /// the hot path, plain stores only. Owning thread only.
    #[inline(always)]
    pub(crate) fn own_alloc(&self, tag: u16, size: usize) {
        let size = size as u64;
        own_add(&self.allocated_bytes, size);
        own_add(&self.hist()[bucket(size as usize)], 1);
        let live = self.live.load(Relaxed).wrapping_add(size);
        self.live.store(live, Relaxed);
        if live as i64 > self.hi.load(Relaxed) as i64 {
            alloc_edge(self, tag, size);
        }
    }

    /// [`own_alloc`](Self::own_alloc) when it stays within the bounds:
    /// returns `false`, counting nothing, when it would reach an edge.
    #[inline(always)]
    pub(crate) fn own_alloc_quiet(&self, size: usize) -> bool {
        let size = size as u64;
        let live = self.live.load(Relaxed).wrapping_add(size);
        if live as i64 > self.hi.load(Relaxed) as i64 {
            return false;
        }
        self.live.store(live, Relaxed);
        own_add(&self.allocated_bytes, size);
        own_add(&self.hist()[bucket(size as usize)], 1);
        true
    }

    /// Takes back an [`own_alloc_quiet`](Self::own_alloc_quiet) of `size`
    /// bytes whose allocation failed.
    pub(crate) fn own_unalloc(&self, size: usize) {
        let size = size as u64;
        own_add(&self.live, size.wrapping_neg());
        own_add(&self.allocated_bytes, size.wrapping_neg());
        own_add(&self.hist()[bucket(size as usize)], u64::MAX);
    }

    /// Counts a free of `size` bytes in a cell of a thread's own row, on that
    /// thread: the hot path, plain stores only.
    #[inline(always)]
    pub(crate) fn own_free(&self, tag: u16, size: usize) {
        own_add(&self.free_count, 1);
        let live = self.live.load(Relaxed).wrapping_sub(size as u64);
        self.live.store(live, Relaxed);
        if (live as i64) < self.lo.load(Relaxed) as i64 {
            free_edge(self, tag, size as u64);
        }
    }

    /// [`own_free`](Self::own_free) when it stays within the bounds:
    /// returns `false`, counting nothing, when it would reach an edge.
    #[inline(always)]
    #[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
    pub(crate) fn own_free_quiet(&self, size: usize) -> bool {
        let live = self.live.load(Relaxed).wrapping_sub(size as u64);
        if (live as i64) < self.lo.load(Relaxed) as i64 {
            return false;
        }
        self.live.store(live, Relaxed);
        own_add(&self.free_count, 1);
        true
    }

    /// Counts a request the inner allocator refused.
    #[cold]
    pub(crate) fn on_failed(&self) {
        self.failed_count.fetch_add(1, Relaxed);
    }

    /// This cell's size histogram.
    #[inline(always)]
    pub(crate) fn hist(&self) -> &[AtomicU64; BUCKETS] {
        // SAFETY: `init_row` points every cell of a row at that row's own
        // histogram before the row is published, and published rows live for
        // `'static` (see `publish_row`). The `CLOSED` cell's is null, but its
        // bounds send every caller away before a histogram is touched.
        unsafe { &*self.hist.load(Relaxed) }
    }

    /// Allocations counted in this cell: the sum of its histogram.
    pub(crate) fn alloc_count(&self) -> u64 {
        self.hist().iter().map(|h| h.load(Relaxed)).sum()
    }

    /// Starts a peak measurement on the owner thread: the peak becomes the
    /// current live bytes (so the next rise above them is an edge) and the
    /// old peak and its time are returned for [`end_peak`](Self::end_peak).
    pub(crate) fn begin_peak(&self) -> (u64, u64) {
        let saved = (self.peak_bytes.load(Relaxed), self.peak_at_ns.load(Relaxed));
        // Below 0 on a thread that freed other threads' blocks (net flow):
        // every comparison of peaks is signed.
        self.peak_bytes.store(self.live.load(Relaxed), Relaxed);
        set_bounds(self);
        saved
    }

    /// Ends a peak measurement: returns the highest live bytes since
    /// [`begin_peak`](Self::begin_peak) and restores the lifetime peak.
    pub(crate) fn end_peak(&self, (peak, at): (u64, u64)) -> u64 {
        raise_peak(self, settle(self));
        let during = self.peak_bytes.load(Relaxed);
        if peak as i64 >= during as i64 {
            self.peak_bytes.store(peak, Relaxed);
            self.peak_at_ns.store(at, Relaxed);
        }
        set_bounds(self);
        during
    }

    /// Bytes freed (see [`counts::freed_bytes`]).
    pub(crate) fn freed_bytes(&self) -> u64 {
        if crate::window::HEADERLESS.load(Relaxed) {
            // Net flow: no remote frees; a thread may free more than it
            // allocated (other threads' blocks), so freed bytes are not
            // capped by allocated ones, only kept from going below 0 by a
            // reader racing the owner.
            let allocated = self.allocated_bytes.load(Relaxed);
            return (allocated.wrapping_sub(self.live.load(Relaxed)) as i64).max(0) as u64;
        }
        counts::freed_bytes(
            &self.allocated_bytes,
            &self.live,
            &self.remote_seen,
            &self.remote_freed_bytes,
        )
    }
}

/// Folds remote frees into the owner's view of `live` (they were published
/// by the freeing thread) and returns the true live bytes. Owner only.
#[inline]
fn settle(c: &Cell) -> u64 {
    let d = counts::fold_remote(&c.live, &c.remote_seen, &c.remote_freed_bytes);
    c.published
        .store(c.published.load(Relaxed).wrapping_sub(d), Relaxed);
    c.live.load(Relaxed)
}

/// Raises the recorded peak to `live` if that is higher. Owner only.
#[inline]
fn raise_peak(c: &Cell, live: u64) {
    // Signed: a cell's live bytes go below 0 on a thread that frees other
    // threads' blocks (the header-free tracker's net flow).
    if live as i64 > c.peak_bytes.load(Relaxed) as i64 {
        c.peak_bytes.store(live, Relaxed);
        c.peak_at_ns.store(now_ns(), Relaxed);
    }
}

/// `live` rose above `hi`: folds remote frees into the owner's view, raises
/// the peak and publishes a batch if due, and moves the bounds.
///
/// Growth (live bytes above the recorded peak) costs one edge when it starts
/// and one per [`FLUSH_BYTES`] batch, not one per allocation: while the
/// thread grows, `hi` is the batch bound only, the allocations between edges
/// raise `live` past `peak_bytes` with plain stores, and the first free after
/// them (an edge: `lo` is the highest value while growing) records the peak
/// they reached. So the peak is exact at every edge, and readers take
/// `max(peak_bytes, live)` in between.
#[cold]
#[inline(never)]
fn alloc_edge(c: &Cell, tag: u16, size: u64) {
    if size > c.max_size.load(Relaxed) {
        c.max_size.store(size, Relaxed);
    }
    let live = settle(c);
    raise_peak(c, live);
    if live.wrapping_sub(c.published.load(Relaxed)) as i64 >= FLUSH_BYTES {
        publish_cell(c, tag);
    }
    set_bounds(c);
}

/// `live` fell below `lo` (by a free of `size` bytes): records the peak a
/// growth phase reached just before it, publishes the batch and moves the
/// bounds.
#[cold]
#[inline(never)]
fn free_edge(c: &Cell, tag: u16, size: u64) {
    let live = settle(c);
    raise_peak(c, live.wrapping_add(size));
    publish_cell(c, tag);
    set_bounds(c);
}

/// Sets `hi` and `lo` from the peak and the published part. At or above the
/// peak (growing), `hi` is the batch bound alone and every free is an edge.
fn set_bounds(c: &Cell) {
    let published = c.published.load(Relaxed) as i64;
    let peak = c.peak_bytes.load(Relaxed) as i64;
    let live = c.live.load(Relaxed) as i64;
    let batch_hi = published.wrapping_add(FLUSH_BYTES - 1);
    let batch_lo = published.wrapping_sub(FLUSH_BYTES - 1);
    if live >= peak {
        c.hi.store(batch_hi as u64, Relaxed);
        c.lo.store(i64::MAX as u64, Relaxed);
    } else {
        c.hi.store(peak.min(batch_hi) as u64, Relaxed);
        c.lo.store(batch_lo as u64, Relaxed);
    }
}

/// Publishes the owner's unpublished change of one cell.
fn publish_cell(c: &Cell, tag: u16) {
    let live = c.live.load(Relaxed);
    let delta = live.wrapping_sub(c.published.load(Relaxed)) as i64;
    c.published.store(live, Relaxed);
    if delta != 0 {
        publish(tag, delta);
    }
}

/// Adds a batch to a tag's global live bytes, raises its peak, and lets the
/// timeline ring take a point if one is due.
#[cold]
fn publish(tag: u16, delta: i64) {
    let g = totals::global(tag);
    let now = g.live.fetch_add(delta, Relaxed).wrapping_add(delta);
    let total = TOTAL.live.fetch_add(delta, Relaxed).wrapping_add(delta);
    if delta > 0 {
        TAGS_USED.fetch_or(1 << (tag as u64 & 63), Relaxed);
        if now > g.peak.fetch_max(now, Relaxed) {
            g.peak_at_ns.store(now_ns(), Relaxed);
        }
        if total > TOTAL.peak.fetch_max(total, Relaxed) {
            TOTAL.peak_at_ns.store(now_ns(), Relaxed);
        }
        ring::on_publish();
    } else if delta <= -FLUSH_BYTES {
        ring::on_publish();
    }
}

/// The row shared by threads past `MAX_ROWS - 1`, updated atomically.
fn shared_row() -> Option<&'static Row> {
    static SHARED: AtomicPtr<Row> = AtomicPtr::new(std::ptr::null_mut());
    let cur = SHARED.load(Acquire);
    if !cur.is_null() {
        return row(MAX_ROWS as u32 - 1);
    }
    let row = map_zeroed(std::mem::size_of::<Row>()).cast::<Row>();
    if row.is_null() {
        return None;
    }
    // SAFETY: fresh zeroed mapping, not yet visible to other threads.
    unsafe {
        (*row).slot = MAX_ROWS as u32 - 1;
        (*row).shared = true;
        (*row).alive.store(true, Relaxed);
    }
    init_row(row);
    match SHARED.compare_exchange(std::ptr::null_mut(), row, AcqRel, Acquire) {
        Ok(_) => Some(publish_row(MAX_ROWS - 1, row)),
        // Another thread won: it publishes its row; ours stays mapped, unused.
        Err(_) => loop {
            if let Some(r) = self::row(MAX_ROWS as u32 - 1) {
                break Some(r);
            }
            std::hint::spin_loop();
        },
    }
}

/// Orders [`set_sampling_flags`] against rows being published, so every row
/// ends with the flag of the last call. Held only for plain stores: nothing
/// allocates under it.
pub(crate) static FLAGS_LOCK: SpinFlag = SpinFlag::new();
/// The sampling word (epoch, or 0 when off), as last set by
/// [`set_sampling_flags`] (under `FLAGS_LOCK`); new rows copy it into their cells.
static SAMPLING_WORD: AtomicU64 = AtomicU64::new(0);

fn with_flags_lock<R>(f: impl FnOnce() -> R) -> R {
    FLAGS_LOCK.with(f)
}

/// Points each cell of a fresh row at its histogram; before anyone else sees it.
fn init_row(row: *mut Row) {
    // SAFETY: `row` is a fresh zeroed mapping that no other thread sees yet.
    let r = unsafe { &*row };
    for (c, h) in r.cells.iter().zip(&r.hists) {
        c.hist.store(std::ptr::from_ref(h).cast_mut(), Relaxed);
    }
}

/// Publishes a new row in `ROWS` with the sampling flag in force, and
/// returns it as what it is from now on: a row that lives (is never
/// unmapped) for the rest of the process. This is the one place where a
/// row's pointer becomes a `&'static Row`.
fn publish_row(slot: usize, row: *mut Row) -> &'static Row {
    // SAFETY: `row` is a fully initialised, zero-based mapping of a `Row`
    // (see `register` and `shared_row`) that nothing ever unmaps, so it is
    // valid for `'static`; from here on it is only accessed through `&`
    // (its fields are atomics, or plain fields written before this point).
    let r: &'static Row = unsafe { &*row };
    with_flags_lock(|| {
        let word = SAMPLING_WORD.load(Relaxed);
        if word != 0 {
            for c in &r.cells {
                c.sampling.store(word, Relaxed);
            }
        }
        ROWS[slot].store(row, Release);
    });
    r
}

/// Sets the sampling flag of every cell of every row (after the global mode
/// changed): each thread sees the change at its next allocation.
/// `word` is the sampling epoch, or 0 for off.
pub(crate) fn set_sampling_flags(word: u64) {
    with_flags_lock(|| {
        SAMPLING_WORD.store(word, Relaxed);
        for r in (0..MAX_ROWS as u32).filter_map(row) {
            for c in &r.cells {
                c.sampling.store(word, Relaxed);
            }
        }
    });
}

/// The row of `slot`, if registered.
pub(crate) fn row(slot: u32) -> Option<&'static Row> {
    let p = ROWS.get(slot as usize)?.load(Acquire);
    // SAFETY: only `publish_row` stores into `ROWS`, and only pointers it
    // turned into `&'static Row` (see there).
    unsafe { p.as_ref() }
}

/// All registered rows, in slot order.
pub(crate) fn all() -> impl Iterator<Item = &'static Row> {
    let n = (NEXT_SLOT.load(Acquire) as usize).min(MAX_ROWS);
    (0..n)
        .chain(std::iter::once(MAX_ROWS - 1))
        .filter_map(|s| row(s as u32))
        .scan(None, |last: &mut Option<u32>, r| {
            // The shared row can appear twice when NEXT_SLOT reached it.
            let dup = *last == Some(r.slot);
            *last = Some(r.slot);
            Some((!dup).then_some(r))
        })
        .flatten()
}

/// Bytes of address space held by rows (mapped; resident only where touched).
pub(crate) fn table_bytes() -> u64 {
    (all().count() * std::mem::size_of::<Row>()) as u64
}

fn os_tid() -> u64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as u64 }
}

fn thread_name_word(i: usize) -> u64 {
    let mut buf = [0u8; 16];
    // SAFETY: the buffer is 16 bytes, the documented maximum for Linux thread
    // names (15 bytes and a NUL); pthread_self is always valid.
    let rc = unsafe {
        libc::pthread_getname_np(libc::pthread_self(), buf.as_mut_ptr().cast(), buf.len())
    };
    if rc != 0 {
        return 0;
    }
    u64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]))
}

impl Row {
    /// The thread's name as captured at registration.
    pub(crate) fn name(&self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.name[0].load(Relaxed).to_le_bytes());
        b[8..].copy_from_slice(&self.name[1].load(Relaxed).to_le_bytes());
        let end = b.iter().position(|&c| c == 0).unwrap_or(16);
        String::from_utf8_lossy(&b[..end]).into_owned()
    }

    /// Whether the thread is still running.
    pub(crate) fn alive(&self) -> bool {
        self.alive.load(Relaxed)
    }

    /// The OS thread id.
    pub(crate) fn os_tid(&self) -> u64 {
        self.os_tid.load(Relaxed)
    }

    pub(crate) fn mark_exited(&self) {
        self.alive.store(false, Relaxed);
    }
}

#[cfg(test)]
mod bucket_tests {
    use super::*;

    /// The reference definition: the leading bit's position and the two bits after it.
    fn reference(s: u64) -> usize {
        let lg = 63 - s.leading_zeros() as u64;
        let sub = if lg >= 2 {
            (s >> (lg - 2)) & 3
        } else {
            (s << (2 - lg)) & 3
        };
        ((lg << 2) | sub) as usize
    }

    #[test]
    fn bucket_matches_reference_and_lower_bound() {
        let mut sizes: Vec<u64> = (1..5000).collect();
        for lg in 2..53 {
            let p = 1u64 << lg;
            sizes.extend([
                p - 1,
                p,
                p + 1,
                p + p / 4 - 1,
                p + p / 4,
                p + p / 2,
                p + 3 * p / 4,
            ]);
        }
        for s in sizes {
            let b = bucket(s as usize);
            assert_eq!(b, reference(s), "size {s}");
            assert!(bucket_lower(b) <= s, "size {s} bucket {b}");
            assert!(bucket(bucket_lower(b) as usize) == b, "bucket {b}");
        }
        assert!(bucket(isize::MAX as usize) < BUCKETS);
    }
}
