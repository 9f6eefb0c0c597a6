//! Writes a snapshot at the end of `main`.

use std::path::PathBuf;

/// Writes a snapshot to a path when dropped; put it at the top of `main`.
///
/// [`Profiler::from_env`] reads:
/// - `ARENAPROF_OUT`: where to write (no file when unset);
/// - `ARENAPROF_SAMPLE`: `off`, `all`, `bytes`, `bytes:512KiB`, `min:1MiB`;
/// - `ARENAPROF_TIMELINE_MS`: period of background timeline points;
/// - `ARENAPROF_SYMBOLS`: `report` (default) stores sampled stacks as return
///   addresses, which `arenaprof report` symbolises from the binaries;
///   `program` symbolises them in the program at snapshot time (parsing
///   debug information: tens of MiB and 0.1-0.2 s per snapshot);
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
    ///
    /// A value it cannot read is ignored with one line on stderr naming the
    /// accepted forms, once per process however often this is called.
    pub fn from_env() -> Profiler {
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let mut bad: Vec<String> = Vec::new();
        if let Ok(v) = std::env::var("ARENAPROF_SAMPLE") {
            match v.parse::<crate::Sampling>() {
                Ok(s) => crate::set_sampling(s),
                Err(e) => bad.push(format!("ARENAPROF_SAMPLE: {e}; sampling stays off")),
            }
        }
        if let Ok(v) = std::env::var("ARENAPROF_TIMELINE_MS") {
            match v.trim().parse::<u64>() {
                Ok(0) => {}
                Ok(ms) => crate::timeline::start_sampler(std::time::Duration::from_millis(ms)),
                Err(_) => bad.push(format!(
                    "ARENAPROF_TIMELINE_MS={v:?} is not a whole number of milliseconds (e.g. 10; 0 or unset: no background points); ignored"
                )),
            }
        }
        match std::env::var("ARENAPROF_SYMBOLS").as_deref() {
            Err(_) | Ok("report") => {}
            Ok("program") => crate::sampling::set_symbols_in_program(true),
            Ok(v) => bad.push(format!(
                "ARENAPROF_SYMBOLS={v:?}: expected report or program; the report tool symbolises"
            )),
        }
        if let Some(e) = crate::native::unrecognised() {
            bad.push(e);
        }
        if std::env::var_os("ARENAPROF_OUT").is_some_and(|o| o.is_empty()) {
            bad.push("ARENAPROF_OUT is empty: expected a file path (e.g. run.arenaprof); no snapshot is written".to_owned());
        }
        if !bad.is_empty() && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            for b in &bad {
                warn(format_args!("{b}"));
            }
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
            out: std::env::var_os("ARENAPROF_OUT")
                .filter(|o| !o.is_empty())
                .map(PathBuf::from),
        }
    }

    /// A profiler that writes its snapshot to `path` when dropped (whatever
    /// `ARENAPROF_OUT` says).
    ///
    /// ```
    /// let p = arenaprof_alloc::Profiler::writing_to("run.arenaprof");
    /// assert_eq!(p.out(), Some(std::path::Path::new("run.arenaprof")));
    /// std::mem::forget(p); // do not write it here
    /// ```
    pub fn writing_to(path: impl Into<PathBuf>) -> Profiler {
        Profiler {
            out: Some(path.into()),
        }
    }

    /// The former name of [`Profiler::writing_to`] (a constructor named
    /// like a conversion).
    #[deprecated(since = "0.3.0", note = "renamed to `Profiler::writing_to`")]
    pub fn to_path(path: impl Into<PathBuf>) -> Profiler {
        Self::writing_to(path)
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
