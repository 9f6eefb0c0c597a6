//! Who mapped it: `mmap`, `mmap64`, `munmap` and `mremap` calls made by
//! loaded shared objects, attributed to the calling object by patching the
//! objects' GOT slots (the way memray's native mode does).
//!
//! [`install`] walks the loaded objects with `dl_iterate_phdr`, reads each
//! one's dynamic section in place, and rewrites the GOT slots (`JUMP_SLOT`
//! and `GLOB_DAT` relocations) of those four functions so that they point at
//! a hook. Each object gets its own copy of each hook (a const-generic
//! function per object slot), so the hook knows its caller without
//! unwinding or `dladdr`. The hook calls the real function (resolved once
//! with `dlsym(RTLD_DEFAULT, ..)`) and records the result in a fixed-size,
//! lock-free table of live mappings keyed by address, plus per-object
//! counters; both live in one anonymous mapping made with `mmap` at install
//! time ([`table_range`]), never in memory from the global allocator.
//!
//! The main executable's `dlopen`/`dlclose` slots are patched too, so an
//! object the program loads later is patched right after `dlopen` returns.
//!
//! ```no_run
//! use arenaprof_native::hooks;
//! hooks::install().expect("hooks");
//! // ... load and run native libraries ...
//! for o in hooks::summary() {
//!     println!("{o}"); // libopenblas.so.0: 16 mappings, 2.0 GiB virtual, 4.0 MiB resident
//! }
//! ```
//!
//! # What is not seen
//! - Objects excluded by [`Options::exclude`] (the allocator, if it is a
//!   shared library) and the main executable (where the Rust allocator and
//!   this crate live): their calls are not intercepted.
//! - Calls that do not go through a GOT slot: raw `syscall(SYS_mmap, ..)`,
//!   inline `syscall` instructions, statically linked binaries, libc's own
//!   internal calls (glibc `malloc`'s arenas, thread stacks from
//!   `pthread_create`, the loader mapping objects).
//! - Mappings made before [`install`], or by an object before it was
//!   patched: constructors of an object run inside `dlopen`, before the hook
//!   can patch it; objects loaded by another library's `dlopen` (not the
//!   main executable's) are patched only at the next [`refresh`] (which
//!   [`crate::blas::info`] and [`crate::process_memory`] call).
//! - A mapping unmapped by code that is not hooked stays in the table until
//!   a hooked call maps over its address (it is then counted as stale) or
//!   until the object's mappings are checked against `/proc/self/maps`.
//! - In a forked child, an entry that another thread of the parent was
//!   modifying at the instant of `fork` stays marked busy (skipped).
//!
//! # Files
//!
//! Each uses only the ones listed before it:
//!
//! - `table`: the lock-free table (object slots, live mappings) in its one
//!   mapping; [`adopt`].
//! - `settings`: the [`Options`] in force and whether the interposer
//!   records.
//! - `record`: the calls that record into the table, shared by the
//!   trampolines and the crate's `interpose` module (which sits between
//!   `record` and the files below).
//! - `trampolines`: the per-object hooks a patched GOT slot points at.
//! - `patch`: GOT/PLT patching, [`install`] and [`uninstall`].
//! - `query`: reading the table ([`objects`], [`mappings`], [`summary`], [`summary_with`]).

mod patch;
pub(crate) mod query;
pub(crate) mod record;
pub(crate) mod settings;
pub(crate) mod table;
mod trampolines;

pub use patch::{install, install_with, is_installed, refresh, uninstall, InstallError, Patched};
pub(crate) use query::is_allocators;
pub use query::{
    allocator_ranges, for_each_mapping, interposed, interposed_calls, learn_allocator_sites,
    mappings, object, object_id_by_base, objects, summary, summary_with, Mapping, ObjectStats,
    ObjectSummary, ScanStats,
};
pub use settings::{Options, DEFAULT_EXCLUDE};
pub use table::{adopt, table_range, MAX_OBJECTS, TABLE_CAPACITY};
