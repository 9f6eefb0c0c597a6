//! The retention high-water mark: the registry's picture (every arena with
//! wasted bytes, its live views with their chains and sites) at the moment
//! the run's wasted bytes were highest, and a wasted-bytes series.
//!
//! # Cost
//!
//! The store keeps an *estimate* of the total wasted bytes incrementally
//! (see the store's module docs: O(dimensions) per view made or dropped,
//! no global atomic, exact when live views do not overlap). Making or
//! dropping a view under a live owner leaves it unchanged, and then nothing
//! here runs. When a drop raises it (an owner dropped while views live on,
//! a view of an orphaned arena dropped) it is compared with a threshold,
//! one relaxed load; only past the threshold is the picture rebuilt: a pass
//! over the registry under each shard's lock in turn (O(records)), then the
//! exact union of the live views' footprints per wasted arena outside the
//! locks. The threshold then moves to the estimate plus
//! `max(estimate / 16, 64 KiB)` ([`STEP_DIVISOR`], [`MIN_WORST_BYTES`]):
//! a run whose waste only ever grows rebuilds at most about
//! `log(max / 64 KiB) / log(17/16)` times (under 300 for 1 TiB), and the
//! recorded worst is within 1/16 (or 64 KiB) of the true highest estimate.
//! A shard reports to the high-water mark only once its estimate moved by
//! [`MIN_WORST_BYTES`] since its last report (an owner of a large arena
//! dropped: at once; a view of an orphaned arena made and dropped: not at
//! all), so a picture can be up to that much per shard late.
//! A series point is added when the estimate moved by a step since the
//! last point (the same step), so the series is bounded the same way, and
//! holds at most [`MAX_POINTS`] points (pairs merge into their higher one
//! when it fills).
//!
//! ```
//! use arenaprof_array::{registry, s, Array};
//! let a = Array::<f64>::zeros(&[1 << 20]); // 8 MiB
//! let v = a.slice(s![..10]);
//! let id = a.arena_id().unwrap();
//! drop(a); // 8 MiB - 80 B wasted: a new worst
//! drop(v);
//! let worst = registry::retention_worst().unwrap();
//! assert!(worst.wasted_bytes >= (8 << 20) - 80);
//! assert!(worst.registry.arenas.iter().any(|r| r.id == id));
//! ```

use crate::site;
use crate::spin::SpinLock;
use crate::store::{self, Waste, NONE, SHARDS};
use arenaprof_snapshot::{
    footprint, Layout, Registry, RetentionHistory, RetentionWorst, WastedPoint,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Wasted bytes below which no picture is taken (and the smallest step;
/// each shard reports its changes to the high-water mark in steps of this
/// size too).
pub const MIN_WORST_BYTES: u64 = store::REPORT_STEP;
/// A new picture needs the estimate past the threshold set at the last one:
/// that estimate plus `1 / STEP_DIVISOR` of it (at least
/// [`MIN_WORST_BYTES`]).
pub const STEP_DIVISOR: u64 = 16;
/// Most points in the wasted-bytes series.
pub const MAX_POINTS: usize = 1024;

/// The estimate a drop must reach to rebuild the picture.
static NEXT: AtomicU64 = AtomicU64::new(MIN_WORST_BYTES);
/// The last series point's value (`u64::MAX` before the first): read
/// without the lock, so a change within a step costs no lock.
static LAST_POINT: AtomicU64 = AtomicU64::new(u64::MAX);

struct State {
    worst: Option<RetentionWorst>,
    points: Vec<WastedPoint>,
    /// Whether any change was seen (the series' first point is due).
    started: bool,
}

static STATE: SpinLock<State> = SpinLock::new(State {
    worst: None,
    points: Vec::new(),
    started: false,
});

/// `fork()` prepare handler: taken before the store's shard locks (a
/// picture is built holding this lock and taking those).
pub(crate) fn fork_prepare() {
    STATE.force_lock();
}

/// `fork()` parent and child handler: frees what [`fork_prepare`] took.
pub(crate) fn fork_release() {
    // SAFETY: runs right after `fork_prepare` on the thread that took the
    // lock (in the child, its copy), which holds no guard of it.
    unsafe { STATE.force_unlock() }
}

fn step(bytes: u64) -> u64 {
    (bytes / STEP_DIVISOR).max(MIN_WORST_BYTES)
}

/// Called after the store says the estimate moved: adds a series point
/// when it moved by a step, and rebuilds the picture when it grew past
/// the threshold. Nothing under a registry lock.
#[inline]
pub(crate) fn changed(w: Waste) {
    if w == Waste::Same {
        return;
    }
    changed_slow(w == Waste::Grew);
}

#[cold]
#[inline(never)]
fn changed_slow(grew: bool) {
    let total = store::wasted_estimate();
    let capture = grew && total >= NEXT.load(Relaxed);
    let last = LAST_POINT.load(Relaxed);
    if !capture && last != u64::MAX && total.abs_diff(last) < step(last.min(total)) {
        return; // within a step of the last point: nothing to record
    }
    // Everything below allocates untracked: registry memory is the
    // profiler's, and nothing under a registry lock may be sampled.
    arenaprof_alloc::untracked(|| {
        let mut st = STATE.lock();
        let last = st.points.last().map_or(0, |p| p.wasted_bytes);
        let total = store::wasted_estimate();
        let capture = capture && total >= NEXT.load(Relaxed);
        if capture || !st.started || total.abs_diff(last) >= step(last.min(total)) {
            st.started = true;
            LAST_POINT.store(total, Relaxed);
            push_point(
                &mut st.points,
                WastedPoint {
                    t_ns: site::now_ns(),
                    wasted_bytes: total,
                },
            );
        }
        if !capture {
            return;
        }
        let t_ns = site::now_ns();
        let (registry, exact) = picture();
        if st.worst.as_ref().is_none_or(|w| exact > w.wasted_bytes) {
            st.worst = Some(RetentionWorst {
                t_ns,
                wasted_bytes: exact,
                registry,
            });
        }
        let high = total.max(exact);
        NEXT.store(high.saturating_add(step(high)), Relaxed);
    })
}

/// Appends `p`, merging pairs into their higher point when full.
fn push_point(points: &mut Vec<WastedPoint>, p: WastedPoint) {
    if points.len() >= MAX_POINTS {
        let merged: Vec<WastedPoint> = points
            .chunks(2)
            .map(|c| *c.iter().max_by_key(|p| p.wasted_bytes).unwrap_or(&c[0]))
            .collect();
        *points = merged;
    }
    points.push(p);
}

/// The registry's records of every arena with wasted bytes now (exact:
/// capacity minus the union of its live views' footprints), all the view
/// records of those arenas (live views and the dropped ancestors they
/// need), and the total wasted bytes.
fn picture() -> (Registry, u64) {
    let mut reg = Registry {
        arenas_created: store::arenas_created(),
        views_created: store::views_created(),
        ..Registry::default()
    };
    let mut total = 0u64;
    for i in 0..SHARDS {
        // Copied under the lock, measured outside it.
        let (arenas, views) = {
            let sh = store::lock(i);
            let arenas: Vec<(u32, store::ArenaRec)> = sh
                .arenas
                .iter()
                .filter(|(_, a)| a.est_wasted > 0 || (!a.owner_alive && a.live > 0))
                .map(|(slot, a)| (slot, a.clone()))
                .collect();
            if arenas.is_empty() {
                continue;
            }
            let slots: HashMap<u32, usize> = arenas
                .iter()
                .enumerate()
                .map(|(k, (s, _))| (*s, k))
                .collect();
            let views: Vec<(u32, usize, store::ViewRec)> = sh
                .views
                .iter()
                .filter_map(|(slot, v)| slots.get(&v.arena).map(|&k| (slot, k, v.clone())))
                .collect();
            (arenas, views)
        };
        let id_of: HashMap<u32, u64> = views.iter().map(|(slot, _, v)| (*slot, v.id)).collect();
        let mut layouts: Vec<Vec<Layout>> = vec![Vec::new(); arenas.len()];
        for (_, k, v) in &views {
            if v.alive {
                layouts[*k].push(v.layout(arenas[*k].1.elem_size));
            }
        }
        let mut wasted_here = vec![0u64; arenas.len()];
        for (k, (_, a)) in arenas.iter().enumerate() {
            let reach = footprint::reachable_bytes(&layouts[k]).min(a.capacity_bytes);
            wasted_here[k] = a.capacity_bytes - reach;
            if wasted_here[k] > 0 {
                total += wasted_here[k];
                reg.arenas.push(a.record());
            }
        }
        for (_, k, v) in &views {
            if wasted_here[*k] == 0 {
                continue;
            }
            let parent = (v.parent != NONE)
                .then(|| id_of.get(&v.parent).copied())
                .flatten();
            reg.views
                .push(v.record(arenas[*k].1.id, parent, arenas[*k].1.elem_size));
        }
    }
    reg.arenas.sort_by_key(|a| a.id);
    reg.views.sort_by_key(|v| v.id);
    (reg, total)
}

/// The picture at the highest wasted bytes so far, if any arena was ever
/// wasted by at least [`MIN_WORST_BYTES`].
pub(crate) fn worst() -> Option<RetentionWorst> {
    arenaprof_alloc::untracked(|| STATE.lock().worst.clone())
}

/// The estimated wasted bytes now (see the store's module docs).
pub(crate) fn wasted_now() -> u64 {
    store::wasted_estimate()
}

/// The whole history for a snapshot, with a final series point now.
pub(crate) fn history() -> RetentionHistory {
    let now = WastedPoint {
        t_ns: site::now_ns(),
        wasted_bytes: store::wasted_estimate(),
    };
    arenaprof_alloc::untracked(|| {
        let st = STATE.lock();
        let mut wasted = st.points.clone();
        wasted.push(now);
        RetentionHistory {
            tracked: true,
            worst: st.worst.clone(),
            wasted,
            policy: format!(
                "picture rebuilt when the estimated wasted bytes pass the last picture's by 1/{STEP_DIVISOR} (at least {MIN_WORST_BYTES} bytes); series point when they move by that step"
            ),
        }
    })
}
