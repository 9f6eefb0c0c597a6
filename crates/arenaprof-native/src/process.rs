//! [`process_memory`]: everything the other modules read, for a snapshot.

use std::io;
use std::ops::Range;
use std::time::Instant;

use crate::{elf, hooks, maps};

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

/// `/proc/self/statm` and `/proc/self/smaps` as read, the slow part of
/// [`process_memory`] (milliseconds per thousand mappings): read first,
/// outside any lock of the caller's, then given to [`process_memory_from`].
///
/// ```
/// let m = arenaprof_native::read_mappings().unwrap();
/// let pm = arenaprof_native::process_memory_from(m, &[], &[], 0, None).unwrap();
/// assert!(pm.vmas > 0);
/// ```
#[derive(Clone, Debug)]
pub struct Mappings {
    statm: maps::Statm,
    smaps: maps::Smaps,
    smaps_ns: u64,
    t0: Instant,
}

/// Reads `/proc/self/statm` and `/proc/self/smaps`. Takes no lock of this
/// crate's (so a caller may read them where a `fork()` must not wait).
pub fn read_mappings() -> io::Result<Mappings> {
    crate::scope::internal(|| {
        let t0 = Instant::now();
        let statm = maps::read_statm()?;
        let t1 = Instant::now();
        let smaps = maps::read_smaps()?;
        Ok(Mappings {
            statm,
            smaps,
            smaps_ns: t1.elapsed().as_nanos() as u64,
            t0,
        })
    })
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
    process_memory_from(
        read_mappings()?,
        allocator,
        profiler,
        tracked,
        allocator_resident,
    )
}

/// [`process_memory`] from mappings read earlier with [`read_mappings`]:
/// the hooks' table (refreshed here), the grouping and the ladder.
pub fn process_memory_from(
    m: Mappings,
    allocator: &[Range<u64>],
    profiler: &[Range<u64>],
    tracked: u64,
    allocator_resident: Option<u64>,
) -> io::Result<ProcessMemory> {
    crate::scope::internal(|| {
        let Mappings {
            statm,
            smaps,
            smaps_ns,
            t0,
        } = m;
        hooks::refresh();
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
        let objects = hooks::summary_with(&smaps);
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
