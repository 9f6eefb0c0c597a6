//! Reading the counters: [`stats`] sums every thread row into per-tag,
//! per-thread and total figures.
//!
//! Live bytes and counts are exact whenever no allocation is in flight. A
//! thread's peak is exact; a tag's peak over all threads is exact to within
//! [`FLUSH_BYTES`](crate::capacity::FLUSH_BYTES) per thread holding a partial batch
//! (exact for any allocation of at least that size).
//!
//! ```
//! let s = arenaprof_alloc::stats();
//! let t = s.tag(arenaprof_alloc::Tag::ARRAY_BASE);
//! assert!(t.peak_bytes >= t.live_bytes);
//! ```

use crate::capacity::MAX_TAGS;
use crate::rows::{self, Row};
use crate::tag::{self, Tag};
use crate::totals::{GLOBAL, TOTAL};
use std::sync::atomic::Ordering::Relaxed;

/// Exact counters of one tag, thread, or of everything.
pub type TagCounters = arenaprof_snapshot::Counters;

/// One thread's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ThreadCounters {
    /// Tracker slot, in order of first allocation.
    pub slot: u32,
    /// Thread name at registration (may be empty).
    pub name: String,
    /// OS thread id.
    pub os_tid: u64,
    /// Whether the thread is still running.
    pub alive: bool,
    /// Counters summed over tags.
    pub total: TagCounters,
    /// Counters per tag id (index = tag id).
    pub tags: Vec<TagCounters>,
}

/// The former name of [`ThreadCounters`] (the report's `ThreadRow` is a
/// JSON row; this is one thread's live counters, beside [`TagCounters`]).
#[deprecated(since = "0.3.0", note = "renamed to `ThreadCounters`")]
pub type ThreadRow = ThreadCounters;

impl ThreadCounters {
    /// This thread's counters for one tag.
    pub fn tag(&self, tag: Tag) -> TagCounters {
        self.tags
            .get(tag.id() as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// A read of all counters.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    tags: Vec<TagCounters>,
    threads: Vec<ThreadCounters>,
    total: TagCounters,
}

impl Stats {
    /// Counters of one tag over all threads.
    pub fn tag(&self, tag: Tag) -> TagCounters {
        self.tags
            .get(tag.id() as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Counters over all tags and threads.
    pub fn total(&self) -> TagCounters {
        self.total
    }

    /// One row per thread that ever allocated.
    pub fn threads(&self) -> &[ThreadCounters] {
        &self.threads
    }

    /// The row of a thread slot.
    pub fn thread(&self, slot: u32) -> Option<&ThreadCounters> {
        self.threads.iter().find(|t| t.slot == slot)
    }

    /// Tags with any activity, with their counters.
    pub fn tags(&self) -> impl Iterator<Item = (Tag, TagCounters)> + '_ {
        self.tags.iter().enumerate().filter_map(|(i, c)| {
            (c.alloc_count + c.realloc_count + c.failed_count > 0)
                .then(|| Tag::from_id(i as u16).map(|t| (t, *c)))
                .flatten()
        })
    }
}

/// The calling thread's slot (the index of its [`ThreadCounters`]), registering
/// the thread with the tracker if needed; `None` if the OS refused memory
/// for its row.
///
/// ```
/// let slot = arenaprof_alloc::current_thread_slot();
/// assert_eq!(slot, arenaprof_alloc::current_thread_slot()); // stable per thread
/// ```
pub fn current_thread_slot() -> Option<u32> {
    crate::local::current_slot()
}

fn cell(r: &Row, t: usize) -> TagCounters {
    let c = &r.cells[t];
    let allocated = c.allocated_bytes.load(Relaxed);
    let freed = c.freed_bytes();
    let live = allocated.saturating_sub(freed);
    TagCounters {
        live_bytes: live,
        // A thread still growing has not recorded its peak yet (see
        // `rows::alloc_edge`): it is at least what it holds now.
        peak_bytes: c.peak_bytes.load(Relaxed).max(live),
        peak_at_ns: c.peak_at_ns.load(Relaxed),
        allocated_bytes: allocated,
        freed_bytes: freed,
        alloc_count: c.alloc_count(),
        free_count: c
            .free_count
            .load(Relaxed)
            .wrapping_add(c.remote_free_count.load(Relaxed)),
        realloc_count: c.realloc_count.load(Relaxed),
        failed_count: c.failed_count.load(Relaxed),
    }
}

/// Reads every counter. Cost: one pass over the thread rows. Its own
/// allocations count as profiler overhead, not in the figures it returns.
pub fn stats() -> Stats {
    crate::local::with_busy(read_all)
}

/// Whether thread figures are net flow: with the header-free tracker a free
/// is counted on the freeing thread (the block does not say which thread
/// allocated it), so a thread's live bytes are what it allocated minus what
/// it freed, never below 0, and its freed bytes may exceed its allocated
/// ones. Tag and process figures are exact either way.
pub(crate) fn net_flow() -> bool {
    crate::window::HEADERLESS.load(Relaxed)
}

fn read_all() -> Stats {
    let ntags = tag::count().min(MAX_TAGS);
    let ids: Vec<usize> = (0..ntags).chain([Tag::OVERFLOW.id() as usize]).collect();
    let mut tags = vec![TagCounters::default(); MAX_TAGS];
    // Threads that allocated or freed under each tag.
    let mut threads_of = [0u32; MAX_TAGS];
    let mut threads = Vec::new();
    let mut total = TagCounters::default();
    for r in rows::all() {
        let mut row = ThreadCounters {
            slot: r.slot(),
            name: r.name(),
            os_tid: r.os_tid(),
            alive: r.alive(),
            total: TagCounters::default(),
            tags: vec![TagCounters::default(); ntags],
        };
        for &t in &ids {
            let c = cell(r, t);
            if let Some(slot) = row.tags.get_mut(t) {
                *slot = c;
            }
            // `merge` keeps the larger peak with its time.
            tags[t].merge(&c);
            if c.alloc_count + c.free_count > 0 {
                threads_of[t] += 1;
            }
            row.total.merge(&c);
        }
        // A thread's peak over all its tags is not tracked on the hot path;
        // its largest tag peak (kept by `merge`) and its live bytes now bound
        // it from below.
        if net_flow() {
            row.total.live_bytes = row
                .total
                .allocated_bytes
                .saturating_sub(row.total.freed_bytes);
        }
        row.total.peak_bytes = row.total.peak_bytes.max(row.total.live_bytes);
        threads.push(row);
    }
    for (t, c) in tags.iter_mut().enumerate() {
        if net_flow() {
            // Live bytes of a tag: everything allocated under it minus
            // everything freed, on whichever threads.
            c.live_bytes = c.allocated_bytes.saturating_sub(c.freed_bytes);
        }
        let g = &GLOBAL[t];
        let gp = g.peak.load(Relaxed).max(0) as u64;
        if net_flow() && threads_of[t] > 1 {
            // A thread's net flow can rise above what the tag ever held (it
            // allocates again what another thread freed): with more than one
            // thread, a tag's peak is the process-wide one (within 64 KiB
            // per thread holding a partial batch); with one, that thread's
            // own, exact.
            c.peak_bytes = 0;
        }
        if gp > c.peak_bytes {
            c.peak_bytes = gp;
            c.peak_at_ns = g.peak_at_ns.load(Relaxed);
        }
        c.peak_bytes = c.peak_bytes.max(c.live_bytes);
        let mut no_peak = *c;
        no_peak.peak_bytes = 0;
        total.merge(&no_peak);
    }
    total.peak_bytes = (TOTAL.peak.load(Relaxed).max(0) as u64)
        .max(total.live_bytes)
        .max(tags.iter().map(|c| c.peak_bytes).max().unwrap_or(0));
    total.peak_at_ns = TOTAL.peak_at_ns.load(Relaxed);
    Stats {
        tags,
        threads,
        total,
    }
}
