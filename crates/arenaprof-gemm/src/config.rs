//! Pool settings: [`GemmConfig`] and the environment variables that the
//! global pool reads when it is built.

use crate::sizing::FULL_WORKSPACE;

/// Environment variable with the global pool's thread count (`1`, `8`, ...).
pub const ENV_THREADS: &str = "ARENAPROF_GEMM_THREADS";
/// Environment variable with the global pool's workspace cap (`16MiB`, `4m`, `1048576`).
pub const ENV_WORKSPACE_CAP: &str = "ARENAPROF_GEMM_WORKSPACE_CAP";

/// Default cap on the sum of all workspaces of a pool: 16 MiB, half of what
/// NumPy's OpenBLAS maps for *one* thread.
pub const DEFAULT_WORKSPACE_CAP: usize = 16 << 20;

/// Default for [`GemmConfig::min_work_per_worker`]: 64³ multiply-adds.
pub const DEFAULT_MIN_WORK_PER_WORKER: usize = 64 * 64 * 64;

/// Most threads a pool accepts; larger requests are clamped.
pub const MAX_THREADS: usize = 512;

/// How a [`GemmPool`](crate::GemmPool) is built.
///
/// ```
/// use arenaprof_gemm::GemmConfig;
/// let cfg = GemmConfig { threads: 2, workspace_cap: 8 << 20, ..Default::default() };
/// assert_eq!(cfg.threads, 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmConfig {
    /// Threads that compute one GEMM: the calling thread plus `threads - 1`
    /// pool threads. `0` means [`std::thread::available_parallelism`].
    /// Clamped to 512 (`MAX_THREADS`).
    pub threads: usize,
    /// Cap on the sum of all workspaces, in bytes, including the per-workspace
    /// record the tracking allocator charges (see
    /// [`WORKSPACE_RECORD`](crate::sizing::WORKSPACE_RECORD)). When
    /// `threads` full-size workspaces do not fit, the pool uses smaller blocks
    /// or fewer workers, never more memory; [`mem_stat`](crate::GemmPool::mem_stat)
    /// says which.
    pub workspace_cap: usize,
    /// Smallest share of a GEMM (in multiply-adds, `m * k * n / workers`) worth
    /// handing to one more worker. Small products run on the calling thread
    /// alone. `0` or `1` splits even tiny products (useful in tests).
    pub min_work_per_worker: usize,
    /// How many tiles of C per worker a GEMM is cut into. Workers claim tiles
    /// from a shared counter, so more tiles balance better on a busy machine;
    /// every tile repacks its panels of A and B, so fewer tiles pack less.
    /// `0` (the default) chooses: one per worker, or up to four when that
    /// adds at most 2% packing ([`Grid::auto`](crate::partition::Grid::auto)).
    pub tiles_per_worker: usize,
    /// Microseconds a pool thread keeps spinning for the next job (and the
    /// caller for the end of one) before it sleeps. Spinning is skipped when
    /// the pool has more workers than the machine has CPUs.
    pub spin_us: u32,
}

impl Default for GemmConfig {
    fn default() -> Self {
        GemmConfig {
            threads: 0,
            workspace_cap: DEFAULT_WORKSPACE_CAP,
            min_work_per_worker: DEFAULT_MIN_WORK_PER_WORKER,
            tiles_per_worker: 0,
            spin_us: 100,
        }
    }
}

impl GemmConfig {
    /// The defaults, with `threads` and `workspace_cap` taken from
    /// `ARENAPROF_GEMM_THREADS` and `ARENAPROF_GEMM_WORKSPACE_CAP` where they
    /// are set and valid (invalid values are ignored).
    ///
    /// ```
    /// let cfg = arenaprof_gemm::GemmConfig::from_env();
    /// assert!(cfg.workspace_cap > 0);
    /// ```
    pub fn from_env() -> GemmConfig {
        let mut c = GemmConfig::default();
        if let Some(t) = std::env::var(ENV_THREADS)
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
        {
            c.threads = t;
        }
        if let Some(b) = arenaprof_snapshot::size::from_env(ENV_WORKSPACE_CAP) {
            c.workspace_cap = usize::try_from(b).unwrap_or(usize::MAX);
        }
        c
    }

    /// `threads` with `0` replaced by the machine's parallelism and clamped
    /// to `1..=MAX_THREADS`.
    ///
    /// ```
    /// let c = arenaprof_gemm::GemmConfig { threads: 3, ..Default::default() };
    /// assert_eq!(c.effective_threads(), 3);
    /// ```
    pub fn effective_threads(&self) -> usize {
        resolve_threads(self.threads)
    }
}

/// `0` becomes the machine's parallelism; the result is in `1..=MAX_THREADS`.
pub(crate) fn resolve_threads(t: usize) -> usize {
    let t = if t == 0 { machine_threads() } else { t };
    t.clamp(1, MAX_THREADS)
}

/// CPUs this process may run on.
pub(crate) fn machine_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

const _: () = assert!(DEFAULT_WORKSPACE_CAP > FULL_WORKSPACE);
