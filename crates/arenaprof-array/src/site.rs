//! Creation sites, and times on the profiler's one clock.

use arenaprof_snapshot::Site;
use std::panic::Location;

/// A `#[track_caller]` location as a snapshot [`Site`].
pub(crate) fn site_of(loc: &'static Location<'static>) -> Site {
    Site {
        file: loc.file().to_owned(),
        line: loc.line(),
        col: loc.column(),
    }
}

pub(crate) use arenaprof_alloc::clock::{coarse_now_ns, now_ns};
