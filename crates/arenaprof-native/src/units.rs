//! Units of memory: the system page size.

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

/// Moved: the workspace has one byte formatter,
/// [`arenaprof_snapshot::size::format_bytes`].
///
/// ```
/// assert_eq!(arenaprof_snapshot::size::format_bytes(3 << 29), "1.5 GiB");
/// ```
#[deprecated(since = "0.3.0", note = "use `arenaprof_snapshot::size::format_bytes`")]
pub fn fmt_bytes(b: u64) -> String {
    arenaprof_snapshot::size::format_bytes(b)
}
