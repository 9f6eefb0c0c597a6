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
//! let t = arenaprof_report::analysis::sites::analyze(&heap, &Default::default(), 10, &mut vec![]);
//! assert_eq!(t.live[0].site, "my_app::load (src/load.rs:7)");
//! assert_eq!((t.live[0].bytes, t.live[0].objects), (8192, 2));
//! ```

use super::counters::{tag_name, TagNames};
use crate::report::{SiteRow, SiteTables};
use arenaprof_snapshot::{Frame, HeapProfile, StackBytes};
use std::collections::HashMap;

const MAX_FRAMES: usize = 16;

const SKIP_PREFIXES: [&str; 12] = [
    "alloc::",
    "core::",
    "std::",
    "hashbrown::",
    "arenaprof_alloc::",
    "arenaprof_array::",
    "tikv_jemalloc",
    "backtrace::",
    "__rust",
    "__rdl",
    "__rg",
    "_rjem",
];

/// Whether `f` belongs to the standard library, the allocator or the profiler.
pub fn is_plumbing(f: &Frame) -> bool {
    let name = f.function.trim_start_matches(['<', '&']);
    let name = name.strip_prefix("mut ").unwrap_or(name);
    // `<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem` and the like.
    let trait_path = f
        .function
        .split_once(" as ")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let generic_self = name
        .split_once(" as ")
        .is_some_and(|(ty, _)| !ty.contains("::"));
    SKIP_PREFIXES.iter().any(|p| name.starts_with(p))
        || (generic_self && SKIP_PREFIXES.iter().any(|p| trait_path.starts_with(p)))
        || f.file.starts_with("/rustc/")
        || f.file.contains("/library/alloc/")
        || f.file.contains("/library/core/")
        || f.file.contains("/library/std/")
}

fn site_index(heap: &HeapProfile, stack: u32) -> Option<u32> {
    let frames = &heap.stacks.get(stack as usize)?.frames;
    let valid = |&&f: &&u32| (f as usize) < heap.frames.len();
    frames
        .iter()
        .filter(valid)
        .find(|&&f| !is_plumbing(&heap.frames[f as usize]))
        .or_else(|| frames.iter().find(valid))
        .copied()
}

fn frame_text(f: &Frame) -> String {
    if f.file.is_empty() {
        f.function.clone()
    } else {
        format!("{} ({}:{})", f.function, f.file, f.line)
    }
}

#[derive(Default)]
struct Acc {
    bytes: f64,
    objects: f64,
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

fn table(
    heap: &HeapProfile,
    names: &TagNames,
    per_stack: impl Iterator<Item = (u32, u16, f64, f64)>,
    top: usize,
) -> Vec<SiteRow> {
    // Sum per stack first (cheap), then per site.
    let mut by_stack: HashMap<(u32, u16), (f64, f64)> = HashMap::new();
    for (stack, tag, bytes, objects) in per_stack {
        let e = by_stack.entry((stack, tag)).or_default();
        e.0 += bytes;
        e.1 += objects;
    }
    let mut by_site: HashMap<Option<u32>, Acc> = HashMap::new();
    for ((stack, tag), (bytes, objects)) in by_stack {
        let acc = by_site.entry(site_index(heap, stack)).or_default();
        acc.bytes += bytes;
        acc.objects += objects;
        *acc.by_tag.entry(tag).or_default() += bytes;
        let better = match acc.best_stack {
            None => true,
            Some((s, b)) => bytes > b || (bytes == b && stack < s),
        };
        if better {
            acc.best_stack = Some((stack, bytes));
        }
    }
    let mut rows: Vec<SiteRow> = by_site
        .into_iter()
        .filter(|(_, a)| a.bytes > 0.0 || a.objects > 0.0)
        .map(|(site, a)| {
            let f = site.and_then(|i| heap.frames.get(i as usize));
            let tag = a
                .by_tag
                .iter()
                .max_by(|x, y| x.1.total_cmp(y.1).then(y.0.cmp(x.0)))
                .map(|(&t, _)| tag_name(names, t))
                .unwrap_or_default();
            let frames = a
                .best_stack
                .and_then(|(s, _)| heap.stacks.get(s as usize))
                .map(|s| {
                    s.frames
                        .iter()
                        .filter_map(|&i| heap.frames.get(i as usize))
                        .take(MAX_FRAMES)
                        .map(frame_text)
                        .collect()
                })
                .unwrap_or_default();
            SiteRow {
                site: f.map_or_else(|| "(unknown stack)".to_owned(), frame_text),
                function: f.map(|f| f.function.clone()).unwrap_or_default(),
                file: f.map(|f| f.file.clone()).unwrap_or_default(),
                line: f.map_or(0, |f| f.line),
                bytes: a.bytes.round() as u64,
                objects: a.objects.round() as u64,
                tag,
                frames,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.site.cmp(&b.site)));
    rows.truncate(top);
    rows
}

/// The three site tables.
pub fn analyze(
    heap: &HeapProfile,
    names: &TagNames,
    top: usize,
    warnings: &mut Vec<String>,
) -> SiteTables {
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
            (s.stack, s.tag, w * s.size as f64, w)
        });
    let live_estimated: f64 = heap
        .samples
        .iter()
        .filter(|s| s.free_ns.is_none())
        .map(|s| weight(s.weight) * s.size as f64)
        .sum();
    let allocated = heap.samples.iter().map(|s| {
        let w = weight(s.weight);
        (s.stack, s.tag, w * s.size as f64, w)
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
            )
        },
    );
    SiteTables {
        sampled_records: heap.samples.len() as u64,
        live_estimated_bytes: live_estimated.round() as u64,
        peak_at_ns: 0,
        live: table(heap, names, live, top),
        at_peak: table(heap, names, peak, top),
        allocated: table(heap, names, allocated, top),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr(function: &str, file: &str) -> Frame {
        Frame {
            function: function.into(),
            file: file.into(),
            line: 1,
        }
    }

    #[test]
    fn plumbing_is_recognised() {
        assert!(is_plumbing(&fr("alloc::raw_vec::RawVec<T>::allocate", "")));
        assert!(is_plumbing(&fr(
            "<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
            ""
        )));
        assert!(is_plumbing(&fr("arenaprof_alloc::sampling::record", "")));
        assert!(is_plumbing(&fr(
            "foo",
            "/rustc/abc/library/alloc/src/vec.rs"
        )));
        assert!(!is_plumbing(&fr("my_app::main", "src/main.rs")));
        assert!(!is_plumbing(&fr(
            "<my_app::Cache as core::default::Default>::default",
            "src/cache.rs"
        )));
    }
}
