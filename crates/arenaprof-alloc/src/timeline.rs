//! A bounded timeline of live bytes per tag.
//!
//! Points are taken when a thread publishes a batch of live-byte change
//! (see [`rows`](crate::rows)) and either `min_interval` has passed or the
//! total moved by at least `churn_step` since the last point; by an optional
//! background sampler ([`start_sampler`]); and by [`mark`]. The buffer is a
//! fixed array: when it fills, every other point is merged away (keeping the
//! larger of each pair) and both thresholds double, so a long run keeps its
//! whole shape in bounded memory.
//!
//! ```
//! arenaprof_alloc::timeline::mark("first matmul");
//! ```

use crate::clock::now_ns;
use crate::mmap::map_zeroed;
use crate::rows::GLOBAL;
use crate::tag::MAX_TAGS;
use arenaprof_snapshot::{PointReason, TimelinePoint};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Mutex;
use std::time::Duration;

/// Points kept before decimation.
pub const CAPACITY: usize = 4096;
const INITIAL_INTERVAL_NS: u64 = 1_000_000;
const INITIAL_CHURN: u64 = 1 << 20;

#[repr(C)]
struct Point {
    t_ns: u64,
    reason: u64,
    live: [i64; MAX_TAGS],
}

struct Ring {
    points: [Point; CAPACITY],
}

static RING: AtomicPtr<Ring> = AtomicPtr::new(std::ptr::null_mut());
static LEN: AtomicUsize = AtomicUsize::new(0);
static LOCK: AtomicBool = AtomicBool::new(false);
static LAST_T: AtomicU64 = AtomicU64::new(0);
static LAST_TOTAL: AtomicU64 = AtomicU64::new(0);
static INTERVAL_NS: AtomicU64 = AtomicU64::new(INITIAL_INTERVAL_NS);
static CHURN: AtomicU64 = AtomicU64::new(INITIAL_CHURN);
static MERGED: AtomicU64 = AtomicU64::new(0);
static MARKS: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());

fn total_live() -> i64 {
    GLOBAL.iter().map(|g| g.live.load(Relaxed)).sum()
}

/// Called after a batch was published: takes a point if due. Never blocks.
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

/// Takes a point now, unless another thread is taking one; returns its time.
/// Never blocks. The time is read under the lock, so points are in order.
fn take(reason: PointReason) -> Option<u64> {
    if LOCK.swap(true, Acquire) {
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
        LEN.store(len + 1, Relaxed);
        LAST_T.store(now, Relaxed);
        LAST_TOTAL.store(total_live().max(0) as u64, Relaxed);
    }
    LOCK.store(false, Release);
    Some(now)
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
        if keep != w {
            let (t, reason, live) = (
                r.points[keep].t_ns,
                r.points[keep].reason,
                r.points[keep].live,
            );
            r.points[w] = Point {
                t_ns: t,
                reason,
                live,
            };
        }
        w += 1;
        i += 2;
    }
    MERGED.fetch_add((CAPACITY - w) as u64, Relaxed);
    INTERVAL_NS.store(INTERVAL_NS.load(Relaxed).saturating_mul(2), Relaxed);
    CHURN.store(CHURN.load(Relaxed).saturating_mul(2), Relaxed);
    w
}

/// Records a labelled moment (e.g. "first matmul") and a point at it.
pub fn mark(label: &str) {
    crate::rows::flush_current_thread();
    let now = loop {
        if let Some(t) = take(PointReason::Mark) {
            break t;
        }
        std::hint::spin_loop();
    };
    crate::local::with_busy(|| {
        MARKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((now, label.to_owned()));
    });
}

/// Starts a background thread that takes a point every `every` (idempotent).
pub fn start_sampler(every: Duration) {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, AcqRel) {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("arenaprof-timeline".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            take(PointReason::Interval);
        });
}

/// Copies the timeline out for a snapshot, adding a final point.
pub(crate) fn export(tags: &[u16]) -> arenaprof_snapshot::Timeline {
    crate::rows::flush_current_thread();
    while take(PointReason::Final).is_none() {
        std::hint::spin_loop();
    }
    while LOCK.swap(true, Acquire) {
        std::hint::spin_loop();
    }
    let mut out = arenaprof_snapshot::Timeline {
        tags: tags.to_vec(),
        dropped_points: MERGED.load(Relaxed),
        ..Default::default()
    };
    // SAFETY: read under LOCK; see `take`.
    if let Some(r) = unsafe { RING.load(Relaxed).as_ref() } {
        for p in &r.points[..LEN.load(Relaxed)] {
            out.points.push(TimelinePoint {
                t_ns: p.t_ns,
                live_bytes: tags
                    .iter()
                    .map(|&t| p.live[t as usize % MAX_TAGS].max(0) as u64)
                    .collect(),
                reason: match p.reason {
                    1 => PointReason::Churn,
                    2 => PointReason::Mark,
                    3 => PointReason::Final,
                    _ => PointReason::Interval,
                },
            });
        }
    }
    LOCK.store(false, Release);
    out.marks = MARKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(t, l)| arenaprof_snapshot::Mark {
            t_ns: *t,
            label: l.clone(),
        })
        .collect();
    out
}

/// Bytes of address space the timeline ring maps.
pub fn table_bytes() -> u64 {
    std::mem::size_of::<Ring>() as u64
}
