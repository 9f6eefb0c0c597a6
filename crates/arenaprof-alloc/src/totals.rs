//! Process-wide totals per tag, fed by the thread rows in batches of at most
//! [`FLUSH_BYTES`](crate::capacity::FLUSH_BYTES) per thread and tag. Plain
//! data: the rows write it, the timeline ring and the readers read it.

use crate::capacity::MAX_TAGS;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// A tag's totals over all threads, fed in batches.
#[derive(Default)]
#[repr(C, align(64))]
pub(crate) struct TagGlobal {
    pub(crate) live: AtomicI64,
    pub(crate) peak: AtomicI64,
    pub(crate) peak_at_ns: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO_GLOBAL: TagGlobal = TagGlobal {
    live: AtomicI64::new(0),
    peak: AtomicI64::new(0),
    peak_at_ns: AtomicU64::new(0),
};

/// Per-tag totals over all threads.
pub(crate) static GLOBAL: [TagGlobal; MAX_TAGS] = [ZERO_GLOBAL; MAX_TAGS];
/// Live bytes over all tags, fed in the same batches as [`GLOBAL`].
pub(crate) static TOTAL: TagGlobal = ZERO_GLOBAL;
/// Bit `t` is set once tag `t` has seen an allocation.
pub(crate) static TAGS_USED: AtomicU64 = AtomicU64::new(0);

/// The total of a tag.
#[inline]
pub(crate) fn global(tag: u16) -> &'static TagGlobal {
    &GLOBAL[tag as usize & (MAX_TAGS - 1)]
}

/// Sum of every tag's published live bytes.
pub(crate) fn total_live() -> i64 {
    GLOBAL.iter().map(|g| g.live.load(Relaxed)).sum()
}
