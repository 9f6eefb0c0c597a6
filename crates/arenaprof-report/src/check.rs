//! `arenaprof check`: gates a report against thresholds, for CI.
//!
//! Each threshold reads one JSON field of the report (`docs/JSON.md`):
//!
//! | threshold | field |
//! |---|---|
//! | `max_wasted` | `retention_worst.wasted_bytes` (the worst moment of the run), or `retention.wasted_bytes` (the end) with `wasted_at_end` or when the report has no worst picture |
//! | `max_live` | `totals.live_bytes` |
//! | `max_peak` | `totals.peak_bytes` |
//! | `max_rss` | `memory.rss_bytes` |
//! | `max_outside` | `memory.outside_allocator_resident_bytes` |
//! | `max_virtual` | `memory.virtual_bytes` (VmSize) |
//! | `max_tag` NAME=SIZE | `tags[name].live_bytes` |
//! | `max_tag_peak` NAME=SIZE | `tags[name].peak_bytes` |
//!
//! A tag threshold that names no tag of the report is refused by [`validate`]
//! (the command exits 2 naming the tags there are); [`check`] itself counts
//! it as 0 with a note. [`Outcome::to_json`] is the machine-readable verdict.
//!
//! When several tag rows share a name (a user tag called `other-tags` beside
//! the allocator's overflow row), a tag threshold checks every one of them, each
//! named `tags[NAME#ID]`, and a note says so: no row is silently preferred.
//! Names in messages are escaped and cut ([`crate::sanitize`]).
//!
//! ```
//! use arenaprof_report::check::{check, Thresholds};
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let out = check(&r, &Thresholds { max_wasted: Some(0), ..Default::default() });
//! assert!(out.violations.is_empty());
//! ```

use crate::model::{Report, TagRow};
use crate::sanitize::{line, name};
use crate::units::{format_bytes, parse_size};
use std::collections::HashMap;

/// The thresholds to check; `None` or absent means unchecked.
#[derive(Clone, Debug, Default)]
pub struct Thresholds {
    /// Most wasted arena bytes in total, at the run's worst moment (at the
    /// end with `wasted_at_end`).
    pub max_wasted: Option<u64>,
    /// Gate `max_wasted` on the end state (`retention`) instead of the
    /// worst moment (`retention_worst`).
    pub wasted_at_end: bool,
    /// Most live bytes at the end.
    pub max_live: Option<u64>,
    /// Most peak live bytes.
    pub max_peak: Option<u64>,
    /// Most resident bytes.
    pub max_rss: Option<u64>,
    /// Most resident bytes outside the allocator (needs mapping measurements).
    pub max_outside: Option<u64>,
    /// Most virtual bytes, VmSize (needs mapping measurements).
    pub max_virtual: Option<u64>,
    /// Most live bytes per tag at the end.
    pub max_tag: Vec<(String, u64)>,
    /// Most peak bytes per tag.
    pub max_tag_peak: Vec<(String, u64)>,
}

/// One violated limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The JSON field checked, e.g. `retention.wasted_bytes`.
    pub field: String,
    /// Its value.
    pub value: u64,
    /// The limit.
    pub max: u64,
    /// One line for a person.
    pub message: String,
}

/// The result of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Violated limits, one line each.
    pub violations: Vec<Violation>,
    /// Thresholds that were checked and held.
    pub passed: Vec<String>,
    /// Remarks, e.g. a tag that does not occur in the report.
    pub notes: Vec<String>,
    /// Every limit checked, in order, held or not (for `--format json`).
    pub results: Vec<ThresholdResult>,
}

/// One limit and what was measured against it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ThresholdResult {
    /// The option, e.g. `--max-tag gemm-workspace=`.
    pub limit_flag: String,
    /// The JSON field checked, e.g. `tags[gemm-workspace].live_bytes`.
    pub field: String,
    /// Its value in bytes; `None` when it was not measured (which fails).
    pub measured: Option<u64>,
    /// The limit in bytes.
    pub limit: u64,
    /// Whether the limit held.
    pub pass: bool,
    /// One line for a person.
    pub message: String,
}

impl Outcome {
    /// Records a limit that could not be checked (a failure) or was.
    pub(crate) fn record(
        &mut self,
        field: &str,
        flag: &str,
        measured: Option<u64>,
        max: u64,
        message: String,
    ) {
        let pass = measured.is_some_and(|v| v <= max);
        if pass {
            self.passed.push(message.clone());
        } else {
            self.violations.push(Violation {
                field: field.to_owned(),
                value: measured.unwrap_or(0),
                max,
                message: message.clone(),
            });
        }
        self.results.push(ThresholdResult {
            limit_flag: flag.trim_end().to_owned(),
            field: field.to_owned(),
            measured,
            limit: max,
            pass,
            message,
        });
    }

    /// Checks `value` against `max`; `why` is appended to a violation.
    pub(crate) fn check(&mut self, field: &str, flag: &str, value: u64, max: u64, why: String) {
        let message = if value > max {
            format!(
                "{field} = {} exceeds {flag}{}{why}",
                format_bytes(value),
                format_bytes(max)
            )
        } else {
            format!(
                "{field} = {} within {flag}{}",
                format_bytes(value),
                format_bytes(max)
            )
        };
        self.record(field, flag, Some(value), max, message);
    }

    /// The machine-readable verdict (`arenaprof check --format json`):
    /// `{"schema": "arenaprof-check", "schema_version": 1, "pass": ...,
    /// "limits": [{"limit_flag", "field", "measured", "limit", "pass",
    /// "message"}], "notes": [...]}`, sizes in bytes.
    ///
    /// ```
    /// use arenaprof_report::check::{check, Thresholds};
    /// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
    /// let out = check(&r, &Thresholds { max_live: Some(1024), ..Default::default() });
    /// let v: serde_json::Value = serde_json::from_str(&out.to_json()).unwrap();
    /// assert_eq!(v["pass"], true);
    /// assert_eq!(v["limits"][0]["field"], "totals.live_bytes");
    /// assert_eq!((v["limits"][0]["measured"].as_u64(), v["limits"][0]["limit"].as_u64()), (Some(0), Some(1024)));
    /// ```
    pub fn to_json(&self) -> String {
        let v = serde_json::json!({
            "schema": "arenaprof-check",
            "schema_version": 1,
            "pass": self.violations.is_empty(),
            "limits": self.results,
            "notes": self.notes,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Why limits cannot be checked at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// A tag threshold names tags the report does not have (a typo would
    /// otherwise pass as 0 bytes).
    #[error("unknown tag{} {} in the limits; tags in the report: {known}", if .unknown.len() == 1 { "" } else { "s" }, .unknown.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", "))]
    UnknownTags {
        /// The names given that match no tag (escaped).
        unknown: Vec<String>,
        /// The tags the report has, escaped, comma-separated (the first 20,
        /// then how many more).
        known: String,
    },
}

/// Refuses tag thresholds that name no tag of the report.
///
/// ```
/// use arenaprof_report::check::{validate, Thresholds};
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// let limits = Thresholds { max_tag: vec![("gemm-worksapce".into(), 1)], ..Default::default() };
/// let e = validate(&r, &limits).unwrap_err();
/// assert!(e.to_string().starts_with("unknown tag \"gemm-worksapce\""));
/// ```
pub fn validate(r: &Report, limits: &Thresholds) -> Result<(), CheckError> {
    let mut unknown: Vec<String> = Vec::new();
    for (tag, _) in limits.max_tag.iter().chain(&limits.max_tag_peak) {
        let shown = name(tag).into_owned();
        if !r.tags.iter().any(|t| &t.name == tag) && !unknown.contains(&shown) {
            unknown.push(shown);
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CheckError::UnknownTags {
        unknown,
        known: known_tags(r),
    })
}

fn known_tags(r: &Report) -> String {
    const KNOWN: usize = 20;
    if r.tags.is_empty() {
        return "none".to_owned();
    }
    let mut known = r
        .tags
        .iter()
        .take(KNOWN)
        .map(|t| name(&t.name))
        .collect::<Vec<_>>()
        .join(", ");
    if r.tags.len() > KNOWN {
        known.push_str(&format!(" and {} more", r.tags.len() - KNOWN));
    }
    known
}

/// Parses `NAME=SIZE`, e.g. `gemm-workspace=16MiB`.
///
/// ```
/// use arenaprof_report::check::{parse_tag_threshold, TagThresholdError};
/// assert_eq!(
///     parse_tag_threshold("gemm-workspace=16MiB"),
///     Ok(("gemm-workspace".to_string(), 16 << 20))
/// );
/// assert!(matches!(parse_tag_threshold("=1"), Err(TagThresholdError::EmptyName(_))));
/// ```
pub fn parse_tag_threshold(s: &str) -> Result<(String, u64), TagThresholdError> {
    let (name, size) = s
        .rsplit_once('=')
        .ok_or_else(|| TagThresholdError::NoSize(s.to_owned()))?;
    if name.is_empty() {
        return Err(TagThresholdError::EmptyName(s.to_owned()));
    }
    let n = parse_size(size)?;
    Ok((name.to_owned(), n))
}

/// The former name of [`Thresholds`] ("limits" now means a scoped thread
/// cap only, as in `blas::limits`).
#[deprecated(since = "0.3.0", note = "renamed to `Thresholds`")]
pub type Limits = Thresholds;

/// The former name of [`ThresholdResult`].
#[deprecated(since = "0.3.0", note = "renamed to `ThresholdResult`")]
pub type LimitResult = ThresholdResult;

/// The former name of [`parse_tag_threshold`].
#[deprecated(since = "0.3.0", note = "renamed to `parse_tag_threshold`")]
pub fn parse_tag_limit(s: &str) -> Result<(String, u64), TagThresholdError> {
    parse_tag_threshold(s)
}

/// Why [`parse_tag_threshold`] refused its argument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TagThresholdError {
    /// No `=SIZE` part (the argument given).
    #[error("invalid tag threshold {0:?}: expected NAME=SIZE, e.g. gemm-workspace=16MiB")]
    NoSize(String),
    /// An empty tag name (the argument given).
    #[error("invalid tag threshold {0:?}: empty tag name")]
    EmptyName(String),
    /// The size does not parse.
    #[error(transparent)]
    Size(#[from] crate::units::SizeError),
}

/// Checks `r` against `limits`.
pub fn check(r: &Report, limits: &Thresholds) -> Outcome {
    let mut out = Outcome::default();
    if let Some(max) = limits.max_wasted {
        // The worst moment unless asked for the end (or none was recorded);
        // the end too if it is higher (a worst below the capture's
        // hysteresis step).
        let worst = r.retention_worst.as_ref().filter(|w| {
            !limits.wasted_at_end && w.summary.wasted_bytes >= r.retention.wasted_bytes
        });
        let (field, value, arenas, when) = match worst {
            Some(w) => (
                "retention_worst.wasted_bytes",
                w.summary.wasted_bytes,
                &w.arena_rows,
                format!(" at {}", crate::units::format_ns(w.t_ns)),
            ),
            None => (
                "retention.wasted_bytes",
                r.retention.wasted_bytes,
                &r.arenas,
                String::new(),
            ),
        };
        let why = arenas
            .iter()
            .find(|a| a.wasted_bytes > 0)
            .map(|a| {
                let by = a
                    .retainers
                    .first()
                    .map(|v| {
                        format!(
                            ", pinned by view #{} ({} at {})",
                            v.view,
                            name(&v.op),
                            name(&v.site)
                        )
                    })
                    .unwrap_or_default();
                let fix = a
                    .fix
                    .as_ref()
                    .map(|f| format!("; fix: {}", line(&f.text)))
                    .unwrap_or_default();
                format!(
                    "{when}: largest is arena #{} ({} at {}, {} wasted){by}{fix}",
                    a.id,
                    name(&a.op),
                    name(&a.site),
                    format_bytes(a.wasted_bytes)
                )
            })
            .unwrap_or_default();
        out.check(field, "--max-wasted ", value, max, why);
    }
    if let Some(max) = limits.max_live {
        out.check(
            "totals.live_bytes",
            "--max-live ",
            r.totals.live_bytes,
            max,
            String::new(),
        );
    }
    if let Some(max) = limits.max_peak {
        let why = format!(
            " (peak at {})",
            crate::units::format_ns(r.totals.peak_at_ns)
        );
        out.check(
            "totals.peak_bytes",
            "--max-peak ",
            r.totals.peak_bytes,
            max,
            why,
        );
    }
    if let Some(max) = limits.max_rss {
        out.check(
            "memory.rss_bytes",
            "--max-rss ",
            r.memory.rss_bytes,
            max,
            String::new(),
        );
    }
    check_outside_limits(r, limits.max_outside, limits.max_virtual, &mut out);
    let mut by_name: HashMap<&str, Vec<&TagRow>> = HashMap::new();
    for t in &r.tags {
        by_name.entry(t.name.as_str()).or_default().push(t);
    }
    for (list, flag, peak) in [
        (&limits.max_tag, "--max-tag ", false),
        (&limits.max_tag_peak, "--max-tag-peak ", true),
    ] {
        for (tag, max) in list {
            let rows = by_name.get(tag.as_str()).map_or(&[][..], Vec::as_slice);
            let shown = name(tag);
            if rows.is_empty() {
                let known = known_tags(r);
                out.notes.push(format!(
                    "tag \"{shown}\" does not occur in the report (counted as 0); known tags: {known}"
                ));
            }
            if rows.len() > 1 {
                out.notes.push(format!(
                    "{} tags are named \"{shown}\" (ids {}); the limit applies to each",
                    rows.len(),
                    {
                        let mut ids: Vec<u16> = rows.iter().map(|t| t.id).collect();
                        ids.sort_unstable();
                        ids.iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
            let zero = TagRow::default();
            let checked: Vec<(&TagRow, String)> = if rows.is_empty() {
                vec![(&zero, format!("tags[{shown}]"))]
            } else if rows.len() == 1 {
                vec![(rows[0], format!("tags[{shown}]"))]
            } else {
                rows.iter()
                    .map(|t| (*t, format!("tags[{shown}#{}]", t.id)))
                    .collect()
            };
            for (row, key) in checked {
                let c = row.counters;
                let (field, value) = if peak {
                    (format!("{key}.peak_bytes"), c.peak_bytes)
                } else {
                    (format!("{key}.live_bytes"), c.live_bytes)
                };
                out.check(
                    &field,
                    &format!("{flag}{shown}="),
                    value,
                    *max,
                    String::new(),
                );
            }
        }
    }
    out
}

/// `--max-outside` and `--max-virtual`: the largest resident bytes outside
/// the allocator and the largest VmSize. A report without mapping
/// measurements fails either limit with a message saying so (a gate that
/// cannot be evaluated must not pass).
fn check_outside_limits(
    r: &Report,
    max_outside: Option<u64>,
    max_virtual: Option<u64>,
    out: &mut Outcome,
) {
    let m = &r.memory;
    for (max, field, flag, value, why) in [
        (
            max_outside,
            "memory.outside_allocator_resident_bytes",
            "--max-outside ",
            m.outside_allocator_resident_bytes,
            m.outside_allocator
                .first()
                .map(|o| {
                    format!(
                        ": largest is {} ({}, {} resident, {} virtual)",
                        o.object,
                        o.label,
                        format_bytes(o.resident_bytes),
                        format_bytes(o.virtual_bytes)
                    )
                })
                .unwrap_or_default(),
        ),
        (
            max_virtual,
            "memory.virtual_bytes",
            "--max-virtual ",
            m.virtual_bytes,
            m.outside_allocator
                .iter()
                .max_by_key(|o| o.virtual_bytes)
                .map(|o| {
                    format!(
                        ": largest is {} ({}, {} virtual in {} mappings)",
                        o.object,
                        o.label,
                        format_bytes(o.virtual_bytes),
                        o.mappings
                    )
                })
                .unwrap_or_default(),
        ),
    ] {
        let Some(max) = max else { continue };
        if !m.measured {
            out.record(
                field,
                flag,
                None,
                max,
                format!(
                    "{field} was not measured, so {flag}{} cannot be checked ({})",
                    format_bytes(max),
                    m.notes.first().map_or(
                        "the snapshot has no mapping measurements: format version 1, or ARENAPROF_NATIVE=off",
                        |n| n.as_str()
                    )
                ),
            );
        } else {
            out.check(field, flag, value, max, why);
        }
    }
}
