//! Report types for memory the allocator never sees and the BLAS runtimes
//! (part of the JSON schema, `docs/JSON.md`): `memory.outside_allocator[]`,
//! `memory.hooked_objects[]`, `blas[]`.

use serde::{Deserialize, Serialize};

/// One group of mappings outside the allocator, by the object that owns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideRow {
    /// The object: a shared library's path (`mapped_by`, `library`), the
    /// program's name (`binary`), or a bracketed name (`[thread stacks]`,
    /// `[heap]`, `[other anonymous]`, `[profiler tables]`, `[other files]`,
    /// `[kernel]`).
    pub object: String,
    /// `mapped_by` (anonymous memory the object mapped with `mmap`),
    /// `library` (its code and data), `binary`, `thread_stacks`, `heap`,
    /// `other_anonymous`, `profiler`, `other_file` or `kernel`.
    pub kind: String,
    /// One line for a person, e.g. `anonymous memory mapped by libopenblas.so.0`.
    pub label: String,
    /// Mappings (or parts of mappings).
    pub mappings: u64,
    /// Virtual bytes.
    pub virtual_bytes: u64,
    /// Resident bytes.
    pub resident_bytes: u64,
    /// Private bytes (`Private_Clean + Private_Dirty`).
    pub private_bytes: u64,
    /// Anonymous bytes.
    pub anonymous_bytes: u64,
    /// Swapped-out bytes.
    pub swap_bytes: u64,
    /// Commit charge (`VmFlags: ac`): what Windows would commit at once.
    pub commit_bytes: u64,
}

/// What the `mmap` hooks counted for one shared object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookedObjectRow {
    /// Path as the loader recorded it.
    pub object: String,
    /// Live mappings it made.
    pub mappings: u64,
    /// Their virtual bytes.
    pub virtual_bytes: u64,
    /// Their resident bytes (`mincore`).
    pub resident_bytes: u64,
    /// High-water mark of its mapped bytes.
    pub peak_bytes: u64,
    /// `mmap` calls.
    pub mmap_calls: u64,
    /// `munmap` calls.
    pub munmap_calls: u64,
    /// `mremap` calls.
    pub mremap_calls: u64,
    /// Mappings made while it loaded, adopted for it.
    pub adopted: u64,
}

/// A thread-count change made through `arenaprof::blas`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlasChangeRow {
    /// Thread count before.
    pub previous: i64,
    /// Thread count after.
    pub now: i64,
    /// Bytes the library had mapped before (from the hooks), if known.
    pub mapped_before_bytes: Option<u64>,
    /// And after.
    pub mapped_after_bytes: Option<u64>,
    /// `mapped_before - mapped_after` when both are known.
    pub freed_bytes: Option<u64>,
}

/// A BLAS or OpenMP runtime loaded in the process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlasRow {
    /// Path of the library.
    pub library: String,
    /// Version, when the runtime says (`null` otherwise).
    pub version: Option<String>,
    /// Thread count at snapshot time.
    pub threads: i64,
    /// `openblas`, `mkl`, `blis` or `openmp`.
    pub api: String,
    /// `pthreads`, `openmp`, `disabled`, MKL's layer, or `unknown`.
    pub threading_layer: String,
    /// CPU kernel set, when the runtime says.
    pub architecture: Option<String>,
    /// Configuration string.
    pub config: Option<String>,
    /// Whether its per-thread buffers were counted (OpenBLAS, hooks
    /// installed before its first call).
    pub buffers_known: bool,
    /// Per-thread buffer size observed.
    pub buffer_size_bytes: u64,
    /// Buffers mapped.
    pub buffers_mapped: u64,
    /// Their virtual bytes.
    pub buffers_virtual_bytes: u64,
    /// Their resident bytes.
    pub buffers_resident_bytes: u64,
    /// Thread-count changes made through `arenaprof::blas`, oldest first.
    pub changes: Vec<BlasChangeRow>,
    /// Bytes freed by the changes that lowered the count (`null` when no
    /// such change was recorded or the hooks could not measure it).
    pub lowering_freed_bytes: Option<u64>,
    /// What lowering the thread count frees, completing "lowering the
    /// thread count ...": `freed nothing: 16 -> 1 threads left 2.0 GiB
    /// mapped (...)` when a lowering was recorded (measured), otherwise what
    /// the runtime is known to do.
    pub lowering: String,
    /// What does free the memory, in one sentence.
    pub advice: String,
}
