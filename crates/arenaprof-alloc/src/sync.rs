//! The atomics and thread calls the lock-free protocols use: `std`'s here,
//! loom's when the protocol files are compiled into `crates/arenaprof-loom`
//! (which has its own `sync` module) for model checking.

pub(crate) use std::hint::spin_loop;
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
pub(crate) use std::thread::yield_now;
