//! Top allocation sites from sampled stacks.
//!
//! Each sample stands for `weight` allocations like it, so a site's estimated
//! bytes are Σ weight × size and its objects Σ weight (unbiased, as in Go's and
//! jemalloc's heap profiles). A *site* is the innermost frame that is neither
//! the standard library, the allocator nor the profiler itself (what a person
//! would open); samples are grouped by site, and the heaviest full stack
//! through it is kept as an example. Three tables: live at snapshot time,
//! live at the global peak (dhat's t-gmax, from `HeapProfile::at_peak`), and
//! cumulative allocated.
//!
//! ```
//! use arenaprof_snapshot::{Frame, HeapProfile, Sample, Stack};
//! let heap = HeapProfile {
//!     frames: vec![Frame { function: "my_app::load".into(), file: "src/load.rs".into(), line: 7 }],
//!     stacks: vec![Stack { frames: vec![0] }],
//!     samples: vec![Sample { stack: 0, size: 4096, weight: 2.0, ..Default::default() }],
//!     at_peak: vec![],
//! };
//! let t = arenaprof_report::passes::sites::analyze(&heap, &Default::default(), 10, &mut vec![]);
//! assert_eq!(t.live[0].site, "my_app::load (src/load.rs:7)");
//! assert_eq!((t.live[0].bytes, t.live[0].objects), (8192, 2));
//! ```

use super::counters::{tag_name, TagNames};
use super::estimate::Estimate;
use super::trim::Trimmer;
use crate::budget::{Budget, BudgetError};
use crate::model::{SiteRow, SiteTables};
use arenaprof_snapshot::{Frame, HeapProfile, StackBytes};
use std::collections::HashMap;

const MAX_FRAMES: usize = 16;

pub use super::trim::is_plumbing;

/// Per-stack facts, each computed once however many samples refer to it
/// (frames are classified once by the shared [`Trimmer`]).
struct Index<'h> {
    heap: &'h HeapProfile,
    trimmer: Trimmer<'h>,
    site: HashMap<u32, Option<u32>>,
}

impl<'h> Index<'h> {
    fn new(heap: &'h HeapProfile) -> Self {
        Index {
            heap,
            trimmer: Trimmer::new(&heap.frames),
            site: HashMap::new(),
        }
    }

    /// The site frame of `stack` ([`Trimmer::site`]).
    fn site(&mut self, stack: u32) -> Option<u32> {
        if let Some(&s) = self.site.get(&stack) {
            return s;
        }
        let heap = self.heap;
        let found = heap
            .stacks
            .get(stack as usize)
            .and_then(|st| self.trimmer.site(&st.frames));
        self.site.insert(stack, found);
        found
    }
}

fn frame_text(f: &Frame) -> String {
    if f.file.is_empty() {
        f.function.clone()
    } else {
        format!("{} ({}:{})", f.function, f.file, f.line)
    }
}

fn frame_text_len(f: &Frame) -> u64 {
    (f.function.len() + f.file.len() + 16) as u64
}

#[derive(Default)]
struct Acc {
    bytes: f64,
    objects: f64,
    est: Estimate,
    best_stack: Option<(u32, f64)>,
    by_tag: HashMap<u16, f64>,
}

fn weight(w: f64) -> f64 {
    if w.is_finite() && w > 0.0 {
        w
    } else {
        0.0
    }
}

/// One input of a site table: stack, tag, estimated bytes and objects, and
/// the sample behind them (`None` for figures that come aggregated).
type Item = (u32, u16, f64, f64, Option<(u64, f64)>);

fn table(
    index: &mut Index<'_>,
    names: &TagNames,
    per_stack: impl Iterator<Item = Item>,
    top: usize,
    budget: &mut Budget,
) -> Result<Vec<SiteRow>, BudgetError> {
    let heap = index.heap;
    // Sum per stack first (cheap), then per site.
    let mut by_stack: HashMap<(u32, u16), (f64, f64, Estimate)> = HashMap::new();
    for (stack, tag, bytes, objects, sample) in per_stack {
        let e = by_stack.entry((stack, tag)).or_default();
        e.0 += bytes;
        e.1 += objects;
        if let Some((size, w)) = sample {
            e.2.add(size, w);
        }
    }
    let mut by_site: HashMap<Option<u32>, Acc> = HashMap::new();
    for ((stack, tag), (bytes, objects, est)) in by_stack {
        let acc = by_site.entry(index.site(stack)).or_default();
        acc.bytes += bytes;
        acc.objects += objects;
        acc.est.merge(&est);
        *acc.by_tag.entry(tag).or_default() += bytes;
        let better = match acc.best_stack {
            None => true,
            Some((s, b)) => bytes > b || (bytes == b && stack < s),
        };
        if better {
            acc.best_stack = Some((stack, bytes));
        }
    }
    // Order by bytes, then by the site's text: one text per site (each site
    // is a frame of its own, so these texts are as large as the frames).
    let mut ranked: Vec<(u64, String, Option<u32>, Acc)> = Vec::with_capacity(by_site.len());
    for (site, a) in by_site {
        if !(a.bytes > 0.0 || a.objects > 0.0) {
            continue;
        }
        let f = site.and_then(|i| heap.frames.get(i as usize));
        budget.charge(
            f.map_or(16, frame_text_len) + 64,
            "the allocation-site tables",
        )?;
        let text = f.map_or_else(|| "(unknown stack)".to_owned(), frame_text);
        ranked.push((a.bytes.round() as u64, text, site, a));
    }
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    ranked.truncate(top);
    // Only the rows kept repeat names: the tag and up to MAX_FRAMES frames.
    let mut rows = Vec::with_capacity(ranked.len());
    for (bytes, text, site, a) in ranked {
        let f = site.and_then(|i| heap.frames.get(i as usize));
        let tag = a
            .by_tag
            .iter()
            .max_by(|x, y| x.1.total_cmp(y.1).then(y.0.cmp(x.0)))
            .map(|(&t, _)| tag_name(names, t))
            .unwrap_or_default();
        let stack_frames: Vec<&Frame> = a
            .best_stack
            .and_then(|(s, _)| heap.stacks.get(s as usize))
            .map(|s| {
                s.frames
                    .iter()
                    .filter_map(|&i| heap.frames.get(i as usize))
                    .take(MAX_FRAMES)
                    .collect()
            })
            .unwrap_or_default();
        let cost = stack_frames
            .iter()
            .map(|f| frame_text_len(f) + 24)
            .sum::<u64>()
            + f.map_or(0, |f| (f.function.len() + f.file.len()) as u64)
            + tag.len() as u64
            + std::mem::size_of::<SiteRow>() as u64;
        budget.charge(cost, "the allocation-site tables")?;
        let (objects_low, objects_high) = a.est.objects_interval();
        let (bytes_low, bytes_high) = a.est.bytes_interval();
        rows.push(SiteRow {
            site: text,
            function: f.map(|f| f.function.clone()).unwrap_or_default(),
            file: f.map(|f| f.file.clone()).unwrap_or_default(),
            line: f.map_or(0, |f| f.line),
            bytes,
            objects: a.objects.round() as u64,
            samples: a.est.samples,
            objects_low,
            objects_high,
            bytes_low,
            bytes_high,
            tag,
            frames: stack_frames.into_iter().map(frame_text).collect(),
        });
    }
    Ok(rows)
}

/// The three site tables (no budget: for trusted snapshots).
pub fn analyze(
    heap: &HeapProfile,
    names: &TagNames,
    top: usize,
    warnings: &mut Vec<String>,
) -> SiteTables {
    analyze_within(heap, names, top, &mut Budget::unlimited(), warnings).unwrap_or_default()
}

/// The three site tables. Each frame is classified and each stack resolved
/// to its site once; the names repeated in the rows kept are charged to
/// `budget`.
pub fn analyze_within(
    heap: &HeapProfile,
    names: &TagNames,
    top: usize,
    budget: &mut Budget,
    warnings: &mut Vec<String>,
) -> Result<SiteTables, BudgetError> {
    let bad = heap
        .samples
        .iter()
        .filter(|s| (s.stack as usize) >= heap.stacks.len())
        .count();
    if bad > 0 {
        warnings.push(format!(
            "heap profile: {bad} samples name stacks that are not recorded"
        ));
    }
    let live = heap
        .samples
        .iter()
        .filter(|s| s.free_ns.is_none())
        .map(|s| {
            let w = weight(s.weight);
            (s.stack, s.tag, w * s.size as f64, w, Some((s.size, w)))
        });
    let live_estimated: f64 = heap
        .samples
        .iter()
        .filter(|s| s.free_ns.is_none())
        .map(|s| weight(s.weight) * s.size as f64)
        .sum();
    let allocated = heap.samples.iter().map(|s| {
        let w = weight(s.weight);
        (s.stack, s.tag, w * s.size as f64, w, Some((s.size, w)))
    });
    // `at_peak` has no tag; attribute it to the stack's dominant tag among samples.
    let mut stack_tag: HashMap<u32, u16> = HashMap::new();
    for s in &heap.samples {
        stack_tag.entry(s.stack).or_insert(s.tag);
    }
    let peak = heap.at_peak.iter().map(
        |&StackBytes {
             stack,
             bytes,
             objects,
         }| {
            (
                stack,
                stack_tag.get(&stack).copied().unwrap_or(0),
                weight(bytes),
                weight(objects),
                None,
            )
        },
    );
    let mut index = Index::new(heap);
    Ok(SiteTables {
        sampled_records: heap.samples.len() as u64,
        live_estimated_bytes: live_estimated.round() as u64,
        peak_at_ns: 0,
        live: table(&mut index, names, live, top, budget)?,
        at_peak: table(&mut index, names, peak, top, budget)?,
        allocated: table(&mut index, names, allocated, top, budget)?,
    })
}
