//! The live-bytes timeline: marks and the background sampler.
//!
//! Points are taken when a thread publishes a batch of live-byte change and
//! either a minimum interval has passed or the total moved by a step since
//! the last point; by the optional background sampler ([`start_sampler`]);
//! and by [`mark`]. The buffer is bounded: when it fills, every other point
//! is merged away and the thresholds double, so a long run keeps its whole
//! shape in bounded memory.
//!
//! ```
//! arenaprof_alloc::timeline::mark("first matmul");
//! ```

use crate::local;
use crate::ring::{self, Point};
use arenaprof_snapshot::{PointReason, TimelinePoint};
use std::sync::atomic::{AtomicBool, Ordering::AcqRel};
use std::sync::Mutex;
use std::time::Duration;

static MARKS: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());

/// Records a labelled moment (e.g. "first matmul") and a point at it.
pub fn mark(label: &str) {
    local::flush_current_thread();
    let now = ring::take_waiting(PointReason::Mark);
    local::with_busy(|| {
        let _gate = crate::fork::enter();
        MARKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((now, label.to_owned()));
    });
}

/// Starts a background thread that takes a point every `every` (idempotent).
///
/// ```
/// arenaprof_alloc::timeline::start_sampler(std::time::Duration::from_millis(50));
/// ```
pub fn start_sampler(every: Duration) {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, AcqRel) {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("arenaprof-timeline".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            ring::take(PointReason::Interval);
        });
}

/// Copies the timeline out for a snapshot, adding a final point, with the
/// VmSize/RSS reading of each point. Runs busy.
pub(crate) fn export(
    tags: &[u16],
) -> (
    arenaprof_snapshot::Timeline,
    Vec<arenaprof_snapshot::ProcessPoint>,
) {
    local::flush_current_thread();
    ring::take_waiting(PointReason::Final);
    // Room for the points there are now and a few more (points keep
    // coming while the buffer is unlocked), not for the whole buffer.
    let mut raw: Vec<Point> = Vec::new();
    let merged = loop {
        raw.reserve(ring::len() + 16);
        if let Some(m) = ring::copy_out(&mut raw) {
            break m;
        }
    };
    let mut out = arenaprof_snapshot::Timeline {
        tags: tags.to_vec(),
        dropped_points: merged,
        ..Default::default()
    };
    out.points = raw
        .iter()
        .map(|p| TimelinePoint {
            t_ns: p.t_ns,
            live_bytes: tags
                .iter()
                .map(|&t| p.live[t as usize % p.live.len()].max(0) as u64)
                .collect(),
            reason: match p.reason {
                1 => PointReason::Churn,
                2 => PointReason::Mark,
                3 => PointReason::Final,
                _ => PointReason::Interval,
            },
        })
        .collect();
    out.marks = MARKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(t, l)| arenaprof_snapshot::Mark {
            t_ns: *t,
            label: l.clone(),
        })
        .collect();
    let series = raw
        .iter()
        .map(|p| arenaprof_snapshot::ProcessPoint {
            t_ns: p.t_ns,
            vm_size_bytes: p.vm,
            rss_bytes: p.rss,
        })
        .collect();
    (out, series)
}

/// Bytes of address space the timeline's buffer maps.
pub(crate) fn table_bytes() -> u64 {
    ring::table_bytes()
}
