//! Writes a snapshot at the end of `main`.

use std::path::PathBuf;

/// Writes a snapshot to a path when dropped; put it at the top of `main`.
///
/// [`Profiler::from_env`] reads:
/// - `ARENAPROF_OUT`: where to write (no file when unset);
/// - `ARENAPROF_SAMPLE`: `off`, `all`, `bytes`, `bytes:512KiB`, `min:1MiB`;
/// - `ARENAPROF_TIMELINE_MS`: period of background timeline points;
/// - `ARENAPROF_NATIVE`: `off` leaves `mmap`/`munmap` of shared libraries
///   unhooked and skips the mappings at snapshot time. Otherwise the hooks
///   are installed here, so memory that native libraries map (OpenBLAS's
///   per-thread buffers) is attributed to the library that mapped it.
///
/// ```no_run
/// let _p = arenaprof_alloc::Profiler::from_env();
/// // ... the program ...
/// // at the end of main the snapshot is written to $ARENAPROF_OUT
/// ```
pub struct Profiler {
    out: Option<PathBuf>,
}

impl Profiler {
    /// A profiler configured from the environment.
    pub fn from_env() -> Profiler {
        if let Ok(v) = std::env::var("ARENAPROF_SAMPLE") {
            match v.parse::<crate::Sampling>() {
                Ok(s) => crate::set_sampling(s),
                Err(e) => warn(format_args!("ARENAPROF_SAMPLE: {e}; sampling stays off")),
            }
        }
        if let Some(ms) = std::env::var("ARENAPROF_TIMELINE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
        {
            crate::timeline::start_sampler(std::time::Duration::from_millis(ms));
        }
        if !crate::native::disabled() {
            // Patching is the profiler's own work.
            if let Err(e) = crate::untracked(crate::native::install_hooks) {
                warn(format_args!(
                    "mmap hooks not installed ({e}); memory that libraries map is not attributed"
                ));
            }
        }
        Profiler {
            out: std::env::var_os("ARENAPROF_OUT").map(PathBuf::from),
        }
    }

    /// A profiler that writes to `path`.
    pub fn to_path(path: impl Into<PathBuf>) -> Profiler {
        Profiler {
            out: Some(path.into()),
        }
    }

    /// Where the snapshot will go.
    pub fn out(&self) -> Option<&std::path::Path> {
        self.out.as_deref()
    }
}

impl Drop for Profiler {
    fn drop(&mut self) {
        if let Some(path) = &self.out {
            // Encoding and writing are the profiler's own work.
            match crate::untracked(|| crate::snapshot().write(path)) {
                Ok(()) => warn(format_args!("wrote {}", path.display())),
                Err(e) => warn(format_args!("could not write snapshot: {e}")),
            }
        }
    }
}

/// Writes `arenaprof: {msg}` to stderr. A closed or full stderr is ignored:
/// the profiler never turns a program's exit into a panic.
fn warn(msg: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "arenaprof: {msg}");
}
