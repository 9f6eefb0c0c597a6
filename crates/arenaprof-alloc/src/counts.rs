//! The counting protocol of one (thread, tag) cell, on its atomics alone.
//!
//! The owning thread updates its counters with plain loads and stores (no
//! lock prefix); other threads' frees of its blocks go to a separate
//! `remote_freed` counter with atomic adds. The owner folds remote frees into
//! its `live` at its next edge, remembering how much it folded in
//! `remote_seen`. At any quiescent moment (no allocation in flight):
//!
//! - true live bytes = `live - (remote_freed - remote_seen)`;
//! - freed bytes = `(allocated - live - remote_seen) + remote_freed`.
//!
//! Model-checked with loom in `crates/arenaprof-loom` (this file is
//! compiled there against loom's atomics).

use crate::sync::{AtomicU64, Ordering::Relaxed};

/// Adds to a counter that only the owning thread writes: a plain load and
/// store, no lock prefix. Owner thread only.
#[inline(always)]
pub(crate) fn own_add(a: &AtomicU64, v: u64) {
    a.store(a.load(Relaxed).wrapping_add(v), Relaxed);
}

/// Counts a free of `size` bytes made on another thread.
#[inline]
pub(crate) fn remote_free(remote_freed: &AtomicU64, size: u64) {
    remote_freed.fetch_add(size, Relaxed);
}

/// Folds remote frees not yet seen into the owner's `live`; returns the
/// bytes folded. Owner thread only.
#[inline]
pub(crate) fn fold_remote(
    live: &AtomicU64,
    remote_seen: &AtomicU64,
    remote_freed: &AtomicU64,
) -> u64 {
    let remote = remote_freed.load(Relaxed);
    let d = remote.wrapping_sub(remote_seen.load(Relaxed));
    remote_seen.store(remote, Relaxed);
    own_add(live, d.wrapping_neg());
    d
}

/// Bytes freed: on the owning thread (`allocated - live - remote_seen`)
/// plus remotely. Any thread. Exact when quiescent; a reader racing the
/// owner (whose stores are relaxed) can combine values of different
/// moments, so the result is clamped to `0..=allocated` (as read): never
/// negative, never more than was allocated. The loom model found a reader
/// that, without the clamp order below, reported 200 of 120 bytes freed.
pub(crate) fn freed_bytes(
    allocated: &AtomicU64,
    live: &AtomicU64,
    remote_seen: &AtomicU64,
    remote_freed: &AtomicU64,
) -> u64 {
    let allocated = allocated.load(Relaxed);
    let local = allocated
        .wrapping_sub(live.load(Relaxed))
        .wrapping_sub(remote_seen.load(Relaxed));
    let local = if (local as i64) < 0 { 0 } else { local };
    local
        .wrapping_add(remote_freed.load(Relaxed))
        .min(allocated)
}
