//! Model checks of arenaprof's hand-written lock-free protocols with
//! [loom](https://docs.rs/loom), on the protocols' own source files.
//!
//! Each protocol lives in a file that takes its atomics and thread calls
//! from `crate::sync`: `std`'s in its home crate, loom's here (this crate
//! includes the files with `#[path]`). So the code loom explores is the code
//! the allocator, the registry and the GEMM pool run:
//!
//! | protocol | file | model |
//! |---|---|---|
//! | spin flag (timeline ring, sampling-flag sweep, fork handlers) | `arenaprof-alloc/src/spin.rs` | mutual exclusion and publication of the guarded data, with `try_lock` writers beside a `lock` reader (the ring's pattern) |
//! | counter rows: owner plain stores, remote atomic adds, folding | `arenaprof-alloc/src/counts.rs` | exact live and freed bytes once quiescent, a concurrent reader never sees more freed than allocated |
//! | registry shard lock | `arenaprof-array/src/spin.rs` | mutual exclusion and publication |
//! | GEMM job hand-off: mailboxes and the countdown | `arenaprof-gemm/src/handoff.rs` | every worker sees its command and the job, the dispatcher sees every worker's writes, nobody sleeps forever |
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p arenaprof-loom --release`
//! (CI does, with its own target directory). Without `--cfg loom` this
//! crate is empty.

#[cfg(loom)]
mod sync {
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
    pub(crate) use loom::thread::{current, park, yield_now, Thread};
}

#[cfg(loom)]
#[path = "../../arenaprof-alloc/src/spin.rs"]
mod alloc_spin;

#[cfg(loom)]
#[path = "../../arenaprof-alloc/src/counts.rs"]
mod counts;

#[cfg(loom)]
#[path = "../../arenaprof-array/src/spin.rs"]
mod array_spin;

#[cfg(loom)]
#[path = "../../arenaprof-gemm/src/handoff.rs"]
mod handoff;

#[cfg(all(test, loom))]
mod models;
