//! Flame graphs (SVG, drawn by inferno) from folded stacks.
//!
//! Draws [`Folded`] stacks ([`crate::passes::stacks::fold`]) with inferno:
//! live bytes, bytes at the peak, allocated bytes, or wasted arena bytes by
//! the view chain that pins them ([`Kind`]).
//!
//! ```
//! use arenaprof_report::{render, Folded, Kind};
//! let folded = Folded {
//!     kind: Some(Kind::Live),
//!     lines: vec!["[tag tag#0];my_app::main;inner 100".into()],
//!     scale: 1,
//!     ..Default::default()
//! };
//! let mut svg = Vec::new();
//! render::flame::render(&folded, render::Options::default(), &mut svg).unwrap();
//! assert!(svg.starts_with(b"<?xml"));
//! ```

use super::Options;
use crate::budget::{BoundedWriter, Budget, BudgetError};
use crate::model::{Folded, Kind};
use crate::sanitize;
use std::io::Write;

/// Why `folded` has nothing to draw.
pub(crate) fn empty(folded: &Folded) -> FlameError {
    FlameError::Empty(folded.kind.map_or("no stacks", Kind::why_empty))
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

/// Draws `folded` as an SVG flame graph into `out`, charging every byte to
/// `opts.budget` (unlimited when `None`). Frame names were escaped and cut
/// by the fold, so the SVG is well-formed XML whatever the names hold.
pub fn render(folded: &Folded, opts: Options<'_>, out: impl Write) -> Result<(), FlameError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    if folded.lines.is_empty() {
        return Err(empty(folded));
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = folded.kind.map_or("Flame graph", Kind::title).to_owned();
    opts.subtitle = Some(format!(
        "{} (pid {})",
        if folded.program.is_empty() {
            "?".into()
        } else {
            sanitize::name(&folded.program)
        },
        folded.pid
    ));
    opts.count_name = if folded.scale <= 1 {
        "bytes".to_owned()
    } else {
        format!("x {} bytes", folded.scale)
    };
    opts.colors =
        inferno::flamegraph::color::Palette::Basic(inferno::flamegraph::color::BasicPalette::Mem);
    let mut w = BoundedWriter::new(out, budget, "the flame graph's SVG");
    let result =
        inferno::flamegraph::from_lines(&mut opts, folded.lines.iter().map(String::as_str), &mut w);
    if let Some(e) = w.take_error() {
        return Err(FlameError::Budget(e));
    }
    result.map_err(FlameError::Io)
}
