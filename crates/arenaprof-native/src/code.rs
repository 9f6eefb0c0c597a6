//! The executable mappings of the loaded objects with their GNU build IDs:
//! what a symbolizer (pprof, Parca) needs to match addresses to binaries.
//! Read in place through `dl_iterate_phdr`; no file is opened.
//!
//! ```
//! let segs = arenaprof_native::code::segments();
//! // The test binary itself is loaded and executable.
//! assert!(segs.iter().any(|s| s.start <= s.limit && !s.path.is_empty()));
//! ```

use crate::elf::for_each_object;

/// One executable segment of a loaded object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeSegment {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address.
    pub limit: u64,
    /// Offset in the file of `start`.
    pub file_offset: u64,
    /// The object's path (the main executable's from `/proc/self/exe`).
    pub path: String,
    /// The GNU build ID in lowercase hex; empty when the object has none.
    pub build_id: String,
}

/// Longest build ID copied (SHA-1 IDs are 20 bytes).
const MAX_ID: usize = 64;

/// The executable segments of every loaded object, in the loader's order
/// (the main executable first). Buffers are reserved before the walk, so
/// nothing allocates while the loader lock is held; segments past the
/// reservation (4,096 segments, 512 KiB of names) are left out.
pub fn segments() -> Vec<CodeSegment> {
    crate::scope::internal(|| {
        const MAX: usize = 4096;
        struct Head {
            start: usize,
            limit: usize,
            offset: u64,
            name: (usize, usize),
            index: usize,
            id: [u8; MAX_ID],
            id_len: usize,
        }
        let mut heads: Vec<Head> = Vec::with_capacity(MAX);
        let mut names: Vec<u8> = Vec::with_capacity(512 << 10);
        for_each_object(&mut |o| {
            let mut id = [0u8; MAX_ID];
            let id_len = o.build_id(&mut id);
            let name_at = names.len();
            if names.len() + o.name.len() > names.capacity() {
                return false;
            }
            names.extend_from_slice(o.name);
            let mut full = false;
            o.for_each_executable_segment(&mut |start, limit, offset| {
                if heads.len() == heads.capacity() {
                    full = true;
                    return;
                }
                heads.push(Head {
                    start,
                    limit,
                    offset,
                    name: (name_at, o.name.len()),
                    index: o.index,
                    id,
                    id_len,
                });
            });
            !full
        });
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        heads
            .iter()
            .map(|h| {
                let name = String::from_utf8_lossy(&names[h.name.0..h.name.0 + h.name.1]);
                CodeSegment {
                    start: h.start as u64,
                    limit: h.limit as u64,
                    file_offset: h.offset,
                    path: if h.index == 0 && name.is_empty() {
                        exe.clone()
                    } else {
                        name.into_owned()
                    },
                    build_id: h.id[..h.id_len]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                }
            })
            .collect()
    })
}

/// The GNU build ID of the ELF file at `path`, in lowercase hex, read from
/// its headers and notes only (the file is not mapped or read whole).
/// `None` when the path is not a regular ELF file or has no build ID.
///
/// ```
/// let exe = std::env::current_exe().unwrap();
/// let segs = arenaprof_native::code::segments();
/// // The file on disk is the one that runs.
/// let id = arenaprof_native::code::file_build_id(&exe);
/// assert!(id.is_none() || segs.iter().any(|s| Some(&s.build_id) == id.as_ref()));
/// ```
pub fn file_build_id(path: &std::path::Path) -> Option<String> {
    use object::Object;
    crate::scope::internal(|| {
        // A FIFO would block the open: regular files only.
        if !std::fs::metadata(path).ok()?.is_file() {
            return None;
        }
        let file = std::fs::File::open(path).ok()?;
        let cache = object::ReadCache::new(file);
        let obj = object::File::parse(&cache).ok()?;
        let id = obj.build_id().ok()??;
        Some(id.iter().map(|b| format!("{b:02x}")).collect())
    })
}

/// Whether the object loaded from `path` with `build_id` (lowercase hex,
/// as [`CodeSegment::build_id`]) is on disk as it was loaded: a regular
/// file at its path with the same, non-empty, build ID. Its addresses can
/// then be symbolised later, from the file, by the report tool.
///
/// ```
/// let segs = arenaprof_native::code::segments();
/// let exe = &segs[0];
/// assert!(!arenaprof_native::code::on_disk(&exe.path, "00"));
/// ```
pub fn on_disk(path: &str, build_id: &str) -> bool {
    !build_id.is_empty() && file_build_id(std::path::Path::new(path)).as_deref() == Some(build_id)
}
