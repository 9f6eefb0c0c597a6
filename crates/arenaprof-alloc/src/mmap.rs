//! Zeroed memory straight from the OS, for the profiler's own tables, so they
//! never go through any allocator (and never recurse into the tracker).
//!
//! Every mapping made here is recorded in a fixed table (no allocation), so
//! a snapshot can tell the profiler's tables apart from the program's memory
//! in `/proc/self/smaps` ([`for_each_range`]).

use crate::capacity::MAX_ROWS;
use std::sync::atomic::{AtomicUsize, Ordering::*};

/// Mappings recorded: one per thread row, the shared row, the timeline ring,
/// the bins' table, and room to spare. Past this, mappings still work but are not listed.
const MAX_RANGES: usize = MAX_ROWS + 16;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static RANGES: [[AtomicUsize; 2]; MAX_RANGES] = [EMPTY; MAX_RANGES];
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Maps `len` zeroed bytes, or returns null, and lists the mapping.
pub(crate) fn map_zeroed(len: usize) -> *mut u8 {
    let p = map_unlisted(len);
    if !p.is_null() {
        let i = COUNT.fetch_add(1, AcqRel);
        if let Some(r) = RANGES.get(i) {
            // Length first: a reader that sees the start sees the length.
            r[1].store(len, Release);
            r[0].store(p as usize, Release);
        }
    }
    p
}

/// Maps `len` zeroed bytes, or returns null, without listing the mapping.
fn map_unlisted(len: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping with no address hint has no
    // preconditions; failure is reported as MAP_FAILED and turned into null.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p.cast()
    }
}

/// Calls `f(start, len)` for every mapping [`map_zeroed`] made (they are
/// never unmapped). No allocation, no lock.
pub(crate) fn for_each_range(mut f: impl FnMut(usize, usize)) {
    let n = COUNT.load(Acquire).min(MAX_RANGES);
    for r in &RANGES[..n] {
        let start = r[0].load(Acquire);
        if start != 0 {
            f(start, r[1].load(Acquire));
        }
    }
}
