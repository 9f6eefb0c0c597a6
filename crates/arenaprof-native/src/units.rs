//! Units of memory: the system page size and byte counts for people.

use std::sync::atomic::{AtomicUsize, Ordering};

static PAGE: AtomicUsize = AtomicUsize::new(0);

/// The system page size (cached).
///
/// ```
/// assert!(arenaprof_native::page_size().is_power_of_two());
/// ```
pub fn page_size() -> usize {
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let v = if v > 0 && (v as usize).is_power_of_two() {
        v as usize
    } else {
        4096
    };
    PAGE.store(v, Ordering::Relaxed);
    v
}

/// `2.0 GiB`, `4.0 MiB`, `512 B`.
///
/// ```
/// assert_eq!(arenaprof_native::fmt_bytes(3 << 29), "1.5 GiB");
/// ```
pub fn fmt_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", U[i])
}
