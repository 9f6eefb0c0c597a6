//! The real OpenBLAS, loaded at run time when the machine has it: found and
//! opened with `arenaprof::blas::open` (after the `mmap` hooks are in, so its
//! buffers are attributed to it), its thread count set through
//! `openblas_set_num_threads` (the environment variable is capped at the
//! CPU count), and `cblas_dgemm` called through a function pointer. Nothing
//! is linked at build time: the demo runs the same without the library.

use arenaprof::blas;

/// Names tried, in order (Debian's `libopenblas0-pthread` and `-dev`).
pub const NAMES: &[&str] = &["libopenblas.so.0", "libopenblas.so"];

/// The loaded library.
pub struct OpenBlas {
    /// Kept loaded for the life of the process (OpenBLAS's threads run its code).
    lib: blas::Library,
    /// Path the loader recorded.
    pub path: String,
    /// `0.3.21`, when it says.
    pub version: Option<String>,
    /// `pthreads`, `openmp`, ...
    pub threading: String,
    /// Kernel set, e.g. `Haswell`.
    pub arch: Option<String>,
    /// Threads it started with.
    pub initial_threads: i64,
}

/// Which OpenBLAS phase 1 runs.
pub enum Mode {
    /// The machine's library.
    Real(Box<OpenBlas>),
    /// A simulation, and why.
    Simulated(String),
}

/// Loads the machine's OpenBLAS unless `skip` (`--no-openblas`).
pub fn load(skip: bool) -> Mode {
    if skip {
        return Mode::Simulated("--no-openblas".into());
    }
    let lib = match blas::open(NAMES) {
        Ok(l) => l,
        Err(e) => {
            return Mode::Simulated(format!(
                "no libopenblas on this machine ({}; apt-get install libopenblas0-pthread)",
                e.to_string().lines().next().unwrap_or("not found")
            ))
        }
    };
    if lib.symbol("cblas_dgemm").is_none() {
        return Mode::Simulated(format!("{} has no cblas_dgemm", lib.name()));
    }
    let info = blas::info();
    let Some(rt) = info
        .runtimes
        .iter()
        .find(|r| r.kind == blas::Kind::OpenBlas && r.path.contains("openblas"))
    else {
        return Mode::Simulated(format!(
            "{} loaded but arenaprof::blas does not recognise it as OpenBLAS ({})",
            lib.name(),
            info.notes.join("; ")
        ));
    };
    Mode::Real(Box::new(OpenBlas {
        path: rt.path.clone(),
        version: rt.version.clone(),
        threading: rt.threading_layer.clone(),
        arch: rt.architecture.clone(),
        initial_threads: rt.num_threads,
        lib,
    }))
}

impl OpenBlas {
    /// Bytes it mapped while it loaded (its constructor's threads), adopted
    /// for it by `blas::open`.
    pub fn adopted(&self) -> u64 {
        self.lib.adopted()
    }

    /// C = A B for row-major `n x n` matrices (the operands hold `n * n`).
    pub fn dgemm(&self, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        self.lib
            .dgemm_square(n, a, b, c)
            .expect("cblas_dgemm was found at load and the operands are n x n");
    }

    /// The runtime as `arenaprof::blas::info` sees it now.
    pub fn runtime(&self) -> Option<blas::Runtime> {
        blas::info()
            .runtimes
            .into_iter()
            .find(|r| r.kind == blas::Kind::OpenBlas && r.path == self.path)
    }

    /// What the hooks attributed to it: anonymous mappings it made (count,
    /// virtual, resident, commit), from `/proc/self/smaps`.
    pub fn mapped(&self) -> (u64, u64, u64, u64) {
        let pm =
            arenaprof::plumbing::untracked(|| arenaprof_native::process_memory(&[], &[], 0, None));
        let Ok(pm) = pm else { return (0, 0, 0, 0) };
        let u = pm.grouped.get(&arenaprof_native::maps::Group::NativeAnon(
            self.path.clone(),
        ));
        (
            u.mappings,
            u.virtual_bytes,
            u.resident_bytes,
            u.commit_bytes,
        )
    }
}
