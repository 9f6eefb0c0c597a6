//! arenaprof: where a numeric program's memory goes, and why it stays.
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();
//!
//! fn main() {
//!     let _p = arenaprof::Profiler::from_env();
//!     let _g = arenaprof::Tag::new("decoder-cache").enter();
//!     let v = vec![0u8; 1 << 20];
//!     println!("{} bytes live", arenaprof::stats().total().live_bytes);
//!     drop(v);
//! }
//! ```
//!
//! # Public API
//!
//! The facade re-exports this list and nothing else:
//!
//! | item | from | what it is |
//! |---|---|---|
//! | [`TrackingAlloc`], [`Jemalloc`] | arenaprof-alloc | the `#[global_allocator]` and its default inner allocator |
//! | [`Tag`], [`TagGuard`], [`TagError`], [`with_tag`], [`current_tag`] | arenaprof-alloc | what allocations are for |
//! | [`stats()`], [`Stats`], [`TagCounters`], [`ThreadCounters`] | arenaprof-alloc | exact counters now |
//! | [`snapshot()`], [`Snapshot`] | arenaprof-alloc | the whole picture, written for `arenaprof report` |
//! | [`Profiler`] | arenaprof-alloc | writes `$ARENAPROF_OUT` when `main` ends |
//! | [`Sampling`], [`SamplingParseError`], [`set_sampling`], [`sampling()`] | arenaprof-alloc | which allocations get a stack |
//! | [`Workspace`], [`WorkspaceGuard`], [`WorkspaceStats`] | arenaprof-alloc | a pre-allocated region for a scope's allocations |
//! | [`plumbing`] | arenaprof-alloc | for components: `untracked` work, `register_contributor`, `register_fork_handlers`, `current_thread_slot` |
//! | [`timeline`], [`process`], [`clock`], [`capacity`], [`testing`] | arenaprof-alloc | marks; RSS and jemalloc figures; the clock; table sizes; failure injection (`FailingAlloc`) |
//! | `bench` (feature `bench`) | criterion + arenaprof-alloc | criterion measurements of allocated bytes, allocation count and peak live bytes per iteration |
//! | [`array`](mod@array) | arenaprof-array | arrays whose views pin arenas and remember their chain |
//! | [`gemm`] | arenaprof-gemm | GEMM with capped per-worker workspaces |
//! | [`snapshot`](mod@snapshot) | arenaprof-snapshot | the snapshot's data model, file format and size grammar |
//! | `ThreadRow`, and the plumbing at the root (and, hidden, `model` and `limits`) | | deprecated names of 0.2, kept for one release |
//! | [`blas`] | arenaprof-native | the BLAS/OpenMP runtimes loaded at run time: `info`, `set_threads`, scoped `limits`, `open` |
//!
//! Allocator internals are not reachable from here:
//!
//! ```compile_fail
//! let _ = arenaprof::rows::GLOBAL;
//! ```
//!
//! ```compile_fail
//! arenaprof::rows::flush_current_thread();
//! ```
//!
//! ```compile_fail
//! let _ = arenaprof::format::format::HEADER_LEN;
//! ```
//!
//! A tag guard is `!Send`: the current tag belongs to a thread.
//!
//! ```compile_fail
//! let g = arenaprof::Tag::new("x").enter();
//! std::thread::spawn(move || drop(g));
//! ```
//!
//! # Changes in 0.2
//!
//! See `CHANGELOG.md` (0.2.0) for what moved where.

pub use arenaprof_alloc::{
    capacity, clock, current_tag, process, sampling, set_sampling, snapshot, stats, testing,
    timeline, with_tag, Profiler, Sampling, SamplingParseError, Snapshot, Stats, Tag, TagCounters,
    TagError, TagGuard, ThreadCounters, TrackingAlloc, Workspace, WorkspaceGuard, WorkspaceStats,
};

#[cfg(feature = "jemalloc")]
pub use arenaprof_alloc::Jemalloc;

#[cfg(feature = "bench")]
pub mod bench;

pub use arenaprof_array as array;
pub use arenaprof_gemm as gemm;
pub use arenaprof_native::blas;
pub use arenaprof_snapshot as snapshot;

/// Plumbing for components built on the tracker (arenaprof's array and GEMM
/// crates are two): work outside the counters, records added to every
/// snapshot, locks freed in a forked child, and the calling thread's row.
///
/// ```
/// let n = arenaprof::plumbing::untracked(|| vec![0u8; 64].len());
/// assert_eq!(n, 64);
/// ```
pub mod plumbing {
    pub use arenaprof_alloc::{
        current_thread_slot, register_contributor, register_fork_handlers, untracked, Contributor,
    };
}

/// The former name of [`snapshot`](mod@snapshot): the snapshot crate.
#[doc(hidden)]
#[deprecated(since = "0.3.0", note = "renamed to `arenaprof::snapshot`")]
pub mod model {
    pub use arenaprof_snapshot::*;
}

/// The former name of [`capacity`].
#[doc(hidden)]
#[deprecated(since = "0.3.0", note = "renamed to `arenaprof::capacity`")]
pub mod limits {
    pub use arenaprof_alloc::capacity::*;
}

/// The former name of [`ThreadCounters`].
#[deprecated(since = "0.3.0", note = "renamed to `ThreadCounters`")]
pub type ThreadRow = ThreadCounters;

/// Moved to [`plumbing::untracked`].
#[deprecated(since = "0.3.0", note = "moved to `arenaprof::plumbing::untracked`")]
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    plumbing::untracked(f)
}

/// Moved to [`plumbing::current_thread_slot`].
#[deprecated(
    since = "0.3.0",
    note = "moved to `arenaprof::plumbing::current_thread_slot`"
)]
pub fn current_thread_slot() -> Option<u32> {
    plumbing::current_thread_slot()
}

/// Moved to [`plumbing::register_contributor`].
#[deprecated(
    since = "0.3.0",
    note = "moved to `arenaprof::plumbing::register_contributor`"
)]
pub fn register_contributor(f: plumbing::Contributor) {
    plumbing::register_contributor(f)
}

/// Moved to [`plumbing::register_fork_handlers`].
#[deprecated(
    since = "0.3.0",
    note = "moved to `arenaprof::plumbing::register_fork_handlers`"
)]
pub fn register_fork_handlers(prepare: fn(), release: fn()) -> bool {
    plumbing::register_fork_handlers(prepare, release)
}

/// Moved to [`plumbing::Contributor`].
#[deprecated(since = "0.3.0", note = "moved to `arenaprof::plumbing::Contributor`")]
pub type Contributor = plumbing::Contributor;

/// The README's Rust blocks, compiled and run as doctests (`cargo test -p
/// arenaprof --doc`), so that the snippets there build as shown.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The guide's Rust blocks (`docs/guide.md`: tests, benches, the system
/// allocator), compiled and run as doctests like the README's.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct GuideDoctests;
