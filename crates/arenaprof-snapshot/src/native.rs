//! Memory the allocator never sees: the process's mappings grouped by what
//! owns them, the ladder from tracked bytes up to RSS, VmSize and RSS over
//! time, and the BLAS/OpenMP runtimes loaded in the process. Written by
//! `arenaprof-alloc` from `arenaprof-native`'s measurements (format
//! version 2; a version-1 file reads back with [`NativeMemory::measured`]
//! false and everything else empty).

use serde::{Deserialize, Serialize};

/// Process memory by mapping, measured at snapshot time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NativeMemory {
    /// Whether `/proc/self/smaps` was read. `false` in a version-1 file, on a
    /// platform without `/proc`, or with `ARENAPROF_NATIVE=off`.
    pub measured: bool,
    /// Why something was not measured, or what to keep in mind, one line each.
    pub notes: Vec<String>,
    /// VmSize (`/proc/self/statm`) at the measurement.
    pub vm_size_bytes: u64,
    /// VmRSS (`/proc/self/statm`) at the measurement.
    pub rss_bytes: u64,
    /// Mappings in `/proc/self/smaps`.
    pub vmas: u64,
    /// The mappings grouped by owner; every byte of every mapping is in
    /// exactly one group.
    pub groups: Vec<MappingGroup>,
    /// Resident bytes from tracked up to RSS, bottom first; never negative,
    /// summing to [`NativeMemory::mappings_rss_bytes`].
    pub ladder: Vec<LadderRung>,
    /// Sum of `Rss` over all mappings (what the ladder sums to).
    pub mappings_rss_bytes: u64,
    /// Where the allocator's resident figure came from (its ranges, its own
    /// resident counter carved from anonymous memory, or an assumption).
    pub allocator_source: String,
    /// Tracked bytes that were not resident (allocated, never touched).
    pub tracked_not_resident_bytes: u64,
    /// Whether the `mmap` hooks were installed (attribution by object).
    pub hooks_installed: bool,
    /// Shared objects with live mappings the hooks attributed to them.
    pub objects: Vec<NativeObject>,
    /// VmSize and RSS at each timeline point (same times as
    /// `Timeline::points`).
    pub series: Vec<ProcessPoint>,
    /// BLAS and OpenMP runtimes loaded at snapshot time.
    pub blas: Vec<BlasRuntime>,
    /// Libraries skipped (a missing symbol) and missing optional symbols.
    pub blas_notes: Vec<String>,
    /// Thread-count changes made through `arenaprof::blas` during the run,
    /// with what each freed (most recent last, bounded).
    pub blas_changes: Vec<BlasThreadChange>,
    /// Time spent measuring (smaps, grouping, `mincore`, BLAS discovery).
    pub measure_ns: u64,
}

/// What a group of mappings belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupKind {
    /// The allocator's own mappings (when its ranges are known).
    Allocator,
    /// Thread stacks and their guard pages.
    ThreadStacks,
    /// The main executable's file mappings and `.bss`.
    Binary,
    /// One shared library's file mappings and `.bss` (`object` is its path).
    Library,
    /// The profiler's own tables.
    Profiler,
    /// Anonymous mappings a shared object made with `mmap` (`object` is the
    /// object that made them, from the hooks).
    MappedBy,
    /// `[heap]`: the `brk` area (glibc malloc's main arena).
    Heap,
    /// Anonymous memory nobody claimed (the inner allocator's when its
    /// ranges are unknown, glibc's thread arenas, unhooked `mmap` calls).
    #[default]
    OtherAnonymous,
    /// Mapped files that are not loaded objects.
    OtherFile,
    /// `[vdso]`, `[vvar]`, `[vsyscall]`.
    Kernel,
}

impl GroupKind {
    /// A short stable name (`mapped_by`, `thread_stacks`, ...).
    ///
    /// ```
    /// assert_eq!(arenaprof_snapshot::GroupKind::MappedBy.key(), "mapped_by");
    /// ```
    pub fn key(&self) -> &'static str {
        match self {
            GroupKind::Allocator => "allocator",
            GroupKind::ThreadStacks => "thread_stacks",
            GroupKind::Binary => "binary",
            GroupKind::Library => "library",
            GroupKind::Profiler => "profiler",
            GroupKind::MappedBy => "mapped_by",
            GroupKind::Heap => "heap",
            GroupKind::OtherAnonymous => "other_anonymous",
            GroupKind::OtherFile => "other_file",
            GroupKind::Kernel => "kernel",
        }
    }
}

/// Bytes of one group of mappings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingGroup {
    /// What it is.
    pub kind: GroupKind,
    /// The object (path) for `Library` and `MappedBy`; empty otherwise.
    pub object: String,
    /// Mappings (or parts of mappings) in the group.
    pub mappings: u64,
    /// Virtual bytes.
    pub virtual_bytes: u64,
    /// Resident bytes (`Rss`; `mincore` for a claimed part of a mapping).
    pub resident_bytes: u64,
    /// Private bytes (`Private_Clean + Private_Dirty`).
    pub private_bytes: u64,
    /// Anonymous bytes (`Anonymous`).
    pub anonymous_bytes: u64,
    /// Swapped-out bytes.
    pub swap_bytes: u64,
    /// Commit charge: the size of mappings counted against overcommit
    /// (`VmFlags: ac`). What Windows would commit at once.
    pub commit_bytes: u64,
}

/// One rung of the ladder from tracked bytes up to RSS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderRung {
    /// Short stable name, e.g. `tracked`, `native_mapped`, `thread_stacks`.
    pub key: String,
    /// What it is.
    pub name: String,
    /// Resident bytes (never negative).
    pub bytes: u64,
}

/// A shared object's live mappings, as the hooks counted them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeObject {
    /// Path as the loader recorded it.
    pub path: String,
    /// Live mappings it made.
    pub live_mappings: u64,
    /// Their bytes.
    pub live_bytes: u64,
    /// Their resident bytes (`mincore`).
    pub resident_bytes: u64,
    /// High-water mark of `live_bytes`.
    pub peak_bytes: u64,
    /// `mmap`/`mmap64` calls.
    pub mmap_calls: u64,
    /// `munmap` calls.
    pub munmap_calls: u64,
    /// `mremap` calls.
    pub mremap_calls: u64,
    /// Calls that failed.
    pub failed_calls: u64,
    /// Mappings adopted at load time (made by its constructors before it
    /// could be patched).
    pub adopted: u64,
    /// Mappings not tracked because the table was full.
    pub dropped: u64,
}

/// VmSize and RSS at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessPoint {
    /// Time since start.
    pub t_ns: u64,
    /// VmSize.
    pub vm_size_bytes: u64,
    /// VmRSS.
    pub rss_bytes: u64,
}

/// A BLAS or OpenMP runtime loaded in the process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlasRuntime {
    /// `openblas`, `mkl`, `blis` or `openmp` (threadpoolctl's names).
    pub api: String,
    /// Path of the library.
    pub library: String,
    /// Version, when the runtime says.
    pub version: Option<String>,
    /// Configuration string (`openblas_get_config`, ...).
    pub config: Option<String>,
    /// `pthreads`, `openmp`, `disabled`, MKL's layer, or `unknown`.
    pub threading_layer: String,
    /// CPU kernel set, when the runtime says.
    pub architecture: Option<String>,
    /// Thread count at snapshot time.
    pub threads: i64,
    /// Whether its buffers were counted (OpenBLAS with hooks installed
    /// before its first call).
    pub buffers_known: bool,
    /// Observed per-thread buffer size (the most common length of its
    /// mappings of 1 MiB or more).
    pub buffer_size_bytes: u64,
    /// Live buffers of that size.
    pub buffers_mapped: u64,
    /// Their virtual bytes.
    pub buffers_virtual_bytes: u64,
    /// Their resident bytes.
    pub buffers_resident_bytes: u64,
}

/// A thread-count change made through `arenaprof::blas`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlasThreadChange {
    /// `openblas`, `mkl`, `blis` or `openmp`.
    pub api: String,
    /// Path of the library.
    pub library: String,
    /// Thread count before.
    pub previous: i64,
    /// Thread count after.
    pub now: i64,
    /// Bytes the library had mapped before (hooks), if known.
    pub mapped_before: Option<u64>,
    /// And after.
    pub mapped_after: Option<u64>,
}
