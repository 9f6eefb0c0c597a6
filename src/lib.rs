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
//! | [`stats()`], [`Stats`], [`TagCounters`], [`ThreadRow`], [`current_thread_slot`] | arenaprof-alloc | exact counters now |
//! | [`snapshot()`], [`Snapshot`], [`register_contributor`], [`Contributor`], [`register_fork_handlers`] | arenaprof-alloc | the whole picture, written for `arenaprof report`; hooks for components |
//! | [`Profiler`] | arenaprof-alloc | writes `$ARENAPROF_OUT` when `main` ends |
//! | [`Sampling`], [`SamplingParseError`], [`set_sampling`], [`sampling()`] | arenaprof-alloc | which allocations get a stack |
//! | [`Workspace`], [`WorkspaceGuard`], [`WorkspaceStats`] | arenaprof-alloc | a pre-allocated region for a scope's allocations |
//! | [`untracked`] | arenaprof-alloc | bookkeeping outside the counters |
//! | [`timeline`], [`process`], [`clock`], [`limits`], [`testing`] | arenaprof-alloc | marks; RSS and jemalloc figures; the clock; table sizes; failure injection (`FailingAlloc`) |
//! | `bench` (feature `bench`) | criterion + arenaprof-alloc | criterion measurements of allocated bytes, allocation count and peak live bytes per iteration |
//! | [`array`](mod@array) | arenaprof-array | arrays whose views pin arenas and remember their chain |
//! | [`gemm`] | arenaprof-gemm | GEMM with capped per-worker workspaces |
//! | [`model`] | arenaprof-snapshot | the snapshot's data model, file format and size grammar |
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
    clock, current_tag, current_thread_slot, limits, process, register_contributor,
    register_fork_handlers, sampling, set_sampling, snapshot, stats, testing, timeline, untracked,
    with_tag, Contributor, Profiler, Sampling, SamplingParseError, Snapshot, Stats, Tag,
    TagCounters, TagError, TagGuard, ThreadRow, TrackingAlloc, Workspace, WorkspaceGuard,
    WorkspaceStats,
};

#[cfg(feature = "jemalloc")]
pub use arenaprof_alloc::Jemalloc;

#[cfg(feature = "bench")]
pub mod bench;

pub use arenaprof_array as array;
pub use arenaprof_gemm as gemm;
pub use arenaprof_native::blas;
pub use arenaprof_snapshot as model;

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
