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
//! Layers, bottom up:
//! - [`header`]: the 8- or `align`-byte header in front of every block, which
//!   records the tag and thread a block was allocated under, so a free on any
//!   thread is attributed exactly.
//! - [`rows`]: one counter row per thread; the owner updates it with plain
//!   stores, other threads' frees with atomic adds.
//! - [`tracking`]: the `GlobalAlloc` itself.
//! - [`tag`], [`workspace`], [`sampling`], [`timeline`]: what users steer.
//! - [`stats`](mod@stats) and [`snapshot`](mod@snapshot): what users read.

pub mod clock;
pub mod header;
mod local;
mod mmap;
pub mod process;
mod profiler;
pub mod rows;
pub mod sampling;
pub mod snapshot;
pub mod stats;
pub mod tag;
pub mod timeline;
pub mod tracking;
mod unwind;
pub mod workspace;

pub use arenaprof_snapshot as format;
pub use profiler::Profiler;
pub use sampling::{set_sampling, Sampling};
pub use snapshot::{register_contributor, snapshot};
pub use stats::{stats, Stats, TagCounters, ThreadRow};
pub use tag::{current_tag, with_tag, Tag, TagGuard};
pub use tracking::TrackingAlloc;
pub use workspace::{Workspace, WorkspaceGuard, WorkspaceStats};

#[cfg(feature = "jemalloc")]
pub use tikv_jemallocator::Jemalloc;

/// Runs `f` with this thread's allocations bypassing the counters (they are
/// counted as the profiler's own overhead instead). Used by components that keep
/// profiling metadata, such as the array registry.
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    local::with_busy(f)
}
