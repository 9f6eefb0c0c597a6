//! Tracked bytes beside jemalloc's figures and RSS, and the profiler's cost.
//!
//! The gap between "bytes the program holds" and "resident memory" is shown
//! as a ladder whose rungs sum to RSS:
//!
//! | rung | bytes |
//! |---|---|
//! | `tracked` | live bytes the program requested |
//! | `profiler_headers` | the tracker's per-allocation headers |
//! | `profiler_internal` | the profiler's own heap data |
//! | `size_class_rounding` | jemalloc `allocated` − the three above (requests rounded up to size classes; also allocations made before tracking) |
//! | `page_fragmentation` | `active` − `allocated` (free space inside pages with live allocations) |
//! | `allocator_metadata` | `metadata`, up to `resident` − `active` |
//! | `dirty_unpurged` | `resident` − `active` − metadata (freed pages jemalloc has not returned yet) |
//! | `outside_jemalloc` | RSS − `resident` (code, stacks, profiler tables, mmap'd workspaces, other libraries) |
//!
//! Without jemalloc, one `outside_tracking` rung covers everything past the
//! profiler's own bytes.
//!
//! ```
//! use arenaprof_snapshot::{Snapshot, JemallocStats};
//! let mut s = Snapshot::default();
//! s.total.live_bytes = 1000;
//! s.process.rss_bytes = 10_000;
//! s.process.jemalloc = Some(JemallocStats { allocated: 1200, active: 4096, resident: 8192, metadata: 1000, ..Default::default() });
//! let m = arenaprof_report::passes::memory::account(&s);
//! assert_eq!(m.gap.iter().map(|g| g.bytes).sum::<i64>(), 10_000);
//! ```

use crate::model::{GapRow, JemallocRow, MemoryAccount, OverheadInfo};
use arenaprof_snapshot::{JemallocStats, Snapshot};

/// The profiler's own jemalloc arena, from the snapshot's `profiler_arena`
/// section (writers since 0.2 with jemalloc inside): the profiler's heap
/// lives there, apart from the program's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProfilerArena {
    /// Bytes of the profiler's live blocks in it.
    pub allocated: u64,
    /// Bytes of its pages that hold live blocks.
    pub active: u64,
    /// Its resident bytes.
    pub resident: u64,
    /// Its metadata bytes.
    pub metadata: u64,
}

/// The profiler arena's figures, if the snapshot has them.
pub fn profiler_arena(snap: &Snapshot) -> Option<ProfilerArena> {
    let sec = snap.sections.iter().find(|s| s.name == "profiler_arena")?;
    let get = |k: &str| {
        sec.entries
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    Some(ProfilerArena {
        allocated: get("allocated")?,
        active: get("active")?,
        resident: get("resident")?,
        metadata: get("metadata")?,
    })
}

/// jemalloc's figures for the program alone: the whole process's, less the
/// profiler arena's (each clamped at zero).
pub fn program_jemalloc(snap: &Snapshot) -> Option<JemallocStats> {
    let j = snap.process.jemalloc?;
    let a = profiler_arena(snap).unwrap_or_default();
    Some(JemallocStats {
        allocated: j.allocated.saturating_sub(a.allocated),
        active: j.active.saturating_sub(a.active),
        resident: j.resident.saturating_sub(a.resident),
        metadata: j.metadata.saturating_sub(a.metadata),
        ..j
    })
}

/// The profiler's heap: `(resident bytes it accounts for, its live bytes in
/// the program's arenas)`. With its own arena, that arena's resident bytes
/// plus internal blocks made before the arena existed; else its live bytes.
pub fn profiler_heap(snap: &Snapshot) -> (u64, u64) {
    let internal = snap.overhead.internal_live_bytes;
    match profiler_arena(snap) {
        Some(a) => {
            let outside = internal.saturating_sub(a.allocated);
            (a.resident.saturating_add(outside), outside)
        }
        None => (internal, internal),
    }
}

fn signed(a: u64, b: u64) -> i64 {
    let d = a as i128 - b as i128;
    d.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn rung(name: &str, bytes: i64, explanation: &str) -> GapRow {
    GapRow {
        name: name.to_owned(),
        bytes,
        explanation: explanation.to_owned(),
    }
}

/// The memory account.
pub fn account(snap: &Snapshot) -> MemoryAccount {
    let tracked = snap.total.live_bytes;
    let headers = snap.overhead.live_header_bytes;
    let (internal, internal_in_program_arenas) = profiler_heap(snap);
    let rss = snap.process.rss_bytes;
    let mut gap = vec![
        rung(
            "tracked",
            signed(tracked, 0),
            "bytes the program requested and still holds (all tags)",
        ),
        rung(
            "profiler_headers",
            signed(headers, 0),
            "the tracker's header in front of each live allocation",
        ),
        rung(
            "profiler_internal",
            signed(internal, 0),
            "the profiler's own heap (its jemalloc arena's resident bytes): interned stacks, sample records, registry, snapshots being built",
        ),
    ];
    let inside = tracked
        .saturating_add(headers)
        .saturating_add(internal_in_program_arenas);
    let jemalloc = snap.process.jemalloc.map(|j| JemallocRow {
        allocated_bytes: j.allocated,
        active_bytes: j.active,
        resident_bytes: j.resident,
        metadata_bytes: j.metadata,
        retained_bytes: j.retained,
        mapped_bytes: j.mapped,
    });
    match program_jemalloc(snap) {
        Some(j) => {
            let meta = j.metadata.min(j.resident.saturating_sub(j.active));
            gap.push(rung(
                "size_class_rounding",
                signed(j.allocated, inside),
                "jemalloc allocated − tracked − profiler: requests rounded up to size classes, plus allocations made before tracking started",
            ));
            gap.push(rung(
                "page_fragmentation",
                signed(j.active, j.allocated),
                "jemalloc active − allocated: free space inside pages that hold live allocations",
            ));
            gap.push(rung(
                "allocator_metadata",
                signed(meta, 0),
                "jemalloc metadata (arenas, extents, caches), as far as it is resident",
            ));
            gap.push(rung(
                "dirty_unpurged",
                signed(j.resident, j.active).saturating_sub(signed(meta, 0)),
                "jemalloc resident − active − metadata: freed pages not yet returned to the OS (purged after dirty_decay_ms)",
            ));
            let whole = snap.process.jemalloc.map_or(j.resident, |w| w.resident);
            gap.push(rung(
                "outside_jemalloc",
                signed(rss, whole),
                "RSS − jemalloc resident: program code and data, thread stacks, the profiler's fixed tables, mmap'd workspaces, other libraries",
            ));
        }
        None => gap.push(rung(
            "outside_tracking",
            signed(rss, tracked.saturating_add(headers).saturating_add(internal)),
            "RSS − tracked − profiler: allocator rounding and metadata, free pages, program code, thread stacks, other libraries",
        )),
    }
    MemoryAccount {
        tracked_live_bytes: tracked,
        rss_bytes: rss,
        peak_rss_bytes: snap.process.peak_rss_bytes,
        jemalloc,
        gap,
        gap_source: "allocator".to_owned(),
        ..Default::default()
    }
}

/// The profiler's own cost, as resident bytes.
pub fn overhead(snap: &Snapshot) -> OverheadInfo {
    let o = &snap.overhead;
    let tables = snap
        .native
        .ladder
        .iter()
        .find(|r| r.key == "profiler_tables")
        .map_or(o.table_bytes, |r| r.bytes);
    let (heap, _) = profiler_heap(snap);
    let total = o
        .live_header_bytes
        .saturating_add(tables)
        .saturating_add(heap);
    // Four decimals: short enough that a JSON report read back is equal.
    let percent = |of: u64| {
        if of == 0 {
            0.0
        } else {
            (total as f64 * 100.0 / of as f64 * 1e4).round() / 1e4
        }
    };
    OverheadInfo {
        header_bytes_per_alloc: o.header_bytes_per_alloc,
        live_header_bytes: o.live_header_bytes,
        table_bytes: o.table_bytes,
        internal_live_bytes: o.internal_live_bytes,
        tables_resident_bytes: tables,
        heap_resident_bytes: heap,
        total_bytes: total,
        percent_of_tracked: percent(snap.total.live_bytes),
        percent_of_rss: percent(snap.process.rss_bytes),
        backtraces_captured: o.backtraces_captured,
        backtrace_ns: o.backtrace_ns,
        snapshot_ns: o.snapshot_ns,
    }
}
