//! The arenaprof snapshot: what a run leaves behind for the report tool.
//!
//! A [`Snapshot`] holds the tracking allocator's exact counters (per tag and per
//! thread), size histograms, the live-bytes timeline, sampled allocation stacks,
//! jemalloc's and the OS's own figures, and the array registry (arenas and the
//! views that pin them). It is plain data: this crate has no allocator and no
//! global state, so the report tool reads snapshots without profiling itself.
//!
//! The on-disk format is described in `docs/FORMAT.md` and implemented in
//! [`format`](mod@format): a fixed header (magic, version, length, CRC-32) and a postcard
//! payload. Reading never panics: a truncated, corrupt or foreign file is a
//! [`FormatError`].
//!
//! ```
//! use arenaprof_snapshot::Snapshot;
//! let snap = Snapshot::default();
//! let bytes = snap.to_bytes().unwrap();
//! assert_eq!(Snapshot::from_bytes(&bytes).unwrap(), snap);
//! ```

pub mod footprint;
pub mod format;
mod model;
mod native;
pub mod size;

pub use format::{FormatError, FORMAT_VERSION, MAGIC};
pub use model::*;
pub use native::*;
