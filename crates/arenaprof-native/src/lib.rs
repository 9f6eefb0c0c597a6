//! Memory the allocator never sees.
//!
//! OpenBLAS maps its per-thread buffers with `mmap`, not `malloc`; glibc's
//! `malloc` (used by C libraries) keeps its own arenas; thread stacks, code
//! and the profiler's own tables are mappings too. This crate measures all
//! of it and says who made it:
//!
//! - [`maps`]: `/proc/self/smaps`, `smaps_rollup`, `maps` and `statm`
//!   parsed into typed structs; mappings grouped (allocator, thread stacks,
//!   binary, each shared library, profiler tables, anonymous mappings by the
//!   object that made them, `[heap]`, other); the memory ladder from tracked
//!   bytes up to RSS.
//! - [`hooks`]: `mmap`/`mmap64`/`munmap`/`mremap` calls of loaded shared
//!   objects intercepted by patching their GOT slots (memray's mechanism)
//!   and attributed to the calling object, in a lock-free table that never
//!   touches the global allocator.
//! - [`blas`]: threadpoolctl for Rust: the BLAS and OpenMP runtimes loaded
//!   at run time (OpenBLAS, MKL, BLIS, libgomp/libiomp/libomp), their
//!   versions, threading layers and thread counts; [`blas::set_threads`]
//!   and the scoped [`blas::limits`].
//! - [`code`]: the executable segments of the loaded objects with their
//!   GNU build IDs (for pprof's mappings).
//! - [`process_memory`]: one call that reads everything above for a
//!   snapshot.
//!
//! Public API at a glance:
//!
//! | item | what |
//! |---|---|
//! | [`hooks::install`], [`hooks::install_with`], [`hooks::uninstall`], [`hooks::refresh`], [`hooks::is_installed`] | patch / unpatch |
//! | [`hooks::objects`], [`hooks::object`], [`hooks::object_id_by_base`], [`hooks::summary`] | per-object counters |
//! | [`hooks::for_each_mapping`] (no allocation), [`hooks::mappings`], [`hooks::table_range`] | the live-mapping table |
//! | [`maps::read_smaps`], [`maps::read_maps`], [`maps::read_smaps_rollup`], [`maps::read_statm`] (no allocation), `parse_*` | `/proc` readers |
//! | [`maps::group`], [`maps::ladder`], [`maps::resident_bytes`], [`maps::thread_stack_pointers`] | grouping, ladder, `mincore` |
//! | [`blas::info`], [`blas::set_threads`], [`blas::limit`], [`blas::limits`], [`blas::open`] | BLAS/OpenMP control |
//! | [`process_memory`] | all of it, for a snapshot |
//!
//! ```
//! let pm = arenaprof_native::process_memory(&[], &[], 0, None).unwrap();
//! let sum: u64 = pm.ladder.rungs.iter().map(|r| r.bytes).sum();
//! assert_eq!(sum, pm.ladder.rss);
//! ```
#![deny(missing_docs)]

use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub mod blas;
pub mod code;
mod elf;
pub mod hooks;
mod interpose;
pub mod maps;
mod sys;

static PAGE: AtomicUsize = AtomicUsize::new(0);

/// The tracker's scope for the profiler's own allocations (see
/// [`set_internal_scope`]); null when none was set.
static INTERNAL: std::sync::atomic::AtomicPtr<()> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// Sets the function this crate runs its own work in (reading `/proc`,
/// listing objects, `blas::info` and friends), so that a tracking allocator
/// counts their allocations as the profiler's overhead rather than as the
/// program's: arenaprof-alloc sets its "busy" scope here at its first
/// allocation. Plumbing for the tracker.
///
/// ```
/// fn run(f: &mut dyn FnMut()) { f() }
/// arenaprof_native::set_internal_scope(run);
/// ```
pub fn set_internal_scope(f: fn(&mut dyn FnMut())) {
    INTERNAL.store(f as *mut (), Ordering::Release);
}

/// Runs `f` inside the scope set by [`set_internal_scope`].
pub(crate) fn internal<R>(f: impl FnOnce() -> R) -> R {
    let p = INTERNAL.load(Ordering::Acquire);
    if p.is_null() {
        return f();
    }
    // SAFETY: only `set_internal_scope` stores here, from a
    // `fn(&mut dyn FnMut())`.
    let scope = unsafe { std::mem::transmute::<*mut (), fn(&mut dyn FnMut())>(p) };
    let mut f = Some(f);
    let mut out = None;
    scope(&mut || {
        if let Some(f) = f.take() {
            out = Some(f());
        }
    });
    match out {
        Some(r) => r,
        // A scope that did not call its argument: run it here.
        None => f
            .take()
            .map(|f| f())
            .expect("the scope consumed the work without running it"),
    }
}

/// The system page size (cached).
///
/// ```
/// assert!(arenaprof_native::page_size().is_power_of_two());
/// ```
pub fn page_size() -> usize {
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let v = if v > 0 && (v as usize).is_power_of_two() {
        v as usize
    } else {
        4096
    };
    PAGE.store(v, Ordering::Relaxed);
    v
}

/// `2.0 GiB`, `4.0 MiB`, `512 B`.
///
/// ```
/// assert_eq!(arenaprof_native::fmt_bytes(3 << 29), "1.5 GiB");
/// ```
pub fn fmt_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", U[i])
}

/// Everything [`process_memory`] read.
#[derive(Clone, Debug)]
pub struct ProcessMemory {
    /// `/proc/self/statm` (VmSize, RSS).
    pub statm: maps::Statm,
    /// The mappings, grouped.
    pub grouped: maps::Grouped,
    /// Tracked bytes up to RSS.
    pub ladder: maps::Ladder,
    /// Hooked objects with live mappings (empty without hooks).
    pub objects: Vec<hooks::ObjectSummary>,
    /// Mappings in `/proc/self/smaps`.
    pub vmas: usize,
    /// Nanoseconds spent reading and parsing `smaps`.
    pub smaps_ns: u64,
    /// Nanoseconds for everything.
    pub total_ns: u64,
}

/// Reads `/proc/self/smaps` and the hooks' table and builds the grouping
/// and the ladder. `allocator`/`profiler`: ranges the caller knows (the
/// hooks' own table is added to `profiler`); `tracked`: the allocator's
/// live tracked bytes; `allocator_resident`: its own resident figure (e.g.
/// jemalloc `stats.resident`) when it cannot name its ranges. Allocates
/// (call it from the snapshot path, not from an allocation).
///
/// ```
/// let pm = arenaprof_native::process_memory(&[], &[], 1 << 20, Some(4 << 20)).unwrap();
/// assert!(pm.statm.size >= pm.statm.resident);
/// assert_eq!(pm.ladder.tracked, 1 << 20);
/// ```
pub fn process_memory(
    allocator: &[Range<u64>],
    profiler: &[Range<u64>],
    tracked: u64,
    allocator_resident: Option<u64>,
) -> io::Result<ProcessMemory> {
    crate::internal(|| {
        let t0 = Instant::now();
        hooks::refresh();
        let statm = maps::read_statm()?;
        let t1 = Instant::now();
        let smaps = maps::read_smaps()?;
        let smaps_ns = t1.elapsed().as_nanos() as u64;
        let objs = hooks::objects();
        let names: Vec<(u16, String)> = objs.iter().map(|o| (o.id, o.name.clone())).collect();
        // The executable's own calls: the allocator's (learnt call sites) are
        // its ranges; the rest (a BLAS linked statically, Rust code calling
        // mmap) are mapped by the executable.
        let table = hooks::mappings();
        let mut alloc: Vec<Range<u64>> = allocator.to_vec();
        alloc.extend(
            table
                .iter()
                .filter(|m| hooks::is_allocators(m))
                .map(|m| m.start as u64..m.end() as u64),
        );
        let native: Vec<(Range<u64>, &str)> = table
            .iter()
            .filter(|m| !m.file_backed && !hooks::is_allocators(m))
            .filter_map(|m| {
                let n = names.iter().find(|(id, _)| *id == m.object)?;
                Some((m.start as u64..m.end() as u64, n.1.as_str()))
            })
            .collect();
        let mut prof: Vec<Range<u64>> = profiler.to_vec();
        prof.extend(hooks::table_range());
        let sps = maps::thread_stack_pointers();
        let exe = std::fs::read_link("/proc/self/exe")
            .ok()
            .map(|p| p.to_string_lossy().into_owned());
        let known = maps::Known {
            allocator: &alloc,
            profiler: &prof,
            native: &native,
            stack_pointers: &sps,
            exe: exe.as_deref(),
            split: maps::Split::Mincore,
        };
        let mut grouped = maps::group(&smaps, &known);
        // One name per library: smaps names a library's code by its real path
        // (`libopenblasp-r0.3.21.so`), the hooks and `blas` by the name the
        // loader used (`libopenblas.so.0`): the code rows take the loader's.
        let loader_names: Vec<(String, String)> = elf::loaded_objects()
            .into_iter()
            .filter(|o| o.index > 0 && !o.name.is_empty())
            .filter_map(|o| {
                let real = std::fs::canonicalize(&o.name).ok()?;
                let real = real.to_string_lossy().into_owned();
                (real != o.name).then_some((real, o.name))
            })
            .collect();
        for (g, _) in grouped.groups.iter_mut() {
            if let maps::Group::Library(p) = g {
                if let Some((_, n)) = loader_names.iter().find(|(r, _)| r == p) {
                    *p = n.clone();
                }
            }
        }
        let ladder = maps::ladder(&grouped, tracked, allocator_resident);
        let objects = hooks::summary();
        Ok(ProcessMemory {
            statm,
            grouped,
            ladder,
            objects,
            vmas: smaps.vmas.len(),
            smaps_ns,
            total_ns: t0.elapsed().as_nanos() as u64,
        })
    })
}
