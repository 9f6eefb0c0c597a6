//! Progress lines, timing and units for the demo.

use std::time::Instant;

/// One numbered phase: prints a line when it starts and when it ends.
pub struct Phase {
    n: usize,
    name: &'static str,
    t0: Instant,
}

impl Phase {
    /// Prints `[n/3] name ...` and starts the clock.
    pub fn start(n: usize, name: &'static str) -> Phase {
        say!("[{n}/3] {name} ...");
        Phase {
            n,
            name,
            t0: Instant::now(),
        }
    }

    /// Prints how long the phase took.
    pub fn done(self) {
        say!(
            "[{}/3] {} done in {:.2} s\n",
            self.n,
            self.name,
            self.t0.elapsed().as_secs_f64()
        );
    }
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// Bytes in the largest binary unit that keeps them at or above 1
/// (`2.0 GiB`, `256.0 KiB`).
pub fn size(bytes: u64) -> String {
    arenaprof_report::units::format_bytes(bytes)
}

/// A signed change in bytes, like [`size`] (`+2.0 GiB`, `-1.5 MiB`).
pub fn change(before: u64, after: u64) -> String {
    if after >= before {
        format!("+{}", size(after - before))
    } else {
        format!("-{}", size(before - after))
    }
}

/// Process RSS now, after returning freed pages to the OS.
pub fn rss_purged() -> u64 {
    arenaprof::process::purge();
    arenaprof::process::rss_bytes()
}
