//! Creation sites and times.

use arenaprof_snapshot::Site;
use std::panic::Location;
use std::sync::OnceLock;

/// A `#[track_caller]` location as a snapshot [`Site`].
pub(crate) fn site_of(loc: &'static Location<'static>) -> Site {
    Site {
        file: loc.file().to_owned(),
        line: loc.line(),
        col: loc.column(),
    }
}

static START: OnceLock<u64> = OnceLock::new();

fn monotonic_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds since the registry's clock started (first arena), precise.
pub(crate) fn now_ns() -> u64 {
    let t = monotonic_ns(libc::CLOCK_MONOTONIC);
    t.saturating_sub(*START.get_or_init(|| t))
}

/// Like [`now_ns`] at the kernel tick's resolution (a few ms), for views:
/// it costs a few nanoseconds instead of a few tens.
pub(crate) fn coarse_now_ns() -> u64 {
    let t = monotonic_ns(libc::CLOCK_MONOTONIC_COARSE);
    t.saturating_sub(*START.get_or_init(|| monotonic_ns(libc::CLOCK_MONOTONIC)))
}
