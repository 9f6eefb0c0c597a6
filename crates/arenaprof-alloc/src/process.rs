//! The process as the OS and the inner allocator see it.
//!
//! ```
//! let p = arenaprof_alloc::process::read();
//! assert!(p.rss_bytes > 0);
//! ```

use arenaprof_snapshot::{JemallocStats, ProcessStats};

/// Resident set size now, from `/proc/self/statm` (0 where unavailable;
/// read by [`arenaprof_native::maps::read_statm`], the workspace's one
/// `statm` reader outside the allocation path).
pub fn rss_bytes() -> u64 {
    arenaprof_native::maps::read_statm().map_or(0, |s| s.resident)
}

/// Peak resident set size (`VmHWM` in `/proc/self/status`).
pub fn peak_rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// jemalloc's `stats.*` figures, refreshed (`epoch` advanced) first.
#[cfg(feature = "jemalloc")]
pub fn jemalloc_stats() -> Option<JemallocStats> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    Some(JemallocStats {
        allocated: stats::allocated::read().ok()? as u64,
        active: stats::active::read().ok()? as u64,
        resident: stats::resident::read().ok()? as u64,
        metadata: stats::metadata::read().ok()? as u64,
        retained: stats::retained::read().ok()? as u64,
        mapped: stats::mapped::read().ok()? as u64,
    })
}

/// jemalloc's figures (none without the `jemalloc` feature).
#[cfg(not(feature = "jemalloc"))]
pub fn jemalloc_stats() -> Option<JemallocStats> {
    None
}

/// Calls the jemalloc mallctl `name` (NUL-terminated), which takes no old
/// or new value; whether it succeeded.
#[cfg(feature = "jemalloc")]
fn mallctl_action(name: &[u8]) -> bool {
    debug_assert_eq!(name.last(), Some(&0));
    // SAFETY: a NUL-terminated mallctl name that takes no old or new value,
    // so null pointers and zero lengths are correct.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        ) == 0
    }
}

/// Gives the blocks in the calling thread's jemalloc cache back to their
/// arenas (`thread.tcache.flush`): before a snapshot reads jemalloc's
/// figures, so that its `allocated` holds none of them. Otherwise the
/// snapshot's own allocations, which advance the thread's event counters,
/// would run jemalloc's cache GC at a point that differs from snapshot to
/// snapshot, and an idle program's figures would move by kilobytes.
pub(crate) fn flush_thread_cache() {
    #[cfg(feature = "jemalloc")]
    mallctl_action(b"thread.tcache.flush\0");
}

/// Returns freed memory to the OS now: jemalloc purges the dirty and muzzy
/// pages of every arena (`arena.<MALLCTL_ARENAS_ALL>.purge`) and flushes this
/// thread's cache (`thread.tcache.flush`). Without jemalloc, glibc's
/// `malloc_trim(0)`. Returns whether the purge ran.
pub fn purge() -> bool {
    #[cfg(feature = "jemalloc")]
    {
        flush_thread_cache();
        // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
        mallctl_action(b"arena.4096.purge\0")
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        // SAFETY: malloc_trim has no preconditions.
        unsafe { libc::malloc_trim(0) == 1 }
    }
}

/// RSS, peak RSS and jemalloc's figures.
pub fn read() -> ProcessStats {
    ProcessStats {
        rss_bytes: rss_bytes(),
        peak_rss_bytes: peak_rss_bytes(),
        jemalloc: jemalloc_stats(),
    }
}
