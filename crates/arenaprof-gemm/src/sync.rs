//! The atomics and thread calls of the pool's hand-off protocol: `std`'s
//! here, loom's when `handoff.rs` is compiled into `crates/arenaprof-loom`
//! for model checking.

pub(crate) use std::hint::spin_loop;
pub(crate) use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
pub(crate) use std::thread::{current, park, Thread};
