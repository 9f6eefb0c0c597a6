//! Exact counters: totals, tags, threads, and the snapshot's plain records.
//!
//! ```
//! let c = arenaprof_snapshot::Counters { alloc_count: 3, free_count: 1, ..Default::default() };
//! assert_eq!(arenaprof_report::passes::counters::row(&c).live_count, 2);
//! ```

use crate::budget::{Budget, BudgetError};
use crate::model::{
    CounterRow, CowRow, KeyValue, MetaInfo, Percentile, SectionRow, TagRow, ThreadRow, ThreadTagRow,
};
use arenaprof_snapshot::{
    Counters, Histogram, SamplingMode, Snapshot, ThreadStats, FORMAT_VERSION,
};
use std::borrow::Cow;
use std::collections::HashMap;

/// Tag id to name, from the snapshot's tag table.
pub type TagNames = HashMap<u16, String>;

/// Tag names by id; unknown ids print as `tag#N`.
pub fn tag_names(snap: &Snapshot) -> TagNames {
    snap.tags.iter().map(|t| (t.id, t.name.clone())).collect()
}

/// The name of tag `id`.
pub fn tag_name(names: &TagNames, id: u16) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("tag#{id}"))
}

/// A counter row.
pub fn row(c: &Counters) -> CounterRow {
    CounterRow {
        live_bytes: c.live_bytes,
        peak_bytes: c.peak_bytes,
        peak_at_ns: c.peak_at_ns,
        allocated_bytes: c.allocated_bytes,
        freed_bytes: c.freed_bytes,
        alloc_count: c.alloc_count,
        free_count: c.free_count,
        realloc_count: c.realloc_count,
        failed_count: c.failed_count,
        live_count: c.live_count(),
    }
}

/// Snapshot header.
pub fn meta(snap: &Snapshot) -> MetaInfo {
    let m = &snap.meta;
    MetaInfo {
        program: m.program.clone(),
        pid: m.pid,
        unix_ms: m.unix_ms,
        elapsed_ns: m.elapsed_ns,
        allocator: m.allocator.clone(),
        sampling_mode: match m.sampling.mode {
            SamplingMode::Off => "off",
            SamplingMode::Bytes => "bytes",
            SamplingMode::Threshold => "threshold",
            SamplingMode::All => "all",
        }
        .to_owned(),
        sampling_mean_bytes: m.sampling.mean_bytes,
        sampling_threshold_bytes: m.sampling.threshold_bytes,
        writer_version: m.writer_version.clone(),
        // The reader marks a version-1 file with this note (its format has
        // no native section), so the report names the version it read.
        format_version: if snap
            .native
            .notes
            .iter()
            .any(|x| x.starts_with("snapshot format version 1:"))
        {
            1
        } else {
            FORMAT_VERSION
        },
    }
}

fn percentiles(h: &Histogram) -> Vec<Percentile> {
    h.percentiles
        .iter()
        .filter(|(p, _)| p.is_finite())
        .map(|&(p, value)| Percentile { p, value })
        .collect()
}

/// Tag rows, largest live bytes first (then largest peak).
pub fn tags(snap: &Snapshot) -> Vec<TagRow> {
    let mut out: Vec<TagRow> = snap
        .tags
        .iter()
        .map(|t| TagRow {
            id: t.id,
            name: t.name.clone(),
            counters: row(&t.counters),
            size_percentiles: percentiles(&t.sizes),
            lifetime_percentiles_ns: percentiles(&t.lifetimes_ns),
        })
        .collect();
    out.sort_by(|a, b| {
        (b.counters.live_bytes, b.counters.peak_bytes, a.id).cmp(&(
            a.counters.live_bytes,
            a.counters.peak_bytes,
            b.id,
        ))
    });
    out
}

/// Percentiles reported for sampled sizes.
pub(crate) const SAMPLED_PERCENTILES: [f64; 4] = [50.0, 90.0, 99.0, 100.0];

/// Weighted percentiles of `(size, weight)` pairs (sorted here).
pub(crate) fn weighted_percentiles(v: &mut [(u64, f64)]) -> Vec<Percentile> {
    v.sort_unstable_by_key(|&(size, _)| size);
    let total: f64 = v.iter().map(|&(_, w)| w).sum();
    if v.is_empty() || !total.is_finite() || total <= 0.0 {
        return Vec::new();
    }
    SAMPLED_PERCENTILES
        .iter()
        .map(|&p| {
            let target = total * p / 100.0;
            let mut acc = 0.0;
            let value = v
                .iter()
                .find(|&&(_, w)| {
                    acc += w;
                    acc >= target
                })
                .or(v.last())
                .map_or(0, |&(size, _)| size);
            Percentile { p, value }
        })
        .collect()
}

/// Thread rows in slot order (no budget: for trusted snapshots), exited
/// threads that share a name folded (see [`threads_within`]).
pub fn threads(snap: &Snapshot, names: &TagNames) -> Vec<ThreadRow> {
    threads_within(snap, names, true, &mut Budget::unlimited()).unwrap_or_default()
}

/// Thread rows in slot order. Each (thread, tag) cell repeats its tag's
/// name, which is charged to `budget` for every thread; percentiles are
/// computed once per slot, however many rows share it.
///
/// With `fold`, exited threads that share a name become one row (at the
/// lowest slot): counters and per-tag cells merged with
/// [`Counters::merge`] (sums, the largest peak), `exited_folded` the number
/// of threads, `os_tid` 0 and no size percentiles (they were per thread).
/// Live threads and exited threads with a name of their own keep their rows.
///
/// ```
/// use arenaprof_report::{analyze, Options};
/// use arenaprof_snapshot::{Snapshot, ThreadStats};
/// let t = |slot, alive| ThreadStats { slot, name: "worker".into(), alive, ..Default::default() };
/// let snap = Snapshot { threads: vec![t(1, true), t(2, false), t(3, false)], ..Default::default() };
/// let r = analyze(&snap, &Options::default());
/// assert_eq!(r.threads.len(), 2);
/// assert_eq!((r.threads[1].slot, r.threads[1].exited_folded), (2, 2));
/// ```
pub fn threads_within(
    snap: &Snapshot,
    names: &TagNames,
    fold: bool,
    budget: &mut Budget,
) -> Result<Vec<ThreadRow>, BudgetError> {
    let mut sizes: HashMap<u32, Vec<(u64, f64)>> = HashMap::new();
    for s in &snap.heap.samples {
        if s.weight.is_finite() && s.weight > 0.0 {
            sizes.entry(s.thread).or_default().push((s.size, s.weight));
        }
    }
    let pcts: HashMap<u32, Vec<Percentile>> = sizes
        .into_iter()
        .map(|(slot, mut v)| (slot, weighted_percentiles(&mut v)))
        .collect();
    let cell = std::mem::size_of::<ThreadTagRow>() as u64;
    for t in &snap.threads {
        for c in &t.tags {
            budget.charge_with(cell + tag_name(names, c.tag).len() as u64, || {
                format!("the threads' per-tag rows ({} threads)", snap.threads.len())
            })?;
        }
    }
    let mut out: Vec<ThreadRow> = Vec::with_capacity(snap.threads.len());
    for (t, folded) in fold_exited(&snap.threads, fold) {
        out.push(ThreadRow {
            slot: t.slot,
            name: t.name.clone(),
            os_tid: t.os_tid,
            alive: t.alive,
            counters: row(&t.counters),
            tags: t
                .tags
                .iter()
                .map(|c| ThreadTagRow {
                    tag: tag_name(names, c.tag),
                    counters: row(&c.counters),
                })
                .collect(),
            sampled_size_percentiles: match folded {
                0 => pcts.get(&t.slot).cloned().unwrap_or_default(),
                _ => Vec::new(),
            },
            exited_folded: folded,
        });
    }
    out.sort_by_key(|t| t.slot);
    Ok(out)
}

/// The threads with, if `fold`, exited threads that share a name merged
/// into one (borrowed when not merged), each with the number of threads it
/// folds (0: a single thread).
fn fold_exited(threads: &[ThreadStats], fold: bool) -> Vec<(Cow<'_, ThreadStats>, u64)> {
    let mut count: HashMap<&str, u64> = HashMap::new();
    if fold {
        for t in threads.iter().filter(|t| !t.alive) {
            *count.entry(t.name.as_str()).or_default() += 1;
        }
    }
    let mut out: Vec<(Cow<'_, ThreadStats>, u64)> = Vec::with_capacity(threads.len());
    let mut at: HashMap<&str, usize> = HashMap::new();
    for t in threads {
        if t.alive || count.get(t.name.as_str()).copied().unwrap_or(0) < 2 {
            out.push((Cow::Borrowed(t), 0));
            continue;
        }
        let Some(&i) = at.get(t.name.as_str()) else {
            at.insert(t.name.as_str(), out.len());
            let mut first = t.clone();
            first.os_tid = 0;
            out.push((Cow::Owned(first), 1));
            continue;
        };
        let (f, n) = &mut out[i];
        *n += 1;
        let f = f.to_mut();
        f.slot = f.slot.min(t.slot);
        f.counters.merge(&t.counters);
        for c in &t.tags {
            match f.tags.iter_mut().find(|x| x.tag == c.tag) {
                Some(x) => x.counters.merge(&c.counters),
                None => f.tags.push(c.clone()),
            }
        }
    }
    out
}

/// Warnings about the tag table: ids recorded twice (the last name is used)
/// and names shared by several ids (`check --max-tag` then checks each).
pub(crate) fn tag_warnings(snap: &Snapshot, warnings: &mut Vec<String>) {
    let mut ids: HashMap<u16, usize> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<u16>> = HashMap::new();
    for t in &snap.tags {
        *ids.entry(t.id).or_default() += 1;
        by_name.entry(t.name.as_str()).or_default().push(t.id);
    }
    let dup_ids = ids.values().filter(|&&n| n > 1).count();
    if dup_ids > 0 {
        warnings.push(format!(
            "tags: {dup_ids} tag ids are recorded more than once; the last name of each is used"
        ));
    }
    let mut shared: Vec<(&str, Vec<u16>)> =
        by_name.into_iter().filter(|(_, v)| v.len() > 1).collect();
    shared.sort();
    if let Some((first, v)) = shared.first() {
        warnings.push(format!(
            "tags: {} names are used by more than one tag id (first: \"{}\" for ids {}); each row is kept and checked separately",
            shared.len(),
            crate::sanitize::name(first),
            v.iter()
                .take(8)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// Copy-on-write events.
pub fn cow(snap: &Snapshot) -> Vec<CowRow> {
    snap.registry
        .cow
        .iter()
        .map(|c| CowRow {
            from_arena: c.from_arena,
            to_arena: c.to_arena,
            bytes: c.bytes,
            site: c.site.to_string(),
            t_ns: c.t_ns,
        })
        .collect()
}

/// Free-form sections.
pub fn sections(snap: &Snapshot) -> Vec<SectionRow> {
    snap.sections
        .iter()
        .map(|s| SectionRow {
            name: s.name.clone(),
            entries: s
                .entries
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn weighted_percentiles_example() {
        use super::weighted_percentiles;
        let p = weighted_percentiles(&mut [(8, 3.0), (64, 1.0)]);
        assert_eq!((p[0].value, p[3].value), (8, 64));
    }
}
