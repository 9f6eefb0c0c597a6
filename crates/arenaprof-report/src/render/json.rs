//! The JSON report (schema in `docs/JSON.md`).
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let json = arenaprof_report::render::json::render(&r, Default::default()).unwrap();
//! let back: arenaprof_report::Report = serde_json::from_str(&json).unwrap();
//! assert_eq!(back, r);
//! ```

use super::Options;
use crate::budget::{BoundedWriter, Budget, BudgetError};
use crate::model::Report;

/// Pretty-printed JSON, with a trailing newline, every byte charged to
/// `opts.budget`. Names are written whole (JSON escapes control characters).
///
/// ```
/// use arenaprof_report::render::{json, Options};
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// assert!(json::render(&r, Options::default()).unwrap().ends_with("}\n"));
/// ```
pub fn render(r: &Report, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    to_json(r, opts.budget.unwrap_or(&mut own), "the JSON report")
}

/// Pretty JSON of any serialisable value, bounded by `budget`.
pub(crate) fn to_json<T: serde::Serialize>(
    value: &T,
    budget: &mut Budget,
    what: &'static str,
) -> Result<String, BudgetError> {
    let mut w = BoundedWriter::new(Vec::new(), budget, what);
    let result = serde_json::to_writer_pretty(&mut w, value);
    if let Some(e) = w.take_error() {
        return Err(e);
    }
    let mut bytes = w.into_inner();
    if let Err(e) = result {
        // Serialising plain data cannot fail; keep the output valid JSON anyway.
        bytes = format!("{{\"error\": {:?}}}", e.to_string()).into_bytes();
    }
    bytes.push(b'\n');
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}
