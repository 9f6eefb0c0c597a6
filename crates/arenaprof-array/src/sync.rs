//! The atomics the shard lock uses: `std`'s here, loom's when `spin.rs` is
//! compiled into `crates/arenaprof-loom` for model checking.

pub(crate) use std::hint::spin_loop;
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
pub(crate) use std::thread::yield_now;
