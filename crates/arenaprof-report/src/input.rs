//! Loading what the commands read: a snapshot file, or a JSON report that an
//! earlier `arenaprof report --format json` wrote (for `diff` and `check`).
//!
//! Errors are values with a message for a person; nothing here panics on bad
//! input.
//!
//! ```
//! use arenaprof_report::input::{report_from_bytes, InputError};
//! let err = report_from_bytes(b"", &Default::default()).unwrap_err();
//! assert!(matches!(err, InputError::Empty));
//! ```

use crate::analysis::{analyze, Options};
use crate::report::{Report, SCHEMA, SCHEMA_VERSION};
pub use arenaprof_snapshot::Snapshot;
use arenaprof_snapshot::{FormatError, MAGIC};
use std::fmt;
use std::path::Path;

/// Why an input could not be used.
#[derive(Debug)]
pub enum InputError {
    /// The file could not be read.
    Io(String, std::io::Error),
    /// The file is empty.
    Empty,
    /// A snapshot that does not decode.
    Snapshot(FormatError),
    /// A JSON document that is not a report of a known schema version.
    Json(String),
    /// Neither a snapshot nor a JSON report.
    Unknown,
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
        }
    }
}

impl std::error::Error for InputError {}

/// Reads a snapshot file.
pub fn snapshot(path: &Path) -> Result<Snapshot, InputError> {
    let bytes = read(path)?;
    snapshot_from_bytes(&bytes)
}

/// Decodes a snapshot file image.
pub fn snapshot_from_bytes(bytes: &[u8]) -> Result<Snapshot, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    Snapshot::from_bytes(bytes).map_err(InputError::Snapshot)
}

fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|e| InputError::Io(path.display().to_string(), e))
}

/// Reads a report: analyses a snapshot, or parses a JSON report.
pub fn report(path: &Path, opts: &Options) -> Result<Report, InputError> {
    let bytes = read(path)?;
    report_from_bytes(&bytes, opts)
}

/// Like [`report`], from bytes.
pub fn report_from_bytes(bytes: &[u8], opts: &Options) -> Result<Report, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return parse_json(bytes);
    }
    if bytes.starts_with(&MAGIC) || MAGIC.starts_with(bytes) {
        let snap = snapshot_from_bytes(bytes)?;
        return Ok(analyze(&snap, opts));
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
            "\"schema\" is {:?}, expected {SCHEMA:?}",
            head.schema.unwrap_or_default()
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
