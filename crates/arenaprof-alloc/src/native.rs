//! Memory the allocator never sees, for a snapshot: the process's mappings
//! grouped by owner, the ladder from tracked bytes up to RSS, the objects
//! the `mmap` hooks attributed memory to, and the BLAS runtimes loaded.
//! Measured by `arenaprof-native`; this module only feeds it the tracker's
//! own figures (tracked bytes, jemalloc's resident bytes, the ranges of the
//! profiler's tables) and copies the result into the snapshot model.
//!
//! `ARENAPROF_NATIVE=off` turns all of it off: no hooks, no measurement.

use crate::mmap;
use arenaprof_native::{blas, hooks, maps};
use arenaprof_snapshot::{
    BlasRuntime, BlasThreadChange, GroupKind, LadderRung, MappingGroup, NativeMemory, NativeObject,
};
use std::ops::Range;
use std::time::Instant;

/// `ARENAPROF_NATIVE=off` (case-insensitive; also `0`, `false`, `no`).
pub(crate) fn disabled() -> bool {
    std::env::var("ARENAPROF_NATIVE").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        )
    })
}

/// A warning when `ARENAPROF_NATIVE` is set to something that is neither
/// off (`off`, `0`, `false`, `no`) nor on (`on`, `1`, `true`, `yes`).
pub(crate) fn unrecognised() -> Option<String> {
    let v = std::env::var("ARENAPROF_NATIVE").ok()?;
    let known = matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "off" | "0" | "false" | "no" | "on" | "1" | "true" | "yes" | ""
    );
    (!known).then(|| {
        format!("ARENAPROF_NATIVE={v:?}: expected off, 0, false or no (or on, 1, true, yes); native measurement stays on")
    })
}

/// Installs the `mmap` hooks (once; later calls patch newly loaded objects).
pub(crate) fn install_hooks() -> Result<hooks::Patched, String> {
    if hooks::is_installed() {
        return Ok(hooks::refresh());
    }
    hooks::install().map_err(|e| e.to_string())
}

/// The profiler's own mappings, merged where adjacent.
fn profiler_ranges() -> Vec<Range<u64>> {
    let mut v: Vec<Range<u64>> = Vec::new();
    mmap::for_each_range(|s, l| v.push(s as u64..(s + l) as u64));
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(l) if r.start <= l.end => l.end = l.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

fn kind_of(g: &maps::Group) -> (GroupKind, String) {
    match g {
        maps::Group::Allocator => (GroupKind::Allocator, String::new()),
        maps::Group::ThreadStacks => (GroupKind::ThreadStacks, String::new()),
        maps::Group::Binary => (GroupKind::Binary, String::new()),
        maps::Group::Library(p) => (GroupKind::Library, p.clone()),
        maps::Group::Profiler => (GroupKind::Profiler, String::new()),
        maps::Group::NativeAnon(p) => (GroupKind::MappedBy, p.clone()),
        maps::Group::Heap => (GroupKind::Heap, String::new()),
        maps::Group::OtherAnon => (GroupKind::OtherAnonymous, String::new()),
        maps::Group::OtherFile => (GroupKind::OtherFile, String::new()),
        maps::Group::Kernel => (GroupKind::Kernel, String::new()),
    }
}

/// The process's mappings as read now, or `None` with
/// `ARENAPROF_NATIVE=off`: read before a snapshot enters the fork gate,
/// since reading `smaps` is most of a snapshot's time and takes no lock of
/// the profiler's.
pub(crate) fn read_mappings() -> Option<std::io::Result<arenaprof_native::Mappings>> {
    (!disabled()).then(arenaprof_native::read_mappings)
}

/// Measures everything for a snapshot (the timeline's VmSize/RSS series is
/// added by the caller) from `mappings` ([`read_mappings`]: `None` with
/// `ARENAPROF_NATIVE=off`). `tracked`: live tracked bytes;
/// `allocator_resident`: jemalloc's `stats.resident`. Runs busy (from the
/// snapshot).
pub(crate) fn measure(
    mappings: Option<std::io::Result<arenaprof_native::Mappings>>,
    tracked: u64,
    allocator_resident: Option<u64>,
) -> NativeMemory {
    let t0 = Instant::now();
    let mut out = NativeMemory {
        hooks_installed: hooks::is_installed(),
        ..Default::default()
    };
    let Some(read) = mappings else {
        out.notes
            .push("ARENAPROF_NATIVE=off: mappings not measured, hooks not installed".into());
        return out;
    };
    if !out.hooks_installed {
        out.notes.push(
            "mmap hooks not installed: anonymous mappings are not attributed to the shared objects that made them (Profiler::from_env installs them)".into(),
        );
    }
    let prof = profiler_ranges();
    let pm = match read.and_then(|m| {
        arenaprof_native::process_memory_from(m, &[], &prof, tracked, allocator_resident)
    }) {
        Ok(pm) => pm,
        Err(e) => {
            out.notes
                .push(format!("/proc/self/smaps could not be read: {e}"));
            out.measure_ns = t0.elapsed().as_nanos() as u64;
            return out;
        }
    };
    out.measured = true;
    out.vm_size_bytes = pm.statm.size;
    out.rss_bytes = pm.statm.resident;
    out.vmas = pm.vmas as u64;
    out.groups = pm
        .grouped
        .groups
        .iter()
        .map(|(g, u)| {
            let (kind, object) = kind_of(g);
            MappingGroup {
                kind,
                object,
                mappings: u.mappings,
                virtual_bytes: u.virtual_bytes,
                resident_bytes: u.resident_bytes,
                private_bytes: u.private_bytes,
                anonymous_bytes: u.anonymous_bytes,
                swap_bytes: u.swap_bytes,
                commit_bytes: u.commit_bytes,
            }
        })
        .collect();
    out.ladder = pm
        .ladder
        .rungs
        .iter()
        .map(|r| LadderRung {
            key: r.key.to_owned(),
            name: r.name.clone(),
            bytes: r.bytes,
        })
        .collect();
    out.mappings_rss_bytes = pm.ladder.rss;
    out.allocator_source = pm.ladder.allocator_source.to_owned();
    out.tracked_not_resident_bytes = pm.ladder.tracked_not_resident;
    let stats = hooks::objects();
    out.objects = pm
        .objects
        .iter()
        .map(|s| {
            let o = stats
                .iter()
                .find(|o| o.name == s.name && o.live_mappings > 0);
            NativeObject {
                path: s.name.clone(),
                live_mappings: s.mappings,
                live_bytes: s.virtual_bytes,
                resident_bytes: s.resident_bytes,
                peak_bytes: o.map_or(0, |o| o.peak_bytes),
                mmap_calls: o.map_or(0, |o| o.mmap_calls),
                munmap_calls: o.map_or(0, |o| o.munmap_calls),
                mremap_calls: o.map_or(0, |o| o.mremap_calls),
                failed_calls: o.map_or(0, |o| o.failed_calls),
                adopted: o.map_or(0, |o| o.adopted),
                dropped: o.map_or(0, |o| o.dropped),
            }
        })
        .collect();
    let info = blas::info();
    out.blas = info
        .runtimes
        .iter()
        .map(|r| BlasRuntime {
            api: r.kind.name().to_owned(),
            library: r.path.clone(),
            version: r.version.clone(),
            config: r.config.clone(),
            threading_layer: r.threading_layer.clone(),
            architecture: r.architecture.clone(),
            threads: r.num_threads,
            buffers_known: r.buffers.is_some(),
            buffer_size_bytes: r.buffers.map_or(0, |b| b.buffer_size),
            buffers_mapped: r.buffers.map_or(0, |b| b.mapped),
            buffers_virtual_bytes: r.buffers.map_or(0, |b| b.virtual_bytes),
            buffers_resident_bytes: r.buffers.map_or(0, |b| b.resident_bytes),
        })
        .collect();
    out.blas_notes = info.notes;
    out.blas_notes.extend(blas::unchanged());
    out.blas_changes = blas::changes()
        .into_iter()
        .map(|c| BlasThreadChange {
            api: c.kind.name().to_owned(),
            library: c.path,
            previous: c.previous,
            now: c.now,
            mapped_before: c.mapped_before,
            mapped_after: c.mapped_after,
        })
        .collect();
    out.measure_ns = t0.elapsed().as_nanos() as u64;
    out
}
