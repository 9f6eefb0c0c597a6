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

use crate::report::{GapRow, JemallocRow, MemoryAccount, OverheadInfo};
use arenaprof_snapshot::Snapshot;

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
    let internal = snap.overhead.internal_live_bytes;
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
            "the profiler's own heap data: interned stacks, sample records, registry",
        ),
    ];
    let inside = tracked.saturating_add(headers).saturating_add(internal);
    let jemalloc = snap.process.jemalloc.map(|j| JemallocRow {
        allocated_bytes: j.allocated,
        active_bytes: j.active,
        resident_bytes: j.resident,
        metadata_bytes: j.metadata,
        retained_bytes: j.retained,
        mapped_bytes: j.mapped,
    });
    match snap.process.jemalloc {
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
            gap.push(rung(
                "outside_jemalloc",
                signed(rss, j.resident),
                "RSS − jemalloc resident: program code and data, thread stacks, the profiler's fixed tables, mmap'd workspaces, other libraries",
            ));
        }
        None => gap.push(rung(
            "outside_tracking",
            signed(rss, inside),
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

/// The profiler's own cost.
pub fn overhead(snap: &Snapshot) -> OverheadInfo {
    let o = &snap.overhead;
    let total = o
        .live_header_bytes
        .saturating_add(o.table_bytes)
        .saturating_add(o.internal_live_bytes);
    let percent = if snap.total.live_bytes == 0 {
        0.0
    } else {
        total as f64 * 100.0 / snap.total.live_bytes as f64
    };
    OverheadInfo {
        header_bytes_per_alloc: o.header_bytes_per_alloc,
        live_header_bytes: o.live_header_bytes,
        table_bytes: o.table_bytes,
        internal_live_bytes: o.internal_live_bytes,
        total_bytes: total,
        percent_of_tracked: percent,
        backtraces_captured: o.backtraces_captured,
        backtrace_ns: o.backtrace_ns,
        snapshot_ns: o.snapshot_ns,
    }
}
