//! Renderers: one entry point per output, each taking the analysis's data
//! and an [`Options`].
//!
//! | output | entry point | from |
//! |---|---|---|
//! | text | [`text::render`] | a [`Report`](crate::Report) |
//! | JSON | [`json::render`] | a [`Report`](crate::Report) |
//! | HTML page | [`html::render`] | a [`Report`](crate::Report), and [`Folded`] stacks for its flame graph |
//! | flame graph (SVG) | [`flame::render`] | [`Folded`] stacks |
//! | folded text, differential folded text and SVG | [`folded::render`], [`folded::differential`], [`folded::differential_svg`] | [`Folded`] stacks |
//! | pprof profile | [`pprof::render`] | a snapshot and its [`TrimmedStacks`](crate::TrimmedStacks) |
//! | a diff of two reports, text or JSON | [`diff::text`], [`diff::json`] | a [`Diff`](crate::diff::Diff) |
//! | Chrome trace, CSV | [`trace::chrome_json`], [`trace::csv`] | a snapshot's timeline |
//!
//! `flame` and `folded` need the default feature `flame` (inferno); `pprof`
//! the default feature `pprof` (prost, flate2). A caller of [`crate::analyze`]
//! and the JSON renderer can turn both off.
//!
//! Renderers never analyse: folded and trimmed stacks come from
//! [`crate::passes::stacks`], the report from [`crate::analyze`].
//!
//! ```
//! use arenaprof_report::render::{json, Options};
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let json = json::render(&r, Options::default()).unwrap();
//! assert!(json.contains("\"schema_version\": 1"));
//! ```

use crate::budget::Budget;
use crate::model::Folded;

mod cells;
mod chart;
pub mod diff;
mod fit;
#[cfg(feature = "flame")]
pub mod flame;
#[cfg(feature = "flame")]
pub mod folded;
pub mod html;
pub mod json;
mod outside;
#[cfg(feature = "pprof")]
pub mod pprof;
#[cfg(feature = "pprof")]
mod proto;
pub(crate) mod sink;
mod spark;
mod table;
pub mod text;
pub mod trace;

/// How a renderer lays out its output, and what it may spend.
///
/// ```
/// use arenaprof_report::{render::Options, Budget};
/// let mut budget = Budget::with_limit(1 << 20);
/// let opts = Options { width: Some(100), budget: Some(&mut budget), stacks: None };
/// assert_eq!(opts.width, Some(100));
/// ```
#[derive(Debug, Default)]
pub struct Options<'a> {
    /// Wrap the text report at this many columns (`None`: as wide as its
    /// tables). Only the text report uses it.
    pub width: Option<usize>,
    /// Charge every byte written to this budget, failing past it (`None`:
    /// unlimited, for trusted inputs). Pass the budget the analysis was
    /// charged to so one limit covers both.
    pub budget: Option<&'a mut Budget>,
    /// The stacks the HTML page draws its flame graph from (`None`: the
    /// page says a report read from JSON carries no stacks).
    pub stacks: Option<&'a Folded>,
}
