//! The arenaprof snapshot: what a run leaves behind for the report tool.
//!
//! A [`Snapshot`] holds the tracking allocator's exact counters (per tag and per
//! thread), size histograms, the live-bytes timeline, sampled allocation stacks,
//! jemalloc's and the OS's own figures, and the array registry (arenas and the
//! views that pin them). It is plain data: this crate has no allocator and no
//! global state, so the report tool reads snapshots without profiling itself.
//!
//! The on-disk format is described in `docs/FORMAT.md` and implemented in
//! `format` (private; its items are re-exported here): a fixed header (magic, version, length, CRC-32) and a postcard
//! payload. Reading never panics: a truncated, corrupt or foreign file is a
//! [`FormatError`].
//!
//! ```
//! use arenaprof_snapshot::Snapshot;
//! let snap = Snapshot::default();
//! let bytes = snap.to_bytes().unwrap();
//! assert_eq!(Snapshot::from_bytes(&bytes).unwrap(), snap);
//! ```
//!
//! # Public API
//!
//! | item | what it is |
//! |---|---|
//! | [`Snapshot`] and the model types ([`Counters`], [`Timeline`], [`HeapProfile`], [`Registry`], ...) | the data, all `pub` fields, serde |
//! | [`Snapshot::read`], [`Snapshot::write`], [`Snapshot::to_bytes`], [`Snapshot::from_bytes`] | the file format |
//! | [`write_atomic`], [`AtomicFile`], [`read_input`], [`MAX_INPUT_BYTES`] | safe files: exclusive, unpredictable temporaries renamed into place; regular, capped inputs |
//! | [`FormatError`], [`FORMAT_VERSION`], [`OLDEST_READABLE_VERSION`], [`MAGIC`], [`HEADER_LEN`] | its errors and constants |
//! | [`to_bytes_v1`], [`to_bytes_v2`], [`to_bytes_v3`] | version-1 to version-3 file images, for tests of the reader's compatibility |
//! | [`CodeMap`], [`CodeMapping`] | executable mappings with build IDs (format version 3) |
//! | [`RetentionHistory`], [`RetentionWorst`], [`WastedPoint`] | retention at its worst moment and wasted bytes over time (format version 4) |
//! | [`NativeMemory`] and its types ([`MappingGroup`], [`LadderRung`], [`BlasRuntime`], ...) | memory outside the allocator, BLAS runtimes (format version 2) |
//! | [`footprint`] | exact unions of strided footprints (bytes live views reach) |
//! | [`size`] | the one size grammar (`10MiB`, `1.5G`, `16MB`) |

mod code;
pub mod footprint;
mod format;
mod model;
mod native;
pub mod size;

pub use code::*;
pub use format::{
    read_input, to_bytes_v1, to_bytes_v2, to_bytes_v3, write_atomic, AtomicFile, FormatError,
    FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_INPUT_BYTES, OLDEST_READABLE_VERSION,
};
pub use model::*;
pub use native::*;
