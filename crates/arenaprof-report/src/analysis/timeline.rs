//! The timeline: live bytes per tag over time, and its biggest jumps.
//!
//! A *jump* is a run of consecutive timeline points (preceded by an implicit
//! zero point at time 0) over which one tag's live bytes never fall; its size is the rise from the point before the run to its
//! top. The largest rises across all tags are reported, each with the mark that
//! falls inside it (a mark takes a point of its own, so a mark just before
//! a rise is its first point), so "gemm-workspace +48.0 MiB
//! at 1.20 s (mark: first matmul)" is read at a glance.
//!
//! ```
//! use arenaprof_snapshot::{Timeline, TimelinePoint, Mark};
//! let mut names = std::collections::HashMap::new();
//! names.insert(2u16, "gemm-workspace".to_string());
//! let p = |t: u64, b: u64| TimelinePoint { t_ns: t, live_bytes: vec![b], ..Default::default() };
//! let tl = Timeline {
//!     tags: vec![2],
//!     points: vec![p(0, 0), p(1_000_000_000, 0), p(1_200_000_000, 48 << 20)],
//!     marks: vec![Mark { t_ns: 1_100_000_000, label: "first matmul".into() }],
//!     dropped_points: 0,
//! };
//! let info = arenaprof_report::passes::timeline::analyze(&tl, &names, 5, &mut vec![]);
//! assert_eq!(info.jumps[0].description, "gemm-workspace +48.0 MiB at 1.20 s (mark: first matmul)");
//! ```

use super::counters::{tag_name, TagNames};
use crate::budget::{Budget, BudgetError};
use crate::model::{Jump, MarkRow, TimelineInfo, TimelinePointRow};
use crate::units::{format_bytes, format_count, format_ns};
use arenaprof_snapshot::{PointReason, ProcessPoint, Timeline};
use std::collections::HashMap;

/// Converts the timeline and finds its `max_jumps` biggest rises (no
/// budget: for trusted snapshots).
pub fn analyze(
    tl: &Timeline,
    names: &TagNames,
    max_jumps: usize,
    warnings: &mut Vec<String>,
) -> TimelineInfo {
    analyze_within(tl, names, max_jumps, &mut Budget::unlimited(), warnings).unwrap_or_default()
}

/// Like [`analyze`], charging the padded rows (one value per tag in every
/// point, `tags × points` values) and the tag names to `budget`. Time is
/// O(tags × points) and the jumps cost O(log `max_jumps`) each.
pub fn analyze_within(
    tl: &Timeline,
    names: &TagNames,
    max_jumps: usize,
    budget: &mut Budget,
    warnings: &mut Vec<String>,
) -> Result<TimelineInfo, BudgetError> {
    let ncol = tl.tags.len();
    let npoints = tl.points.len();
    let what = || {
        format!(
            "the timeline ({} tags × {} points)",
            format_count(ncol as u64),
            format_count(npoints as u64)
        )
    };
    let per_point = (std::mem::size_of::<TimelinePointRow>() + 8) as u64;
    budget.charge_with(
        (ncol as u64)
            .saturating_mul(8)
            .saturating_add(per_point)
            .saturating_mul(npoints as u64),
        what,
    )?;
    let tag_bytes = tl.tags.iter().fold(0u64, |acc, &t| {
        acc.saturating_add(names.get(&t).map_or(8, |n| n.len() as u64) + 24)
    });
    budget.charge_with(tag_bytes, what)?;
    let mut points: Vec<TimelinePointRow> = tl
        .points
        .iter()
        .map(|p| {
            let mut live = p.live_bytes.clone();
            live.resize(ncol, 0);
            TimelinePointRow {
                t_ns: p.t_ns,
                live_bytes: live,
                reason: match p.reason {
                    PointReason::Interval => "interval",
                    PointReason::Churn => "churn",
                    PointReason::Mark => "mark",
                    PointReason::Final => "final",
                }
                .to_owned(),
            }
        })
        .collect();
    if tl.points.iter().any(|p| p.live_bytes.len() != ncol) {
        warnings.push(format!(
            "timeline: some points do not have one value per tag ({ncol} tags); padded or cut"
        ));
    }
    if points.windows(2).any(|w| w[0].t_ns > w[1].t_ns) {
        warnings.push("timeline: points were out of time order; sorted".to_owned());
        points.sort_by_key(|p| p.t_ns);
    }
    let mut marks: Vec<MarkRow> = tl
        .marks
        .iter()
        .map(|m| MarkRow {
            t_ns: m.t_ns,
            label: m.label.clone(),
        })
        .collect();
    marks.sort_by_key(|m| m.t_ns);
    let tags: Vec<String> = tl.tags.iter().map(|&t| tag_name(names, t)).collect();
    let jumps = find_jumps(&points, &tags, &marks, max_jumps, budget)?;
    Ok(TimelineInfo {
        tags,
        points,
        marks,
        dropped_points: tl.dropped_points,
        jumps,
        ..Default::default()
    })
}

/// The mark nearest to `t_ns` (before or after; the earlier on a tie).
///
/// ```
/// use arenaprof_snapshot::{Mark, Timeline};
/// let m = |t_ns: u64, l: &str| Mark { t_ns, label: l.into() };
/// let tl = Timeline { marks: vec![m(10, "start"), m(100, "end")], ..Default::default() };
/// let near = arenaprof_report::passes::timeline::nearest_mark(&tl, 40).unwrap();
/// assert_eq!((near.t_ns, near.label.as_str()), (10, "start"));
/// ```
pub fn nearest_mark(tl: &Timeline, t_ns: u64) -> Option<MarkRow> {
    tl.marks
        .iter()
        .min_by_key(|m| (m.t_ns.abs_diff(t_ns), m.t_ns))
        .map(|m| MarkRow {
            t_ns: m.t_ns,
            label: m.label.clone(),
        })
}

/// The label of the last mark in `[from, to]`, if any.
fn mark_for(marks: &[MarkRow], from: u64, to: u64) -> Option<&str> {
    // `marks` is sorted by time: index of the first mark after `to`.
    let end = marks.partition_point(|m| m.t_ns <= to);
    let m = marks[..end].last()?;
    (m.t_ns >= from).then_some(m.label.as_str())
}

/// A rise found by the scan, before its strings are made: ordered as the
/// report lists jumps (largest first, then earliest, then by column and
/// start), so the `max_jumps` smallest keys are the ones reported.
type Rise = (std::cmp::Reverse<u64>, u64, usize, usize, usize);

fn find_jumps(
    points: &[TimelinePointRow],
    tags: &[String],
    marks: &[MarkRow],
    max_jumps: usize,
    budget: &mut Budget,
) -> Result<Vec<Jump>, BudgetError> {
    if max_jumps == 0 {
        return Ok(Vec::new());
    }
    // Nothing is live when the profiler starts: a rise before the first
    // recorded point counts from zero at time 0 (virtual point 0).
    let origin = usize::from(matches!(
        points.first(),
        Some(p) if p.t_ns > 0 && p.live_bytes.iter().any(|&b| b > 0)
    ));
    let n = points.len() + origin;
    let t = |i: usize| {
        if i < origin {
            0
        } else {
            points[i - origin].t_ns
        }
    };
    let mut best: std::collections::BinaryHeap<Rise> = std::collections::BinaryHeap::new();
    for col in 0..tags.len() {
        let v = |i: usize| {
            if i < origin {
                0
            } else {
                points[i - origin].live_bytes.get(col).copied().unwrap_or(0)
            }
        };
        let mut i = 0;
        while i + 1 < n {
            if v(i + 1) <= v(i) {
                i += 1;
                continue;
            }
            let start = i;
            let mut top = i + 1;
            while top + 1 < n && v(top + 1) >= v(top) {
                top += 1;
            }
            // The rise ends where it first reaches its top, not at the end of a plateau.
            while top > start + 1 && v(top - 1) == v(top) {
                top -= 1;
            }
            let delta = v(top) - v(start);
            best.push((std::cmp::Reverse(delta), t(top), col, start, top));
            if best.len() > max_jumps {
                best.pop();
            }
            i = top;
        }
    }
    let mut out = Vec::with_capacity(best.len());
    for (std::cmp::Reverse(delta), to_ns, col, start, top) in best.into_sorted_vec() {
        let value = |i: usize| {
            if i < origin {
                0
            } else {
                points[i - origin].live_bytes.get(col).copied().unwrap_or(0)
            }
        };
        let tag = &tags[col];
        let from_ns = t(start);
        let mark = mark_for(marks, from_ns, to_ns);
        budget.charge_with(
            (2 * tag.len() + 2 * mark.map_or(0, str::len) + 160) as u64,
            || "the timeline's jumps".to_owned(),
        )?;
        let description = match mark {
            Some(m) => format!(
                "{tag} +{} at {} (mark: {m})",
                format_bytes(delta),
                format_ns(to_ns)
            ),
            None => format!("{tag} +{} at {}", format_bytes(delta), format_ns(to_ns)),
        };
        out.push(Jump {
            tag: tag.clone(),
            delta_bytes: delta,
            from_ns,
            to_ns,
            from_bytes: value(start),
            to_bytes: value(top),
            mark: mark.map(str::to_owned),
            description,
        });
    }
    Ok(out)
}

/// VmSize and RSS at each timeline point, matched by time from the
/// snapshot's process series (both empty when the series has none, or
/// matches no point).
///
/// ```
/// use arenaprof_report::passes::timeline::process_series;
/// assert_eq!(process_series(&[], &[]), (vec![], vec![]));
/// ```
pub fn process_series(
    points: &[TimelinePointRow],
    series: &[ProcessPoint],
) -> (Vec<u64>, Vec<u64>) {
    if series.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let by_t: HashMap<u64, (u64, u64)> = series
        .iter()
        .map(|p| (p.t_ns, (p.vm_size_bytes, p.rss_bytes)))
        .collect();
    let (vm, rss): (Vec<u64>, Vec<u64>) = points
        .iter()
        .map(|p| by_t.get(&p.t_ns).copied().unwrap_or((0, 0)))
        .unzip();
    if vm.iter().any(|&v| v > 0) {
        (vm, rss)
    } else {
        (Vec::new(), Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arenaprof_snapshot::{Mark, TimelinePoint};

    fn tl(values: &[(u64, u64, u64)]) -> Timeline {
        Timeline {
            tags: vec![1, 2],
            points: values
                .iter()
                .map(|&(t, a, b)| TimelinePoint {
                    t_ns: t,
                    live_bytes: vec![a, b],
                    reason: PointReason::Churn,
                })
                .collect(),
            dropped_points: 0,
            marks: vec![
                Mark {
                    t_ns: 5,
                    label: "early".into(),
                },
                Mark {
                    t_ns: 25,
                    label: "first matmul".into(),
                },
            ],
        }
    }

    #[test]
    fn finds_biggest_rises_and_their_marks() {
        let names: TagNames = [(1, "array-base".into()), (2, "gemm-workspace".into())].into();
        let t = tl(&[
            (0, 0, 0),
            (10, 100, 0),
            (20, 300, 0),
            (30, 50, 1000),
            (40, 60, 1000),
        ]);
        let info = analyze(&t, &names, 10, &mut vec![]);
        let j = &info.jumps;
        assert_eq!(j[0].tag, "gemm-workspace");
        assert_eq!(j[0].delta_bytes, 1000);
        assert_eq!((j[0].from_ns, j[0].to_ns), (20, 30));
        assert_eq!(j[0].mark.as_deref(), Some("first matmul"));
        assert_eq!(j[1].tag, "array-base");
        assert_eq!(j[1].delta_bytes, 300);
        assert_eq!((j[1].from_ns, j[1].to_ns), (0, 20));
        assert_eq!(j[1].mark.as_deref(), Some("early"));
        assert_eq!(j[2].delta_bytes, 10);
        assert_eq!(j.len(), 3);
    }

    #[test]
    fn a_rise_before_the_first_point_counts_from_zero() {
        let t = tl(&[(40, 500, 0), (50, 500, 7)]);
        let info = analyze(&t, &TagNames::new(), 5, &mut vec![]);
        let j = &info.jumps[0];
        assert_eq!(
            (j.tag.as_str(), j.delta_bytes, j.from_ns, j.to_ns),
            ("tag#1", 500, 0, 40)
        );
        // The last mark inside the rise.
        assert_eq!(j.mark.as_deref(), Some("first matmul"));
        assert_eq!(
            info.points.len(),
            2,
            "the origin is not added to the points"
        );
    }

    #[test]
    fn ragged_points_are_padded_with_a_warning() {
        let mut t = tl(&[(0, 0, 0), (10, 5, 5)]);
        t.points[1].live_bytes = vec![7];
        let mut w = vec![];
        let info = analyze(&t, &TagNames::new(), 5, &mut w);
        assert_eq!(info.points[1].live_bytes, vec![7, 0]);
        assert_eq!(info.tags, vec!["tag#1", "tag#2"]);
        assert_eq!(w.len(), 1);
    }
}
