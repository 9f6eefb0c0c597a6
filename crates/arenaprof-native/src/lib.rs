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
//! | [`blas::info`], [`blas::set_threads`], [`blas::limit`], [`blas::limits`], [`blas::open`], [`blas::OpenError`] | BLAS/OpenMP control |
//! | [`process_memory`] | all of it, for a snapshot |
//! | [`read_mappings`], [`process_memory_from`], [`Mappings`] | the same in two steps: the slow reading of `smaps` first, outside the caller's locks |
//!
//! ```
//! let pm = arenaprof_native::process_memory(&[], &[], 0, None).unwrap();
//! let sum: u64 = pm.ladder.rungs.iter().map(|r| r.bytes).sum();
//! assert_eq!(sum, pm.ladder.rss);
//! ```
//!
//! # Layers
//!
//! Modules import only from modules in their own layer or the layers
//! before it in this list, and never in a cycle:
//!
//! 1. `sys`, `units`, `scope`: the `mmap` family as raw system calls, the
//!    page size and byte counts for people, the scope the crate's own work
//!    runs in (set by the tracker).
//! 2. `elf`: the loaded objects read in place (program headers, dynamic
//!    sections, GOT slots).
//! 3. `maps::proc`, `maps::grouping`, `maps::ladder`, `maps`, `code`: the
//!    `/proc` readers and `mincore`, the grouping of mappings, the memory
//!    ladder (each file using the ones before it; `maps` re-exports them);
//!    the executable segments and their build IDs.
//! 4. `hooks::table`, `hooks::settings`, `hooks::record`: the lock-free
//!    table of objects and live mappings, the options in force, the calls
//!    that record into the table.
//! 5. `interpose`: the program's own `mmap` family; attributes each call to
//!    its caller's object and records it through layer 4.
//! 6. `hooks::trampolines`, `hooks::patch`, `hooks::query`, `hooks`: the
//!    per-object hooks a patched GOT slot points at, GOT/PLT patching
//!    (which asks `interpose` for the executable's slot), reading the table
//!    (and the interposer's figures); `hooks` re-exports them.
//! 7. `blas`, `process`: BLAS/OpenMP control (adopting what a library maps
//!    while it loads), and [`process_memory`], which reads all of the above.
// Without the interposer (feature `interpose` off, or not Linux x86_64
// glibc) its table helpers and raw `mremap` have no caller.
#![cfg_attr(not(feature = "interpose"), allow(dead_code))]
#![deny(missing_docs)]

pub mod blas;
pub mod code;
mod elf;
pub mod hooks;
mod interpose;
pub mod maps;
mod process;
mod scope;
mod sys;
mod units;

pub use process::{process_memory, process_memory_from, read_mappings, Mappings, ProcessMemory};
pub use scope::set_internal_scope;
#[allow(deprecated)]
pub use units::fmt_bytes;
pub use units::page_size;
