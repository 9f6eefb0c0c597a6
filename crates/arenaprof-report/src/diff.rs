//! `arenaprof diff`: what grew between two reports, by total, tag, site and
//! arena.
//!
//! Arenas from two runs have different ids, so they are matched by what
//! created them (`op at site`), summing arenas of the same origin. Sites are
//! matched by their `site` string and compared over the `live` and
//! `allocated` tables (top sites only).
//!
//! ```
//! let a = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let mut b = a.clone();
//! b.totals.live_bytes = 4096;
//! let d = arenaprof_report::diff::diff(&a, &b);
//! assert_eq!(d.totals[0].key, "totals.live_bytes");
//! assert_eq!(d.totals[0].delta, 4096);
//! ```

use crate::model::{Report, TagRow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Value of `schema` in a JSON diff.
pub const DIFF_SCHEMA: &str = "arenaprof-diff";

/// One compared figure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaRow {
    /// What is compared (a JSON field path, tag name, site or arena origin).
    pub key: String,
    /// Which figure, e.g. `live_bytes`.
    pub metric: String,
    /// Value in the first report.
    pub before: u64,
    /// Value in the second report.
    pub after: u64,
    /// `after - before`.
    pub delta: i64,
}

/// The comparison; each list is sorted by growth, largest first, and holds
/// only figures that changed (totals are always listed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// Always `"arenaprof-diff"`.
    pub schema: String,
    /// Schema version (same numbering as the report).
    pub schema_version: u32,
    /// Whole-run figures.
    pub totals: Vec<DeltaRow>,
    /// Per tag.
    pub tags: Vec<DeltaRow>,
    /// Per allocation site.
    pub sites: Vec<DeltaRow>,
    /// Per arena origin.
    pub arenas: Vec<DeltaRow>,
    /// Every rung of the memory ladder (`memory.gap.<rung>`, in the ladder's
    /// order, changed or not) and the profiler's resident overhead
    /// (`overhead.total_bytes`), so what the program holds is told apart
    /// from what the profiler does. Negative rungs count as 0.
    #[serde(default)]
    pub memory: Vec<DeltaRow>,
}

fn row(key: &str, metric: &str, before: u64, after: u64) -> DeltaRow {
    let d = after as i128 - before as i128;
    DeltaRow {
        key: key.to_owned(),
        metric: metric.to_owned(),
        before,
        after,
        delta: d.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
    }
}

fn compare(metric: &str, a: BTreeMap<String, u64>, b: BTreeMap<String, u64>) -> Vec<DeltaRow> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            row(
                k,
                metric,
                a.get(k).copied().unwrap_or(0),
                b.get(k).copied().unwrap_or(0),
            )
        })
        .filter(|r| r.delta != 0)
        .collect()
}

/// The key of each tag row: its name, or `name#id` when several rows of the
/// report share the name (a user tag may be called `other-tags`), so no row
/// hides another.
fn tag_keys(tags: &[TagRow]) -> Vec<String> {
    let mut count: std::collections::HashMap<&str, usize> = Default::default();
    for t in tags {
        *count.entry(t.name.as_str()).or_default() += 1;
    }
    tags.iter()
        .map(|t| {
            if count[t.name.as_str()] > 1 {
                format!("{}#{}", t.name, t.id)
            } else {
                t.name.clone()
            }
        })
        .collect()
}

fn sorted(mut v: Vec<DeltaRow>) -> Vec<DeltaRow> {
    v.sort_by(|x, y| y.delta.cmp(&x.delta).then_with(|| x.key.cmp(&y.key)));
    v
}

/// Wasted bytes at the run's worst moment (the end state when the report
/// has no worst picture).
fn worst(r: &Report) -> u64 {
    r.retention_worst
        .as_ref()
        .map_or(r.retention.wasted_bytes, |w| w.summary.wasted_bytes)
}

/// Compares `before` with `after`.
pub fn diff(before: &Report, after: &Report) -> Diff {
    let totals = vec![
        row(
            "totals.live_bytes",
            "bytes",
            before.totals.live_bytes,
            after.totals.live_bytes,
        ),
        row(
            "totals.peak_bytes",
            "bytes",
            before.totals.peak_bytes,
            after.totals.peak_bytes,
        ),
        row(
            "totals.allocated_bytes",
            "bytes",
            before.totals.allocated_bytes,
            after.totals.allocated_bytes,
        ),
        row(
            "retention.wasted_bytes",
            "bytes",
            before.retention.wasted_bytes,
            after.retention.wasted_bytes,
        ),
        row(
            "retention_worst.wasted_bytes",
            "bytes",
            worst(before),
            worst(after),
        ),
        row(
            "memory.rss_bytes",
            "bytes",
            before.memory.rss_bytes,
            after.memory.rss_bytes,
        ),
    ];
    let tag_map = |r: &Report, peak: bool| -> BTreeMap<String, u64> {
        let keys = tag_keys(&r.tags);
        r.tags
            .iter()
            .zip(keys)
            .map(|(t, k)| {
                (
                    k,
                    if peak {
                        t.counters.peak_bytes
                    } else {
                        t.counters.live_bytes
                    },
                )
            })
            .collect()
    };
    let mut tags = compare("live_bytes", tag_map(before, false), tag_map(after, false));
    tags.extend(compare(
        "peak_bytes",
        tag_map(before, true),
        tag_map(after, true),
    ));
    let site_map = |r: &Report, alloc: bool| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for s in if alloc {
            &r.sites.allocated
        } else {
            &r.sites.live
        } {
            *m.entry(s.site.clone()).or_insert(0u64) += s.bytes;
        }
        m
    };
    let mut sites = compare(
        "live_bytes",
        site_map(before, false),
        site_map(after, false),
    );
    sites.extend(compare(
        "allocated_bytes",
        site_map(before, true),
        site_map(after, true),
    ));
    let arena_map = |r: &Report, wasted: bool| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for a in &r.arenas {
            let e = m.entry(format!("{} at {}", a.op, a.site)).or_insert(0u64);
            *e = e.saturating_add(if wasted {
                a.wasted_bytes
            } else {
                a.capacity_bytes
            });
        }
        m
    };
    let mut arenas = compare(
        "capacity_bytes",
        arena_map(before, false),
        arena_map(after, false),
    );
    arenas.extend(compare(
        "wasted_bytes",
        arena_map(before, true),
        arena_map(after, true),
    ));
    let rung = |r: &Report, name: &str| {
        r.memory
            .gap
            .iter()
            .filter(|g| g.name == name)
            .map(|g| g.bytes.max(0) as u64)
            .sum::<u64>()
    };
    let mut names: Vec<&str> = after.memory.gap.iter().map(|g| g.name.as_str()).collect();
    for g in &before.memory.gap {
        if !names.contains(&g.name.as_str()) {
            names.push(&g.name);
        }
    }
    let mut memory: Vec<DeltaRow> = names
        .into_iter()
        .map(|n| {
            row(
                &format!("memory.gap.{n}"),
                "bytes",
                rung(before, n),
                rung(after, n),
            )
        })
        .collect();
    memory.push(row(
        "overhead.total_bytes",
        "bytes",
        before.overhead.total_bytes,
        after.overhead.total_bytes,
    ));
    Diff {
        schema: DIFF_SCHEMA.to_owned(),
        schema_version: crate::model::SCHEMA_VERSION,
        totals,
        tags: sorted(tags),
        sites: sorted(sites),
        arenas: sorted(arenas),
        memory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worst moment is compared too: a run fixed at the end that still
    /// wasted more at its worst shows as growth there.
    #[test]
    fn retention_at_worst_is_compared() {
        let snap = crate::fixtures::pinned_views();
        let a = crate::analyze(&snap, &Default::default());
        let mut b = a.clone();
        let w = b.retention_worst.get_or_insert_with(Default::default);
        w.summary.wasted_bytes = worst(&a) + 4096;
        let d = diff(&a, &b);
        let row = d
            .totals
            .iter()
            .find(|r| r.key == "retention_worst.wasted_bytes")
            .unwrap();
        assert_eq!(row.delta, 4096);
    }
}
