//! The JSON report (schema in `docs/JSON.md`).
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let back: arenaprof_report::Report =
//!     serde_json::from_str(&arenaprof_report::render::json::render(&r)).unwrap();
//! assert_eq!(back, r);
//! ```

use crate::report::Report;

/// Pretty-printed JSON, with a trailing newline.
pub fn render(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; keep the output valid JSON anyway.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    s.push('\n');
    s
}
