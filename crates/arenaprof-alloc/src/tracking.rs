//! The `GlobalAlloc` wrapper.
//!
//! The private paths state one of four contracts in their `# Safety`
//! sections, each `GlobalAlloc`'s own, and pass them on unchanged:
//! - (A) `layout` has a non-zero size, and `outer` (where given) is its
//!   outer layout (`header::outer_layout`, or `fast_outer` at alignment 8);
//! - (O) `outer` is a valid, non-zero layout for the inner allocator;
//! - (F) `ptr` is a live block this tracker handed out for `layout`, and
//!   `h` (where given) is its header;
//! - (R) (F) for the old layout, and the new size is non-zero and valid.
//!
//! Every path here is panic-free and lock-free except the sampled-backtrace
//! slow path (which takes interning and unwinder locks while the thread is
//! marked busy, so its own allocations bypass tracking and cannot re-enter
//! it) and a thread's first allocation (which publishes its row under a spin
//! lock held only for plain stores).

use crate::header::{self, Header, FLAG_INTERNAL, FLAG_SAMPLED, FLAG_WORKSPACE};
use crate::local::{self, Local, LOCAL};
use crate::rows::{self, Row};
use crate::{arena, fork, region, sampling, window};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};

/// A tracking allocator around an inner allocator `A` (jemalloc by default).
///
/// ```no_run
/// #[global_allocator]
/// static ALLOC: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();
/// ```
///
/// Or around the system allocator:
///
/// ```no_run
/// #[global_allocator]
/// static ALLOC: arenaprof_alloc::TrackingAlloc<std::alloc::System> =
///     arenaprof_alloc::TrackingAlloc::wrap(std::alloc::System);
/// ```
///
/// Counters are process-wide: install one `TrackingAlloc` as the global
/// allocator.
#[cfg(feature = "jemalloc")]
pub struct TrackingAlloc<A = tikv_jemallocator::Jemalloc> {
    inner: A,
    /// Made by [`TrackingAlloc::new`]: jemalloc inside, no header (see
    /// [`headerless`](crate::headerless)).
    pub(crate) headerless: bool,
}

/// A tracking allocator around an inner allocator `A`.
#[cfg(not(feature = "jemalloc"))]
pub struct TrackingAlloc<A = std::alloc::System> {
    inner: A,
    /// Always `false` without jemalloc.
    #[allow(dead_code)]
    pub(crate) headerless: bool,
}

#[cfg(feature = "jemalloc")]
impl TrackingAlloc<tikv_jemallocator::Jemalloc> {
    /// A tracker with jemalloc inside and no per-block header: each tag has
    /// its own jemalloc arena in its own address window, so a free finds
    /// the block's tag from its address (see `docs/alloc.md`).
    pub const fn new() -> Self {
        TrackingAlloc {
            inner: tikv_jemallocator::Jemalloc,
            headerless: !cfg!(feature = "header"),
        }
    }
}

#[cfg(feature = "jemalloc")]
impl Default for TrackingAlloc<tikv_jemallocator::Jemalloc> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(feature = "jemalloc"))]
impl TrackingAlloc<std::alloc::System> {
    /// A tracker with the system allocator inside (the `jemalloc` feature is off).
    pub const fn new() -> Self {
        TrackingAlloc {
            inner: std::alloc::System,
            headerless: false,
        }
    }
}

#[cfg(not(feature = "jemalloc"))]
impl Default for TrackingAlloc<std::alloc::System> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A> TrackingAlloc<A> {
    /// A tracker around any inner allocator, usable in a `static`. Each
    /// block carries an 8-byte header that names its tag and thread.
    pub const fn wrap(inner: A) -> Self {
        TrackingAlloc {
            inner,
            headerless: false,
        }
    }

    /// The inner allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

/// Bytes held by the profiler's own allocations (made while busy), live.
pub(crate) static INTERNAL_LIVE: AtomicU64 = AtomicU64::new(0);
/// Name of the inner allocator type, set on first allocation.
static INNER_NAME: (AtomicUsize, AtomicUsize) = (AtomicUsize::new(0), AtomicUsize::new(0));

/// The inner allocator's type name, once something was allocated.
pub(crate) fn inner_name() -> &'static str {
    let p = INNER_NAME.0.load(Relaxed) as *const u8;
    let n = INNER_NAME.1.load(Relaxed);
    if p.is_null() {
        return "unknown";
    }
    // SAFETY: (p, n) were stored from a `&'static str` in `note_inner_name`.
    unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, n)) }
}

/// Whether the inner allocator is jemalloc (known after the first
/// allocation): only then are jemalloc's figures the allocator's.
pub(crate) fn inner_is_jemalloc() -> bool {
    ARENA_MODE.load(Relaxed) == 2
}

/// Whether the profiler's own blocks come from its jemalloc arena (see
/// [`arena`]): exactly when the inner allocator is jemalloc. Fixed at the
/// first internal allocation (0: not yet known, 1: no, 2: yes).
static ARENA_MODE: AtomicU8 = AtomicU8::new(0);

#[inline]
#[cfg_attr(not(feature = "jemalloc"), allow(clippy::extra_unused_type_parameters))]
pub(crate) fn use_arena<A>() -> bool {
    match ARENA_MODE.load(Relaxed) {
        1 => false,
        2 => true,
        _ => {
            #[cfg(feature = "jemalloc")]
            let yes =
                std::any::type_name::<A>() == std::any::type_name::<tikv_jemallocator::Jemalloc>();
            #[cfg(not(feature = "jemalloc"))]
            let yes = false;
            ARENA_MODE.store(if yes { 2 } else { 1 }, Relaxed);
            yes
        }
    }
}

pub(crate) fn note_inner_name<A>() {
    if INNER_NAME.0.load(Relaxed) == 0 {
        let name: &'static str = std::any::type_name::<A>();
        INNER_NAME.1.store(name.len(), Relaxed);
        INNER_NAME.0.store(name.as_ptr() as usize, Relaxed);
    }
}

/// Largest size the fast paths take: `size + 8` at alignment 8 is still a
/// valid layout.
const FAST_MAX: usize = isize::MAX as usize - 2 * header::HEADER_SIZE + 1;
const _: () = assert!((9usize << 58) - 1 <= FAST_MAX);

/// The outer layout of a fast-path block: `size` plus the 8-byte header.
#[inline(always)]
fn fast_outer(size: usize) -> Layout {
    // SAFETY: 8 is a power of two, and callers keep `size <= FAST_MAX`, so the
    // rounded-up size stays within isize::MAX.
    unsafe { Layout::from_size_align_unchecked(size + header::HEADER_SIZE, header::HEADER_SIZE) }
}

impl<A: GlobalAlloc> TrackingAlloc<A> {
    /// The hot path: alignment at most 8 and a thread whose thread-local
    /// `cell` is open (registered, own row, not busy, no workspace). The
    /// header word is the tag and the thread's key; counting is a few plain
    /// stores to the thread's own cell, before the inner allocator's call.
    #[inline(always)]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_impl(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let size = layout.size();
        // One compare for both: alignment at most 8, and `size >> 58` at
        // most 8, which keeps `size + 8` a valid layout size.
        if layout.align() | (size >> 58) > header::HEADER_SIZE {
            // SAFETY: (A) holds: `GlobalAlloc::alloc`'s contract (non-zero size) is ours.
            return unsafe { self.alloc_general(layout, zeroed) };
        }
        // SAFETY: just checked: `size >> 58 <= 8`, so `size < 9 << 58`. Lets
        // the compiler drop the inner allocator's own overflow checks.
        unsafe { std::hint::assert_unchecked(size < 9 << 58) };
        let Some(l) = local::current() else {
            // SAFETY: (A) holds (our own contract); only reachable if thread-local state is gone,
            // which const thread locals without destructors never are.
            return unsafe { self.alloc_internal(layout, fast_outer(size), zeroed) };
        };
        let cell = l.cell.get();
        let epoch = cell.sampling.load(Relaxed) as u32;
        if epoch != 0 && sampling::should_sample_at(l, size, epoch) {
            // SAFETY: (A) holds: it is our own contract, passed on unchanged.
            return unsafe { self.alloc_sampled(l, layout, zeroed) };
        }
        let word = l.word.get();
        // Counted before the call, so only `word` and `size` live across
        // it; a refused request takes the count back. A request that
        // would reach a new peak or a batch goes the ordered way instead,
        // so a refused one never moves a peak.
        if !cell.own_alloc_quiet(size) {
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            return unsafe { self.alloc_edge_path(l, layout, zeroed) };
        }
        // SAFETY: the outer layout has a non-zero size.
        let base = unsafe { self.inner_alloc(fast_outer(size), zeroed) };
        if base.is_null() {
            undo_alloc(size);
            return base;
        }
        let user = base.wrapping_add(header::HEADER_SIZE);
        // SAFETY: `user` is 8 bytes into a block of `size + 8` bytes.
        unsafe { header::write_word(user, word) };
        user
    }

    /// A fast-path allocation that reaches a cell's bound: allocate, then
    /// count (which moves the peak or publishes a batch). With the `CLOSED`
    /// cell: the slow path.
    #[cold]
    #[inline(never)]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_edge_path(&self, l: &Local, layout: Layout, zeroed: bool) -> *mut u8 {
        let outer = fast_outer(layout.size());
        match l.row.get() {
            // An open cell means this thread's row is registered.
            Some(row) if l.is_open() => {
                // SAFETY: our caller's contract (`layout` has a non-zero size).
                unsafe { self.alloc_tracked(l, row, layout, outer, zeroed, false) }
            }
            // SAFETY: our caller's contract (`layout` has a non-zero size).
            _ => unsafe { self.alloc_slow(l, layout, outer, zeroed) },
        }
    }

    /// A fast-path allocation chosen for a backtrace.
    #[cold]
    #[inline(never)]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_sampled(&self, l: &Local, layout: Layout, zeroed: bool) -> *mut u8 {
        let outer = fast_outer(layout.size());
        match l.row.get() {
            // Only open cells have the sampling flag, and an open cell means
            // this thread's row is registered.
            // SAFETY: our caller's contract (`layout` has a non-zero size).
            Some(row) => unsafe { self.alloc_tracked(l, row, layout, outer, zeroed, true) },
            // SAFETY: as above.
            None => unsafe { self.alloc_slow(l, layout, outer, zeroed) },
        }
    }

    /// Alignments above 8 and sizes too large for the fast path.
    #[cold]
    #[inline(never)]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_general(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let Some(outer) = header::outer_layout(layout) else {
            note_failed();
            return std::ptr::null_mut();
        };
        match LOCAL.try_with(|l| {
            // SAFETY: (A) holds: `GlobalAlloc::alloc`'s contract (non-zero size) is ours.
            unsafe { self.alloc_slow(l, layout, outer, zeroed) }
        }) {
            Ok(p) => p,
            // SAFETY: (A) holds (our own contract); without thread-local state the block is
            // treated as the profiler's own (never the case for const TLS).
            Err(_) => unsafe { self.alloc_internal(layout, outer, zeroed) },
        }
    }

    #[inline(always)]
    ///
    /// # Safety
    /// (O): `outer` is a valid, non-zero layout for the inner allocator.
    unsafe fn inner_alloc(&self, outer: Layout, zeroed: bool) -> *mut u8 {
        // SAFETY: `outer` has a non-zero size (it includes the header).
        unsafe {
            if zeroed {
                self.inner.alloc_zeroed(outer)
            } else {
                self.inner.alloc(outer)
            }
        }
    }

    /// Busy threads, active workspaces, first allocations of a thread, the
    /// shared overflow row, and layouts the fast path does not take.
    #[cold]
    #[inline(never)]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_slow(&self, l: &Local, layout: Layout, outer: Layout, zeroed: bool) -> *mut u8 {
        if l.busy.get() {
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            return unsafe { self.alloc_internal(layout, outer, zeroed) };
        }
        if !l.ws.get().is_null() {
            if let Some(p) =
                region::try_alloc(l.ws.get(), l as *const Local as usize, layout, zeroed)
            {
                return p;
            }
        }
        note_inner_name::<A>();
        let p = match local::row(l) {
            Some(row) => {
                let sampled = sampling::should_sample(l, layout.size());
                // SAFETY: our own contract, passed on unchanged (see # Safety above).
                unsafe { self.alloc_tracked(l, row, layout, outer, zeroed, sampled) }
            }
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            None => unsafe { self.alloc_internal(layout, outer, zeroed) },
        };
        first_use::<A>();
        p
    }

    /// Allocates from the inner allocator and counts the block in `row`; the
    /// path for every block that is not a plain fast-path one.
    #[cold]
    #[inline(never)]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_tracked(
        &self,
        l: &Local,
        row: &Row,
        layout: Layout,
        outer: Layout,
        zeroed: bool,
        sampled: bool,
    ) -> *mut u8 {
        let tag = l.tag.get();
        // SAFETY: our own contract, passed on unchanged (see # Safety above).
        let base = unsafe { self.inner_alloc(outer, zeroed) };
        if base.is_null() {
            row.on_failed(tag);
            return base;
        }
        let user = base.wrapping_add(header::pad(layout.align()));
        let flags = if sampled { FLAG_SAMPLED } else { 0 };
        // SAFETY: `user` is `pad` bytes into a block of `outer` size.
        unsafe {
            header::write(
                user,
                layout,
                Header {
                    tag,
                    flags,
                    slot: row.slot(),
                },
            )
        };
        row.on_alloc(tag, layout.size());
        if sampled {
            note_inner_name::<A>();
            sampling::record(l, user, tag, row.slot(), layout.size());
        }
        user
    }

    #[cold]
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size, and `outer` (where given) is its outer layout.
    unsafe fn alloc_internal(&self, layout: Layout, outer: Layout, zeroed: bool) -> *mut u8 {
        let base = match use_arena::<A>()
            .then(|| arena::alloc(outer, zeroed))
            .flatten()
        {
            Some(p) => p,
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            None => unsafe { self.inner_alloc(outer, zeroed) },
        };
        if base.is_null() {
            return base;
        }
        let user = base.wrapping_add(header::pad(layout.align()));
        // SAFETY: `user` is `pad` bytes into a block of `outer` size.
        unsafe { header::write(user, layout, INTERNAL_HEADER) };
        INTERNAL_LIVE.fetch_add(outer.size() as u64, Relaxed);
        user
    }

    /// Counts a free of a tracked block: local or remote row, then the sample table.
    #[inline(always)]
    fn count_free(h: Header, user: *mut u8, size: usize, cur_row: Option<&Row>) {
        if h.flags & FLAG_SAMPLED != 0 {
            let _ = sampling::on_free(user);
        }
        match cur_row {
            Some(r) if r.slot() == h.slot => r.on_free_local(h.tag, size),
            _ => {
                if let Some(r) = rows::row(h.slot) {
                    r.on_free_remote(h.tag, size);
                }
            }
        }
    }
}

/// Runs once, after the inner allocator's first allocation, so that jemalloc
/// has registered its own fork handlers: ours, registered later, run first
/// in a fork's prepare step (while jemalloc still works).
#[inline]
pub(crate) fn first_use<A>() {
    if !fork::installed() {
        fork::install();
        // The native crate's own work (reading /proc, listing objects,
        // blas::info) is the profiler's, however it is called.
        arenaprof_native::set_internal_scope(internal_scope);
        if use_arena::<A>() {
            // jemalloc maps the arena's base and first extent here, and the
            // address windows their first page: the executable's `mmap`
            // learns both call sites, so the snapshot measures jemalloc's
            // own ranges.
            arenaprof_native::hooks::learn_allocator_sites(|| {
                arena::warm();
                window::learn_site();
            });
        }
    }
}

/// Takes back the count of a fast-path allocation the inner allocator refused.
#[cold]
#[inline(never)]
pub(crate) fn undo_alloc(size: usize) {
    let _ = LOCAL.try_with(|l| {
        if l.is_open() {
            let cell = l.cell.get();
            cell.own_unalloc(size);
            cell.on_failed();
        }
    });
}

/// The header of the profiler's own blocks.
const INTERNAL_HEADER: Header = Header {
    tag: 0,
    flags: FLAG_INTERNAL,
    slot: 0,
};

/// Runs the native crate's own work as the profiler's.
fn internal_scope(f: &mut dyn FnMut()) {
    local::with_busy(f)
}

#[cold]
pub(crate) fn note_failed() {
    let _ = LOCAL.try_with(|l| {
        if let Some(r) = local::row(l) {
            r.on_failed(l.tag.get());
        }
    });
}

// SAFETY: with `headerless` (jemalloc inside, see `headerless`), every block
// is jemalloc's, allocated and freed for its own layout, in the arena its
// address names. Otherwise every method upholds GlobalAlloc's contract by
// delegating to the inner allocator with a layout that is `layout` plus a header in front
// (`header::outer_layout`), handing out the pointer just past the header
// (aligned to `layout.align()`), and giving the inner allocator back exactly
// the pointer and outer layout it returned. Blocks served from a workspace
// come from a region the workspace owns and are never passed to the inner
// allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        #[cfg(feature = "jemalloc")]
        if self.headerless {
            // SAFETY: `GlobalAlloc`'s contract for this method is (A) (non-zero size).
            return unsafe { self.hf_alloc(layout, false) };
        }
        // SAFETY: `GlobalAlloc`'s contract for this method is (A) (non-zero size).
        unsafe { self.alloc_impl(layout, false) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        #[cfg(feature = "jemalloc")]
        if self.headerless {
            // SAFETY: `GlobalAlloc`'s contract for this method is (A) (non-zero size).
            return unsafe { self.hf_alloc(layout, true) };
        }
        // SAFETY: `GlobalAlloc`'s contract for this method is (A) (non-zero size).
        unsafe { self.alloc_impl(layout, true) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        #[cfg(feature = "jemalloc")]
        if self.headerless {
            // SAFETY: `GlobalAlloc`'s contract for this method is (F).
            return unsafe { self.hf_dealloc(ptr, layout) };
        }
        if header::is_wide(layout.align()) {
            // SAFETY: our own contract; `ptr` is a live block of `layout`, so
            // its header is the trailer `read` finds.
            return unsafe { self.dealloc_slow(ptr, layout, header::read(ptr, layout)) };
        }
        // SAFETY: `ptr` is a live block we handed out with alignment at most
        // 8, so its header is the word in front of it.
        let word = unsafe { header::read_word(ptr) };
        let own = match local::current() {
            // `key` matches only once this thread has its own row.
            Some(l) if word >> 16 == l.key.get() => match l.row.get() {
                Some(row) => {
                    let tag = word as u16;
                    row.cell(tag).own_free(tag, layout.size());
                    true
                }
                None => false,
            },
            _ => false,
        };
        if !own {
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            return unsafe { self.dealloc_slow(ptr, layout, Header::from_word(word)) };
        }
        // Alignment at most 8: the block is `size + 8` bytes from 8 bytes
        // before `ptr`, as the fast path or `alloc_tracked` made it.
        // SAFETY: a layout's size is at most isize::MAX; telling the compiler
        // lets it drop the inner allocator's own overflow checks. Then: that
        // is the pointer and layout the inner allocator returned.
        unsafe {
            std::hint::assert_unchecked(layout.size() <= isize::MAX as usize);
            self.inner.dealloc(
                ptr.wrapping_sub(header::HEADER_SIZE),
                fast_outer(layout.size()),
            )
        };
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        #[cfg(feature = "jemalloc")]
        if self.headerless {
            // SAFETY: `GlobalAlloc`'s contract for this method is (R).
            return unsafe { self.hf_realloc(ptr, layout, new_size) };
        }
        // SAFETY: `ptr` is a live block we handed out for `layout`.
        let h = unsafe { header::read(ptr, layout) };
        if new_size > isize::MAX as usize - (layout.align() - 1) {
            note_failed();
            return std::ptr::null_mut();
        }
        // SAFETY: the alignment comes from a valid layout and the size bound
        // was checked just above.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (Some(outer), Some(new_outer)) = (
            header::outer_layout(layout),
            header::outer_layout(new_layout),
        ) else {
            note_failed();
            return std::ptr::null_mut();
        };
        let own = local::current()
            .map(|l| (l.is_open(), l.row.get(), l.word.get(), l.key.get()))
            .filter(|&(open, _, _, key)| open && h.to_word() >> 16 == key);
        if let Some((_, row, word, _)) = own {
            if new_size <= FAST_MAX && !header::is_wide(layout.align()) {
                if let Some(row) = row {
                    // With sampling on, the new block is drawn for like any
                    // allocation (once): a sampled one is allocated, copied
                    // and the old freed; the others resize in place.
                    if sampling::enabled() {
                        if let Ok(Some(p)) = LOCAL.try_with(|l| {
                            sampling::should_sample(l, new_size).then(|| {
                                // SAFETY: (R) holds, for a block of this thread
                                // with no flags and alignment at most 8.
                                unsafe {
                                    self.realloc_to_sampled(l, row, ptr, layout, new_layout, h.tag)
                                }
                            })
                        }) {
                            return p;
                        }
                    }
                    // SAFETY: our caller's contract: `ptr` is a live block of
                    // `layout`, handed out by this thread (its key matches).
                    return unsafe {
                        self.realloc_own(row, ptr, layout.size(), new_size, h.tag, word)
                    };
                }
            }
        }
        let fast = h.flags == 0
            && LOCAL
                .try_with(|l| !l.busy.get() && l.ws.get().is_null())
                .unwrap_or(false);
        if !fast || sampling::enabled() {
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            return unsafe { self.realloc_slow(ptr, layout, new_layout, h) };
        }
        let base = header::base(ptr, layout);
        // SAFETY: `base`/`outer` are the inner allocator's block; the new
        // outer size is non-zero and was checked for overflow.
        let nbase = unsafe { self.inner.realloc(base, outer, new_outer.size()) };
        if nbase.is_null() {
            note_failed();
            return nbase;
        }
        let user = nbase.wrapping_add(header::pad(layout.align()));
        let (row, tag) = LOCAL
            .try_with(|l| (local::row(l), l.tag.get()))
            .unwrap_or((None, 0));
        // Old bytes leave the cell they were allocated in.
        if let Some(r) = rows::row(h.slot) {
            if row.is_some_and(|cur| std::ptr::eq(cur, r)) {
                r.on_free_local(h.tag, layout.size());
            } else {
                r.on_free_remote(h.tag, layout.size());
            }
        }
        let slot = match row {
            Some(r) => {
                r.on_realloc_in(tag, new_size);
                r.slot()
            }
            None => h.slot,
        };
        // SAFETY: `user` is `pad` bytes into the reallocated block of
        // `new_outer` size, the outer layout of `new_layout`.
        unsafe {
            header::write(
                user,
                new_layout,
                Header {
                    tag,
                    flags: 0,
                    slot,
                },
            )
        };
        user
    }
}

impl<A: GlobalAlloc> TrackingAlloc<A> {
    /// Frees of other threads' blocks, flagged blocks, and frees on threads
    /// without their own row.
    #[inline(never)]
    ///
    /// # Safety
    /// (F): `ptr` is a live block this tracker handed out for `layout`, and `h` (where given) is its header.
    unsafe fn dealloc_slow(&self, ptr: *mut u8, layout: Layout, h: Header) {
        if h.flags & (FLAG_INTERNAL | FLAG_WORKSPACE) != 0 {
            // SAFETY: our own contract, passed on unchanged (see # Safety above).
            unsafe { self.dealloc_special(ptr, layout, h) };
            return;
        }
        let cur = LOCAL.try_with(|l| l.row.get()).unwrap_or(None);
        Self::count_free(h, ptr, layout.size(), cur);
        if let Some(outer) = header::outer_layout(layout) {
            // SAFETY: `base` and `outer` are what the inner allocator gave us.
            unsafe { self.inner.dealloc(header::base(ptr, layout), outer) };
        }
    }

    /// Realloc of a block this thread allocated with no flags (alignment at
    /// most 8), on a thread that is not busy, with sampling off. `word` is the
    /// header word of a block allocated now.
    #[inline(always)]
    ///
    /// # Safety
    /// (R): (F) for `ptr` and the old layout, and the new size is non-zero and valid for its alignment.
    unsafe fn realloc_own(
        &self,
        row: &Row,
        ptr: *mut u8,
        old: usize,
        new: usize,
        old_tag: u16,
        word: u64,
    ) -> *mut u8 {
        let tag = word as u16;
        let base = ptr.wrapping_sub(header::HEADER_SIZE);
        // SAFETY: `base` and `fast_outer(old)` are the inner allocator's block;
        // the new outer size is non-zero and `new <= FAST_MAX`.
        let nbase = unsafe {
            self.inner
                .realloc(base, fast_outer(old), new + header::HEADER_SIZE)
        };
        if nbase.is_null() {
            row.on_failed(tag);
            return nbase;
        }
        row.cell(old_tag).own_free(old_tag, old);
        row.cell(tag).own_alloc(tag, new);
        row.alloc_to_realloc(tag);
        let user = nbase.wrapping_add(header::HEADER_SIZE);
        // SAFETY: `user` is 8 bytes into a block of `new + 8` bytes.
        unsafe { header::write_word(user, word) };
        user
    }

    /// A reallocation, on the thread that allocated the block (alignment at
    /// most 8, no flags), whose new block was drawn for a backtrace: allocate
    /// it, copy, free the old block. Counted like [`realloc_own`](Self::realloc_own)
    /// (the old block's free, then the new one's allocation, one
    /// reallocation), so figures and peaks do not depend on sampling.
    #[cold]
    #[inline(never)]
    ///
    /// # Safety
    /// (R): (F) for `ptr` and the old layout, and the new size is non-zero and valid for its alignment.
    unsafe fn realloc_to_sampled(
        &self,
        l: &Local,
        row: &Row,
        ptr: *mut u8,
        old: Layout,
        new: Layout,
        old_tag: u16,
    ) -> *mut u8 {
        let tag = l.tag.get();
        // SAFETY: the outer layout has a non-zero size; `new.size() <= FAST_MAX`.
        let base = unsafe { self.inner_alloc(fast_outer(new.size()), false) };
        if base.is_null() {
            row.on_failed(tag);
            return base;
        }
        let user = base.wrapping_add(header::HEADER_SIZE);
        let h = Header {
            tag,
            flags: FLAG_SAMPLED,
            slot: row.slot(),
        };
        // SAFETY: `user` is 8 bytes into a block of `new.size() + 8` bytes;
        // both blocks are live and at least min(old, new) bytes long.
        unsafe {
            header::write(user, new, h);
            std::ptr::copy_nonoverlapping(ptr, user, old.size().min(new.size()));
        }
        row.cell(old_tag).own_free(old_tag, old.size());
        row.on_alloc(tag, new.size());
        row.alloc_to_realloc(tag);
        note_inner_name::<A>();
        sampling::record(l, user, tag, row.slot(), new.size());
        // SAFETY: the old block is the inner allocator's `size + 8` bytes
        // from 8 bytes before `ptr` (alignment at most 8, from this thread).
        unsafe {
            self.inner.dealloc(
                ptr.wrapping_sub(header::HEADER_SIZE),
                fast_outer(old.size()),
            )
        };
        user
    }

    #[cold]
    ///
    /// # Safety
    /// (F): `ptr` is a live block this tracker handed out for `layout`, and `h` (where given) is its header.
    unsafe fn dealloc_special(&self, ptr: *mut u8, layout: Layout, h: Header) {
        if h.flags & FLAG_WORKSPACE != 0 {
            region::dealloc(ptr, layout);
            return;
        }
        if let Some(outer) = header::outer_layout(layout) {
            INTERNAL_LIVE.fetch_sub(outer.size() as u64, Relaxed);
            let base = header::base(ptr, layout);
            if use_arena::<A>() {
                // SAFETY: with the arena in use the inner allocator is
                // jemalloc, so every internal block is a jemalloc block of `outer`.
                unsafe { arena::dealloc(base, outer) };
            } else {
                // SAFETY: internal blocks come from the inner allocator.
                unsafe { self.inner.dealloc(base, outer) };
            }
        }
    }

    /// Realloc as allocate, copy, free: for sampled, internal and workspace
    /// blocks, and whenever sampling is on (so the new block can be sampled).
    #[cold]
    ///
    /// # Safety
    /// (R): (F) for `ptr` and the old layout, and the new size is non-zero and valid for its alignment.
    unsafe fn realloc_slow(&self, ptr: *mut u8, old: Layout, new: Layout, h: Header) -> *mut u8 {
        if h.flags & FLAG_INTERNAL != 0 {
            let (Some(o), Some(n)) = (header::outer_layout(old), header::outer_layout(new)) else {
                return std::ptr::null_mut();
            };
            let base = header::base(ptr, old);
            let nb = if use_arena::<A>() {
                // SAFETY: with the arena in use every internal block is a
                // jemalloc block (of outer layout `o`); `n` is non-zero and valid.
                unsafe { arena::realloc(base, o, n.size()) }
            } else {
                // SAFETY: internal blocks come from the inner allocator with
                // outer layout `o`.
                unsafe { self.inner.realloc(base, o, n.size()) }
            };
            if !nb.is_null() {
                INTERNAL_LIVE.fetch_sub(o.size() as u64, Relaxed);
                INTERNAL_LIVE.fetch_add(n.size() as u64, Relaxed);
                let user = nb.wrapping_add(header::pad(new.align()));
                // SAFETY: `user` is `pad` bytes into a block of `n` size; a
                // trailer does not move with the contents, so it is rewritten.
                unsafe { header::write(user, new, INTERNAL_HEADER) };
                return user;
            }
            return nb;
        }
        // SAFETY: (A) holds: (R) says `new` has a non-zero size.
        let np = unsafe { self.alloc_impl(new, false) };
        if np.is_null() {
            return np;
        }
        // SAFETY: both blocks are live and at least min(old, new) bytes long.
        unsafe { std::ptr::copy_nonoverlapping(ptr, np, old.size().min(new.size())) };
        let counted_alloc = {
            // SAFETY: `np` was just handed out by us for `new`.
            let nh = unsafe { header::read(np, new) };
            nh.flags & (FLAG_WORKSPACE | FLAG_INTERNAL) == 0
        };
        if counted_alloc {
            // The alloc above counted as an allocation; turn it into a realloc.
            let _ = LOCAL.try_with(|l| {
                if let Some(r) = l.row.get() {
                    r.alloc_to_realloc(l.tag.get());
                }
            });
        }
        // SAFETY: `ptr` is live with layout `old`.
        unsafe { self.dealloc(ptr, old) };
        np
    }
}

/// Bytes of header per block: 8 at any alignment, 0 for the header-free
/// tracker.
pub(crate) fn header_bytes_per_alloc() -> u64 {
    if window::HEADERLESS.load(Relaxed) {
        0
    } else {
        header::HEADER_SIZE as u64
    }
}

/// Header bytes held by live tracked blocks.
pub(crate) fn live_header_bytes(live_blocks: u64) -> u64 {
    live_blocks * header_bytes_per_alloc()
}

/// Bytes held by the profiler's own allocations right now.
pub(crate) fn internal_live_bytes() -> u64 {
    INTERNAL_LIVE.load(Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_eight_bytes_at_any_alignment_and_keeps_it() {
        for align in [1usize, 2, 4, 8, 16, 64, 4096] {
            for size in [1usize, 24, 100] {
                let l = Layout::from_size_align(size, align).unwrap();
                let o = header::outer_layout(l).unwrap();
                assert_eq!(o.size(), size + 8);
                assert_eq!(o.align(), align.max(8));
                // The user pointer is `pad` past a base of `o.align()`.
                assert_eq!(header::pad(align) % align, 0);
            }
        }
    }

    #[test]
    fn huge_layout_is_refused_not_wrapped() {
        let l = Layout::from_size_align(isize::MAX as usize - 2, 1).unwrap();
        assert!(header::outer_layout(l).is_none());
    }
}
