//! Folded stacks (`frame;frame;frame COUNT`, inferno's and Brendan Gregg's
//! format) and differential flame graphs of two snapshots.
//!
//! The folded lines are exactly those [`super::flame`] draws: the same kinds,
//! the same trimming ([`crate::passes::trim`]), the same `[tag NAME]` root,
//! counts in bytes (divided by a common factor only when their total would
//! pass 2^60). So `inferno-flamegraph`, `inferno-diff-folded` and speedscope's
//! folded importer show what `arenaprof flame` shows.
//!
//! ```
//! use arenaprof_report::render::{flame::Kind, folded};
//! use arenaprof_snapshot::{Frame, HeapProfile, Sample, Snapshot, Stack};
//! let mut s = Snapshot::default();
//! s.heap = HeapProfile {
//!     frames: vec![Frame { function: "my_app::load".into(), ..Default::default() }],
//!     stacks: vec![Stack { frames: vec![0] }],
//!     samples: vec![Sample { stack: 0, size: 64, weight: 1.0, ..Default::default() }],
//!     at_peak: vec![],
//! };
//! assert_eq!(folded::text(&s, Kind::Live).unwrap(), "[tag tag#0];my_app::load 64\n");
//! let d = folded::differential(&Snapshot::default(), &s, Kind::Live).unwrap();
//! assert_eq!(d, "[tag tag#0];my_app::load 0 64\n");
//! ```

use super::flame::{empty, folded_within, FlameError, Kind};
use crate::budget::{BoundedWriter, Budget};
use crate::report::ArenaRow;
use arenaprof_snapshot::Snapshot;
use std::io::Write;

/// Folded stacks of `kind`, one line each, sorted, each ending in `\n`.
pub fn text(snap: &Snapshot, kind: Kind) -> Result<String, FlameError> {
    text_within(snap, None, kind, &mut Budget::unlimited())
}

/// Like [`text`], with the arenas already analysed (for [`Kind::Leaks`];
/// `None` analyses them here), every line charged to `budget`. An empty
/// view is [`FlameError::Empty`], as for the SVG.
pub fn text_within(
    snap: &Snapshot,
    arenas: Option<&[ArenaRow]>,
    kind: Kind,
    budget: &mut Budget,
) -> Result<String, FlameError> {
    let (lines, _) = folded_within(snap, arenas, kind, budget)?;
    if lines.is_empty() {
        return Err(empty(kind));
    }
    Ok(join(&lines))
}

fn join(lines: &[String]) -> String {
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Differential folded stacks (`stack BEFORE AFTER`, as
/// `inferno-diff-folded` writes them) of two snapshots.
pub fn differential(before: &Snapshot, after: &Snapshot, kind: Kind) -> Result<String, FlameError> {
    differential_within(before, after, kind, &mut Budget::unlimited())
}

/// Like [`differential`], charging both sides' lines and the result to
/// `budget`.
pub fn differential_within(
    before: &Snapshot,
    after: &Snapshot,
    kind: Kind,
    budget: &mut Budget,
) -> Result<String, FlameError> {
    let (a, _) = folded_within(before, None, kind, budget)?;
    let (b, _) = folded_within(after, None, kind, budget)?;
    if a.is_empty() && b.is_empty() {
        return Err(empty(kind));
    }
    let (a, b) = (join(&a), join(&b));
    budget.charge(
        2 * (a.len() + b.len()) as u64,
        "the differential folded stacks",
    )?;
    let mut out = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        a.as_bytes(),
        b.as_bytes(),
        &mut out,
    )
    .map_err(FlameError::Io)?;
    // inferno writes in hash order: sorted, the output is reproducible.
    let text = String::from_utf8_lossy(&out);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    Ok(join(
        &lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
    ))
}

/// Draws the differential flame graph (SVG) of two snapshots into `out`:
/// frame widths are the later snapshot's bytes, red frames grew and blue
/// ones shrank (inferno's convention); stacks only in the earlier snapshot
/// have no width.
pub fn differential_svg_within(
    before: &Snapshot,
    after: &Snapshot,
    kind: Kind,
    out: impl Write,
    budget: &mut Budget,
) -> Result<(), FlameError> {
    let text = differential_within(before, after, kind, budget)?;
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = format!("Differential: {}", kind.title().to_lowercase());
    opts.subtitle = Some("widths: the later snapshot; red grew, blue shrank".to_owned());
    opts.count_name = "bytes".to_owned();
    let mut w = BoundedWriter::new(out, budget, "the differential flame graph's SVG");
    let result = inferno::flamegraph::from_lines(&mut opts, text.lines(), &mut w);
    if let Some(e) = w.take_error() {
        return Err(FlameError::Budget(e));
    }
    result.map_err(FlameError::Io)
}
