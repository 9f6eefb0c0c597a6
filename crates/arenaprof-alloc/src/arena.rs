//! The profiler's own jemalloc arena.
//!
//! Blocks the profiler allocates for itself (made while a thread is busy:
//! symbolising, interning stacks, building and encoding snapshots) come from
//! a jemalloc arena of their own, with no thread cache and dirty and muzzy
//! decay of 0, so:
//! - none of them ever sits in a thread cache from which the program would
//!   be served, and the program's arenas never hold the profiler's pages;
//! - the pages a snapshot dirties and frees go back to the OS when freed,
//!   instead of showing as the program's `dirty_unpurged` in the next one;
//! - what the profiler's heap holds is read from this arena's statistics
//!   and taken out of the program's jemalloc figures.
//!
//! Used only when the tracker's inner allocator is jemalloc (then every
//! internal block, from this arena or from before it existed, is jemalloc's
//! and freed with `dallocx`). Creating the arena calls `mallctl`, which
//! allocates from jemalloc's own base allocator, never through the tracker.

use std::alloc::Layout;

/// The figures of the profiler's arena, from jemalloc's `stats.arenas.<i>.*`.
#[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    /// The arena's index.
    pub(crate) index: u32,
    /// Bytes of live blocks (small and large).
    pub(crate) allocated: u64,
    /// Bytes of pages holding live blocks.
    pub(crate) active: u64,
    /// Resident bytes (active, dirty, metadata).
    pub(crate) resident: u64,
    /// Metadata bytes (`base` + `internal`).
    pub(crate) metadata: u64,
}

#[cfg(feature = "jemalloc")]
mod imp {
    use super::*;
    use crate::window;
    use std::ffi::c_int;
    use tikv_jemalloc_sys as sys;

    /// The arena's index, creating it (in its own address window, see
    /// [`window`]) on first use; `None` when jemalloc refused.
    fn index() -> Option<u32> {
        window::arena(window::INTERNAL)
    }

    fn index_now() -> Option<u32> {
        window::arena_now(window::INTERNAL)
    }

    fn flags(layout: Layout) -> c_int {
        let align = if layout.align() > 16 {
            sys::MALLOCX_ALIGN(layout.align())
        } else {
            0
        };
        align | sys::MALLOCX_TCACHE_NONE
    }

    /// Creates the arena and maps its first pages now, at the process's
    /// first allocation: its address space then exists before the program
    /// loads any library, so a library's load window (whose new anonymous
    /// mappings `arenaprof_native::blas::open` adopts for the library) does
    /// not see the profiler's arena appear in it.
    pub(crate) fn warm() {
        if let Some(p) = alloc(Layout::new::<[u64; 8]>(), false) {
            if !p.is_null() {
                // SAFETY: just allocated with this layout from jemalloc.
                unsafe { dealloc(p, Layout::new::<[u64; 8]>()) };
            }
        }
    }

    /// Allocates `layout` from the profiler's arena; `None` when the arena
    /// does not exist (yet): the caller uses the inner allocator.
    pub(crate) fn alloc(layout: Layout, zeroed: bool) -> Option<*mut u8> {
        let i = index()?;
        let f = flags(layout)
            | sys::MALLOCX_ARENA(i as usize)
            | if zeroed { sys::MALLOCX_ZERO } else { 0 };
        // SAFETY: the layout's size is non-zero (an outer layout, header
        // included); the flags name an existing arena and a valid alignment.
        Some(unsafe { sys::mallocx(layout.size(), f) }.cast())
    }

    /// Frees a jemalloc block of `layout` without a thread cache.
    ///
    /// # Safety
    /// `ptr` is a live jemalloc block of `layout`.
    pub(crate) unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
        // SAFETY: our caller's contract; `flags` carries its alignment.
        unsafe { sys::sdallocx(ptr.cast(), layout.size(), flags(layout)) }
    }

    /// Resizes a jemalloc block of `layout` to `new_size`, into the
    /// profiler's arena when it exists.
    ///
    /// # Safety
    /// `ptr` is a live jemalloc block of `layout`; `new_size` is non-zero and
    /// valid for its alignment.
    pub(crate) unsafe fn realloc(ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let f = flags(layout) | index_now().map_or(0, |i| sys::MALLOCX_ARENA(i as usize));
        // SAFETY: our caller's contract.
        unsafe { sys::rallocx(ptr.cast(), new_size, f) }.cast()
    }

    /// The arena's figures (the caller advanced jemalloc's `epoch`), if it exists.
    pub(crate) fn figures() -> Option<Figures> {
        let index = index_now()?;
        // SAFETY: `arenas.page` is a size_t.
        let page = unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"arenas.page\0") }
            .map_or(1, |p| p.max(1) as u64);
        let stat = |suffix: &str| window::arena_stat(index, suffix).unwrap_or(0);
        Some(Figures {
            index,
            allocated: stat("small.allocated") + stat("large.allocated"),
            active: stat("pactive") * page,
            resident: stat("resident"),
            metadata: stat("base") + stat("internal"),
        })
    }
}

#[cfg(not(feature = "jemalloc"))]
mod imp {
    use super::*;

    pub(crate) fn alloc(_: Layout, _: bool) -> Option<*mut u8> {
        None
    }
    pub(crate) fn warm() {}
    // Never called: without jemalloc no block comes from the arena.
    pub(crate) unsafe fn dealloc(_: *mut u8, _: Layout) {}
    pub(crate) unsafe fn realloc(_: *mut u8, _: Layout, _: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub(crate) fn figures() -> Option<Figures> {
        None
    }
}

pub(crate) use imp::{alloc, dealloc, figures, realloc, warm};
