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
//! allocated in jemalloc's figures: the report's ladder shows them as the
//! allocator's overhead. A bin holds at most [`CAP`] blocks (at most
//! 100 KiB per thread and tag in use, over all classes); a free into a full
//! bin goes to jemalloc. Bins are flushed at thread exit.

// Used by the header-free paths, which exist only with jemalloc inside.
#![cfg_attr(not(feature = "jemalloc"), allow(dead_code))]

/// Largest size cached.
pub(crate) const MAX_SIZE: usize = 1024;
/// Blocks per bin.
pub(crate) const CAP: usize = 16;
/// jemalloc's small size classes up to [`MAX_SIZE`] (4 KiB pages, 64-bit).
pub(crate) const CLASSES: [usize; 21] = [
    8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
    1024,
];

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
    n: [u8; CLASSES.len()],
    items: [[*mut u8; CAP]; CLASSES.len()],
}

impl Bins {
    /// A zeroed mapping for a thread's bins of one tag; null on failure.
    /// Straight from the OS (never through an allocator), and given back at
    /// thread exit ([`unmap`](Self::unmap)).
    pub(crate) fn map() -> *mut Bins {
        crate::mmap::map_unlisted(std::mem::size_of::<Bins>()).cast()
    }

    /// Gives a mapping made by [`map`](Self::map) back.
    ///
    /// # Safety
    /// `b` came from [`map`](Self::map), is empty, and is not used again.
    pub(crate) unsafe fn unmap(b: *mut Bins) {
        // SAFETY: our caller's contract: the whole mapping, unused from now on.
        unsafe { libc::munmap(b.cast(), std::mem::size_of::<Bins>()) };
    }

    /// A cached block of class `c`, if any.
    #[inline(always)]
    pub(crate) fn pop(&mut self, c: usize) -> Option<*mut u8> {
        let n = *self.n.get(c)? as usize;
        if n == 0 {
            return None;
        }
        self.n[c] = (n - 1) as u8;
        Some(self.items[c][(n - 1) & (CAP - 1)])
    }

    /// Caches a freed block of class `c`; `false` when the bin is full.
    #[inline(always)]
    pub(crate) fn push(&mut self, c: usize, p: *mut u8) -> bool {
        let Some(&n) = self.n.get(c) else {
            return false;
        };
        let n = n as usize;
        if n >= CAP {
            return false;
        }
        self.items[c][n] = p;
        self.n[c] = (n + 1) as u8;
        true
    }

    /// Takes every cached block out, calling `free(block, class size)`.
    pub(crate) fn drain(&mut self, mut free: impl FnMut(*mut u8, usize)) {
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
    fn a_bin_is_lifo_and_bounded() {
        let m = Bins::map();
        assert!(!m.is_null());
        // SAFETY: a fresh zeroed mapping of a `Bins` (all-zero is empty).
        let b = unsafe { &mut *m };
        for i in 0..CAP {
            assert!(b.push(3, (i + 1) as *mut u8));
        }
        assert!(!b.push(3, 99 as *mut u8));
        assert_eq!(b.pop(3), Some(CAP as *mut u8));
        assert_eq!(b.pop(4), None);
        let mut n = 0;
        b.drain(|_, size| {
            assert_eq!(size, CLASSES[3]);
            n += 1;
        });
        assert_eq!(n, CAP - 1);
        // SAFETY: mapped above, drained, not used again.
        unsafe { Bins::unmap(m) };
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
