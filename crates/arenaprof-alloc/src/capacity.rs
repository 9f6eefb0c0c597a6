//! Fixed sizes of the tracker's tables. Nothing here allocates or changes at
//! run time; every other module may depend on this one.
//!
//! ```
//! use arenaprof_alloc::capacity;
//! assert!(capacity::MAX_TAGS >= 8);
//! assert_eq!(capacity::FLUSH_BYTES, 64 << 10);
//! ```

/// Most distinct tags a process can have (built-ins and `other-tags`
/// included); later names share [`Tag::OVERFLOW`](crate::Tag::OVERFLOW).
pub const MAX_TAGS: usize = 64;

/// Most thread rows; threads past the last but one share the last row, which
/// is updated with atomic adds (exact, slower).
pub const MAX_ROWS: usize = 4096;

/// A thread publishes its net change of a tag's live bytes to the tag's
/// process-wide total once it reaches this many bytes, so a tag's peak over
/// all threads is exact to within this much per thread.
pub const FLUSH_BYTES: i64 = 64 << 10;

/// Size-histogram buckets per cell: 4 sub-buckets per power of two.
pub(crate) const BUCKETS: usize = 256;
