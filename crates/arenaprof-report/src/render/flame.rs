//! Flame graphs (SVG, drawn by inferno) from folded stacks.
//!
//! - [`Kind::Live`]: estimated live bytes per stack at snapshot time.
//! - [`Kind::Peak`]: estimated live bytes per stack at the global peak.
//! - [`Kind::Alloc`]: estimated cumulative allocated bytes per stack.
//! - [`Kind::Leaks`]: wasted bytes of arenas whose owner was dropped, stacked
//!   by the derivation chain that pins them (arena, then each view).
//!
//! Each heap stack is rooted at its tag (`[tag gemm-workspace]`), then runs
//! from the outermost frame to the allocation.
//!
//! ```
//! use arenaprof_report::render::flame::{folded, Kind};
//! use arenaprof_snapshot::{Frame, HeapProfile, Sample, Snapshot, Stack};
//! let mut s = Snapshot::default();
//! s.heap = HeapProfile {
//!     frames: vec![Frame { function: "inner".into(), ..Default::default() }, Frame { function: "main".into(), ..Default::default() }],
//!     stacks: vec![Stack { frames: vec![0, 1] }],
//!     samples: vec![Sample { stack: 0, size: 100, weight: 1.0, ..Default::default() }],
//!     at_peak: vec![],
//! };
//! assert_eq!(folded(&s, Kind::Live), vec!["[tag tag#0];main;inner 100".to_string()]);
//! ```

use crate::report::ArenaRow;
use arenaprof_snapshot::{Frame, Snapshot};
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

impl Kind {
    fn title(self) -> &'static str {
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
}

impl std::fmt::Display for FlameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlameError::Empty(why) => write!(f, "nothing to draw: {why}"),
            FlameError::Io(e) => write!(f, "cannot draw the flame graph: {e}"),
        }
    }
}

impl std::error::Error for FlameError {}

fn clean(s: &str) -> String {
    s.replace([';', '\n', '\r'], ":")
}

fn frame_name(f: &Frame) -> String {
    clean(&f.function)
}

fn stack_path(snap: &Snapshot, stack: u32, tag: u16, names: &HashMap<u16, &str>) -> String {
    let mut parts = vec![format!(
        "[tag {}]",
        names
            .get(&tag)
            .map_or_else(|| format!("tag#{tag}"), |n| clean(n))
    )];
    if let Some(s) = snap.heap.stacks.get(stack as usize) {
        parts.extend(
            s.frames
                .iter()
                .rev()
                .filter_map(|&i| snap.heap.frames.get(i as usize))
                .map(frame_name),
        );
    }
    parts.join(";")
}

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
    folded_scaled(snap, None, kind).0
}

fn folded_scaled(snap: &Snapshot, arenas: Option<&[ArenaRow]>, kind: Kind) -> (Vec<String>, u64) {
    let names: HashMap<u16, &str> = snap.tags.iter().map(|t| (t.id, t.name.as_str())).collect();
    let mut map: HashMap<String, f64> = HashMap::new();
    let w = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
    match kind {
        Kind::Live | Kind::Alloc => {
            let mut by: HashMap<(u32, u16), f64> = HashMap::new();
            for s in &snap.heap.samples {
                if kind == Kind::Alloc || s.free_ns.is_none() {
                    *by.entry((s.stack, s.tag)).or_default() += w(s.weight) * s.size as f64;
                }
            }
            for ((stack, tag), b) in by {
                *map.entry(stack_path(snap, stack, tag, &names)).or_default() += b;
            }
        }
        Kind::Peak => {
            let mut stack_tag: HashMap<u32, u16> = HashMap::new();
            for s in &snap.heap.samples {
                stack_tag.entry(s.stack).or_insert(s.tag);
            }
            for p in &snap.heap.at_peak {
                let tag = stack_tag.get(&p.stack).copied().unwrap_or(0);
                *map.entry(stack_path(snap, p.stack, tag, &names))
                    .or_default() += w(p.bytes);
            }
        }
        Kind::Leaks => {
            let owned;
            let arenas = match arenas {
                Some(a) => a,
                None => {
                    owned = crate::analyze(snap, &crate::Options::default()).arenas;
                    &owned
                }
            };
            for a in arenas
                .iter()
                .filter(|a| !a.owner_alive && a.wasted_bytes > 0)
            {
                let n = a.retainers.len().max(1) as f64;
                for r in &a.retainers {
                    let path: Vec<String> = r
                        .chain
                        .iter()
                        .enumerate()
                        .map(|(k, s)| {
                            if k == 0 {
                                clean(&format!("arena #{} {} at {}", a.id, s.op, s.site))
                            } else {
                                clean(&format!("#{} {} at {}", s.view, s.op, s.site))
                            }
                        })
                        .collect();
                    *map.entry(path.join(";")).or_default() += a.wasted_bytes as f64 / n;
                }
            }
        }
    }
    lines(map)
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
    let (lines, scale) = folded_scaled(snap, arenas, kind);
    if lines.is_empty() {
        return Err(FlameError::Empty(match kind {
            Kind::Leaks => "no arena is pinned by views after its owner was dropped",
            _ => "no sampled stacks for this view (was sampling on? set ARENAPROF_SAMPLE or call set_sampling)",
        }));
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = kind.title().to_owned();
    opts.subtitle = Some(format!(
        "{} (pid {})",
        if snap.meta.program.is_empty() {
            "?"
        } else {
            &snap.meta.program
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
    inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), out)
        .map_err(FlameError::Io)
}
