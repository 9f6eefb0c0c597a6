//! VmSize and RSS from `/proc/self/statm`, read with raw system calls into
//! a stack buffer: no allocation, no lock, so the timeline can take it
//! inside an allocation (about 5 µs).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static PAGE: AtomicU64 = AtomicU64::new(0);

fn page() -> u64 {
    let p = PAGE.load(Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let v = if v > 0 { v as u64 } else { 4096 };
    PAGE.store(v, Relaxed);
    v
}

/// `(VmSize, VmRSS)` in bytes, or `None` where `/proc` is unavailable.
pub(crate) fn read() -> Option<(u64, u64)> {
    let path = b"/proc/self/statm\0";
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 128];
    let mut n = 0usize;
    while n < buf.len() {
        // SAFETY: writes at most `buf.len() - n` bytes into `buf[n..]`.
        let r = unsafe { libc::read(fd, buf[n..].as_mut_ptr().cast(), buf.len() - n) };
        if r <= 0 {
            break;
        }
        n += r as usize;
    }
    // SAFETY: `fd` came from open above and is closed once.
    unsafe { libc::close(fd) };
    let mut fields = buf[..n]
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.iter().try_fold(0u64, |acc, &d| {
                d.is_ascii_digit()
                    .then(|| acc.saturating_mul(10).saturating_add((d - b'0') as u64))
            })
        });
    let size = fields.next()??;
    let rss = fields.next()??;
    let p = page();
    Some((size.saturating_mul(p), rss.saturating_mul(p)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        let (size, rss) = super::read().expect("/proc/self/statm");
        assert!(size >= rss && rss > 0);
    }
}
