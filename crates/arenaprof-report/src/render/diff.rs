//! A [`Diff`] of two reports as text or JSON.

use super::sink::Sink;
use super::table::Table;
use super::Options;
use crate::budget::{Budget, BudgetError};
use crate::diff::{DeltaRow, Diff};
use crate::sanitize::name;
use crate::units::{format_bytes, format_delta};
use std::fmt::Write;

/// The diff as pretty JSON (schema `arenaprof-diff`, see `docs/JSON.md`),
/// every byte charged to `opts.budget`.
///
/// ```
/// use arenaprof_report::{diff::diff, render};
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// let json = render::diff::json(&diff(&r, &r), Default::default()).unwrap();
/// assert!(json.contains("arenaprof-diff"));
/// ```
pub fn json(d: &Diff, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    super::json::to_json(d, opts.budget.unwrap_or(&mut own), "the JSON diff")
}

/// The diff for a terminal, every byte charged to `opts.budget`; names are
/// escaped and cut as in the text report ([`crate::sanitize`]).
///
/// ```
/// use arenaprof_report::{diff::diff, render};
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// assert!(render::diff::text(&diff(&r, &r), Default::default()).unwrap().contains("TOTALS"));
/// ```
pub fn text(d: &Diff, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let mut out = Sink::text(budget, "the text diff");
    let section = |out: &mut Sink<'_>, title: &str, rows: &[DeltaRow]| {
        let _ = writeln!(out, "{title}");
        if rows.is_empty() {
            let _ = writeln!(out, "  (no change)");
        }
        let mut t = Table::new(&["change", "before", "after", "metric", "what"])
            .align_left(3)
            .align_left(4);
        for r in rows {
            t.row(vec![
                format_delta(r.delta),
                format_bytes(r.before),
                format_bytes(r.after),
                name(&r.metric).into_owned(),
                name(&r.key).into_owned(),
            ]);
        }
        if !rows.is_empty() {
            out.push_str(&t.render("  "));
        }
        out.push('\n');
    };
    section(&mut out, "TOTALS", &d.totals);
    section(&mut out, "TAGS (largest growth first)", &d.tags);
    section(&mut out, "SITES (top sites of each report)", &d.sites);
    section(&mut out, "ARENAS (by origin: op at site)", &d.arenas);
    section(
        &mut out,
        "MEMORY LADDER (profiler_* rungs and overhead are the profiler's)",
        &d.memory,
    );
    out.finish()
}
