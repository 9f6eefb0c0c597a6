//! The program's code as symbolizers see it: the executable mappings of
//! the loaded objects with their GNU build IDs (format version 3; empty in
//! older files). pprof profiles carry them as mappings, so Parca and
//! `go tool pprof` can match a profile to its binaries.

use serde::{Deserialize, Serialize};

/// The executable mappings at snapshot time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMap {
    /// Executable mappings, the main executable's first.
    pub mappings: Vec<CodeMapping>,
    /// The return address each frame of the heap profile was resolved
    /// from, index by index with `HeapProfile::frames` (0: unknown); the
    /// frames inlined at one address share it.
    pub frame_addresses: Vec<u64>,
}

/// One executable mapping of a loaded object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub limit: u64,
    /// Offset in the file of `start`.
    pub file_offset: u64,
    /// The object's path.
    pub path: String,
    /// GNU build ID, lowercase hex; empty when the object has none.
    pub build_id: String,
}
