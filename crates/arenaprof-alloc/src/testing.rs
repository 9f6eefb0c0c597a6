//! Memory assertions in tests: [`measure`] counts exactly what a closure
//! allocated and freed on its thread (parallel `#[test]`s in one binary
//! each see their own), and [`FailingAlloc`] is an inner allocator that
//! refuses chosen requests, so `try_` paths, `GemmError::WorkspaceUnavailable`
//! and the tracker's `failed_count` can be tested without running out of
//! memory.
//!
//! ```no_run
//! use arenaprof_alloc::testing::{self, FailingAlloc};
//! use arenaprof_alloc::TrackingAlloc;
//!
//! #[global_allocator]
//! static ALLOC: TrackingAlloc<FailingAlloc> = TrackingAlloc::wrap(FailingAlloc::new());
//!
//! testing::fail_next(1); // this thread's next request is refused
//! let mut v: Vec<u8> = Vec::new();
//! assert!(v.try_reserve(64).is_err());
//! {
//!     let _r = testing::refuse_on_this_thread(1 << 20); // requests of 1 MiB and more
//!     assert!(v.try_reserve(2 << 20).is_err());
//!     assert!(v.try_reserve(64).is_ok());
//! }
//! ```

use crate::capacity::MAX_TAGS;
use crate::local::{self, LOCAL};
use crate::rows::Row;
use crate::tag::Tag;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// An inner allocator (the system's by default) that refuses what the
/// functions of this module ask it to; everything else is forwarded.
#[derive(Debug, Default)]
pub struct FailingAlloc<A = System> {
    inner: A,
}

impl FailingAlloc<System> {
    /// The system allocator, refusing on request.
    pub const fn new() -> Self {
        FailingAlloc { inner: System }
    }
}

impl<A> FailingAlloc<A> {
    /// `inner`, refusing on request.
    ///
    /// ```
    /// let _a = arenaprof_alloc::testing::FailingAlloc::wrap(std::alloc::System);
    /// ```
    pub const fn wrap(inner: A) -> Self {
        FailingAlloc { inner }
    }
}

thread_local! {
    static FAIL_NEXT: Cell<u32> = const { Cell::new(0) };
    static THREAD_MIN: Cell<usize> = const { Cell::new(usize::MAX) };
}
static GLOBAL_MIN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Calls `f` while the next snapshots symbolise their sampled stacks (after
/// the fork gate is released); `None` removes it. For tests of `fork()`
/// during a snapshot.
///
/// ```
/// arenaprof_alloc::testing::while_symbolising(None);
/// ```
pub fn while_symbolising(f: Option<fn()>) {
    crate::sampling::set_symbolise_hook(f);
}

/// Makes snapshots symbolise every sampled address in the program (`true`),
/// as `ARENAPROF_SYMBOLS=program` does, or only those of objects that are
/// not on disk as loaded (`false`, the default).
///
/// ```
/// arenaprof_alloc::testing::symbolise_in_program(false);
/// ```
pub fn symbolise_in_program(on: bool) {
    crate::sampling::set_symbols_in_program(on);
}

/// Refuses the next `n` requests made on the calling thread.
///
/// ```
/// arenaprof_alloc::testing::fail_next(0); // refuse nothing
/// ```
pub fn fail_next(n: u32) {
    FAIL_NEXT.with(|f| f.set(n));
}

/// While alive, requests of at least a size are refused (on one thread, or
/// everywhere); dropping it restores what was in force before.
#[must_use = "requests are refused only while the guard lives"]
pub struct Refusal {
    prev: usize,
    global: bool,
    _not_send: PhantomData<*const ()>,
}

/// Refuses every request of at least `min_size` bytes made on the calling
/// thread (0: every request) until the guard drops.
///
/// ```
/// let _r = arenaprof_alloc::testing::refuse_on_this_thread(usize::MAX);
/// ```
pub fn refuse_on_this_thread(min_size: usize) -> Refusal {
    Refusal {
        prev: THREAD_MIN.with(|m| m.replace(min_size)),
        global: false,
        _not_send: PhantomData,
    }
}

/// Refuses every request of at least `min_size` bytes, on every thread,
/// until the guard drops.
///
/// ```
/// let _r = arenaprof_alloc::testing::refuse_everywhere(usize::MAX);
/// ```
pub fn refuse_everywhere(min_size: usize) -> Refusal {
    Refusal {
        prev: GLOBAL_MIN.swap(min_size, Relaxed),
        global: true,
        _not_send: PhantomData,
    }
}

impl Drop for Refusal {
    fn drop(&mut self) {
        if self.global {
            GLOBAL_MIN.store(self.prev, Relaxed);
        } else {
            let _ = THREAD_MIN.try_with(|m| m.set(self.prev));
        }
    }
}

/// Whether a request of `size` bytes is refused now (consumes one of
/// [`fail_next`]'s refusals).
fn refused(size: usize) -> bool {
    let next = FAIL_NEXT
        .try_with(|f| {
            let n = f.get();
            if n > 0 {
                f.set(n - 1);
            }
            n > 0
        })
        .unwrap_or(false);
    next || size >= THREAD_MIN.try_with(Cell::get).unwrap_or(usize::MAX)
        || size >= GLOBAL_MIN.load(Relaxed)
}

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments, or returns null, which `GlobalAlloc` allows for any request.
unsafe impl<A: GlobalAlloc> GlobalAlloc for FailingAlloc<A> {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if refused(l.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's `alloc` contract, passed on.
        unsafe { self.inner.alloc(l) }
    }

    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if refused(l.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's `alloc_zeroed` contract, passed on.
        unsafe { self.inner.alloc_zeroed(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: the caller's `dealloc` contract, passed on.
        unsafe { self.inner.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if refused(n) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's `realloc` contract, passed on.
        unsafe { self.inner.realloc(p, l, n) }
    }
}

/// What a closure did on the calling thread, counted exactly (see
/// [`measure`]); one [`Counts`] per tag it touched, and their sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measurement {
    /// Summed over tags (`peak_bytes` is the largest of the tags' peaks).
    pub total: Counts,
    /// Per tag, for the tags the closure allocated or freed under.
    pub tags: Vec<(Tag, Counts)>,
    /// False when the thread shares the overflow row (past the 4,095th
    /// thread): counts then include other threads' and peaks are not kept.
    pub exact: bool,
}

/// Exact figures of one tag (or all) over a measured closure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Allocations made (reallocations count as one each).
    pub alloc_count: u64,
    /// Bytes allocated.
    pub alloc_bytes: u64,
    /// Frees of this thread's blocks (made here, or by other threads meanwhile).
    pub free_count: u64,
    /// Bytes of those frees.
    pub freed_bytes: u64,
    /// Net change of live bytes: allocated minus freed (negative when the
    /// closure freed more than it allocated).
    pub live_bytes: i64,
    /// Highest live bytes above the starting point while the closure ran.
    pub peak_bytes: u64,
}

impl Measurement {
    /// The figures of `tag` (zero if the closure did not touch it).
    ///
    /// ```
    /// let (_, m) = arenaprof_alloc::testing::measure(|| ());
    /// assert_eq!(m.tag(arenaprof_alloc::Tag::UNTAGGED).alloc_count, 0);
    /// ```
    pub fn tag(&self, tag: Tag) -> Counts {
        self.tags
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Measurement {
    /// One line per tag: `tag: allocs 3 (400 B), frees 1 (100 B), live +300 B, peak 400 B`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (t, c) in &self.tags {
            writeln!(
                f,
                "{t}: allocs {} ({} B), frees {} ({} B), live {:+} B, peak {} B",
                c.alloc_count,
                c.alloc_bytes,
                c.free_count,
                c.freed_bytes,
                c.live_bytes,
                c.peak_bytes
            )?;
        }
        Ok(())
    }
}

/// Runs `f` and counts, exactly, what it allocated and freed on the
/// calling thread, per tag: allocations and bytes, frees and bytes, the net
/// change of live bytes and the peak above the start. Counters are per
/// thread, so parallel `#[test]`s in one binary each measure their own
/// closure (unlike a process-wide heap profiler). Threads that `f` starts
/// are not included. The thread's lifetime peaks are restored afterwards.
///
/// ```no_run
/// // (with `TrackingAlloc` as the global allocator)
/// let (v, m) = arenaprof_alloc::testing::measure(|| vec![0u8; 400]);
/// assert_eq!((m.total.alloc_count, m.total.alloc_bytes), (1, 400), "{m}");
/// assert_eq!(m.total.peak_bytes, 400);
/// # drop(v);
/// ```
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Measurement) {
    let span = begin();
    let r = f();
    (r, span.end())
}

/// [`measure`] split in two, for harnesses that call "start" and "end"
/// separately (criterion's `Measurement`, `arenaprof::bench`): counts
/// what the calling thread allocates and frees from [`begin`] until
/// [`Span::end`]. Spans nest (end them in reverse order); a span belongs
/// to its thread.
///
/// ```no_run
/// // (with `TrackingAlloc` as the global allocator)
/// let span = arenaprof_alloc::testing::begin();
/// let v = vec![0u8; 400];
/// let m = span.end();
/// assert_eq!((m.total.alloc_count, m.total.alloc_bytes, m.total.peak_bytes), (1, 400, 400));
/// # drop(v);
/// ```
#[must_use = "a span measures until `end` is called"]
pub struct Span {
    row: Option<&'static Row>,
    exact: bool,
    before: Vec<CellNow>,
    saved: Vec<(u64, u64)>,
    _not_send: PhantomData<*const ()>,
}

/// Starts a [`Span`] on the calling thread.
///
/// ```
/// let m = arenaprof_alloc::testing::begin().end();
/// assert_eq!(m.total.alloc_count, 0);
/// ```
pub fn begin() -> Span {
    let row = LOCAL.try_with(local::row).ok().flatten();
    let Some(row) = row else {
        return Span {
            row: None,
            exact: false,
            before: Vec::new(),
            saved: Vec::new(),
            _not_send: PhantomData,
        };
    };
    let exact = !row.shared;
    let before = local::with_busy(|| read_row(row));
    let saved: Vec<(u64, u64)> = local::with_busy(|| {
        if exact {
            row.cells.iter().map(|c| c.begin_peak()).collect()
        } else {
            Vec::new()
        }
    });
    Span {
        row: Some(row),
        exact,
        before,
        saved,
        _not_send: PhantomData,
    }
}

impl Span {
    /// What the thread allocated and freed since [`begin`]; the thread's
    /// lifetime peaks are restored.
    pub fn end(self) -> Measurement {
        let Some(row) = self.row else {
            return Measurement::default();
        };
        let (exact, before, saved) = (self.exact, &self.before, &self.saved);
        local::with_busy(|| {
            let peaks: Vec<u64> = if exact {
                row.cells
                    .iter()
                    .zip(saved)
                    .map(|(c, &s)| c.end_peak(s))
                    .collect()
            } else {
                vec![0; MAX_TAGS]
            };
            let after = read_row(row);
            let mut m = Measurement {
                exact,
                ..Default::default()
            };
            for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                let c = Counts {
                    alloc_count: a.alloc_count.saturating_sub(b.alloc_count),
                    alloc_bytes: a.alloc_bytes.saturating_sub(b.alloc_bytes),
                    free_count: a.free_count.saturating_sub(b.free_count),
                    freed_bytes: a.freed_bytes.saturating_sub(b.freed_bytes),
                    live_bytes: (a.alloc_bytes.wrapping_sub(b.alloc_bytes) as i64)
                        .wrapping_sub(a.freed_bytes.wrapping_sub(b.freed_bytes) as i64),
                    peak_bytes: (peaks[i].wrapping_sub(b.live) as i64).max(0) as u64,
                };
                if c == Counts::default() {
                    continue;
                }
                let t = &mut m.total;
                t.alloc_count += c.alloc_count;
                t.alloc_bytes += c.alloc_bytes;
                t.free_count += c.free_count;
                t.freed_bytes += c.freed_bytes;
                t.live_bytes += c.live_bytes;
                t.peak_bytes = t.peak_bytes.max(c.peak_bytes);
                if let Some(tag) = Tag::from_id(i as u16) {
                    m.tags.push((tag, c));
                }
            }
            m
        })
    }
}

/// One cell's counters at a moment, read by the owner thread.
#[derive(Clone, Copy)]
struct CellNow {
    alloc_count: u64,
    alloc_bytes: u64,
    free_count: u64,
    freed_bytes: u64,
    live: u64,
}

fn read_row(row: &Row) -> Vec<CellNow> {
    row.cells
        .iter()
        .map(|c| CellNow {
            alloc_count: c.alloc_count(),
            alloc_bytes: c.allocated_bytes.load(Relaxed),
            free_count: c
                .free_count
                .load(Relaxed)
                .wrapping_add(c.remote_free_count.load(Relaxed)),
            freed_bytes: c.freed_bytes(),
            live: c.live.load(Relaxed),
        })
        .collect()
}

/// With the header-free tracker ([`TrackingAlloc::new`](crate::TrackingAlloc::new)),
/// the tag a live block of the program is counted under, read from its
/// address as a free reads it: `Some(Tag::UNTAGGED)` outside every tag's
/// window. `None` for the profiler's own and sampled blocks (their windows
/// say so; a sampled block's tag is in the side table), and always with a
/// header (then the tag is in the header, not the address).
///
/// ```
/// // (without the tracker as the global allocator, nothing is header-free)
/// let b = Box::new(7u64);
/// let _ = arenaprof_alloc::testing::tag_of_block(&*b as *const u64 as *const u8);
/// ```
pub fn tag_of_block(ptr: *const u8) -> Option<crate::Tag> {
    let arena = arena_of_block(ptr)?;
    Some(
        crate::retag::get(ptr)
            .and_then(crate::Tag::from_id)
            .unwrap_or(arena),
    )
}

/// Like [`tag_of_block`], but the tag whose jemalloc arena holds the block:
/// its address's, also for a large block adopted by another tag in place (a
/// same-size `realloc` under that tag), which [`tag_of_block`] names.
///
/// ```
/// let b = vec![0u8; 64];
/// let _ = arenaprof_alloc::testing::arena_of_block(b.as_ptr());
/// ```
pub fn arena_of_block(ptr: *const u8) -> Option<crate::Tag> {
    if !crate::window::HEADERLESS.load(Relaxed) {
        return None;
    }
    match crate::window::kind_of(ptr) {
        k if k < crate::window::INTERNAL => crate::Tag::from_id(k as u16),
        _ => None,
    }
}

/// jemalloc's bytes in live blocks of `tag`'s arena
/// (`stats.arenas.<i>.small.allocated + large.allocated`, after an `epoch`
/// advance), `None` when the tag has no arena (untagged, never used, a
/// header, or no jemalloc). Blocks parked in a thread's cache count as
/// allocated: call [`flush_thread_caches`] on every thread that used the tag
/// first.
///
/// ```
/// assert_eq!(arenaprof_alloc::testing::arena_allocated(arenaprof_alloc::Tag::UNTAGGED), None);
/// ```
pub fn arena_allocated(tag: crate::Tag) -> Option<u64> {
    if tag.id() == 0 || !crate::window::HEADERLESS.load(Relaxed) {
        return None;
    }
    let a = crate::window::arena_now(u8::try_from(tag.id()).ok()?)?;
    crate::window::arena_allocated(a)
}

/// Gives the blocks in the calling thread's caches of tagged memory back to
/// their arenas (the header-free tracker's explicit jemalloc caches), so
/// that [`arena_allocated`] counts live blocks only.
///
/// ```
/// arenaprof_alloc::testing::flush_thread_caches();
/// ```
pub fn flush_thread_caches() {
    let _ = LOCAL.try_with(|l| {
        // SAFETY: bins hold live jemalloc blocks of their class (alignment
        // at most 8) that the program freed, with this thread's cache flags.
        l.flush_bins(|p, size, f| unsafe { crate::window::free_block(p, size, f) });
        for c in &l.tcache {
            let id = c.get();
            if id != 0 && id != u16::MAX {
                crate::window::tcache_flush(id as u32 - 1);
            }
        }
    });
}

/// The bytes jemalloc gives a block of `layout` (`nallocx`, with the
/// alignment flag tikv-jemallocator passes); `layout.size()` without jemalloc.
///
/// ```
/// let l = std::alloc::Layout::from_size_align(100, 8).unwrap();
/// assert!(arenaprof_alloc::testing::usable_size(l) >= 100);
/// ```
pub fn usable_size(layout: Layout) -> usize {
    crate::window::usable_size(layout)
}
