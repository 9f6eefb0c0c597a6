//! Symbolising a snapshot's sampled stacks from the binaries, as pprof does.
//!
//! A program under the profiler stores each sampled stack as return
//! addresses, with the code map of the snapshot: every executable mapping's
//! range, file offset, path and GNU build ID. [`resolve`] finds each
//! address's object, checks that the file at its path (or its debug file
//! under `/usr/lib/debug/.build-id/`) has the build ID that ran, and reads
//! the function, file and line, inlined frames included, from its DWARF
//! (or its symbol table when it has no DWARF) with `addr2line`. The
//! snapshot's `symbols` section then says what was resolved and why the
//! rest was not; addresses that stay unresolved keep their hex names.
//!
//! [`crate::input`] resolves every snapshot it reads, and [`crate::analyze`]
//! a copy of one taken in the calling process (`arenaprof::snapshot()`);
//! the stack passes ([`crate::passes::stacks`]) and the pprof renderer read
//! the frames as they are, so call [`resolve`] on an in-process snapshot
//! before them.
//!
//! The paths come from the snapshot, which may be hostile: only regular
//! files are opened, each object once, at most [`MAX_OBJECTS`] of them, and
//! only when its build ID matches; a crafted snapshot can make this read an
//! ELF file that carries the build ID it names, and nothing else.
//!
//! ```
//! let mut snap = arenaprof_snapshot::Snapshot::default();
//! let done = arenaprof_report::symbols::resolve(&mut snap);
//! // Nothing was pending: the frames are as the program stored them.
//! assert_eq!(done.addresses, 0);
//! ```

use arenaprof_snapshot::{
    address_name, is_allocator_frame, CodeMapping, Frame, Snapshot, RESOLVED_BY_REPORT,
    SYMBOLS_SECTION,
};
use std::collections::HashMap;

/// The most objects one snapshot makes the reader open.
pub const MAX_OBJECTS: usize = 512;
/// The most frames one address expands to (its inlined calls).
#[cfg(feature = "symbols")]
const MAX_INLINED: usize = 64;
/// The most frames a stack keeps once its addresses are expanded.
const MAX_STACK: usize = 1024;

/// What [`resolve`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Addresses that waited for the report tool.
    pub addresses: usize,
    /// Of those, the ones given a function name.
    pub named: usize,
    /// Objects whose files were read.
    pub objects: usize,
    /// Objects that could not be used, with the reason.
    pub unusable: Vec<(String, String)>,
}

/// The index of `snap`'s `symbols` section if its frames wait for the
/// report tool.
fn pending_section(snap: &Snapshot) -> Option<usize> {
    snap.sections.iter().position(|s| {
        s.name == SYMBOLS_SECTION
            && s.entries
                .iter()
                .any(|(k, v)| k == "resolved_by" && v == RESOLVED_BY_REPORT)
    })
}

/// Whether `snap`'s sampled frames wait for [`resolve`] (a snapshot taken
/// in this process with `arenaprof::snapshot()`, not yet read back by
/// [`crate::input`]). [`crate::analyze`] resolves such a snapshot's copy.
///
/// ```
/// assert!(!arenaprof_report::symbols::pending(&Default::default()));
/// ```
pub fn pending(snap: &Snapshot) -> bool {
    pending_section(snap).is_some()
}

/// Symbolises the frames `snap` left to the report tool (its `symbols`
/// section says so) and records the outcome in that section. Snapshots
/// symbolised in their program are left as they are.
pub fn resolve(snap: &mut Snapshot) -> Resolved {
    let mut done = Resolved::default();
    let Some(section) = pending_section(snap) else {
        return done;
    };
    let heap = &mut snap.heap;
    let code = &snap.code;
    let mut objects = Objects::default();
    // Old frame id -> its frames now, innermost first.
    let mut expanded: Vec<Option<Vec<Frame>>> = vec![None; heap.frames.len()];
    for (i, f) in heap.frames.iter().enumerate() {
        let Some(&addr) = code.frame_addresses.get(i) else {
            break;
        };
        if addr == 0 || !f.file.is_empty() || f.function != address_name(addr) {
            continue;
        }
        done.addresses += 1;
        let Some(m) = code
            .mappings
            .iter()
            .find(|m| m.start <= addr && addr < m.limit)
        else {
            continue;
        };
        let Some(obj) = objects.get(m) else { continue };
        // A return address: the call is the byte before it. (A crafted
        // offset that overflows names nothing.)
        let Some(svma) = (addr - m.start)
            .checked_add(m.file_offset)
            .and_then(|o| obj.svma(o))
        else {
            continue;
        };
        let frames = obj.frames(svma.saturating_sub(1));
        if !frames.is_empty() {
            done.named += 1;
            expanded[i] = Some(frames);
        }
    }
    done.objects = objects.opened;
    done.unusable = objects.unusable();
    if done.named > 0 {
        rebuild(heap, &mut snap.code.frame_addresses, expanded);
    }
    let by = format!(
        "report: {} of {} addresses named from the debug information of {} objects",
        done.named, done.addresses, done.objects
    );
    let entries = &mut snap.sections[section].entries;
    entries.retain(|(k, _)| k != "resolved_by");
    entries.insert(0, ("resolved_by".to_owned(), by));
    for (path, why) in &done.unusable {
        entries.push(("unresolved".to_owned(), format!("{path}: {why}")));
    }
    done
}

/// Replaces each expanded frame by its frames, interned again, and drops
/// the allocator's own frames from the top of each stack.
fn rebuild(
    heap: &mut arenaprof_snapshot::HeapProfile,
    addresses: &mut Vec<u64>,
    expanded: Vec<Option<Vec<Frame>>>,
) {
    let old = std::mem::take(&mut heap.frames);
    let old_addresses = std::mem::take(addresses);
    let mut ids: HashMap<Frame, u32> = HashMap::new();
    let mut intern = |f: Frame, addr: u64, frames: &mut Vec<Frame>| {
        *ids.entry(f).or_insert_with_key(|f| {
            frames.push(f.clone());
            addresses.push(addr);
            frames.len() as u32 - 1
        })
    };
    let mut map: Vec<Vec<u32>> = Vec::with_capacity(old.len());
    for (i, (f, e)) in old.into_iter().zip(expanded).enumerate() {
        let addr = old_addresses.get(i).copied().unwrap_or(0);
        let news = e.unwrap_or_else(|| vec![f]);
        map.push(
            news.into_iter()
                .map(|f| intern(f, addr, &mut heap.frames))
                .collect(),
        );
    }
    // Inlined frames lengthen stacks: by at most 8 times their frames in
    // all, plus 1 M, so that a crafted snapshot (many stacks through one
    // deeply inlined address) cannot make this take unbounded memory. Past
    // that, each address keeps its innermost frame only.
    let before: usize = heap.stacks.iter().map(|s| s.frames.len()).sum();
    let mut growth_left = before.saturating_mul(8).saturating_add(1 << 20);
    for s in &mut heap.stacks {
        let mut frames: Vec<u32> = Vec::with_capacity(s.frames.len());
        for &f in &s.frames {
            if let Some(news) = map.get(f as usize) {
                frames.extend(news.iter().take(MAX_STACK - frames.len().min(MAX_STACK)));
            }
        }
        let grown = frames.len().saturating_sub(s.frames.len());
        if grown > growth_left {
            frames = s
                .frames
                .iter()
                .filter_map(|&f| map.get(f as usize)?.first().copied())
                .collect();
        } else {
            growth_left -= grown;
        }
        let skip = frames
            .iter()
            .take_while(|&&f| is_allocator_frame(&heap.frames[f as usize].function))
            .count();
        if skip < frames.len() {
            frames.drain(..skip);
        }
        s.frames = frames;
    }
}

/// The objects opened so far, by path.
#[derive(Default)]
struct Objects {
    by_path: HashMap<String, Result<Object, String>>,
    opened: usize,
}

impl Objects {
    /// The object `m` maps, opened on first use; `None` when it cannot be
    /// used (the reason is kept for [`Objects::unusable`]).
    fn get(&mut self, m: &CodeMapping) -> Option<&Object> {
        if !self.by_path.contains_key(&m.path) {
            let o = if self.by_path.len() >= MAX_OBJECTS {
                Err(format!("more than {MAX_OBJECTS} objects; not opened"))
            } else {
                Object::open(&m.path, &m.build_id)
            };
            self.opened += o.is_ok() as usize;
            self.by_path.insert(m.path.clone(), o);
        }
        self.by_path.get(&m.path)?.as_ref().ok()
    }

    fn unusable(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .by_path
            .iter()
            .filter_map(|(p, o)| o.as_ref().err().map(|e| (p.clone(), e.clone())))
            .collect();
        v.sort();
        v
    }
}

/// One object file, checked against its build ID, with its debug
/// information.
struct Object {
    /// Loaded segments: (file offset, file size, address in the file).
    segments: Vec<(u64, u64, u64)>,
    #[cfg(feature = "symbols")]
    dwarf: addr2line::Loader,
}

impl Object {
    #[cfg(not(feature = "symbols"))]
    fn open(_path: &str, _build_id: &str) -> Result<Object, String> {
        Err(
            "this build of the report tool cannot read debug information (feature `symbols` off)"
                .to_owned(),
        )
    }

    #[cfg(feature = "symbols")]
    fn open(path: &str, build_id: &str) -> Result<Object, String> {
        use object::{Object as _, ObjectSegment};
        if build_id.is_empty() {
            return Err("no build ID: cannot tell the file from the one that ran".to_owned());
        }
        let p = std::path::Path::new(path);
        let meta = std::fs::metadata(p).map_err(|e| format!("cannot read the binary: {e}"))?;
        if !meta.is_file() {
            return Err("not a regular file".to_owned());
        }
        let file = std::fs::File::open(p).map_err(|e| format!("cannot open the binary: {e}"))?;
        let cache = object::ReadCache::new(file);
        let obj = object::File::parse(&cache).map_err(|e| format!("not an object file: {e}"))?;
        let id = hex(obj.build_id().ok().flatten().unwrap_or_default());
        if id != build_id {
            return Err(format!(
                "the file has build ID {}, not {build_id} (rebuilt since the run?)",
                if id.is_empty() { "none" } else { &id }
            ));
        }
        let segments = obj
            .segments()
            .map(|s| {
                let (off, size) = s.file_range();
                (off, size, s.address())
            })
            .collect();
        // Distributions keep the DWARF apart, named by build ID.
        let debug = format!(
            "/usr/lib/debug/.build-id/{}/{}.debug",
            &build_id[..2.min(build_id.len())],
            &build_id[2.min(build_id.len())..]
        );
        let with_debug = std::path::Path::new(&debug);
        let dwarf = if std::fs::metadata(with_debug).is_ok_and(|m| m.is_file())
            && file_build_id(with_debug).as_deref() == Some(build_id)
        {
            addr2line::Loader::new(with_debug)
        } else {
            addr2line::Loader::new(p)
        }
        .map_err(|e| format!("cannot read its debug information: {e}"))?;
        Ok(Object { segments, dwarf })
    }

    /// The address in the file's own numbering of the byte at `file_offset`.
    fn svma(&self, file_offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|&&(off, size, _)| off <= file_offset && file_offset - off < size)
            .and_then(|&(off, _, addr)| addr.checked_add(file_offset - off))
    }

    #[cfg(not(feature = "symbols"))]
    fn frames(&self, _probe: u64) -> Vec<Frame> {
        Vec::new()
    }

    /// The frames at `probe`, innermost first: from DWARF, with inlined
    /// calls, else the symbol table's function.
    #[cfg(feature = "symbols")]
    fn frames(&self, probe: u64) -> Vec<Frame> {
        let mut out = Vec::new();
        if let Ok(mut it) = self.dwarf.find_frames(probe) {
            while let Ok(Some(f)) = it.next() {
                if out.len() == MAX_INLINED {
                    break;
                }
                let function = f
                    .function
                    .as_ref()
                    .and_then(|n| n.demangle().ok().map(|n| n.into_owned()));
                let (file, line) = f
                    .location
                    .map(|l| (l.file.unwrap_or_default().to_owned(), l.line.unwrap_or(0)))
                    .unwrap_or_default();
                let Some(function) = function.or_else(|| self.symbol(probe)) else {
                    continue;
                };
                out.push(Frame {
                    function,
                    file,
                    line,
                });
            }
        }
        if out.is_empty() {
            if let Some(function) = self.symbol(probe) {
                out.push(Frame {
                    function,
                    ..Default::default()
                });
            }
        }
        out
    }

    #[cfg(feature = "symbols")]
    fn symbol(&self, probe: u64) -> Option<String> {
        let name = self.dwarf.find_symbol(probe)?;
        Some(addr2line::demangle_auto(name.into(), None).into_owned())
    }
}

/// The build ID of the ELF file at `path`, from its headers and notes.
#[cfg(feature = "symbols")]
fn file_build_id(path: &std::path::Path) -> Option<String> {
    use object::Object as _;
    let cache = object::ReadCache::new(std::fs::File::open(path).ok()?);
    let obj = object::File::parse(&cache).ok()?;
    Some(hex(obj.build_id().ok()??))
}

#[cfg(feature = "symbols")]
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, feature = "symbols"))]
mod tests {
    use super::*;
    use arenaprof_snapshot::{HeapProfile, Stack};

    /// A crafted snapshot whose many stacks all pass through one address
    /// that expands to 64 inlined frames grows by a bounded amount: the
    /// first stacks are expanded in full, the rest keep one frame per
    /// address.
    #[test]
    fn inlined_frames_grow_the_stacks_by_a_bounded_amount() {
        let f = |n: usize| Frame {
            function: format!("inlined_{n}"),
            ..Default::default()
        };
        let mut heap = HeapProfile {
            frames: vec![Frame::default()],
            stacks: (0..100_000)
                .map(|_| Stack {
                    frames: vec![0; 10],
                })
                .collect(),
            ..Default::default()
        };
        let mut addresses = vec![0x1000];
        let expanded = vec![Some((0..MAX_INLINED).map(f).collect::<Vec<_>>())];
        rebuild(&mut heap, &mut addresses, expanded);
        let before = 100_000 * 10;
        let after: usize = heap.stacks.iter().map(|s| s.frames.len()).sum();
        assert!(after <= before + before * 8 + (1 << 20), "{after}");
        assert_eq!(heap.stacks[0].frames.len(), 10 * MAX_INLINED);
        assert_eq!(heap.stacks[99_999].frames.len(), 10);
        assert_eq!(heap.frames.len(), MAX_INLINED);
        assert!(addresses.iter().all(|&a| a == 0x1000));
    }
}
