//! A tracking [`GlobalAlloc`](std::alloc::GlobalAlloc) that knows, at every
//! moment, how many bytes each tag and each thread holds.
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOC: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();
//!
//! let cache = arenaprof_alloc::Tag::new("decoder-cache");
//! let v = arenaprof_alloc::with_tag(cache, || vec![0u8; 1 << 20]);
//! assert!(arenaprof_alloc::stats().tag(cache).live_bytes >= 1 << 20);
//! # drop(v);
//! ```
//!
//! # Public API
//!
//! | item | what it is |
//! |---|---|
//! | [`TrackingAlloc`] | the `#[global_allocator]` (jemalloc inside, or any `GlobalAlloc` via [`TrackingAlloc::wrap`]) |
//! | [`Tag`], [`TagGuard`], [`TagError`], [`with_tag`], [`current_tag`] | what allocations are for; scope guards per thread |
//! | [`stats`], [`Stats`], [`TagCounters`], [`ThreadCounters`], [`current_thread_slot`] | exact counters now |
//! | [`snapshot`], [`Snapshot`], [`register_contributor`], [`Contributor`] | the whole picture, for the report tool |
//! | [`Profiler`] | writes a snapshot when `main` ends (`ARENAPROF_OUT`) |
//! | [`Sampling`], [`SamplingParseError`], [`set_sampling`], [`sampling`] | which allocations get a stack |
//! | [`Workspace`], [`WorkspaceGuard`], [`WorkspaceStats`] | a pre-allocated region that serves a scope's allocations |
//! | [`untracked`] | runs profiler bookkeeping outside the counters |
//! | [`register_fork_handlers`] | lets a component free its locks in a forked child |
//! | [`timeline`] | marks and the background sampler |
//! | [`process`] | RSS and jemalloc's own figures |
//! | [`clock`] | the profiler's one clock |
//! | [`capacity`] | fixed table sizes |
//! | [`testing`] | `measure` (exact per-closure counts on this thread) and `FailingAlloc` (failure injection) |
//!
//! Everything else is private. The internals cannot be reached:
//!
//! ```compile_fail
//! let _ = &arenaprof_alloc::rows::GLOBAL; // private
//! ```
//!
//! ```compile_fail
//! unsafe { arenaprof_alloc::header::write(std::ptr::null_mut(), todo!()) } // private
//! ```
//!
//! A tag guard belongs to its thread:
//!
//! ```compile_fail
//! fn is_send<T: Send>(_: T) {}
//! is_send(arenaprof_alloc::Tag::UNTAGGED.enter());
//! ```
//!
//! # Layers
//!
//! Modules depend on the ones above them in this list only (a test,
//! `tests/layers.rs` in the facade, fails on any other import):
//!
//! 1. `sync`, `capacity`, `clock`, `mmap`, `spin`, `header`, `counts`,
//!    `statm`, `window`, `bins`, `arena`: the atomics (std's, or loom's under model
//!    checking), constants, time, raw pages (and the list of them), a spin
//!    flag, the 8-byte block header of [`TrackingAlloc::wrap`], a cell's
//!    counting protocol, VmSize/RSS read without allocating, the address
//!    windows that give each tag its own jemalloc arena (a block's tag read
//!    from its address), the per-thread cache of small freed blocks in
//!    front of them, the profiler's own jemalloc arena; `retag`: large
//!    blocks adopted by another tag in place.
//! 2. `totals`: per-tag totals over all threads (plain data).
//! 3. `ring`: the timeline's point buffer; reads the totals.
//! 4. `rows`: one counter row per thread (the owner writes with plain
//!    stores, other threads' frees with atomic adds); publishes batches into
//!    the totals and pokes the ring.
//! 5. `region`: the bump region behind a workspace.
//! 6. `local`: the thread-local state the hot path reads (current row, cell,
//!    tag, workspace).
//! 7. `tag`, `workspace`, `unwind`, `sampling`, `timeline`: what users
//!    steer; `fork`: the `pthread_atfork` handlers that free the locks of
//!    all of the above in a forked child.
//! 8. `tracking`: the `GlobalAlloc` itself; `headerless`: its paths with
//!    jemalloc inside ([`TrackingAlloc::new`]), which find a block's tag from
//!    its address instead of a header.
//! 9. `process`, `stats`, `native`, `snapshot`, `profiler`, `testing`:
//!    what users read and assert (`native`: memory outside the allocator,
//!    through `arenaprof-native`).

mod arena;
mod bins;
pub mod capacity;
pub mod clock;
mod counts;
mod fork;
mod header;
#[cfg(feature = "jemalloc")]
mod headerless;
mod local;
mod mmap;
mod native;
pub mod process;
mod profiler;
mod region;
mod retag;
mod ring;
mod rows;
mod sampling;
mod snapshot;
mod spin;
mod statm;
mod stats;
mod sync;
mod tag;
pub mod testing;
pub mod timeline;
mod totals;
mod tracking;
mod unwind;
mod window;
mod workspace;

/// The former name of [`capacity`] ("limits" now means a scoped thread cap
/// only, as in `blas::limits`).
#[doc(hidden)]
#[deprecated(since = "0.3.0", note = "renamed to `capacity`")]
pub mod limits {
    pub use crate::capacity::*;
}

pub use arenaprof_snapshot::Snapshot;
pub use fork::register_fork_handlers;
pub use profiler::Profiler;
pub use sampling::{sampling, set_sampling, Sampling, SamplingParseError};
pub use snapshot::{register_contributor, snapshot, Contributor};
#[allow(deprecated)]
pub use stats::ThreadRow;
pub use stats::{current_thread_slot, stats, Stats, TagCounters, ThreadCounters};
pub use tag::{current_tag, with_tag, Tag, TagError, TagGuard};
pub use tracking::TrackingAlloc;
pub use workspace::{Workspace, WorkspaceGuard, WorkspaceStats};

/// jemalloc, the default inner allocator (re-exported from tikv-jemallocator).
#[cfg(feature = "jemalloc")]
pub use tikv_jemallocator::Jemalloc;

/// Runs `f` with this thread's allocations bypassing the counters (they are
/// counted as the profiler's own overhead instead). Used by components that keep
/// profiling metadata, such as the array registry.
///
/// ```
/// let v = arenaprof_alloc::untracked(|| vec![0u8; 64]); // profiler overhead
/// # drop(v);
/// ```
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    local::with_busy(f)
}
