//! The profiler's one clock: nanoseconds since the process first read it.
//!
//! Every time in a snapshot (peaks, timeline points, marks, arena and view
//! creation) comes from here, so they compare directly.
//!
//! ```
//! let a = arenaprof_alloc::clock::now_ns();
//! let b = arenaprof_alloc::clock::now_ns();
//! assert!(b >= a);
//! ```

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// `CLOCK_MONOTONIC` at the first read, plus one (0 means not yet read).
static START: AtomicU64 = AtomicU64::new(0);

#[inline]
fn monotonic_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

#[inline]
fn start() -> u64 {
    let s = START.load(Relaxed);
    if s != 0 {
        return s - 1;
    }
    let now = monotonic_ns(libc::CLOCK_MONOTONIC);
    match START.compare_exchange(0, now + 1, Relaxed, Relaxed) {
        Ok(_) => now,
        Err(won) => won - 1,
    }
}

/// Nanoseconds since the clock started (its first read), precise.
/// Lock-free and allocation-free: safe inside the allocator.
#[inline]
pub fn now_ns() -> u64 {
    let s = start();
    monotonic_ns(libc::CLOCK_MONOTONIC).saturating_sub(s)
}

/// [`now_ns`] at the kernel tick's resolution (a few ms) for a few
/// nanoseconds instead of a few tens: for frequent, coarse timestamps.
#[inline]
pub fn coarse_now_ns() -> u64 {
    let s = start();
    monotonic_ns(libc::CLOCK_MONOTONIC_COARSE).saturating_sub(s)
}
