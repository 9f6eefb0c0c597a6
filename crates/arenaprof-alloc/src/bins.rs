//! The header-free tracker's own per-thread block cache.
//!
//! A thread keeps, per tag it uses, a few freed blocks of each small size
//! class (up to [`MAX_SIZE`] bytes, alignment at most 8), and hands them out
//! again before asking jemalloc. A tight loop of allocations and frees then
//! never leaves the tracker's inlined path, which replaces jemalloc's fast
//! path instead of adding to it; and tagged blocks, which jemalloc serves
//! through `mallocx`'s general path (an arena and a cache given as flags),
//! come back from here as cheaply as untagged ones.
//!
//! A bin holds blocks of one tag only (a block's tag is its address, see
//! [`window`](crate::window)), so a block handed out again is counted under
//! the tag its address names. Cached blocks are freed in the counters and
//! allocated in jemalloc's figures; a snapshot reads how many bytes all
//! bins hold ([`cached_bytes`]) and the report's ladder shows them as the
//! profiler's (`profiler_caches`), not as jemalloc's rounding. A bin holds
//! at most [`CAP`] blocks ([`BUDGET`], 102,528 bytes or 100.1 KiB, per
//! thread and tag in use, over all classes); a free into a full bin goes to jemalloc. Bins are flushed
//! at thread exit and their slot is reused by a later thread.
//!
//! Every thread's bins live in one table of [`SLOTS`] slots, mapped once
//! (listed among the profiler's tables) and never unmapped, so a snapshot
//! can read any slot's counts while its thread runs or exits. Only the
//! owning thread writes a slot; the counts are atomics (plain loads and
//! stores on x86-64) so that the snapshot's reads are not data races.

// Used by the header-free paths, which exist only with jemalloc inside.
#![cfg_attr(not(feature = "jemalloc"), allow(dead_code))]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering::*};

/// Largest size cached.
pub(crate) const MAX_SIZE: usize = 1024;
/// Blocks per bin.
pub(crate) const CAP: usize = 16;
/// jemalloc's small size classes up to [`MAX_SIZE`] (4 KiB pages, 64-bit).
pub(crate) const CLASSES: [usize; 21] = [
    8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
    1024,
];
/// Bytes one (thread, tag)'s bins hold when every bin is full: the figure
/// the docs and the report's ladder give.
pub(crate) const BUDGET: usize = {
    let mut sum = 0;
    let mut c = 0;
    while c < CLASSES.len() {
        sum += CAP * CLASSES[c];
        c += 1;
    }
    sum
};
const _: () = assert!(BUDGET == 102_528);

/// The class of sizes `8k - 7 ..= 8k`, for `k` = `(size + 7) >> 3`.
const LUT: [u8; MAX_SIZE / 8 + 1] = {
    let mut t = [0u8; MAX_SIZE / 8 + 1];
    let mut k = 0;
    let mut c = 0;
    while k <= MAX_SIZE / 8 {
        while CLASSES[c] < k * 8 {
            c += 1;
        }
        t[k] = c as u8;
        k += 1;
    }
    t
};

/// The class index of a size of at most [`MAX_SIZE`] bytes.
#[inline(always)]
pub(crate) fn class(size: usize) -> usize {
    LUT[((size + 7) >> 3).min(MAX_SIZE / 8)] as usize
}

/// One thread's bins for one tag.
#[repr(C)]
pub(crate) struct Bins {
    /// Blocks per class: written by the owning thread only, read by
    /// snapshots ([`cached_bytes`]).
    n: [AtomicU8; CLASSES.len()],
    /// The blocks: the owning thread's only.
    items: UnsafeCell<[[*mut u8; CAP]; CLASSES.len()]>,
}

/// Bins slots in the table: one per (thread, tag) in use at once.
pub(crate) const SLOTS: usize = 2048;
/// Bytes per slot: a `Bins` rounded up to a cache line, so no two threads
/// write one line.
const STRIDE: usize = (std::mem::size_of::<Bins>() + 63) & !63;
/// The table, once mapped (null before, or if the OS refused).
static TABLE: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
/// 0: the table is not mapped; 1: a thread is mapping it; 2: mapped.
static TABLE_STATE: AtomicU8 = AtomicU8::new(0);
/// Slots handed out so far (the high-water mark).
static HIGH: AtomicUsize = AtomicUsize::new(0);
const UNUSED: u8 = 0;
const IN_USE: u8 = 1;
const FREE: u8 = 2;
#[allow(clippy::declare_interior_mutable_const)]
const UNUSED_SLOT: AtomicU8 = AtomicU8::new(UNUSED);
/// Per slot: [`UNUSED`] (never handed out), [`IN_USE`], [`FREE`] (drained
/// by its thread at exit, ready for another).
static STATE: [AtomicU8; SLOTS] = [UNUSED_SLOT; SLOTS];

/// The table, mapping it on first use; null while another thread maps it
/// (the caller goes without bins this time: nothing waits, so a `fork()`
/// in the middle cannot leave a child waiting) or if the OS refused.
fn table() -> *mut u8 {
    let t = TABLE.load(Acquire);
    if !t.is_null() || TABLE_STATE.load(Acquire) == 2 {
        return t;
    }
    if TABLE_STATE.compare_exchange(0, 1, AcqRel, Acquire).is_err() {
        return TABLE.load(Acquire);
    }
    let t = crate::mmap::map_zeroed(SLOTS * STRIDE);
    TABLE.store(t, Release);
    TABLE_STATE.store(2, Release);
    t
}

/// Bytes of the blocks all threads' bins hold now: freed by the program,
/// still allocated in jemalloc. Read without stopping the threads, so
/// exact at quiescent points only.
pub(crate) fn cached_bytes() -> u64 {
    let t = TABLE.load(Acquire);
    if t.is_null() {
        return 0;
    }
    let mut sum = 0u64;
    let high = HIGH.load(Acquire).min(SLOTS);
    for (i, state) in STATE[..high].iter().enumerate() {
        if state.load(Acquire) == UNUSED {
            continue;
        }
        // SAFETY: slot `i` lies inside the table (i < SLOTS), which is never
        // unmapped; only the `n` atomics are read, through a shared
        // reference to them alone (the owner never holds `&mut` to a slot).
        let n = unsafe { &*std::ptr::addr_of!((*t.add(i * STRIDE).cast::<Bins>()).n) };
        for (c, k) in n.iter().enumerate() {
            sum += k.load(Relaxed) as u64 * CLASSES[c] as u64;
        }
    }
    sum
}

/// Whether every slot has been handed out: a [`Bins::map`] that returns
/// null then found none free (rather than the table being mapped by
/// another thread at that moment).
pub(crate) fn full() -> bool {
    HIGH.load(Acquire) >= SLOTS
}

impl Bins {
    /// An empty slot for a thread's bins of one tag: a slot another
    /// thread gave back ([`release`](Self::release)), else a fresh one;
    /// null when the table is full or not mapped.
    pub(crate) fn map() -> *const Bins {
        let t = table();
        if t.is_null() {
            return std::ptr::null();
        }
        let high = HIGH.load(Acquire).min(SLOTS);
        let reused = (0..high).find(|&i| {
            STATE[i]
                .compare_exchange(FREE, IN_USE, AcqRel, Relaxed)
                .is_ok()
        });
        let i = match reused {
            Some(i) => i,
            None => {
                let i = HIGH.fetch_add(1, AcqRel);
                if i >= SLOTS {
                    HIGH.fetch_sub(1, AcqRel);
                    return std::ptr::null();
                }
                STATE[i].store(IN_USE, Release);
                i
            }
        };
        // SAFETY: slot `i < SLOTS` lies inside the table.
        unsafe { t.add(i * STRIDE).cast::<Bins>() }
    }

    /// Gives a slot back for another thread: it must be empty.
    ///
    /// # Safety
    /// `b` came from [`map`](Self::map), is empty, and is not used again
    /// by its thread.
    pub(crate) unsafe fn release(b: *const Bins) {
        let t = TABLE.load(Acquire);
        let i = (b as usize - t as usize) / STRIDE;
        if let Some(s) = STATE.get(i) {
            s.store(FREE, Release);
        }
    }

    /// A cached block of class `c`, if any. The owning thread's only.
    #[inline(always)]
    pub(crate) fn pop(&self, c: usize) -> Option<*mut u8> {
        let n = self.n.get(c)?.load(Relaxed) as usize;
        if n == 0 {
            return None;
        }
        self.n[c].store((n - 1) as u8, Relaxed);
        // SAFETY: only the owning thread touches `items` (the caller's
        // `&Bins` is its own slot), and no reference into it outlives this.
        Some(unsafe { (*self.items.get())[c][(n - 1) & (CAP - 1)] })
    }

    /// Caches a freed block of class `c`; `false` when the bin is full.
    /// The owning thread's only.
    #[inline(always)]
    pub(crate) fn push(&self, c: usize, p: *mut u8) -> bool {
        let Some(k) = self.n.get(c) else {
            return false;
        };
        let n = k.load(Relaxed) as usize;
        if n >= CAP {
            return false;
        }
        // SAFETY: as in `pop`: the owning thread's `items`, `n < CAP`.
        unsafe { (*self.items.get())[c][n] = p };
        k.store((n + 1) as u8, Relaxed);
        true
    }

    /// Takes every cached block out, calling `free(block, class size)`.
    pub(crate) fn drain(&self, mut free: impl FnMut(*mut u8, usize)) {
        for (c, &size) in CLASSES.iter().enumerate() {
            while let Some(p) = self.pop(c) {
                free(p, size);
            }
        }
    }
}

const _: () = assert!(CAP.is_power_of_two() && CAP < 256);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_maps_to_the_smallest_class_that_holds_it() {
        for size in 1..=MAX_SIZE {
            let c = CLASSES[class(size)];
            assert!(c >= size, "{size} -> {c}");
            let smaller = CLASSES.iter().filter(|&&k| k >= size).min().unwrap();
            assert_eq!(c, *smaller, "{size}");
        }
    }

    #[test]
    fn a_bin_is_lifo_and_bounded_and_counted() {
        let m = Bins::map();
        assert!(!m.is_null());
        // SAFETY: a slot handed out to this test alone.
        let b = unsafe { &*m };
        let before = cached_bytes();
        for i in 0..CAP {
            assert!(b.push(3, (i + 1) as *mut u8));
        }
        assert!(!b.push(3, 99 as *mut u8));
        assert_eq!(cached_bytes() - before, (CAP * CLASSES[3]) as u64);
        assert_eq!(b.pop(3), Some(CAP as *mut u8));
        assert_eq!(b.pop(4), None);
        let mut n = 0;
        b.drain(|_, size| {
            assert_eq!(size, CLASSES[3]);
            n += 1;
        });
        assert_eq!(n, CAP - 1);
        assert_eq!(cached_bytes(), before);
        // SAFETY: handed out above, drained, not used again.
        unsafe { Bins::release(m) };
        // The slot is handed out again before a fresh one.
        let again = Bins::map();
        assert!(!again.is_null());
        // SAFETY: as above.
        unsafe { Bins::release(again) };
    }

    #[cfg(feature = "jemalloc")]
    #[test]
    fn the_classes_are_jemallocs() {
        for size in 1..=MAX_SIZE {
            let l = std::alloc::Layout::from_size_align(size, 8).unwrap();
            assert_eq!(
                crate::window::usable_size(l),
                CLASSES[class(size)],
                "{size}"
            );
        }
    }
}
