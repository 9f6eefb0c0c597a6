//! Sampled stacks folded for the outputs: one line per (trimmed stack, tag)
//! with its bytes for flame graphs and folded text ([`fold`]), and each
//! stack's trimmed frames for pprof ([`trim`]).
//!
//! Each heap stack is rooted at its tag (`[tag gemm-workspace]`), then runs
//! from the outermost frame a person reads to the allocation site: the
//! runtime's start-up frames and the allocator's, the tracker's and the
//! standard library's frames at the leaf are trimmed, by the rule the site
//! tables use ([`super::trim`]).

use super::trim::Trimmer;
use crate::budget::{Budget, BudgetError, MAX_STACK_DEPTH};
use crate::model::{ArenaRow, Folded, Kind, TrimmedStacks};
use crate::sanitize;
use arenaprof_snapshot::Snapshot;
use std::collections::HashMap;

/// A frame of a folded line: `;` (the separator) and line breaks become
/// `:`, unsafe characters are escaped (a control character would make the
/// SVG ill-formed XML) and the name is cut at
/// [`MAX_NAME_CHARS`](crate::sanitize::MAX_NAME_CHARS).
fn clean(s: &str) -> String {
    sanitize::name(s).replace(';', ":")
}

const FOLDED: &str = "the flame graph's folded stacks";

/// Folded paths, each frame cleaned and each stack cut once however many
/// samples share them.
struct Paths<'s> {
    snap: &'s Snapshot,
    frames: Vec<Option<String>>,
    /// Per stack: its innermost trimmed frames (at most [`MAX_STACK_DEPTH`]),
    /// and how many trimmed frames it has in all.
    stacks: HashMap<u32, (Vec<usize>, usize)>,
    tags: HashMap<u16, String>,
    trimmer: Trimmer<'s>,
}

impl<'s> Paths<'s> {
    fn new(snap: &'s Snapshot) -> Self {
        let mut tags = HashMap::new();
        for t in &snap.tags {
            tags.insert(t.id, t.name.as_str());
        }
        Paths {
            snap,
            frames: vec![None; snap.heap.frames.len()],
            stacks: HashMap::new(),
            trimmer: Trimmer::new(&snap.heap.frames),
            tags: tags
                .into_iter()
                .map(|(id, n)| (id, format!("[tag {}]", clean(n))))
                .collect(),
        }
    }

    /// What [`Paths::path`] will cost: the line's bytes, and inferno's
    /// record of about [`INFERNO_PER_FRAME`] bytes per frame while it merges
    /// the lines.
    fn cost(&mut self, stack: u32, tag: u16) -> u64 {
        let heap = &self.snap.heap;
        self.stack(stack);
        let Some((kept, _)) = self.stacks.get(&stack) else {
            return 0;
        };
        let mut len = self.tags.get(&tag).map_or(16, String::len) as u64 + 32;
        for &i in kept {
            let name = self.frames[i].get_or_insert_with(|| clean(&heap.frames[i].function));
            len += name.len() as u64 + 1;
        }
        len + INFERNO_PER_FRAME * (kept.len() as u64 + 2)
    }

    /// The innermost frames of `stack` a person reads (trimmed by
    /// [`Trimmer::trim`], at most [`MAX_STACK_DEPTH`]) and how many the
    /// trimmed stack has, found once per stack.
    fn stack(&mut self, stack: u32) {
        let heap = &self.snap.heap;
        let trimmer = &mut self.trimmer;
        self.stacks.entry(stack).or_insert_with(|| {
            heap.stacks
                .get(stack as usize)
                .map_or((Vec::new(), 0), |s| {
                    let nframes = heap.frames.len();
                    let valid = |&&i: &&u32| (i as usize) < nframes;
                    let trimmed = &s.frames[trimmer.span(&s.frames)];
                    let kept = trimmed
                        .iter()
                        .filter(valid)
                        .take(MAX_STACK_DEPTH)
                        .map(|&i| i as usize)
                        .collect();
                    (kept, trimmed.iter().filter(valid).count())
                })
        });
    }

    /// `[tag NAME];outermost;...;innermost`, at most [`MAX_STACK_DEPTH`]
    /// frames (the innermost; a `[N outer frames]` frame stands for the rest).
    /// Its cost was charged by [`Paths::cost`].
    fn path(&mut self, stack: u32, tag: u16) -> String {
        let heap = &self.snap.heap;
        self.stack(stack);
        let Some((kept, total)) = self.stacks.get(&stack) else {
            return String::new();
        };
        let root = self
            .tags
            .get(&tag)
            .cloned()
            .unwrap_or_else(|| format!("[tag tag#{tag}]"));
        let mut out = root;
        for &i in kept.iter() {
            if self.frames[i].is_none() {
                self.frames[i] = Some(clean(&heap.frames[i].function));
            }
        }
        if *total > kept.len() {
            out.push_str(&format!(";[{} outer frames]", *total - kept.len()));
        }
        for &i in kept.iter().rev() {
            out.push(';');
            out.push_str(self.frames[i].as_deref().unwrap_or(""));
        }
        out
    }
}

/// Bytes inferno holds per frame of every folded line while it merges them.
const INFERNO_PER_FRAME: u64 = 128;

/// Largest total the folded counts may reach (inferno sums them in `usize`).
const MAX_TOTAL: u128 = 1 << 60;

/// Folded lines, and the divisor applied to every count when their total
/// would not fit (1 for any real run).
fn lines(map: HashMap<String, f64>) -> (Vec<String>, u64) {
    let mut v: Vec<(String, u64)> = map
        .into_iter()
        .filter(|(_, b)| b.is_finite() && *b >= 1.0)
        .map(|(k, b)| (k, b.round() as u64))
        .collect();
    v.sort();
    let total: u128 = v.iter().map(|(_, b)| u128::from(*b)).sum();
    let scale = total.div_ceil(MAX_TOTAL).max(1) as u64;
    let lines = v
        .into_iter()
        .map(|(k, b)| (k, b / scale))
        .filter(|(_, b)| *b > 0)
        .map(|(k, b)| format!("{k} {b}"))
        .collect();
    (lines, scale)
}

/// Folds the sampled stacks of `kind`, every path charged to `budget`.
/// [`Kind::Leaks`] stacks the wasted bytes of `arenas` (the report's; `None`
/// analyses the snapshot's arenas here) by the chain that pins them.
///
/// ```
/// use arenaprof_report::passes::stacks::fold;
/// use arenaprof_report::{Budget, Kind};
/// use arenaprof_snapshot::{Frame, HeapProfile, Sample, Snapshot, Stack};
/// let mut s = Snapshot::default();
/// s.heap = HeapProfile {
///     frames: vec![
///         Frame { function: "alloc::raw_vec::finish_grow".into(), ..Default::default() },
///         Frame { function: "inner".into(), ..Default::default() },
///         Frame { function: "my_app::main".into(), ..Default::default() },
///         Frame { function: "std::rt::lang_start".into(), ..Default::default() },
///     ],
///     stacks: vec![Stack { frames: vec![0, 1, 2, 3] }],
///     samples: vec![Sample { stack: 0, size: 100, weight: 1.0, ..Default::default() }],
///     at_peak: vec![],
/// };
/// let folded = fold(&s, None, Kind::Live, &mut Budget::unlimited()).unwrap();
/// assert_eq!(folded.lines, vec!["[tag tag#0];my_app::main;inner 100".to_string()]);
/// ```
pub fn fold(
    snap: &Snapshot,
    arenas: Option<&[ArenaRow]>,
    kind: Kind,
    budget: &mut Budget,
) -> Result<Folded, BudgetError> {
    let mut map: HashMap<String, f64> = HashMap::new();
    let w = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
    // Bytes per (stack, tag) first: one path per pair, however many samples.
    let mut by: HashMap<(u32, u16), f64> = HashMap::new();
    match kind {
        Kind::Live | Kind::Alloc => {
            for s in &snap.heap.samples {
                if kind == Kind::Alloc || s.free_ns.is_none() {
                    *by.entry((s.stack, s.tag)).or_default() += w(s.weight) * s.size as f64;
                }
            }
        }
        Kind::Peak => {
            let mut stack_tag: HashMap<u32, u16> = HashMap::new();
            for s in &snap.heap.samples {
                stack_tag.entry(s.stack).or_insert(s.tag);
            }
            for p in &snap.heap.at_peak {
                let tag = stack_tag.get(&p.stack).copied().unwrap_or(0);
                *by.entry((p.stack, tag)).or_default() += w(p.bytes);
            }
        }
        Kind::Leaks => {
            let owned;
            let arenas = match arenas {
                Some(a) => a,
                None => {
                    owned = super::analyze_within(snap, &super::Options::default(), budget)?.arenas;
                    &owned
                }
            };
            for a in arenas
                .iter()
                .filter(|a| !a.owner_alive && a.wasted_bytes > 0)
            {
                let n = a.retainers.len().max(1) as f64;
                for r in &a.retainers {
                    let mut path = String::new();
                    for (k, s) in r.chain.iter().enumerate() {
                        let step = if k == 0 {
                            format!(
                                "arena #{} {} at {}",
                                a.id,
                                sanitize::name(&s.op),
                                sanitize::name(&s.site)
                            )
                        } else {
                            format!(
                                ";#{} {} at {}",
                                s.view,
                                sanitize::name(&s.op),
                                sanitize::name(&s.site)
                            )
                        };
                        budget.charge(step.len() as u64 + INFERNO_PER_FRAME, FOLDED)?;
                        path.push_str(&clean_step(&step, k > 0));
                    }
                    *map.entry(path).or_default() += a.wasted_bytes as f64 / n;
                }
            }
        }
    }
    let mut paths = Paths::new(snap);
    let mut keys: Vec<((u32, u16), f64)> = by.into_iter().collect();
    keys.sort_unstable_by_key(|&(k, _)| k);
    // Charged before any path is made: a hostile snapshot stops at once.
    let cost = keys.iter().fold(0u64, |acc, &((stack, tag), _)| {
        acc.saturating_add(paths.cost(stack, tag))
    });
    budget.charge_with(cost, || format!("{FOLDED} ({} stacks)", keys.len()))?;
    for ((stack, tag), b) in keys {
        let path = paths.path(stack, tag);
        *map.entry(path).or_default() += b;
    }
    let (lines, scale) = lines(map);
    Ok(Folded {
        kind: Some(kind),
        lines,
        scale,
        program: snap.meta.program.clone(),
        pid: snap.meta.pid,
        omitted: None,
    })
}

/// A chain step for a folded line: `;` inside names would split the frame.
fn clean_step(step: &str, leading_separator: bool) -> String {
    if leading_separator {
        format!(";{}", step[1..].replace(';', ":"))
    } else {
        step.replace(';', ":")
    }
}

/// The stacks the HTML page draws: live bytes, else (nothing live was
/// sampled) the bytes live at the peak, else the cumulative allocated bytes.
/// Charged to `budget` when they fit; when they do not, nothing is charged
/// and [`Folded::omitted`] says why.
///
/// ```
/// use arenaprof_report::{passes::stacks::page, Budget};
/// let f = page(&Default::default(), &[], &mut Budget::unlimited());
/// assert!(f.lines.is_empty() && f.omitted.is_none());
/// ```
pub fn page(snap: &Snapshot, arenas: &[ArenaRow], budget: &mut Budget) -> Folded {
    let mut trial = budget.clone();
    for kind in [Kind::Live, Kind::Peak, Kind::Alloc] {
        match fold(snap, Some(arenas), kind, &mut trial) {
            Ok(f) if !f.lines.is_empty() => {
                *budget = trial;
                return f;
            }
            Ok(_) => {}
            Err(e) => {
                return Folded {
                    omitted: Some(e.to_string()),
                    ..Default::default()
                }
            }
        }
    }
    Folded::default()
}

/// Each sampled stack's trimmed frames (innermost first, valid indices, at
/// most [`MAX_STACK_DEPTH`]), charged to `budget`: what a pprof profile
/// lists per sample.
///
/// ```
/// use arenaprof_report::{passes::stacks::trim, Budget};
/// let t = trim(&Default::default(), &mut Budget::unlimited()).unwrap();
/// assert!(t.frames.is_empty());
/// ```
pub fn trim(snap: &Snapshot, budget: &mut Budget) -> Result<TrimmedStacks, BudgetError> {
    let heap = &snap.heap;
    let mut trimmer = Trimmer::new(&heap.frames);
    let mut out = TrimmedStacks::default();
    for s in &heap.samples {
        if out.frames.contains_key(&s.stack) {
            continue;
        }
        let kept: Vec<u32> = heap
            .stacks
            .get(s.stack as usize)
            .map(|st| {
                st.frames[trimmer.span(&st.frames)]
                    .iter()
                    .copied()
                    .filter(|&f| (f as usize) < heap.frames.len())
                    .take(MAX_STACK_DEPTH)
                    .collect()
            })
            .unwrap_or_default();
        budget.charge(4 * kept.len() as u64 + 64, "the trimmed stacks")?;
        out.frames.insert(s.stack, kept);
    }
    Ok(out)
}
