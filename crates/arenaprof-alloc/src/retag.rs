//! Large blocks counted under another tag than their address names.
//!
//! Without a header a block's tag is its address (see [`window`](crate::window)),
//! so a block cannot change tag without moving. A same-size `realloc` under
//! another tag is how a block is *adopted* (the array crate's `from_vec`
//! takes a `Vec`'s buffer into `array-base` that way, without copying
//! 800 MB): for blocks of at least [`MIN_SIZE`] bytes the tracker keeps the
//! block where it is and notes its new tag here; frees and reallocs of
//! blocks that large look here first while the table holds anything.
//!
//! A fixed table under a spin flag (held for a scan of at most
//! [`SLOTS`] words, never while allocating); the `fork()` prepare handler
//! takes it. When the table is full, an adoption copies instead.

// Used by the header-free paths, which exist only with jemalloc inside.
#![cfg_attr(not(feature = "jemalloc"), allow(dead_code))]

use crate::spin::SpinFlag;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering::*};

/// Smallest block adopted in place; smaller ones are copied.
pub(crate) const MIN_SIZE: usize = 16 << 10;
/// Blocks that can be re-tagged at once.
const SLOTS: usize = 1024;

#[allow(clippy::declare_interior_mutable_const)]
const NO_PTR: AtomicUsize = AtomicUsize::new(0);
#[allow(clippy::declare_interior_mutable_const)]
const NO_TAG: AtomicU16 = AtomicU16::new(0);
static PTRS: [AtomicUsize; SLOTS] = [NO_PTR; SLOTS];
static TAGS: [AtomicU16; SLOTS] = [NO_TAG; SLOTS];
/// Entries in the table.
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Held while the table is read or written, and by a fork's prepare step.
pub(crate) static LOCK: SpinFlag = SpinFlag::new();

/// Whether a block of `size` bytes may be in the table.
#[inline(always)]
pub(crate) fn may_hold(size: usize) -> bool {
    size >= MIN_SIZE && COUNT.load(Relaxed) != 0
}

fn find(p: usize) -> Option<usize> {
    PTRS.iter().position(|e| e.load(Relaxed) == p)
}

/// The tag `p` is counted under, if it was re-tagged.
pub(crate) fn get(p: *const u8) -> Option<u16> {
    LOCK.with(|| find(p as usize).map(|i| TAGS[i].load(Relaxed)))
}

/// Takes `p` out of the table (it is being freed or moved); its tag.
pub(crate) fn take(p: *const u8) -> Option<u16> {
    LOCK.with(|| {
        let i = find(p as usize)?;
        PTRS[i].store(0, Relaxed);
        COUNT.fetch_sub(1, Relaxed);
        Some(TAGS[i].load(Relaxed))
    })
}

/// Notes that `p` is counted under `tag` from now on; `false` when the
/// table is full (the caller then moves the block instead).
pub(crate) fn set(p: *const u8, tag: u16) -> bool {
    let p = p as usize;
    LOCK.with(|| {
        let i = match find(p) {
            Some(i) => i,
            None => match find(0) {
                Some(i) => {
                    PTRS[i].store(p, Relaxed);
                    COUNT.fetch_add(1, Relaxed);
                    i
                }
                None => return false,
            },
        };
        TAGS[i].store(tag, Relaxed);
        true
    })
}
