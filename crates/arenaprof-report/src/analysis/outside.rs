//! Memory outside the allocator, the objects the hooks saw and the BLAS
//! runtimes, from the snapshot's `native` section (format version 2). The
//! memory pass ([`super::memory`]) puts the first two into the account and
//! rebuilds the ladder from the same measurements.
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
use crate::units::format_bytes;
use arenaprof_snapshot::{GroupKind, NativeMemory, Snapshot};
use std::collections::HashMap;

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

/// The BLAS and OpenMP runtimes, one row each.
pub fn blas_rows(n: &NativeMemory) -> Vec<BlasRow> {
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

/// The objects the hooks saw, one row each.
pub fn hooked(n: &NativeMemory) -> Vec<HookedObjectRow> {
    n.objects
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
        .collect()
}
