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
//! | `profiler_caches` | freed blocks the header-free tracker's per-thread bins keep (allocated in jemalloc's figures) |
//! | `size_class_rounding` | jemalloc `allocated` − the four above (requests rounded up to size classes; also allocations made before tracking) |
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
//! let m = arenaprof_report::passes::memory::account(&s, &mut Vec::new());
//! assert_eq!(m.gap.iter().map(|g| g.bytes).sum::<i64>(), 10_000);
//! ```

use super::outside;
use crate::model::{GapRow, JemallocRow, MemoryAccount, OverheadInfo};
use crate::units::format_bytes;
use arenaprof_snapshot::{JemallocStats, Snapshot};

/// The profiler's own jemalloc arena, from the snapshot's `profiler_arena`
/// section (writers since 0.2 with jemalloc inside): the profiler's heap
/// lives there, apart from the program's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProfilerArena {
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
pub(crate) fn profiler_arena(snap: &Snapshot) -> Option<ProfilerArena> {
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

/// The sum of the numeric `key` entries of `snap`'s sections named `name`
/// (0 when there are none).
fn section_sum(snap: &Snapshot, name: &str, key: &str) -> u64 {
    snap.sections
        .iter()
        .filter(|s| s.name == name)
        .flat_map(|s| s.entries.iter())
        .filter(|(k, _)| k == key)
        .filter_map(|(_, v)| v.parse::<u64>().ok())
        .fold(0, u64::saturating_add)
}

/// Bytes of freed blocks the tracker's per-thread bins keep, from the
/// snapshot's `profiler_caches` section (header-free writers since 0.3):
/// allocated in jemalloc's figures, held for the program's next requests.
///
/// ```
/// let mut s = arenaprof_snapshot::Snapshot::default();
/// assert_eq!(arenaprof_report::passes::memory::profiler_caches(&s), 0);
/// s.sections.push(arenaprof_snapshot::Section {
///     name: "profiler_caches".into(),
///     entries: vec![("bins_bytes".into(), "1120".into())],
/// });
/// assert_eq!(arenaprof_report::passes::memory::profiler_caches(&s), 1120);
/// ```
pub fn profiler_caches(snap: &Snapshot) -> u64 {
    section_sum(snap, "profiler_caches", "bins_bytes")
}

/// Address space the header-free tracker reserved for its per-tag windows
/// (the snapshot's `address_windows` section): virtual only, never
/// resident as such (what is carved out of it is the arenas' memory).
///
/// ```
/// let s = arenaprof_snapshot::Snapshot::default();
/// assert_eq!(arenaprof_report::passes::memory::windows_reserved(&s), 0);
/// ```
pub fn windows_reserved(snap: &Snapshot) -> u64 {
    section_sum(snap, "address_windows", "reserved_bytes")
}

const CACHES_WHY: &str = "freed blocks the tracker's per-thread bins keep for the next requests (allocated in jemalloc's figures; at most 102,528 bytes, 100.1 KiB, per thread and tag)";

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

/// The memory account: the ladder from RSS down to the tracked bytes
/// (rebuilt from the mappings when they were measured), memory outside the
/// allocator, and the objects the hooks saw. A measured ladder that does not
/// sum to the mappings' resident bytes adds a warning.
pub fn account(snap: &Snapshot, warnings: &mut Vec<String>) -> MemoryAccount {
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
    let caches = profiler_caches(snap);
    if caches > 0 {
        gap.push(rung("profiler_caches", signed(caches, 0), CACHES_WHY));
    }
    let inside = tracked
        .saturating_add(headers)
        .saturating_add(internal_in_program_arenas)
        .saturating_add(caches);
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
            signed(
                rss,
                tracked
                    .saturating_add(headers)
                    .saturating_add(internal)
                    .saturating_add(caches),
            ),
            "RSS − tracked − profiler: allocator rounding and metadata, free pages, program code, thread stacks, other libraries",
        )),
    }
    let n = &snap.native;
    let mut account = MemoryAccount {
        tracked_live_bytes: tracked,
        rss_bytes: rss,
        peak_rss_bytes: snap.process.peak_rss_bytes,
        jemalloc,
        gap,
        gap_source: "allocator".to_owned(),
        measured: n.measured,
        hooks_installed: n.hooks_installed,
        measure_ns: n.measure_ns,
        notes: n.notes.clone(),
        ..Default::default()
    };
    if !n.measured {
        return account;
    }
    // With mapping measurements the ladder is rebuilt from them.
    account.gap = measured_gap(snap);
    account.gap_source = "mappings".to_owned();
    account.virtual_bytes = n.vm_size_bytes;
    account.mappings_rss_bytes = n.mappings_rss_bytes;
    account.outside_allocator = outside::outside(snap);
    account.outside_allocator_resident_bytes = account
        .outside_allocator
        .iter()
        .fold(0u64, |a, o| a.saturating_add(o.resident_bytes));
    account.hooked_objects = outside::hooked(n);
    if !n.allocator_source.is_empty() {
        account.notes.push(format!(
            "allocator's resident bytes: {}",
            n.allocator_source
        ));
    }
    if n.tracked_not_resident_bytes > 0 {
        account.notes.push(format!(
            "{} of tracked bytes are not resident (allocated, never touched): not in the ladder",
            format_bytes(n.tracked_not_resident_bytes)
        ));
    }
    let sum = account.gap.iter().fold(0i128, |a, g| a + g.bytes as i128);
    if sum != n.mappings_rss_bytes as i128 {
        warnings.push(format!(
            "memory: the measured ladder sums to {sum} B, not the mappings' {} B",
            n.mappings_rss_bytes
        ));
    }
    account
}

fn clamp_signed(b: u64) -> i64 {
    b.min(i64::MAX as u64) as i64
}

fn measured_rung(name: &str, bytes: u64, explanation: &str) -> GapRow {
    GapRow {
        name: name.to_owned(),
        bytes: clamp_signed(bytes),
        explanation: explanation.to_owned(),
    }
}

/// The measured ladder, with the allocator's part split by its figures:
/// every rung is a resident measurement or a part of one, never negative,
/// and the rungs sum to the resident bytes of all mappings. The allocator's
/// resident bytes beyond the tracked ones are split into the tracker's
/// headers, the profiler's own heap data and jemalloc's figures (rounding,
/// fragmentation, metadata, unpurged pages), each clamped to what is left.
fn measured_gap(snap: &Snapshot) -> Vec<GapRow> {
    let n = &snap.native;
    let of = |key: &str| {
        n.ladder
            .iter()
            .filter(|r| r.key == key)
            .fold(0u64, |a, r| a.saturating_add(r.bytes))
    };
    let tracked = of("tracked");
    let mut rem = of("allocator_beyond_tracked");
    let mut out = vec![measured_rung(
        "tracked",
        tracked,
        "bytes the program requested and still holds (all tags), as far as they are resident",
    )];
    let mut take = |out: &mut Vec<GapRow>, name: &str, want: u64, why: &str| {
        let b = want.min(rem);
        rem -= b;
        out.push(measured_rung(name, b, why));
    };
    let o = &snap.overhead;
    let (heap, heap_in_program_arenas) = profiler_heap(snap);
    take(
        &mut out,
        "profiler_headers",
        o.live_header_bytes,
        "the tracker's header in front of each live allocation",
    );
    take(
        &mut out,
        "profiler_internal",
        heap,
        "the profiler's own heap (its jemalloc arena's resident bytes): interned stacks, sample records, registry, snapshots being built",
    );
    let caches = profiler_caches(snap);
    if caches > 0 {
        take(&mut out, "profiler_caches", caches, CACHES_WHY);
    }
    match program_jemalloc(snap) {
        Some(j) => {
            let inside = snap
                .total
                .live_bytes
                .saturating_add(o.live_header_bytes)
                .saturating_add(heap_in_program_arenas)
                .saturating_add(caches);
            take(
                &mut out,
                "size_class_rounding",
                j.allocated.saturating_sub(inside),
                "jemalloc allocated − tracked − profiler: requests rounded up to size classes, plus allocations made before tracking started",
            );
            take(
                &mut out,
                "page_fragmentation",
                j.active.saturating_sub(j.allocated),
                "jemalloc active − allocated: free space inside pages that hold live allocations",
            );
            take(
                &mut out,
                "allocator_metadata",
                j.metadata,
                "jemalloc metadata (arenas, extents, caches), as far as it is resident",
            );
            take(
                &mut out,
                "dirty_unpurged",
                u64::MAX,
                "the rest of jemalloc's resident bytes: freed pages not yet returned to the OS (purged after dirty_decay_ms)",
            );
        }
        None => {
            take(
                &mut out,
                "allocator_other",
                u64::MAX,
                "the rest of the allocator's resident bytes: rounding, metadata, free pages it keeps",
            );
        }
    }
    for (key, why) in [
        (
            "native_mapped",
            "anonymous memory shared libraries mapped with mmap (attributed by the hooks): see memory.outside_allocator",
        ),
        ("c_heap", "[heap]: the brk area, glibc malloc's main arena (C and Fortran libraries)"),
        (
            "other_anonymous",
            "anonymous memory nobody claimed: glibc malloc's thread arenas and large blocks, mmap by unhooked code",
        ),
        ("thread_stacks", "thread stacks (the main stack, each thread's)"),
        ("code_and_data", "the program's and shared libraries' code and data"),
        ("other_files", "mapped files that are not loaded objects"),
        ("profiler_tables", "the profiler's own tables (counter rows, timeline, mmap hooks' table)"),
        ("kernel", "[vdso], [vvar]"),
    ] {
        out.push(measured_rung(key, of(key), why));
    }
    // Rungs a newer writer may add.
    const KNOWN: [&str; 10] = [
        "tracked",
        "allocator_beyond_tracked",
        "native_mapped",
        "c_heap",
        "other_anonymous",
        "thread_stacks",
        "code_and_data",
        "other_files",
        "profiler_tables",
        "kernel",
    ];
    for r in n.ladder.iter().filter(|r| !KNOWN.contains(&r.key.as_str())) {
        out.push(measured_rung(&r.key, r.bytes, &r.name));
    }
    out
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
    let caches = profiler_caches(snap);
    let total = o
        .live_header_bytes
        .saturating_add(tables)
        .saturating_add(heap)
        .saturating_add(caches);
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
        cached_bytes: caches,
        windows_reserved_bytes: windows_reserved(snap),
        total_bytes: total,
        percent_of_tracked: percent(snap.total.live_bytes),
        percent_of_rss: percent(snap.process.rss_bytes),
        backtraces_captured: o.backtraces_captured,
        backtrace_ns: o.backtrace_ns,
        snapshot_ns: o.snapshot_ns,
    }
}
