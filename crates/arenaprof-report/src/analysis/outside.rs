//! Memory outside the allocator and the BLAS runtimes, from the snapshot's
//! `native` section (format version 2).
//!
//! With mapping measurements the memory ladder (`memory.gap`) is rebuilt
//! from them: every rung is a resident measurement or a part of one, never
//! negative, and the rungs sum to the resident bytes of all mappings. The
//! allocator's resident bytes beyond the tracked ones are split into the
//! tracker's headers, the profiler's own heap data and jemalloc's figures
//! (rounding, fragmentation, metadata, unpurged pages), each clamped to what
//! is left, so the split never goes below zero either.
//!
//! ```
//! use arenaprof_snapshot::{GroupKind, LadderRung, MappingGroup, NativeMemory, Snapshot};
//! let mut s = Snapshot::default();
//! s.native = NativeMemory {
//!     measured: true,
//!     mappings_rss_bytes: 10_000,
//!     ladder: vec![
//!         LadderRung { key: "tracked".into(), name: "tracked".into(), bytes: 4_000 },
//!         LadderRung { key: "thread_stacks".into(), name: "stacks".into(), bytes: 6_000 },
//!     ],
//!     groups: vec![MappingGroup { kind: GroupKind::ThreadStacks, resident_bytes: 6_000, ..Default::default() }],
//!     ..Default::default()
//! };
//! let r = arenaprof_report::analyze(&s, &Default::default());
//! assert_eq!(r.memory.gap_source, "mappings");
//! assert!(r.memory.gap.iter().all(|g| g.bytes >= 0));
//! assert_eq!(r.memory.gap.iter().map(|g| g.bytes).sum::<i64>(), 10_000);
//! assert_eq!(r.memory.outside_allocator_resident_bytes, 6_000);
//! ```

use crate::model::{BlasChangeRow, BlasRow, HookedObjectRow, OutsideRow};
use crate::model::{GapRow, Report};
use crate::units::format_bytes;
use arenaprof_snapshot::{GroupKind, NativeMemory, Snapshot};
use std::collections::HashMap;

fn signed(b: u64) -> i64 {
    b.min(i64::MAX as u64) as i64
}

fn rung(name: &str, bytes: u64, explanation: &str) -> GapRow {
    GapRow {
        name: name.to_owned(),
        bytes: signed(bytes),
        explanation: explanation.to_owned(),
    }
}

/// The measured ladder, with the allocator's part split by its figures.
pub fn gap(snap: &Snapshot) -> Vec<GapRow> {
    let n = &snap.native;
    let of = |key: &str| {
        n.ladder
            .iter()
            .filter(|r| r.key == key)
            .fold(0u64, |a, r| a.saturating_add(r.bytes))
    };
    let tracked = of("tracked");
    let mut rem = of("allocator_beyond_tracked");
    let mut out = vec![rung(
        "tracked",
        tracked,
        "bytes the program requested and still holds (all tags), as far as they are resident",
    )];
    let mut take = |out: &mut Vec<GapRow>, name: &str, want: u64, why: &str| {
        let b = want.min(rem);
        rem -= b;
        out.push(rung(name, b, why));
    };
    let o = &snap.overhead;
    let (heap, heap_in_program_arenas) = super::memory::profiler_heap(snap);
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
    match super::memory::program_jemalloc(snap) {
        Some(j) => {
            let inside = snap
                .total
                .live_bytes
                .saturating_add(o.live_header_bytes)
                .saturating_add(heap_in_program_arenas);
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
        out.push(rung(key, of(key), why));
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
        out.push(rung(&r.key, r.bytes, &r.name));
    }
    out
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Memory outside the allocator, one row per group, largest resident first.
/// The unclaimed anonymous row's resident bytes exclude the allocator's
/// resident bytes when those were carved out of it (the ladder's figure).
pub fn outside(snap: &Snapshot) -> Vec<OutsideRow> {
    let n = &snap.native;
    let carved = n.ladder.iter().find(|r| r.key == "other_anonymous");
    let mut rows: Vec<OutsideRow> = n
        .groups
        .iter()
        .filter(|g| g.kind != GroupKind::Allocator)
        .map(|g| {
            let (object, label) = match g.kind {
                GroupKind::MappedBy => (
                    g.object.clone(),
                    format!("anonymous memory mapped by {}", base(&g.object)),
                ),
                GroupKind::Library => (
                    g.object.clone(),
                    format!("code and data of {}", base(&g.object)),
                ),
                GroupKind::Binary => (
                    if snap.meta.program.is_empty() {
                        "[binary]".to_owned()
                    } else {
                        snap.meta.program.clone()
                    },
                    "code and data of the program".to_owned(),
                ),
                GroupKind::ThreadStacks => ("[thread stacks]".into(), "thread stacks".into()),
                GroupKind::Heap => (
                    "[heap]".into(),
                    "brk heap (glibc malloc's main arena)".into(),
                ),
                GroupKind::OtherAnonymous => (
                    "[other anonymous]".into(),
                    if carved.is_some() && n.allocator_source.contains("carved") {
                        "anonymous memory nobody claimed, the allocator's resident bytes taken out"
                            .into()
                    } else {
                        "anonymous memory nobody claimed".into()
                    },
                ),
                GroupKind::Profiler => (
                    "[profiler tables]".into(),
                    "the profiler's own tables".into(),
                ),
                GroupKind::OtherFile => ("[other files]".into(), "mapped files".into()),
                GroupKind::Kernel => ("[kernel]".into(), "[vdso], [vvar]".into()),
                GroupKind::Allocator => unreachable!("filtered above"),
            };
            let resident = match (g.kind, carved) {
                (GroupKind::OtherAnonymous, Some(c)) => g.resident_bytes.min(c.bytes),
                _ => g.resident_bytes,
            };
            OutsideRow {
                object,
                kind: g.kind.key().to_owned(),
                label,
                mappings: g.mappings,
                virtual_bytes: g.virtual_bytes,
                resident_bytes: resident,
                private_bytes: g.private_bytes,
                anonymous_bytes: g.anonymous_bytes,
                swap_bytes: g.swap_bytes,
                commit_bytes: g.commit_bytes,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.resident_bytes
            .cmp(&a.resident_bytes)
            .then(b.virtual_bytes.cmp(&a.virtual_bytes))
            .then(a.object.cmp(&b.object))
    });
    rows
}

/// Most thread-count changes reported per runtime (the writer keeps 64).
pub const MAX_CHANGES: usize = 64;

fn blas_rows(n: &NativeMemory) -> Vec<BlasRow> {
    // Changes by library, in one pass (a crafted snapshot may hold many of
    // both).
    let mut by_lib: HashMap<&str, Vec<&arenaprof_snapshot::BlasThreadChange>> = HashMap::new();
    for c in &n.blas_changes {
        by_lib.entry(c.library.as_str()).or_default().push(c);
    }
    n.blas
        .iter()
        .map(|b| {
            let all = by_lib
                .get(b.library.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            // The writer keeps the last 64; a crafted file may hold more,
            // and several rows may name one library: keep the output bounded.
            let changes: Vec<BlasChangeRow> = all[all.len().saturating_sub(MAX_CHANGES)..]
                .iter()
                .map(|c| BlasChangeRow {
                    previous: c.previous,
                    now: c.now,
                    mapped_before_bytes: c.mapped_before,
                    mapped_after_bytes: c.mapped_after,
                    freed_bytes: c
                        .mapped_before
                        .zip(c.mapped_after)
                        .map(|(a, z)| a.saturating_sub(z)),
                })
                .collect();
            let lowered: Vec<&BlasChangeRow> =
                changes.iter().filter(|c| c.now < c.previous).collect();
            let lowering_freed_bytes = if lowered.is_empty() {
                None
            } else {
                lowered
                    .iter()
                    .map(|c| c.freed_bytes)
                    .try_fold(0u64, |a, f| f.map(|f| a.saturating_add(f)))
            };
            let openblas = b.api == "openblas";
            let lowering = match (lowering_freed_bytes, lowered.first()) {
                (Some(0), Some(c)) => format!(
                    "freed nothing: {} -> {} threads{}{}",
                    c.previous,
                    c.now,
                    c.mapped_after_bytes
                        .map(|m| format!(" left {} mapped", format_bytes(m)))
                        .unwrap_or_default(),
                    if openblas {
                        " (OpenBLAS keeps every buffer it mapped for the life of the process)"
                    } else {
                        ""
                    }
                ),
                (Some(f), Some(c)) => format!(
                    "freed {} ({} -> {} threads)",
                    format_bytes(f),
                    c.previous,
                    c.now
                ),
                _ if openblas && b.buffers_known && b.buffers_mapped as i64 > b.threads => format!(
                    "frees nothing: {} buffers stay mapped for {} thread{} (OpenBLAS keeps every buffer it mapped)",
                    b.buffers_mapped,
                    b.threads,
                    if b.threads == 1 { "" } else { "s" }
                ),
                _ if openblas => "frees nothing: OpenBLAS keeps every buffer it mapped for the life of the process".to_owned(),
                _ if b.api == "mkl" => "does not release MKL's buffers; mkl_free_buffers() does".to_owned(),
                _ => "was not measured (no lowering was recorded)".to_owned(),
            };
            let advice = match b.api.as_str() {
                "openblas" => "limit before the first BLAS call (OPENBLAS_NUM_THREADS=N at start, or arenaprof::blas::limits / set_threads right after loading it), or use arenaprof::gemm, whose per-worker workspaces are capped and freed".to_owned(),
                "mkl" => "call mkl_free_buffers() after the work, or limit threads before the first call (MKL_NUM_THREADS, arenaprof::blas::limits)".to_owned(),
                _ => "limit threads before the first call (arenaprof::blas::limits), or use arenaprof::gemm".to_owned(),
            };
            BlasRow {
                library: b.library.clone(),
                version: b.version.clone(),
                threads: b.threads,
                api: b.api.clone(),
                threading_layer: b.threading_layer.clone(),
                architecture: b.architecture.clone(),
                config: b.config.clone(),
                buffers_known: b.buffers_known,
                buffer_size_bytes: b.buffer_size_bytes,
                buffers_mapped: b.buffers_mapped,
                buffers_virtual_bytes: b.buffers_virtual_bytes,
                buffers_resident_bytes: b.buffers_resident_bytes,
                changes,
                lowering_freed_bytes,
                lowering,
                advice,
            }
        })
        .collect()
}

/// Adds the native section to a report built from `snap`.
pub fn apply(snap: &Snapshot, r: &mut Report) {
    let n = &snap.native;
    let m = &mut r.memory;
    m.measured = n.measured;
    m.hooks_installed = n.hooks_installed;
    m.measure_ns = n.measure_ns;
    m.notes = n.notes.clone();
    r.blas_notes = n.blas_notes.clone();
    r.blas = blas_rows(n);
    // VmSize/RSS per timeline point, matched by time.
    if !n.series.is_empty() {
        let by_t: HashMap<u64, (u64, u64)> = n
            .series
            .iter()
            .map(|p| (p.t_ns, (p.vm_size_bytes, p.rss_bytes)))
            .collect();
        let (vm, rss): (Vec<u64>, Vec<u64>) = r
            .timeline
            .points
            .iter()
            .map(|p| by_t.get(&p.t_ns).copied().unwrap_or((0, 0)))
            .unzip();
        if vm.iter().any(|&v| v > 0) {
            r.timeline.vm_size_bytes = vm;
            r.timeline.rss_bytes = rss;
        }
    }
    if !n.measured {
        // The reader marks a version-1 file with this note (its format has
        // no native section), so the report names the version it read.
        if n.notes
            .iter()
            .any(|x| x.starts_with("snapshot format version 1:"))
        {
            r.meta.format_version = 1;
        }
        return;
    }
    m.gap = gap(snap);
    m.gap_source = "mappings".to_owned();
    m.virtual_bytes = n.vm_size_bytes;
    m.mappings_rss_bytes = n.mappings_rss_bytes;
    m.outside_allocator = outside(snap);
    m.outside_allocator_resident_bytes = m
        .outside_allocator
        .iter()
        .fold(0u64, |a, o| a.saturating_add(o.resident_bytes));
    m.hooked_objects = n
        .objects
        .iter()
        .map(|o| HookedObjectRow {
            object: o.path.clone(),
            mappings: o.live_mappings,
            virtual_bytes: o.live_bytes,
            resident_bytes: o.resident_bytes,
            peak_bytes: o.peak_bytes,
            mmap_calls: o.mmap_calls,
            munmap_calls: o.munmap_calls,
            mremap_calls: o.mremap_calls,
            adopted: o.adopted,
        })
        .collect();
    if !n.allocator_source.is_empty() {
        m.notes.push(format!(
            "allocator's resident bytes: {}",
            n.allocator_source
        ));
    }
    if n.tracked_not_resident_bytes > 0 {
        m.notes.push(format!(
            "{} of tracked bytes are not resident (allocated, never touched): not in the ladder",
            format_bytes(n.tracked_not_resident_bytes)
        ));
    }
    let sum = m.gap.iter().fold(0i128, |a, g| a + g.bytes as i128);
    if sum != n.mappings_rss_bytes as i128 {
        r.warnings.push(format!(
            "memory: the measured ladder sums to {sum} B, not the mappings' {} B",
            n.mappings_rss_bytes
        ));
    }
}
