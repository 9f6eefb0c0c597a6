//! The `.arenaprof` file format (see `docs/FORMAT.md`).
//!
//! ```text
//! offset size  field
//! 0      8     magic  "ARENAPRF"
//! 8      4     format version, u32 little-endian (currently 4; 1 to 3 are still read)
//! 12     4     flags, u32 LE (0; reserved)
//! 16     8     payload length in bytes, u64 LE
//! 24     4     CRC-32 (IEEE) of the payload, u32 LE
//! 28     n     payload: the Snapshot, postcard-encoded
//! ```

use crate::Snapshot;
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// First eight bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"ARENAPRF";
/// The format version this crate writes (and reads).
pub const FORMAT_VERSION: u32 = 4;
/// The oldest format version this crate still reads: version 1 (no
/// `native` section) decodes into a [`Snapshot`] whose
/// [`native.measured`](crate::NativeMemory::measured) is false; version 2
/// (no `code` section) into one whose [`code`](crate::CodeMap) is empty;
/// version 3 (no `retention` history) into one whose
/// [`retention`](crate::RetentionHistory) is empty (`tracked` false).
pub const OLDEST_READABLE_VERSION: u32 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 28;

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file is shorter than its header says.
    #[error("truncated snapshot: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises (header included).
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The first bytes are not `ARENAPRF`.
    #[error("not an arenaprof snapshot (bad magic; expected \"ARENAPRF\")")]
    BadMagic,
    /// Written by a format version this reader does not know.
    #[error("unsupported snapshot format version {0} (this reader knows versions {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    /// The payload's checksum does not match.
    #[error(
        "corrupt snapshot: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    ChecksumMismatch {
        /// CRC stored in the header.
        stored: u32,
        /// CRC of the bytes read.
        computed: u32,
    },
    /// The payload does not decode as a snapshot.
    #[error("corrupt snapshot: payload does not decode: {0}")]
    Decode(String),
    /// Extra bytes after the payload.
    #[error("corrupt snapshot: {0} unexpected bytes after the payload")]
    TrailingBytes(u64),
    /// An I/O error, with the path.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

impl Snapshot {
    /// Encodes the snapshot as a complete file image (header and payload).
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let payload = postcard::to_stdvec(self).map_err(|e| FormatError::Decode(e.to_string()))?;
        Ok(image(FORMAT_VERSION, &payload))
    }

    /// Size of [`Snapshot::to_bytes`]' image, computed without building it.
    ///
    /// ```
    /// let s = arenaprof_snapshot::Snapshot::default();
    /// assert_eq!(s.encoded_len(), s.to_bytes().unwrap().len());
    /// ```
    pub fn encoded_len(&self) -> usize {
        let payload = postcard::serialize_with_flavor::<_, postcard::ser_flavors::Size, usize>(
            self,
            postcard::ser_flavors::Size::default(),
        )
        .unwrap_or(0);
        HEADER_LEN + payload
    }

    /// Decodes a complete file image. Never panics on bad input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, FormatError> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
                return Err(FormatError::Truncated {
                    expected: HEADER_LEN as u64,
                    found: bytes.len() as u64,
                });
            }
            return Err(FormatError::BadMagic);
        }
        if bytes.len() < HEADER_LEN {
            return Err(FormatError::Truncated {
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            });
        }
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap_or([0; 4]));
        let version = u32_at(8);
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let len = u64::from_le_bytes(bytes[16..24].try_into().unwrap_or([0; 8]));
        let stored = u32_at(24);
        let body = &bytes[HEADER_LEN..];
        let expected = (HEADER_LEN as u64).saturating_add(len);
        if (body.len() as u64) < len {
            return Err(FormatError::Truncated {
                expected,
                found: bytes.len() as u64,
            });
        }
        if body.len() as u64 > len {
            return Err(FormatError::TrailingBytes(body.len() as u64 - len));
        }
        let computed = crc32fast::hash(body);
        if computed != stored {
            return Err(FormatError::ChecksumMismatch { stored, computed });
        }
        let (snap, rest): (Snapshot, &[u8]) = if version == 1 {
            let (v1, rest): (SnapshotV1, &[u8]) =
                postcard::take_from_bytes(body).map_err(|e| FormatError::Decode(e.to_string()))?;
            (v1.into(), rest)
        } else if version == 2 {
            // Postcard writes a struct as its fields in order: version 2's
            // payload is version 1's fields, then `native`.
            let ((v1, native), rest): ((SnapshotV1, crate::NativeMemory), &[u8]) =
                postcard::take_from_bytes(body).map_err(|e| FormatError::Decode(e.to_string()))?;
            let mut snap = Snapshot::from(v1);
            snap.native = native;
            (snap, rest)
        } else if version == 3 {
            // Version 3: version 2's fields, then `code`.
            let ((v1, native, code), rest): (
                (SnapshotV1, crate::NativeMemory, crate::CodeMap),
                &[u8],
            ) = postcard::take_from_bytes(body).map_err(|e| FormatError::Decode(e.to_string()))?;
            let mut snap = Snapshot::from(v1);
            snap.native = native;
            snap.code = code;
            (snap, rest)
        } else {
            postcard::take_from_bytes(body).map_err(|e| FormatError::Decode(e.to_string()))?
        };
        if !rest.is_empty() {
            return Err(FormatError::TrailingBytes(rest.len() as u64));
        }
        Ok(snap)
    }

    /// Reads a snapshot file: a regular file of at most [`MAX_INPUT_BYTES`]
    /// (see [`read_input`]), decoded by [`Snapshot::from_bytes`].
    pub fn read(path: impl AsRef<Path>) -> Result<Snapshot, FormatError> {
        let path = path.as_ref();
        let bytes = read_input(path, MAX_INPUT_BYTES)
            .map_err(|e| FormatError::Io(path.display().to_string(), e))?;
        Snapshot::from_bytes(&bytes)
    }

    /// Writes a snapshot file atomically (see [`write_atomic`]): a crash
    /// never leaves a half-written file under the final name, concurrent
    /// writers each leave one complete snapshot, and no symbolic link in the
    /// directory is followed.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), FormatError> {
        let bytes = self.to_bytes()?;
        write_atomic(path.as_ref(), &bytes)
    }
}

/// The version-1 payload: today's [`Snapshot`] without the trailing
/// `native` section (postcard has no field names, so the old field list is
/// spelled out).
#[derive(Deserialize)]
struct SnapshotV1 {
    meta: crate::Meta,
    tags: Vec<crate::TagStats>,
    threads: Vec<crate::ThreadStats>,
    total: crate::Counters,
    timeline: crate::Timeline,
    heap: crate::HeapProfile,
    process: crate::ProcessStats,
    overhead: crate::Overhead,
    registry: crate::Registry,
    sections: Vec<crate::Section>,
}

impl From<SnapshotV1> for Snapshot {
    fn from(v: SnapshotV1) -> Snapshot {
        Snapshot {
            meta: v.meta,
            tags: v.tags,
            threads: v.threads,
            total: v.total,
            timeline: v.timeline,
            heap: v.heap,
            process: v.process,
            overhead: v.overhead,
            registry: v.registry,
            sections: v.sections,
            native: crate::NativeMemory {
                notes: vec![
                    "snapshot format version 1: no mapping measurements (memory outside the allocator, BLAS runtimes)".into(),
                ],
                ..Default::default()
            },
            code: crate::CodeMap::default(),
            retention: Default::default(),
        }
    }
}

/// Encodes `snap` as a version-3 file image (no `retention` history).
/// For tests of the reader's compatibility.
///
/// ```
/// let mut s = arenaprof_snapshot::Snapshot::default();
/// s.code.mappings.push(Default::default());
/// s.retention.tracked = true;
/// let back = arenaprof_snapshot::Snapshot::from_bytes(&arenaprof_snapshot::to_bytes_v3(&s).unwrap()).unwrap();
/// assert_eq!(back.code.mappings.len(), 1);
/// assert!(!back.retention.tracked);
/// ```
pub fn to_bytes_v3(snap: &Snapshot) -> Result<Vec<u8>, FormatError> {
    let mut payload = to_payload_v1(snap)?;
    for part in [
        postcard::to_stdvec(&snap.native),
        postcard::to_stdvec(&snap.code),
    ] {
        payload.extend(part.map_err(|e| FormatError::Decode(e.to_string()))?);
    }
    Ok(image(3, &payload))
}

/// Encodes `snap` as a version-2 file image (no `code` section): what a
/// 0.2 writer produced. For tests of the reader's compatibility.
///
/// ```
/// let mut s = arenaprof_snapshot::Snapshot::default();
/// s.native.measured = true;
/// s.code.mappings.push(Default::default());
/// let back = arenaprof_snapshot::Snapshot::from_bytes(&arenaprof_snapshot::to_bytes_v2(&s).unwrap()).unwrap();
/// assert!(back.native.measured);
/// assert!(back.code.mappings.is_empty());
/// ```
pub fn to_bytes_v2(snap: &Snapshot) -> Result<Vec<u8>, FormatError> {
    let mut payload = to_payload_v1(snap)?;
    payload
        .extend(postcard::to_stdvec(&snap.native).map_err(|e| FormatError::Decode(e.to_string()))?);
    Ok(image(2, &payload))
}

fn image(version: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Encodes `snap` as a version-1 file image (no `native` section): what a
/// 0.1 writer produced. For tests of the reader's compatibility.
///
/// ```
/// let mut s = arenaprof_snapshot::Snapshot::default();
/// s.meta.program = "old".into();
/// let back = arenaprof_snapshot::Snapshot::from_bytes(&arenaprof_snapshot::to_bytes_v1(&s).unwrap()).unwrap();
/// assert_eq!(back.meta.program, "old");
/// assert!(!back.native.measured);
/// ```
pub fn to_bytes_v1(snap: &Snapshot) -> Result<Vec<u8>, FormatError> {
    Ok(image(1, &to_payload_v1(snap)?))
}

fn to_payload_v1(snap: &Snapshot) -> Result<Vec<u8>, FormatError> {
    let mut payload = Vec::new();
    for part in [
        postcard::to_stdvec(&snap.meta),
        postcard::to_stdvec(&snap.tags),
        postcard::to_stdvec(&snap.threads),
        postcard::to_stdvec(&snap.total),
        postcard::to_stdvec(&snap.timeline),
        postcard::to_stdvec(&snap.heap),
        postcard::to_stdvec(&snap.process),
        postcard::to_stdvec(&snap.overhead),
        postcard::to_stdvec(&snap.registry),
        postcard::to_stdvec(&snap.sections),
    ] {
        payload.extend(part.map_err(|e| FormatError::Decode(e.to_string()))?);
    }
    Ok(payload)
}

/// Largest input [`read_input`] accepts by default, and [`Snapshot::read`]
/// always: 256 MiB. A snapshot of a million sampled records and 100,000
/// views is about 27 MiB.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Reads the whole of `path`, which must be a regular file (after following
/// symbolic links) of at most `max` bytes.
///
/// The file is opened without blocking and without becoming a controlling
/// terminal, then checked with `fstat` on the open descriptor, so a FIFO, a
/// socket, a terminal, a directory or a device such as `/dev/zero` is
/// refused at once instead of blocking or being read until memory runs out.
/// At most `max + 1` bytes are ever read, even from a file that grows while
/// it is read.
///
/// ```
/// use arenaprof_snapshot::read_input;
/// let err = read_input(std::path::Path::new("/dev/zero"), 1 << 20).unwrap_err();
/// assert!(err.to_string().contains("not a regular file"));
/// ```
pub fn read_input(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("not a regular file ({})", file_kind(&meta.file_type())),
        ));
    }
    let too_large = |n: u64| {
        Error::new(
            ErrorKind::FileTooLarge,
            format!("{n} bytes is more than the {max}-byte input limit"),
        )
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    // Files in /proc say 0 and still have content: read to the end, bounded.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// A file being written under a temporary name next to its final path;
/// [`AtomicFile::commit`] syncs it and renames it over the final path.
///
/// The temporary file is created by [`tempfile`] with `O_CREAT | O_EXCL`
/// and a random name (`.NAME.XXXXXXXX.tmp`), so a symbolic link planted at
/// any name in the directory is never followed and two writers never share
/// a temporary file. The rename replaces the final *directory entry*: if it
/// is a symbolic link, the link is replaced, not followed. Dropped without a
/// commit, the temporary file is removed.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.txt");
/// let mut f = arenaprof_snapshot::AtomicFile::create(&path).unwrap();
/// f.write_all(b"hello").unwrap();
/// f.commit().unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file in `path`'s directory.
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path.file_name().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name")
        })?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            // Like File::create: 0666 less the umask (tempfile's default is 0600).
            use std::os::unix::fs::PermissionsExt;
            b.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = b.tempfile_in(dir)?;
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Syncs the data, renames the file over the final path and syncs the
    /// directory (best effort).
    pub fn commit(self) -> std::io::Result<()> {
        self.tmp.as_file().sync_all()?;
        let dir = self.tmp.path().parent().map(Path::to_path_buf);
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        if let Some(d) = dir {
            if let Ok(d) = std::fs::File::open(d) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// Writes `bytes` to `path` through an [`AtomicFile`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let io = |e| FormatError::Io(path.display().to_string(), e);
    let mut f = AtomicFile::create(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.commit().map_err(io)
}
