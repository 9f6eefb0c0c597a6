//! The tracker's paths with jemalloc inside and no header
//! ([`TrackingAlloc::new`]).
//!
//! A block carries no byte of the profiler's. Its tag is where it lives:
//! untagged blocks come from jemalloc's automatic arenas through plain
//! `malloc`/`sdallocx` (its fast paths, with its own thread cache); a
//! tagged block comes from its tag's arena, whose memory lies in the tag's
//! address window (see [`window`]), through `mallocx` with this thread's
//! explicit cache for that tag; the profiler's own blocks and sampled
//! blocks have windows of their own. A free reads the kind of its address
//! and the size from its `Layout`.
//!
//! A large block adopted by another tag (a same-size `realloc`, see
//! [`retag`]) stays where it is and is counted under its new tag.
//!
//! Counting is *net flow*: an allocation is counted in the allocating
//! thread's cell of its tag, a free in the freeing thread's cell of the
//! block's tag. Per-tag figures are exact; a thread's cell holds what it
//! allocated minus what it freed (negative for a consumer of another
//! thread's blocks).
//!
//! The paths keep the contracts stated in [`tracking`](crate::tracking):
//! (A) a non-zero size, (F) a live block this tracker handed out for the
//! layout, (R) (F) plus a non-zero, valid new size.

use crate::capacity::MAX_TAGS;
use crate::local::{self, Local, HEADERLESS};
use crate::rows::Row;
use crate::tracking::{self, TrackingAlloc, INTERNAL_LIVE};
use crate::window::{self, flags, INTERNAL, SAMPLED, UNTAGGED};
use crate::{arena, bins, region, retag, sampling};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::Ordering::Relaxed;
use tikv_jemalloc_sys as sys;
use tikv_jemallocator::Jemalloc;

/// Allocates `layout` under `mflags` ([`Local::mflags`]: 0 for untagged
/// memory, the tag's arena and cache otherwise).
///
/// # Safety
/// (A): `layout` has a non-zero size; `mflags` names an existing arena and
/// a cache of this thread's (or none).
#[inline(always)]
unsafe fn raw_alloc(layout: Layout, mflags: i32, zeroed: bool) -> *mut u8 {
    if mflags == 0 {
        // SAFETY: our caller's contract (a non-zero size).
        unsafe {
            if zeroed {
                Jemalloc.alloc_zeroed(layout)
            } else {
                Jemalloc.alloc(layout)
            }
        }
    } else {
        let zero = if zeroed { flags::ZERO } else { 0 };
        // SAFETY: a non-zero size, and flags naming an arena, a cache and a
        // valid alignment.
        unsafe { sys::mallocx(layout.size(), mflags | flags::align(layout) | zero) }.cast()
    }
}

/// jemalloc's block for a request the hot path has counted; the count is
/// taken back if jemalloc refuses. Out of line: the inlined path reaches it
/// by a tail call.
///
/// # Safety
/// (A): `layout` has a non-zero size; `mflags` names an existing arena and
/// a cache of this thread's (or none).
#[inline(never)]
unsafe fn alloc_counted(layout: Layout, mflags: i32, zeroed: bool) -> *mut u8 {
    // SAFETY: our caller's contract.
    let p = unsafe { raw_alloc(layout, mflags, zeroed) };
    if p.is_null() {
        tracking::undo_alloc(layout.size());
    }
    p
}

/// jemalloc's `malloc` for an untagged request the hot path has counted
/// (alignment at most 16 and at most the size, which `malloc` gives); the
/// count is taken back if jemalloc refuses. The common case of
/// [`alloc_counted`], without its branches.
///
/// # Safety
/// `size` is non-zero.
#[inline(never)]
unsafe fn malloc_counted(size: usize) -> *mut u8 {
    // SAFETY: a non-zero size.
    let p = unsafe { sys::malloc(size) }.cast::<u8>();
    if p.is_null() {
        tracking::undo_alloc(size);
    }
    p
}

/// Keeps a freed block of `tag` (the tag its address names) in this
/// thread's bins for the tag, if it is small and the bin has room.
#[inline(always)]
fn cache(l: &Local, tag: u16, p: *mut u8, layout: Layout) -> bool {
    if layout.size() > bins::MAX_SIZE || layout.align() > 8 {
        return false;
    }
    let mut b = l.bins[tag as usize & (MAX_TAGS - 1)].get();
    if b.is_null() {
        b = l.bins_or_map(tag);
    }
    // SAFETY: a non-null entry is this thread's own slot of bins for the
    // tag, written only by this thread (`Local` is !Sync); the table is
    // never unmapped.
    unsafe { b.as_ref() }.is_some_and(|b| b.push(bins::class(layout.size()), p))
}

/// Gives a block of `tag`'s arena back to jemalloc, into this thread's
/// cache for that tag (which holds that arena's blocks only) or none.
///
/// # Safety
/// (F): `p` is a live block of `tag`'s arena, handed out for `layout`.
#[inline(never)]
unsafe fn free_tagged(l: &Local, tag: u16, p: *mut u8, layout: Layout) {
    let f = l.tcache_flags(tag) | flags::align(layout);
    // SAFETY: our caller's contract; `f` names no arena, a cache of this
    // thread's for the block's arena (or none) and the block's alignment.
    unsafe { sys::sdallocx(p.cast(), layout.size(), f) };
}

/// An untagged free the hot path has counted, on a thread with no bins
/// yet: maps them, then caches or frees the block.
///
/// # Safety
/// (F): `ptr` is a live untagged block this tracker handed out for `layout`.
#[cold]
#[inline(never)]
unsafe fn free_untagged_counted(l: &Local, ptr: *mut u8, layout: Layout) {
    if !cache(l, 0, ptr, layout) {
        // SAFETY: (F): an untagged block is jemalloc's for `layout`.
        unsafe { Jemalloc.dealloc(ptr, layout) };
    }
}

/// An untagged free that reaches the cell's lower bound: counted with the
/// edge's bookkeeping, then cached or freed.
///
/// # Safety
/// (F): `ptr` is a live untagged block this tracker handed out for `layout`.
#[cold]
#[inline(never)]
unsafe fn free_untagged_at_edge(l: &Local, row: &Row, ptr: *mut u8, layout: Layout) {
    row.cell(0).own_free(0, layout.size());
    // SAFETY: (F), passed on.
    unsafe { free_untagged_counted(l, ptr, layout) };
}

/// The thread's state and own row, when a free of `size` bytes at an
/// address of a tag's (untagged or a tag's window) can be counted and
/// cached on the hot path: no workspace region is registered (whose blocks
/// only the ranges tell apart), the block cannot have been adopted by
/// another tag ([`retag`]), and the thread has a row of its own.
#[inline(always)]
fn own_free_context(size: usize) -> Option<(&'static Local, &'static Row)> {
    if region::any() || retag::may_hold(size) {
        return None;
    }
    let l = local::current()?;
    Some((l, l.own_row.get()?))
}

/// Counts a free of `size` bytes of `tag` on the calling thread.
fn count_free(tag: u16, size: usize) {
    if let Some(row) = local::current().and_then(local::row) {
        row.on_free_local(tag, size);
    }
}

impl<A: GlobalAlloc> TrackingAlloc<A> {
    /// The hot path: the thread's cell is open (registered, own row, not
    /// busy, no workspace), the sampling countdown has not run out and the
    /// cell's bounds are not reached. Then: a few plain stores to the cell
    /// and jemalloc's own `malloc` (untagged) or `mallocx` (tagged).
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size.
    #[inline(always)]
    pub(crate) unsafe fn hf_alloc(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let Some(l) = local::current() else {
            // SAFETY: (A). Never taken: a const thread local without a
            // destructor is never gone.
            return unsafe { hf_alloc_internal(layout, zeroed) };
        };
        let epoch = l.cell.get().sampling.load(Relaxed) as u32;
        if epoch != 0 {
            // SAFETY: (A), passed on.
            return unsafe { self.hf_alloc_sampling(layout, zeroed, epoch) };
        }
        // SAFETY: (A), passed on.
        unsafe { self.hf_alloc_unsampled(l, layout, zeroed) }
    }

    /// The hot path once no sample is drawn: counts, then a block from the
    /// bins or jemalloc. Every call it makes is a tail call, so the inlined
    /// path saves no registers.
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size.
    #[inline(always)]
    unsafe fn hf_alloc_unsampled(&self, l: &Local, layout: Layout, zeroed: bool) -> *mut u8 {
        let size = layout.size();
        if !l.cell.get().own_alloc_quiet(size) {
            // SAFETY: (A), passed on.
            return unsafe { self.hf_alloc_slow(l, layout, zeroed, None) };
        }
        if size <= bins::MAX_SIZE && layout.align() <= 8 {
            let b = l.cur_bins.get();
            // SAFETY: a non-null entry is this thread's own slot of bins for
            // the tag, written only by this thread (`Local` is !Sync).
            if let Some(p) = unsafe { b.as_ref() }.and_then(|b| b.pop(bins::class(size))) {
                if zeroed {
                    // SAFETY: a cached block of `size`'s class holds `size` bytes.
                    unsafe { p.write_bytes(0, size) };
                }
                return p;
            }
        }
        let mflags = l.mflags.get();
        if mflags == 0 && !zeroed && flags::malloc_aligns(layout) {
            // SAFETY: a non-zero size, which `malloc` aligns for `layout`.
            return unsafe { malloc_counted(size) };
        }
        // SAFETY: (A); an open cell means `mflags` is this thread's for the
        // current tag.
        unsafe { alloc_counted(layout, mflags, zeroed) }
    }

    /// The hot path while sampling is on: draws, then goes on as
    /// [`hf_alloc_unsampled`](Self::hf_alloc_unsampled). Out of line, so
    /// that the sampling-off path stays free of calls that return.
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size.
    #[inline(never)]
    unsafe fn hf_alloc_sampling(&self, layout: Layout, zeroed: bool, epoch: u32) -> *mut u8 {
        // The thread's state again, rather than its address passed in: the
        // inlined path then does not compute it.
        let Some(l) = local::current() else {
            // SAFETY: (A), passed on.
            return unsafe { hf_alloc_internal(layout, zeroed) };
        };
        if sampling::should_sample_at(l, layout.size(), epoch) {
            // SAFETY: (A), passed on.
            return unsafe { self.hf_alloc_slow(l, layout, zeroed, Some(true)) };
        }
        // SAFETY: (A), passed on.
        unsafe { self.hf_alloc_unsampled(l, layout, zeroed) }
    }

    /// Busy threads (the profiler's own blocks), workspaces, first
    /// allocations, sampled allocations and cells at a bound. `drawn` is the
    /// sampling decision if the hot path made one.
    ///
    /// # Safety
    /// (A): `layout` has a non-zero size.
    #[cold]
    #[inline(never)]
    unsafe fn hf_alloc_slow(
        &self,
        l: &Local,
        layout: Layout,
        zeroed: bool,
        drawn: Option<bool>,
    ) -> *mut u8 {
        if !HEADERLESS.load(Relaxed) {
            HEADERLESS.store(true, Relaxed);
        }
        if l.busy.get() {
            // SAFETY: (A), passed on.
            return unsafe { hf_alloc_internal(layout, zeroed) };
        }
        if !l.ws.get().is_null() {
            if let Some(p) =
                region::try_alloc(l.ws.get(), l as *const Local as usize, layout, zeroed)
            {
                return p;
            }
        }
        tracking::note_inner_name::<A>();
        let p = match local::row(l) {
            Some(row) => {
                // An open cell at a bound was drawn for by the hot path
                // (and not chosen); a closed one was not.
                let sampled = match drawn {
                    Some(d) => d,
                    None => !l.is_open() && sampling::should_sample(l, layout.size()),
                };
                let (mflags, tag) = (l.mflags.get(), l.htag.get());
                // SAFETY: (A), passed on; `mflags` is this thread's for `tag`.
                unsafe { hf_alloc_counted(l, row, layout, zeroed, tag, mflags, sampled) }
            }
            // SAFETY: (A), passed on.
            None => unsafe { hf_alloc_internal(layout, zeroed) },
        };
        tracking::first_use::<A>();
        p
    }

    /// Frees a block: untagged ones on the hot path, the rest by kind.
    ///
    /// # Safety
    /// (F): `ptr` is a live block this tracker handed out for `layout`.
    #[inline(always)]
    pub(crate) unsafe fn hf_dealloc(&self, ptr: *mut u8, layout: Layout) {
        let kind = window::kind_of(ptr);
        let size = layout.size();
        if kind == UNTAGGED {
            if let Some((l, row)) = own_free_context(size) {
                if !row.cell(0).own_free_quiet(size) {
                    // SAFETY: (F), passed on.
                    return unsafe { free_untagged_at_edge(l, row, ptr, layout) };
                }
                if size <= bins::MAX_SIZE && layout.align() <= 8 {
                    let b = l.bins[0].get();
                    if b.is_null() {
                        // SAFETY: (F), passed on; counted above.
                        return unsafe { free_untagged_counted(l, ptr, layout) };
                    }
                    // SAFETY: a non-null entry is this thread's own slot
                    // of bins for tag 0, written only by this thread.
                    if unsafe { &*b }.push(bins::class(size), ptr) {
                        return;
                    }
                }
                // SAFETY: (F): an untagged block is jemalloc's, from
                // `malloc`/`mallocx` without an arena, for `layout`.
                return unsafe { Jemalloc.dealloc(ptr, layout) };
            }
        }
        // SAFETY: (F), passed on.
        unsafe { hf_dealloc_kind(ptr, layout, kind) }
    }

    /// Resizes a block. The new block is counted under the tag current at
    /// the call, as an allocation is: a block of that tag is resized by
    /// jemalloc within the tag's arena; a block of another tag, a sampled
    /// or workspace block, or one drawn for sampling is allocated, copied
    /// and freed.
    ///
    /// # Safety
    /// (R): (F) for `ptr` and `layout`, and `new_size` is non-zero.
    #[inline]
    pub(crate) unsafe fn hf_realloc(
        &self,
        ptr: *mut u8,
        layout: Layout,
        new_size: usize,
    ) -> *mut u8 {
        if new_size > isize::MAX as usize - (layout.align() - 1) {
            tracking::note_failed();
            return std::ptr::null_mut();
        }
        // SAFETY: the alignment comes from a valid layout and the size bound
        // was checked just above.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let kind = window::kind_of(ptr);
        if kind == INTERNAL {
            // SAFETY: (R); an internal block is the profiler arena's.
            let p = unsafe { arena::realloc(ptr, layout, new_size) };
            if !p.is_null() {
                INTERNAL_LIVE.fetch_sub(layout.size() as u64, Relaxed);
                INTERNAL_LIVE.fetch_add(new_size as u64, Relaxed);
            }
            return p;
        }
        let Some(l) = local::current() else {
            return std::ptr::null_mut();
        };
        let Some(row) = local::row(l) else {
            return std::ptr::null_mut();
        };
        let tag = l.htag.get();
        let in_ws = !l.ws.get().is_null() && !l.busy.get();
        let in_region = region::any() && region::contains(ptr);
        let sampled = sampling::enabled() && l.is_open() && sampling::should_sample(l, new_size);
        let over = if retag::may_hold(layout.size()) {
            retag::get(ptr)
        } else {
            None
        };
        let plain = kind < INTERNAL && !in_ws && !in_region && !sampled;
        let counted = over.unwrap_or(kind as u16);
        if plain && counted != tag && new_size == layout.size() && new_size >= retag::MIN_SIZE {
            // Adoption: a large block changes tag in place (see `retag`).
            let noted = if kind as u16 == tag {
                retag::take(ptr).is_some()
            } else {
                retag::set(ptr, tag)
            };
            if noted {
                row.on_free_local(counted, layout.size());
                row.on_realloc_in(tag, new_size);
                return ptr;
            }
        }
        if !plain || over.is_some() || kind as u16 != tag {
            // SAFETY: (R), passed on.
            return unsafe { self.hf_realloc_moving(l, row, ptr, layout, new, sampled) };
        }
        let p = if tag == 0 {
            // SAFETY: (R): an untagged block is jemalloc's for `layout`.
            unsafe { Jemalloc.realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: (R); the block is in the current tag's arena (its
            // address is in the tag's window), which `mflags` names, so the
            // block stays in that arena.
            unsafe { sys::rallocx(ptr.cast(), new_size, l.mflags.get() | flags::align(new)) }.cast()
        };
        if p.is_null() {
            row.on_failed(tag);
            return p;
        }
        row.on_free_local(tag, layout.size());
        row.on_realloc_in(tag, new_size);
        p
    }

    /// Realloc as allocate, copy, free: into the current tag (sampled if
    /// `sampled`), or served as any allocation while a workspace is active.
    ///
    /// # Safety
    /// (R): (F) for `ptr` and `old`, and `new` has a non-zero size.
    #[cold]
    #[inline(never)]
    unsafe fn hf_realloc_moving(
        &self,
        l: &Local,
        row: &Row,
        ptr: *mut u8,
        old: Layout,
        new: Layout,
        sampled: bool,
    ) -> *mut u8 {
        let np = if !l.ws.get().is_null() && !l.busy.get() {
            // SAFETY: (A): `new` has a non-zero size.
            unsafe { self.hf_alloc(new, false) }
        } else {
            let (mflags, tag) = (l.mflags.get(), l.htag.get());
            // SAFETY: (A); `mflags` is this thread's for `tag`.
            unsafe { hf_alloc_counted(l, row, new, false, tag, mflags, sampled) }
        };
        if np.is_null() {
            return np;
        }
        // SAFETY: both blocks are live and at least min(old, new) bytes long.
        unsafe { std::ptr::copy_nonoverlapping(ptr, np, old.size().min(new.size())) };
        if let Some(tag) = counted_tag(np) {
            row.alloc_to_realloc(tag);
        }
        // SAFETY: `ptr` is live with layout `old`.
        unsafe { self.hf_dealloc(ptr, old) };
        np
    }
}

/// The tag a block just handed out was counted under, or `None` for the
/// profiler's own and workspace blocks (not counted).
fn counted_tag(p: *mut u8) -> Option<u16> {
    match window::kind_of(p) {
        INTERNAL => None,
        SAMPLED => sampling::tag_of(p),
        _ if region::any() && region::contains(p) => None,
        k => Some(k as u16),
    }
}

/// Allocates a block counted in `row` under `tag` (with `mflags` for it):
/// from the sampled window, recorded with a backtrace, when `sampled`.
///
/// # Safety
/// (A): `layout` has a non-zero size; `mflags` is `l`'s thread's for `tag`.
unsafe fn hf_alloc_counted(
    l: &Local,
    row: &Row,
    layout: Layout,
    zeroed: bool,
    tag: u16,
    mflags: i32,
    sampled: bool,
) -> *mut u8 {
    let size = layout.size();
    let sample_arena = (sampled && !l.busy.get())
        .then(|| window::arena(SAMPLED))
        .flatten();
    let p = match sample_arena {
        Some(a) => {
            let zero = if zeroed { flags::ZERO } else { 0 };
            let f = flags::arena(a) | flags::TCACHE_NONE | flags::align(layout) | zero;
            // SAFETY: a non-zero size; the flags name the sampled arena, no
            // cache, and a valid alignment.
            unsafe { sys::mallocx(size, f) }.cast::<u8>()
        }
        // SAFETY: (A), passed on.
        None => unsafe { raw_alloc(layout, mflags, zeroed) },
    };
    if p.is_null() {
        row.on_failed(tag);
        return p;
    }
    row.on_alloc(tag, size);
    if sample_arena.is_some() {
        // The thread is not busy, so the block is recorded (its tag is then
        // found at free in the side table).
        sampling::record(l, p, tag, row.slot(), size);
    }
    p
}

/// The profiler's own block: from its arena, in its window.
///
/// # Safety
/// (A): `layout` has a non-zero size.
#[cold]
unsafe fn hf_alloc_internal(layout: Layout, zeroed: bool) -> *mut u8 {
    // No arena (jemalloc refused one): the allocation fails, as any
    // allocation jemalloc cannot serve.
    let p = arena::alloc(layout, zeroed).unwrap_or(std::ptr::null_mut());
    if !p.is_null() {
        INTERNAL_LIVE.fetch_add(layout.size() as u64, Relaxed);
    }
    p
}

/// A free the inlined path did not finish: a tagged block on a thread with
/// a row of its own is counted and cached (or given to jemalloc) here, as
/// the inlined path does an untagged one; the rest go to
/// [`hf_dealloc_slow`]. Out of line, so that the untagged path's
/// counter addresses stay constants (see docs/performance.md: inlining
/// this slowed the untagged loop).
///
/// # Safety
/// (F): `ptr` is a live block this tracker handed out for `layout`, and
/// `kind` is its address's kind.
#[inline(never)]
unsafe fn hf_dealloc_kind(ptr: *mut u8, layout: Layout, kind: u8) {
    let size = layout.size();
    if kind != UNTAGGED && kind < INTERNAL {
        if let Some((l, row)) = own_free_context(size) {
            let tag = kind as u16;
            if row.cell(tag).own_free_quiet(size) {
                if cache(l, tag, ptr, layout) {
                    return;
                }
                // SAFETY: (F); a block of the tag's arena (its address
                // is in the tag's window), counted just above.
                return unsafe { free_tagged(l, tag, ptr, layout) };
            }
        }
    }
    // SAFETY: (F), passed on.
    unsafe { hf_dealloc_slow(ptr, layout, kind) }
}

/// Frees a block that is tagged, sampled, the profiler's own or carved
/// from a workspace, or any block on a thread without a row of its own.
///
/// # Safety
/// (F): `ptr` is a live block this tracker handed out for `layout`.
#[cold]
#[inline(never)]
unsafe fn hf_dealloc_slow(ptr: *mut u8, layout: Layout, kind: u8) {
    if region::any() && region::contains(ptr) {
        region::dealloc(ptr, layout);
        return;
    }
    let size = layout.size();
    let over = if retag::may_hold(size) {
        retag::take(ptr)
    } else {
        None
    };
    match kind {
        INTERNAL => {
            INTERNAL_LIVE.fetch_sub(size as u64, Relaxed);
            // SAFETY: (F); the profiler arena's block of `layout`.
            unsafe { arena::dealloc(ptr, layout) };
        }
        SAMPLED => {
            count_free(sampling::on_free(ptr).unwrap_or(0), size);
            let f = flags::TCACHE_NONE | flags::align(layout);
            // SAFETY: (F); a block of the sampled arena, freed without a cache.
            unsafe { sys::sdallocx(ptr.cast(), size, f) };
        }
        UNTAGGED => {
            count_free(over.unwrap_or(0), size);
            // SAFETY: (F): an untagged block is jemalloc's for `layout`.
            unsafe { Jemalloc.dealloc(ptr, layout) };
        }
        tag => {
            let tag = tag as u16;
            count_free(over.unwrap_or(tag), size);
            match local::current() {
                Some(l) if over.is_none() && cache(l, tag, ptr, layout) => {}
                // SAFETY: (F); a block of the tag's arena.
                Some(l) => unsafe { free_tagged(l, tag, ptr, layout) },
                // SAFETY: (F); a block of the tag's arena, freed without a cache.
                None => unsafe {
                    sys::sdallocx(ptr.cast(), size, flags::TCACHE_NONE | flags::align(layout))
                },
            }
        }
    }
}
