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

/// The name of the section that says who symbolised the sampled stacks.
///
/// Its `resolved_by` entry is [`RESOLVED_BY_REPORT`] while frames wait for
/// the report tool (the program stored return addresses only), and the
/// report tool replaces it with what it did. Other entries name objects
/// whose frames were symbolised in the program or stay addresses.
pub const SYMBOLS_SECTION: &str = "symbols";

/// `resolved_by` while the frames are return addresses for the report tool.
pub const RESOLVED_BY_REPORT: &str = "pending: the report tool symbolises from the binaries";

/// Whether a frame, innermost first, is the allocator's own (the tracker,
/// the unwinder, the standard library's allocation shims): these are
/// dropped from the top of each sampled stack once it is symbolised.
///
/// ```
/// assert!(arenaprof_snapshot::is_allocator_frame("__rust_alloc"));
/// assert!(!arenaprof_snapshot::is_allocator_frame("my_app::load"));
/// ```
pub fn is_allocator_frame(name: &str) -> bool {
    const SKIP: [&str; 14] = [
        "backtrace::",
        "arenaprof_alloc::",
        "<arenaprof_alloc::",
        "std::thread::local::",
        "<std::thread::local::",
        "__rust_alloc",
        "__rust_realloc",
        "__rust_dealloc",
        "__rustc::",
        "__rdl_",
        "alloc::alloc::",
        "<alloc::alloc::Global",
        "std::alloc::",
        "__rg_",
    ];
    SKIP.iter().any(|s| name.starts_with(s))
}

/// The placeholder name of a frame that is only a return address.
///
/// ```
/// assert_eq!(arenaprof_snapshot::address_name(0x1234), "0x1234");
/// ```
pub fn address_name(addr: u64) -> String {
    format!("{addr:#x}")
}
