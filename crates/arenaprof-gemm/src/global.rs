//! The process-wide default pool and the MKL/threadpoolctl-style controls.
//!
//! [`global`] builds the pool on first use from `ARENAPROF_GEMM_THREADS` and
//! `ARENAPROF_GEMM_WORKSPACE_CAP` (see [`GemmConfig::from_env`]); the other
//! functions change or read it afterwards.

use crate::config::GemmConfig;
use crate::error::GemmError;
use crate::figures::MemStat;
use crate::kernel::GemmScalar;
use crate::mat::{MatMut, MatRef};
use crate::pool::{with_thread_limit, GemmPool};
use std::sync::OnceLock;

static GLOBAL: OnceLock<GemmPool> = OnceLock::new();

/// The default pool, built on first use from the environment. `Array::matmul`
/// uses it.
///
/// ```
/// let pool = arenaprof_gemm::global();
/// let mut c = [0.0; 1];
/// use arenaprof_gemm::{MatMut, MatRef};
/// pool.gemm(2.0, MatRef::row_major(&[3.0], 1, 1), MatRef::row_major(&[4.0], 1, 1), 0.0, MatMut::row_major(&mut c, 1, 1))?;
/// assert_eq!(c, [24.0]);
/// # Ok::<(), arenaprof_gemm::GemmError>(())
/// ```
pub fn global() -> &'static GemmPool {
    GLOBAL.get_or_init(|| GemmPool::named(GemmConfig::from_env(), "global".to_owned()))
}

/// Sets the global pool's threads; workspaces above `threads` are freed
/// before this returns (unlike OpenBLAS, whose buffers stay mapped). `0`
/// means all CPUs.
///
/// ```
/// arenaprof_gemm::set_threads(2);
/// assert!(arenaprof_gemm::mem_stat().workers <= 2);
/// ```
pub fn set_threads(threads: usize) {
    global().set_threads(threads)
}

/// Sets the global pool's workspace cap in bytes (resizing workspaces, cap
/// kept throughout).
///
/// ```
/// arenaprof_gemm::set_workspace_cap(8 << 20);
/// assert_eq!(arenaprof_gemm::mem_stat().workspace_cap, 8 << 20);
/// ```
pub fn set_workspace_cap(bytes: usize) {
    global().set_workspace_cap(bytes)
}

/// Runs `f` with GEMM calls made by *this thread* (on any pool) limited to
/// `threads` workers, like threadpoolctl's `threadpool_limits` but scoped to
/// the calling thread, so concurrent code elsewhere is not affected. The
/// limit is lifted when `f` returns or panics; workspaces are not freed
/// (that is [`set_threads`]).
///
/// ```
/// let r = arenaprof_gemm::limits(1, || 40 + 2);
/// assert_eq!(r, 42);
/// ```
pub fn limits<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    with_thread_limit(threads, f)
}

/// The former name of [`limits`] (the verb `arenaprof::blas::limits` uses).
#[deprecated(since = "0.3.0", note = "renamed to `limits`, as `blas::limits`")]
pub fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    limits(threads, f)
}

/// The global pool's per-worker figures (like `mkl_mem_stat`).
///
/// ```
/// println!("{}", arenaprof_gemm::mem_stat());
/// ```
pub fn mem_stat() -> MemStat {
    global().mem_stat()
}

/// Releases the global pool's workspaces (like `mkl_free_buffers`); the next
/// GEMM allocates them again.
///
/// ```
/// arenaprof_gemm::free_buffers();
/// assert_eq!(arenaprof_gemm::mem_stat().workspace_bytes, 0);
/// ```
pub fn free_buffers() {
    global().free_buffers()
}

/// `C ← α A B + β C` on the [`global`] pool: ndarray's `general_mat_mul`,
/// with capped, pre-allocated workspaces. See [`GemmPool::gemm`].
///
/// ```
/// let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
/// let mut c = ndarray::Array2::<f64>::zeros((2, 2));
/// arenaprof_gemm::general_mat_mul(1.0, a.view().into(), a.view().into(), 0.0, c.view_mut().into())?;
/// assert_eq!(c, ndarray::array![[7.0, 10.0], [15.0, 22.0]]);
/// # Ok::<(), arenaprof_gemm::GemmError>(())
/// ```
pub fn general_mat_mul<T: GemmScalar>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<(), GemmError> {
    global().gemm(alpha, a, b, beta, c)
}
