//! Loading what the commands read: a snapshot file, or a JSON report that an
//! earlier `arenaprof report --format json` wrote (for `diff` and `check`).
//!
//! Errors are values with a message for a person; nothing here panics on bad
//! input. Inputs must be regular files of at most [`MAX_INPUT_BYTES`] (a
//! FIFO or `/dev/zero` is refused at once), or standard input when the path
//! is `-` (read to its end, refused past the same limit), and each comes with the
//! [`Budget`] of its size, which the analysis and the renderers share.
//!
//! ```
//! use arenaprof_report::input::{report_from_bytes, InputError};
//! let err = report_from_bytes(b"", &Default::default()).unwrap_err();
//! assert!(matches!(err, InputError::Empty));
//! ```

use crate::analysis::{analyze_within, Options};
use crate::budget::{Budget, BudgetError};
use crate::model::{Report, SCHEMA, SCHEMA_VERSION};
use arenaprof_snapshot::read_input;
pub use arenaprof_snapshot::Snapshot;
use arenaprof_snapshot::{FormatError, MAGIC, MAX_INPUT_BYTES};
use std::fmt;
use std::path::Path;

/// Why an input could not be used.
#[derive(Debug)]
pub enum InputError {
    /// The file could not be read (missing, not a regular file, over
    /// [`MAX_INPUT_BYTES`]).
    Io(String, std::io::Error),
    /// The file is empty.
    Empty,
    /// A snapshot that does not decode.
    Snapshot(FormatError),
    /// A JSON document that is not a report of a known schema version.
    Json(String),
    /// Neither a snapshot nor a JSON report.
    Unknown,
    /// The analysis would exceed the input's budget ([`crate::budget`]).
    Budget(BudgetError),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Io(p, e) => write!(f, "cannot read {p}: {e}"),
            InputError::Empty => write!(f, "empty file: not an arenaprof snapshot"),
            InputError::Snapshot(e) => write!(f, "{e}"),
            InputError::Json(e) => write!(f, "not a usable JSON report: {e}"),
            InputError::Unknown => write!(
                f,
                "not an arenaprof snapshot (no \"ARENAPRF\" magic) nor a JSON report"
            ),
            InputError::Budget(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for InputError {}

impl From<BudgetError> for InputError {
    fn from(e: BudgetError) -> Self {
        InputError::Budget(e)
    }
}

/// Reads a snapshot file (a regular file of at most [`MAX_INPUT_BYTES`]).
pub fn snapshot(path: &Path) -> Result<Snapshot, InputError> {
    snapshot_budgeted(path).map(|(s, _)| s)
}

/// Reads a snapshot file, with the budget of its size for what the
/// commands then make of it.
pub fn snapshot_budgeted(path: &Path) -> Result<(Snapshot, Budget), InputError> {
    let bytes = read_bytes(path)?;
    let budget = Budget::for_input(bytes.len() as u64);
    Ok((snapshot_from_bytes(&bytes)?, budget))
}

/// Decodes a snapshot file image, and symbolises the stacks its program
/// left to the report tool ([`crate::symbols::resolve`]).
pub fn snapshot_from_bytes(bytes: &[u8]) -> Result<Snapshot, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    let mut snap = Snapshot::from_bytes(bytes).map_err(InputError::Snapshot)?;
    crate::symbols::resolve(&mut snap);
    Ok(snap)
}

/// Reads `path`: a regular file (FIFOs, devices and directories are refused
/// at once, without blocking) of at most [`MAX_INPUT_BYTES`].
/// Whether `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads standard input to its end, at most `max` bytes (more is refused
/// without reading further than `max + 1`).
pub(crate) fn read_stdin(max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("more than the {max}-byte input limit"),
        ));
    }
    Ok(bytes)
}

/// The bytes of `path` (standard input for `-`), as every loader here
/// reads them: a regular file, or the stream, of at most
/// [`MAX_INPUT_BYTES`].
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    if is_stdin(path) {
        return read_stdin(MAX_INPUT_BYTES)
            .map_err(|e| InputError::Io("standard input".to_owned(), e));
    }
    read_input(path, MAX_INPUT_BYTES).map_err(|e| InputError::Io(path.display().to_string(), e))
}

/// Reads a report: analyses a snapshot, or parses a JSON report.
pub fn report(path: &Path, opts: &Options) -> Result<Report, InputError> {
    report_budgeted(path, opts).map(|(r, _)| r)
}

/// Like [`report`], with the input's budget less what the analysis spent,
/// for rendering.
pub fn report_budgeted(path: &Path, opts: &Options) -> Result<(Report, Budget), InputError> {
    let bytes = read_bytes(path)?;
    let mut budget = Budget::for_input(bytes.len() as u64);
    let r = report_from_bytes_within(&bytes, opts, &mut budget)?;
    Ok((r, budget))
}

/// Like [`report_budgeted`], also returning the snapshot when the input was
/// one (`None` for a JSON report), for renderers that draw its stacks (the
/// HTML page's flame graph).
pub fn report_and_snapshot_budgeted(
    path: &Path,
    opts: &Options,
) -> Result<(Report, Option<Snapshot>, Budget), InputError> {
    let bytes = read_bytes(path)?;
    let mut budget = Budget::for_input(bytes.len() as u64);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && (bytes.starts_with(&MAGIC) || MAGIC.starts_with(&bytes)) {
        let snap = snapshot_from_bytes(&bytes)?;
        let r = analyze_within(&snap, opts, &mut budget)?;
        return Ok((r, Some(snap), budget));
    }
    let r = report_from_bytes_within(&bytes, opts, &mut budget)?;
    Ok((r, None, budget))
}

/// Like [`report`], from bytes, within the budget of their size.
pub fn report_from_bytes(bytes: &[u8], opts: &Options) -> Result<Report, InputError> {
    report_from_bytes_within(bytes, opts, &mut Budget::for_input(bytes.len() as u64))
}

/// Like [`report_from_bytes`], charging the analysis to `budget`.
pub fn report_from_bytes_within(
    bytes: &[u8],
    opts: &Options,
    budget: &mut Budget,
) -> Result<Report, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return parse_json(bytes);
    }
    if bytes.starts_with(&MAGIC) || MAGIC.starts_with(bytes) {
        let snap = snapshot_from_bytes(bytes)?;
        return Ok(analyze_within(&snap, opts, budget)?);
    }
    Err(InputError::Unknown)
}

fn parse_json(bytes: &[u8]) -> Result<Report, InputError> {
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
        schema_version: Option<u32>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| InputError::Json(e.to_string()))?;
    if head.schema.as_deref() != Some(SCHEMA) {
        return Err(InputError::Json(format!(
            "\"schema\" is \"{}\", expected {SCHEMA:?}",
            crate::sanitize::name(&head.schema.unwrap_or_default())
        )));
    }
    if head.schema_version != Some(SCHEMA_VERSION) {
        return Err(InputError::Json(format!(
            "schema_version {:?} is not supported (this reader knows {SCHEMA_VERSION})",
            head.schema_version
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| InputError::Json(e.to_string()))
}
