//! Flame graphs (SVG, drawn by inferno) from folded stacks.
//!
//! - [`Kind::Live`]: estimated live bytes per stack at snapshot time.
//! - [`Kind::Peak`]: estimated live bytes per stack at the global peak.
//! - [`Kind::Alloc`]: estimated cumulative allocated bytes per stack.
//! - [`Kind::Leaks`]: wasted bytes of arenas whose owner was dropped, stacked
//!   by the derivation chain that pins them (arena, then each view).
//!
//! Each heap stack is rooted at its tag (`[tag gemm-workspace]`), then runs
//! from the outermost frame a person reads to the allocation site: the
//! runtime's start-up frames and the allocator's, the tracker's and the
//! standard library's frames at the leaf are trimmed, by the rule the site
//! tables use ([`crate::passes::trim`]). Folded text and differential
//! flame graphs are in [`super::folded`].
//!
//! ```
//! use arenaprof_report::render::flame::{folded, Kind};
//! use arenaprof_snapshot::{Frame, HeapProfile, Sample, Snapshot, Stack};
//! let mut s = Snapshot::default();
//! s.heap = HeapProfile {
//!     frames: vec![
//!         Frame { function: "alloc::raw_vec::finish_grow".into(), ..Default::default() },
//!         Frame { function: "inner".into(), ..Default::default() },
//!         Frame { function: "my_app::main".into(), ..Default::default() },
//!         Frame { function: "std::rt::lang_start".into(), ..Default::default() },
//!     ],
//!     stacks: vec![Stack { frames: vec![0, 1, 2, 3] }],
//!     samples: vec![Sample { stack: 0, size: 100, weight: 1.0, ..Default::default() }],
//!     at_peak: vec![],
//! };
//! assert_eq!(folded(&s, Kind::Live), vec!["[tag tag#0];my_app::main;inner 100".to_string()]);
//! ```

use crate::analysis::trim::Trimmer;
use crate::budget::{BoundedWriter, Budget, BudgetError, MAX_STACK_DEPTH};
use crate::report::ArenaRow;
use crate::sanitize;
use arenaprof_snapshot::Snapshot;
use std::collections::HashMap;
use std::io::Write;

/// Which bytes the flame graph shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Live at snapshot time.
    Live,
    /// Live at the global peak.
    Peak,
    /// Cumulative allocated.
    Alloc,
    /// Wasted arena bytes by retaining chain.
    Leaks,
}

/// Why `kind` has nothing to draw.
pub(crate) fn empty(kind: Kind) -> FlameError {
    FlameError::Empty(match kind {
        Kind::Leaks => "no arena is pinned by views after its owner was dropped",
        _ => "no sampled stacks for this view (was sampling on? set ARENAPROF_SAMPLE or call set_sampling)",
    })
}

impl Kind {
    pub(crate) fn title(self) -> &'static str {
        match self {
            Kind::Live => "Live bytes by allocation stack",
            Kind::Peak => "Live bytes at the peak by allocation stack",
            Kind::Alloc => "Allocated bytes (cumulative) by allocation stack",
            Kind::Leaks => "Wasted arena bytes by the view chain that pins them",
        }
    }
}

/// Why no flame graph was drawn.
#[derive(Debug)]
pub enum FlameError {
    /// Nothing to draw.
    Empty(&'static str),
    /// inferno or the writer failed.
    Io(std::io::Error),
    /// The folded stacks or the SVG would exceed the budget.
    Budget(BudgetError),
}

impl std::fmt::Display for FlameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlameError::Empty(why) => write!(f, "nothing to draw: {why}"),
            FlameError::Io(e) => write!(f, "cannot draw the flame graph: {e}"),
            FlameError::Budget(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FlameError {}

impl From<BudgetError> for FlameError {
    fn from(e: BudgetError) -> Self {
        FlameError::Budget(e)
    }
}

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

/// Folded stacks (`frame;frame;frame bytes`), sorted.
pub fn folded(snap: &Snapshot, kind: Kind) -> Vec<String> {
    folded_within(snap, None, kind, &mut Budget::unlimited())
        .map(|(l, _)| l)
        .unwrap_or_default()
}

/// Folded lines (with the count divisor), every path charged to `budget`.
/// The HTML report lays its flame graph out from these.
pub fn folded_within(
    snap: &Snapshot,
    arenas: Option<&[ArenaRow]>,
    kind: Kind,
    budget: &mut Budget,
) -> Result<(Vec<String>, u64), FlameError> {
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
                    owned = crate::analyze_within(snap, &crate::Options::default(), budget)?.arenas;
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
    Ok(lines(map))
}

/// A chain step for a folded line: `;` inside names would split the frame.
fn clean_step(step: &str, leading_separator: bool) -> String {
    if leading_separator {
        format!(";{}", step[1..].replace(';', ":"))
    } else {
        step.replace(';', ":")
    }
}

/// Draws the flame graph as SVG into `out`.
pub fn render(snap: &Snapshot, kind: Kind, out: impl Write) -> Result<(), FlameError> {
    render_with(snap, None, kind, out)
}

/// Like [`render`], with the snapshot's arenas already analysed (for
/// [`Kind::Leaks`]; `None` analyses them here).
pub fn render_with(
    snap: &Snapshot,
    arenas: Option<&[ArenaRow]>,
    kind: Kind,
    out: impl Write,
) -> Result<(), FlameError> {
    render_within(snap, arenas, kind, out, &mut Budget::unlimited())
}

/// Like [`render_with`], charging the folded stacks and every byte of the
/// SVG to `budget`. Frame names are escaped and cut ([`crate::sanitize`]),
/// so the SVG is well-formed XML whatever the names hold, and stacks deeper
/// than [`MAX_STACK_DEPTH`] keep their innermost frames.
pub fn render_within(
    snap: &Snapshot,
    arenas: Option<&[ArenaRow]>,
    kind: Kind,
    out: impl Write,
    budget: &mut Budget,
) -> Result<(), FlameError> {
    let (lines, scale) = folded_within(snap, arenas, kind, budget)?;
    if lines.is_empty() {
        return Err(empty(kind));
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = kind.title().to_owned();
    opts.subtitle = Some(format!(
        "{} (pid {})",
        if snap.meta.program.is_empty() {
            "?".into()
        } else {
            sanitize::name(&snap.meta.program)
        },
        snap.meta.pid
    ));
    opts.count_name = if scale == 1 {
        "bytes".to_owned()
    } else {
        format!("x {scale} bytes")
    };
    opts.colors =
        inferno::flamegraph::color::Palette::Basic(inferno::flamegraph::color::BasicPalette::Mem);
    let mut w = BoundedWriter::new(out, budget, "the flame graph's SVG");
    let result =
        inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), &mut w);
    if let Some(e) = w.take_error() {
        return Err(FlameError::Budget(e));
    }
    result.map_err(FlameError::Io)
}
