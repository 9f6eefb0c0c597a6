//! Folded stacks as text (`frame;frame;frame bytes`, what `flamegraph.pl`,
//! inferno and speedscope read), and differential folded stacks and flame
//! graphs of two snapshots (`stack BEFORE AFTER`, as `inferno-diff-folded`
//! writes them).
//!
//! The folded lines are exactly those [`super::flame`] draws: the same kinds,
//! the same trimming ([`crate::passes::trim`]), the same `[tag NAME]` root,
//! counts in bytes (divided by a common factor only when their total would
//! pass 2^60). So `inferno-flamegraph`, `inferno-diff-folded` and speedscope's
//! folded importer show what `arenaprof flame` shows.
//!
//! ```
//! use arenaprof_report::render::{folded, Options};
//! use arenaprof_report::{Folded, Kind};
//! let after = Folded { kind: Some(Kind::Live), lines: vec!["[tag tag#0];my_app::load 64".into()], scale: 1, ..Default::default() };
//! assert_eq!(folded::render(&after).unwrap(), "[tag tag#0];my_app::load 64\n");
//! let before = Folded { kind: Some(Kind::Live), ..Default::default() };
//! let d = folded::differential(&before, &after, Options::default()).unwrap();
//! assert_eq!(d, "[tag tag#0];my_app::load 0 64\n");
//! ```

use super::flame::{empty, FlameError};
use super::Options;
use crate::budget::{BoundedWriter, Budget};
use crate::model::{Folded, Kind};
use std::io::Write;

/// The folded lines, each ending in `\n`. An empty view is
/// [`FlameError::Empty`], as for the SVG.
pub fn render(folded: &Folded) -> Result<String, FlameError> {
    if folded.lines.is_empty() {
        return Err(empty(folded));
    }
    Ok(join(&folded.lines))
}

fn join(lines: &[String]) -> String {
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Differential folded stacks (`stack BEFORE AFTER`, sorted) of two folds of
/// the same kind, charged to `opts.budget`.
pub fn differential(
    before: &Folded,
    after: &Folded,
    opts: Options<'_>,
) -> Result<String, FlameError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    if before.lines.is_empty() && after.lines.is_empty() {
        return Err(empty(after));
    }
    let (a, b) = (join(&before.lines), join(&after.lines));
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

/// Draws the differential flame graph (SVG) of two folds into `out`: frame
/// widths are the later fold's bytes, red frames grew and blue ones shrank
/// (inferno's convention); stacks only in the earlier fold have no width.
/// The lines and every byte of the SVG are charged to `opts.budget`.
pub fn differential_svg(
    before: &Folded,
    after: &Folded,
    opts: Options<'_>,
    out: impl Write,
) -> Result<(), FlameError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let text = differential(
        before,
        after,
        Options {
            budget: Some(&mut *budget),
            ..Default::default()
        },
    )?;
    let kind = after.kind.or(before.kind).unwrap_or(Kind::Live);
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
