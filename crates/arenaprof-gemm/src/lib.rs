//! f32/f64 GEMM on matrixmultiply's kernels with capped, pre-allocated
//! per-worker workspaces that the tracking allocator sees.
//!
//! OpenBLAS maps one 32-128 MiB buffer per thread and keeps it; matrixmultiply
//! allocates a fresh packing buffer on every call. Here each worker owns one
//! workspace of at most 2,228,352 bytes (matrixmultiply's full f64 packing
//! buffer, 64 bytes of alignment slack), allocated under
//! `Tag::GEMM_WORKSPACE` when the pool starts; matrixmultiply's per-call
//! allocation is served from it through arenaprof-alloc's scoped
//! [`Workspace`](arenaprof_alloc::Workspace), so a warm GEMM call allocates
//! nothing. The sum of workspaces never exceeds the pool's cap: when
//! `threads` full workspaces do not fit, the pool tiles the product into
//! smaller blocks or uses fewer workers ([`sizing::plan`]), and
//! [`mem_stat`] says so.
//!
//! ```
//! use arenaprof_gemm::{GemmConfig, GemmPool, MatMut, MatRef};
//! let pool = GemmPool::new(GemmConfig { threads: 2, workspace_cap: 16 << 20, ..Default::default() });
//! let (m, k, n) = (64, 32, 48);
//! let a = vec![1.0f64; m * k];
//! let b = vec![0.5f64; k * n];
//! let mut c = vec![0.0f64; m * n];
//! pool.gemm(1.0, MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n), 0.0, MatMut::row_major(&mut c, m, n))?;
//! assert!(c.iter().all(|&x| x == 16.0));
//! assert_eq!(pool.mem_stat().overflows(), 0);
//! # Ok::<(), arenaprof_gemm::GemmError>(())
//! ```
//!
//! # Public API
//!
//! | item | what it is |
//! |---|---|
//! | [`GemmPool`], [`GemmConfig`], [`OVERFLOW_TAG`] | a pool of workers with capped workspaces |
//! | [`GemmPool::gemm`], [`general_mat_mul`] | `C ← α A B + β C` on a pool or the global one |
//! | [`MatRef`], [`MatMut`], [`Strides`], [`GemmScalar`] | the operands: slices or ndarray 2-D views, any strides, f32/f64 |
//! | [`GemmError`], [`Operand`] | why a call was refused |
//! | [`global`], [`set_threads`], [`limits`], [`set_workspace_cap`], [`free_buffers`], [`mem_stat`] | the global pool, MKL-style controls |
//! | [`MemStat`], [`WorkerStat`], [`Blocks`], [`all_pools`] | what each worker (of each pool) holds and did |
//! | [`sizing`] | workspace sizes and how a cap is shared ([`sizing::plan`], [`sizing::Limit`]) |
//! | [`partition`] | the 2-D split of C among workers |
//!
//! Private modules: `config` (settings, environment), `operand` (strides
//! and bounds checks), `mat` (matrix references), `kernel`
//! (matrixmultiply calls), `worker` (pool threads and job hand-off),
//! `state` (a pool's state behind its lock), `pool`, `figures` (figures and
//! the snapshot section), `global` (the default pool), `error`.

mod config;
mod error;
mod figures;
mod global;
mod handoff;
mod kernel;
mod mat;
mod operand;
pub mod partition;
mod pool;
pub mod sizing;
mod state;
mod sync;
mod worker;

pub use config::GemmConfig;
pub use error::{GemmError, Operand};
pub use figures::{all_pools, MemStat, WorkerStat};
#[allow(deprecated)]
pub use global::with_threads;
pub use global::{
    free_buffers, general_mat_mul, global, limits, mem_stat, set_threads, set_workspace_cap,
};
pub use kernel::{Blocks, GemmScalar};
pub use mat::{MatMut, MatRef};
pub use operand::Strides;
pub use pool::{GemmPool, OVERFLOW_TAG};

/// The former name of [`sizing`] ("budget" is the report's word for the
/// work a hostile input may cause).
#[doc(hidden)]
#[deprecated(since = "0.3.0", note = "renamed to `sizing`")]
pub mod budget {
    pub use crate::sizing::*;
}
