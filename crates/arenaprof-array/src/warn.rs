//! The opt-in pinned-bytes warning.
//!
//! With `ARENAPROF_WARN_PINNED=64MiB` in the environment (or
//! [`set_threshold`]), dropping a handle that leaves its arena with at least
//! that many bytes no live view can reach prints one line to stderr, once
//! per arena:
//!
//! ```text
//! arenaprof: 799999920 of 800000000 bytes of arena 1 (f64 arange at src/main.rs:4:13) are pinned by slice[..10] at src/main.rs:5:13; fix: to_owned() at src/main.rs:5:13 frees 799999920 bytes
//! ```
//!
//! ```
//! use arenaprof_array::{s, warn, Array};
//! warn::set_threshold(Some(1000));
//! let a = Array::<f64>::arange(1000);
//! let v = a.slice(s![..10]);
//! drop(a);
//! assert!(warn::recent().iter().any(|w| w.contains("7920 of 8000 bytes")));
//! warn::set_threshold(None);
//! # drop(v);
//! ```

use crate::registry;
use crate::store::{self, ArenaKey};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

const UNSET: u64 = u64::MAX;
const OFF: u64 = 0;
/// Warnings kept for [`recent`].
const KEEP: usize = 64;

static THRESHOLD: AtomicU64 = AtomicU64::new(UNSET);
static RECENT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The threshold in bytes, read from `ARENAPROF_WARN_PINNED` (a size such
/// as `64MiB`, `1GB` or `4096`) on first use; `None` when off.
///
/// ```
/// arenaprof_array::warn::set_threshold(Some(64 << 20));
/// assert_eq!(arenaprof_array::warn::threshold(), Some(64 << 20));
/// ```
pub fn threshold() -> Option<u64> {
    let mut t = THRESHOLD.load(Relaxed);
    if t == UNSET {
        t = arenaprof_snapshot::size::from_env("ARENAPROF_WARN_PINNED").unwrap_or(OFF);
        let _ = THRESHOLD.compare_exchange(UNSET, t, Relaxed, Relaxed);
        t = THRESHOLD.load(Relaxed);
    }
    (t != OFF).then_some(t)
}

/// Sets the threshold (overrides the environment); `None` turns it off.
///
/// ```
/// arenaprof_array::warn::set_threshold(None);
/// assert_eq!(arenaprof_array::warn::threshold(), None);
/// ```
pub fn set_threshold(bytes: Option<u64>) {
    THRESHOLD.store(bytes.unwrap_or(OFF).min(UNSET - 1), Relaxed);
}

/// The last warnings printed (at most 64), oldest first.
///
/// ```
/// assert!(arenaprof_array::warn::recent().len() <= 64);
/// ```
pub fn recent() -> Vec<String> {
    RECENT.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

#[inline]
pub(crate) fn enabled() -> bool {
    let t = THRESHOLD.load(Relaxed);
    t != OFF && (t != UNSET || threshold().is_some())
}

/// Checks one arena after a handle on it was dropped.
pub(crate) fn check(key: ArenaKey) {
    let Some(limit) = threshold() else { return };
    {
        let sh = store::lock(key.shard as usize);
        match sh.arenas.get(key.slot) {
            Some(a) if !a.warned && a.id == key.id && a.capacity_bytes >= limit => {}
            _ => return,
        }
    }
    let Some(info) = registry::arena(key.id) else {
        return;
    };
    if info.wasted_bytes < limit || info.retainers.is_empty() {
        return;
    }
    {
        let mut sh = store::lock(key.shard as usize);
        match sh.arena_mut(key.slot) {
            Some(a) if !a.warned && a.id == key.id => a.warned = true,
            _ => return,
        }
    }
    let r = &info.retainers[0];
    let more = match info.retainers.len() {
        1 => String::new(),
        n => format!(" and {} more view(s)", n - 1),
    };
    let line = format!(
        "arenaprof: {} of {} bytes of arena {} ({} {} at {}) are pinned by {} at {}{}; fix: to_owned() at {} frees {} bytes",
        info.wasted_bytes,
        info.capacity_bytes,
        info.id,
        info.elem_type,
        info.op,
        info.site,
        r.view.op,
        r.view.site,
        more,
        r.view.site,
        info.to_owned_frees(),
    );
    arenaprof_alloc::untracked(|| {
        // A closed or full stderr is not the program's problem.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == KEEP {
            recent.remove(0);
        }
        recent.push(line);
    });
}
