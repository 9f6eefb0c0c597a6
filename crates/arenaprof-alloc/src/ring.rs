//! The timeline's point buffer: a fixed array of per-tag live bytes, filled
//! when a row publishes a batch ([`on_publish`]), by the background sampler
//! and by marks. When it fills, every other point is merged away (keeping
//! the larger of each pair) and both thresholds double, so a long run keeps
//! its whole shape in bounded memory.
//!
//! Each point also carries the process's VmSize and RSS (`/proc/self/statm`,
//! read without allocating; at most once per [`STATM_EVERY_NS`] for points
//! taken on churn, whose reading is then carried from the previous one).
//!
//! It sits below the rows: it reads [`totals`](crate::totals) and never
//! calls up. Writers never wait: a thread that finds the buffer busy skips
//! its point. Nothing allocates while the lock is held, so a `fork()` can
//! take it in its prepare handler (see [`fork`](crate::fork)).

use crate::capacity::MAX_TAGS;
use crate::clock::now_ns;
use crate::mmap::map_zeroed;
use crate::spin::SpinFlag;
use crate::statm;
use crate::totals::{total_live, GLOBAL};
use arenaprof_snapshot::PointReason;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering::*};

/// Points kept before decimation.
const CAPACITY: usize = 4096;
const INITIAL_INTERVAL_NS: u64 = 1_000_000;
const INITIAL_CHURN: u64 = 1 << 20;
/// Churn points read statm at most this often (about 5 µs a read).
pub(crate) const STATM_EVERY_NS: u64 = 1_000_000;

/// One point: its time, why it was taken, and every tag's live bytes.
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Point {
    pub(crate) t_ns: u64,
    pub(crate) reason: u64,
    pub(crate) live: [i64; MAX_TAGS],
    /// VmSize at the point (0 where unknown).
    pub(crate) vm: u64,
    /// RSS at the point (0 where unknown).
    pub(crate) rss: u64,
}

struct Ring {
    points: [Point; CAPACITY],
}

static RING: AtomicPtr<Ring> = AtomicPtr::new(std::ptr::null_mut());
static LEN: AtomicUsize = AtomicUsize::new(0);
/// Held while the ring is written or read; never while allocating.
pub(crate) static LOCK: SpinFlag = SpinFlag::new();
static LAST_T: AtomicU64 = AtomicU64::new(0);
static LAST_TOTAL: AtomicU64 = AtomicU64::new(0);
static INTERVAL_NS: AtomicU64 = AtomicU64::new(INITIAL_INTERVAL_NS);
static CHURN: AtomicU64 = AtomicU64::new(INITIAL_CHURN);
static MERGED: AtomicU64 = AtomicU64::new(0);
static STATM_T: AtomicU64 = AtomicU64::new(0);
static STATM_VM: AtomicU64 = AtomicU64::new(0);
static STATM_RSS: AtomicU64 = AtomicU64::new(0);

/// VmSize and RSS for a point taken now: a fresh reading, or for a churn
/// point within [`STATM_EVERY_NS`] of the last reading, that reading.
fn vm_rss(reason: PointReason) -> (u64, u64) {
    let now = now_ns();
    let last = STATM_T.load(Relaxed);
    if reason != PointReason::Churn || now.saturating_sub(last) >= STATM_EVERY_NS || last == 0 {
        if let Some((vm, rss)) = statm::read() {
            STATM_VM.store(vm, Relaxed);
            STATM_RSS.store(rss, Relaxed);
            STATM_T.store(now.max(1), Relaxed);
            return (vm, rss);
        }
    }
    (STATM_VM.load(Relaxed), STATM_RSS.load(Relaxed))
}

/// Called after a row published a batch: takes a point if due. Never blocks.
pub(crate) fn on_publish() {
    let now = now_ns();
    let total = total_live().max(0) as u64;
    let last_total = LAST_TOTAL.load(Relaxed);
    let due = now.saturating_sub(LAST_T.load(Relaxed)) >= INTERVAL_NS.load(Relaxed)
        || total.abs_diff(last_total) >= CHURN.load(Relaxed);
    if due {
        take(PointReason::Churn);
    }
}

/// Takes a point now, unless another thread holds the ring; returns its
/// time. Never blocks. The time is read under the lock, so points are in
/// order.
pub(crate) fn take(reason: PointReason) -> Option<u64> {
    // Read before taking the lock, so the lock is held for copies only.
    let (vm, rss) = vm_rss(reason);
    if !LOCK.try_lock() {
        return None;
    }
    let now = now_ns();
    let mut ring = RING.load(Relaxed);
    if ring.is_null() {
        ring = map_zeroed(std::mem::size_of::<Ring>()).cast();
        RING.store(ring, Relaxed);
    }
    // SAFETY: the ring is a zeroed mapping of the right size (all-zero is a
    // valid `Ring`), never unmapped, and only touched under LOCK.
    if let Some(r) = unsafe { ring.as_mut() } {
        let mut len = LEN.load(Relaxed);
        if len == CAPACITY {
            len = decimate(r);
        }
        let p = &mut r.points[len];
        p.t_ns = now;
        p.reason = reason as u64;
        for (dst, g) in p.live.iter_mut().zip(GLOBAL.iter()) {
            *dst = g.live.load(Relaxed);
        }
        p.vm = vm;
        p.rss = rss;
        LEN.store(len + 1, Relaxed);
        LAST_T.store(now, Relaxed);
        LAST_TOTAL.store(total_live().max(0) as u64, Relaxed);
    }
    LOCK.unlock();
    Some(now)
}

/// Takes a point, waiting for the ring if another thread holds it.
pub(crate) fn take_waiting(reason: PointReason) -> u64 {
    loop {
        if let Some(t) = take(reason) {
            return t;
        }
        std::hint::spin_loop();
    }
}

/// Keeps the larger point of each pair, doubles the thresholds; returns the new length.
fn decimate(r: &mut Ring) -> usize {
    let total = |p: &Point| p.live.iter().sum::<i64>();
    let mut w = 0;
    let mut i = 0;
    while i + 1 < CAPACITY {
        let keep = if r.points[i].reason == PointReason::Mark as u64
            || total(&r.points[i]) >= total(&r.points[i + 1])
        {
            i
        } else {
            i + 1
        };
        r.points[w] = r.points[keep];
        w += 1;
        i += 2;
    }
    MERGED.fetch_add((CAPACITY - w) as u64, Relaxed);
    INTERVAL_NS.store(INTERVAL_NS.load(Relaxed).saturating_mul(2), Relaxed);
    CHURN.store(CHURN.load(Relaxed).saturating_mul(2), Relaxed);
    w
}

/// Points in the buffer now (it may change as soon as this returns).
pub(crate) fn len() -> usize {
    LEN.load(Relaxed)
}

/// Copies every point into `out` (cleared first) and returns how many
/// points decimation merged away; `None`, copying nothing, when `out` has
/// room for fewer points than the buffer holds (nothing allocates under the
/// lock: the caller reserves more and asks again).
pub(crate) fn copy_out(out: &mut Vec<Point>) -> Option<u64> {
    out.clear();
    LOCK.lock();
    let n = LEN.load(Relaxed);
    let fits = n <= out.capacity();
    if fits {
        // SAFETY: read under LOCK; see `take`.
        if let Some(r) = unsafe { RING.load(Relaxed).as_ref() } {
            out.extend_from_slice(&r.points[..n]);
        }
    }
    LOCK.unlock();
    fits.then(|| MERGED.load(Relaxed))
}

/// Bytes of address space the ring maps.
pub(crate) fn table_bytes() -> u64 {
    std::mem::size_of::<Ring>() as u64
}
