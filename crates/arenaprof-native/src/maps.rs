//! Process memory by mapping: `/proc/self/smaps`, `smaps_rollup`, `maps`
//! and `statm` parsed into typed structs, grouped by what owns each mapping,
//! and the memory ladder from the allocator's tracked bytes up to RSS.
//!
//! Costs (measured, see `docs/native.md`): [`read_statm`] is one small read
//! and allocates nothing (for a timeline sampler); [`read_smaps`] makes the
//! kernel walk the page tables of every mapping, so it costs more the more
//! is resident; [`read_smaps_rollup`] costs the same walk with a tiny
//! output.
//!
//! Parsing never panics: lines that do not parse are counted in
//! [`Smaps::skipped_lines`] and skipped; at most [`MAX_VMAS`] mappings are
//! kept ([`Smaps::truncated`] says so).
//!
//! ```
//! use arenaprof_native::maps::{self, Group, Known};
//! let text = "\
//! 7f0000000000-7f0000200000 rw-p 00000000 00:00 0 \n\
//! Size:               2048 kB\n\
//! Rss:                 512 kB\n\
//! Anonymous:           512 kB\n\
//! VmFlags: rd wr mr mw me ac \n";
//! let smaps = maps::parse_smaps(text);
//! let g = maps::group(&smaps, &Known::default());
//! assert_eq!(g.get(&Group::OtherAnon).resident_bytes, 512 << 10);
//! assert_eq!(g.total.commit_bytes, 2 << 20);
//! ```

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;

/// Most mappings kept from one read (Linux's default `vm.max_map_count` is
/// 65,530).
pub const MAX_VMAS: usize = 1 << 18;

/// Permissions of a mapping (`rw-p`).
///
/// ```
/// let p = arenaprof_native::maps::Perms::parse("rw-p").unwrap();
/// assert!(p.read && p.write && !p.exec && !p.shared);
/// assert_eq!(p.to_string(), "rw-p");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    /// `r`
    pub read: bool,
    /// `w`
    pub write: bool,
    /// `x`
    pub exec: bool,
    /// `s` (shared) rather than `p` (private).
    pub shared: bool,
}

impl Perms {
    /// Parses the four-character field.
    pub fn parse(s: &str) -> Option<Perms> {
        let b = s.as_bytes();
        if b.len() != 4 {
            return None;
        }
        let flag = |c: u8, yes: u8| match c {
            c if c == yes => Some(true),
            b'-' => Some(false),
            _ => None,
        };
        Some(Perms {
            read: flag(b[0], b'r')?,
            write: flag(b[1], b'w')?,
            exec: flag(b[2], b'x')?,
            shared: match b[3] {
                b's' => true,
                b'p' => false,
                _ => return None,
            },
        })
    }

    /// `---p`: no access (guard pages, reservations).
    pub fn is_none(&self) -> bool {
        !self.read && !self.write && !self.exec
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |b: bool, ch: char| if b { ch } else { '-' };
        write!(
            f,
            "{}{}{}{}",
            c(self.read, 'r'),
            c(self.write, 'w'),
            c(self.exec, 'x'),
            if self.shared { 's' } else { 'p' }
        )
    }
}

/// The last field of a mapping's header.
///
/// ```
/// use arenaprof_native::maps::VmaName;
/// assert_eq!(VmaName::parse("[heap]"), VmaName::Heap);
/// assert_eq!(VmaName::parse(""), VmaName::Anonymous);
/// assert_eq!(VmaName::parse("/usr/lib/libm.so.6"), VmaName::File("/usr/lib/libm.so.6".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmaName {
    /// No name: anonymous memory.
    Anonymous,
    /// A file path (` (deleted)` removed, see [`Vma::deleted`]).
    File(String),
    /// `[heap]` (the `brk` area; glibc malloc's main arena).
    Heap,
    /// `[stack]` (the main thread's stack).
    Stack,
    /// `[vdso]`
    Vdso,
    /// `[vvar]` and its variants.
    Vvar,
    /// `[vsyscall]`
    Vsyscall,
    /// Any other bracketed name, e.g. `[anon:name]` from `PR_SET_VMA`.
    Named(String),
}

impl VmaName {
    /// Classifies the name field.
    pub fn parse(s: &str) -> VmaName {
        let s = s.trim();
        match s {
            "" => VmaName::Anonymous,
            "[heap]" => VmaName::Heap,
            "[stack]" => VmaName::Stack,
            "[vdso]" => VmaName::Vdso,
            "[vsyscall]" => VmaName::Vsyscall,
            s if s.starts_with("[vvar") => VmaName::Vvar,
            s if s.starts_with('[') => VmaName::Named(s.to_string()),
            s => VmaName::File(s.trim_end_matches(" (deleted)").to_string()),
        }
    }
}

/// One mapping (VMA) with its `smaps` figures, all in bytes.
///
/// ```
/// let s = arenaprof_native::maps::parse_smaps("00400000-00401000 r-xp 00000000 08:01 42 /bin/x\nRss: 4 kB\n");
/// let v = &s.vmas[0];
/// assert_eq!((v.size(), v.rss), (4096, 4096));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Permissions.
    pub perms: Perms,
    /// Offset in the file.
    pub offset: u64,
    /// Inode of the file (0 if anonymous).
    pub inode: u64,
    /// Name field.
    pub name: Option<VmaName>,
    /// The file was deleted.
    pub deleted: bool,
    /// `Rss`
    pub rss: u64,
    /// `Pss`
    pub pss: u64,
    /// `Shared_Clean`
    pub shared_clean: u64,
    /// `Shared_Dirty`
    pub shared_dirty: u64,
    /// `Private_Clean`
    pub private_clean: u64,
    /// `Private_Dirty`
    pub private_dirty: u64,
    /// `Anonymous`
    pub anonymous: u64,
    /// `AnonHugePages`
    pub anon_huge: u64,
    /// `Swap`
    pub swap: u64,
    /// `Locked`
    pub locked: u64,
    /// `VmFlags` has `ac`: the mapping is charged to commit (private
    /// writable memory counted against overcommit).
    pub accounted: bool,
    /// `VmFlags` has `gd` (grows down: a stack).
    pub grows_down: bool,
    /// The entry had a `VmFlags` line (absent in `/proc/self/maps`).
    pub has_flags: bool,
}

impl Vma {
    /// Virtual size.
    pub fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    /// `Private_Clean + Private_Dirty`.
    pub fn private(&self) -> u64 {
        self.private_clean + self.private_dirty
    }
    /// Commit charge: the size if accounted.
    pub fn commit(&self) -> u64 {
        if self.accounted {
            self.size()
        } else {
            0
        }
    }
    /// Anonymous memory (no name, `[anon:..]`, `[heap]`, `[stack]`).
    pub fn is_anonymous(&self) -> bool {
        self.inode == 0
            && matches!(
                self.name,
                None | Some(VmaName::Anonymous)
                    | Some(VmaName::Heap)
                    | Some(VmaName::Stack)
                    | Some(VmaName::Named(_))
            )
    }
    /// The file path, if file-backed.
    pub fn path(&self) -> Option<&str> {
        match &self.name {
            Some(VmaName::File(p)) => Some(p),
            _ => None,
        }
    }
}

/// A parsed `smaps` or `maps` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Smaps {
    /// Mappings in address order.
    pub vmas: Vec<Vma>,
    /// Lines that did not parse.
    pub skipped_lines: usize,
    /// More than [`MAX_VMAS`] mappings: the rest were dropped.
    pub truncated: bool,
}

impl Smaps {
    /// Sum of `Rss` over all mappings.
    pub fn rss(&self) -> u64 {
        self.vmas.iter().map(|v| v.rss).sum()
    }
    /// Sum of sizes.
    pub fn virtual_bytes(&self) -> u64 {
        self.vmas.iter().map(|v| v.size()).sum()
    }
}

fn parse_header(line: &str) -> Option<Vma> {
    let mut it = line.splitn(6, ' ');
    let range = it.next()?;
    let (a, b) = range.split_once('-')?;
    let start = u64::from_str_radix(a, 16).ok()?;
    let end = u64::from_str_radix(b, 16).ok()?;
    if end < start {
        return None;
    }
    let perms = Perms::parse(it.next()?)?;
    let offset = u64::from_str_radix(it.next()?, 16).ok()?;
    let dev = it.next()?;
    if !dev.contains(':') {
        return None;
    }
    let inode: u64 = it.next()?.parse().ok()?;
    let rest = it.next().unwrap_or("").trim();
    let deleted = rest.ends_with(" (deleted)");
    Some(Vma {
        start,
        end,
        perms,
        offset,
        inode,
        name: Some(VmaName::parse(rest)),
        deleted,
        ..Vma::default()
    })
}

/// `"Rss:   12 kB"` → `("Rss", bytes)`.
fn parse_field(line: &str) -> Option<(&str, u64)> {
    let (k, v) = line.split_once(':')?;
    let mut w = v.split_whitespace();
    let n: u64 = w.next()?.parse().ok()?;
    let mult = match w.next() {
        Some("kB") => 1024,
        None => 1,
        Some(_) => return None,
    };
    Some((k.trim(), n.saturating_mul(mult)))
}

/// Parses `/proc/<pid>/smaps` (or `maps`: then only headers are filled).
///
/// ```
/// let s = arenaprof_native::maps::parse_smaps("garbage\n7f00-7f01 rw-p 0 00:00 0\n");
/// assert_eq!((s.vmas.len(), s.skipped_lines), (1, 1));
/// ```
pub fn parse_smaps(text: &str) -> Smaps {
    let mut out = Smaps::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(v) = parse_header(line) {
            if out.vmas.len() >= MAX_VMAS {
                out.truncated = true;
                break;
            }
            out.vmas.push(v);
            continue;
        }
        let Some(cur) = out.vmas.last_mut() else {
            out.skipped_lines += 1;
            continue;
        };
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            cur.has_flags = true;
            for f in flags.split_whitespace() {
                match f {
                    "ac" => cur.accounted = true,
                    "gd" => cur.grows_down = true,
                    _ => {}
                }
            }
            continue;
        }
        match parse_field(line) {
            Some((k, n)) => match k {
                "Rss" => cur.rss = n,
                "Pss" => cur.pss = n,
                "Shared_Clean" => cur.shared_clean = n,
                "Shared_Dirty" => cur.shared_dirty = n,
                "Private_Clean" => cur.private_clean = n,
                "Private_Dirty" => cur.private_dirty = n,
                "Anonymous" => cur.anonymous = n,
                "AnonHugePages" => cur.anon_huge = n,
                "Swap" => cur.swap = n,
                "Locked" => cur.locked = n,
                _ => {}
            },
            // Fields with other shapes (`THPeligible: 0`, `ProtectionKey`)
            // parse as plain numbers above; anything else is odd.
            None => out.skipped_lines += 1,
        }
    }
    out
}

fn read_proc(path: &str) -> io::Result<String> {
    let mut s = String::with_capacity(64 << 10);
    std::fs::File::open(path)?.read_to_string(&mut s)?;
    Ok(s)
}

/// Reads and parses `/proc/self/smaps`.
///
/// ```
/// let s = arenaprof_native::maps::read_smaps().unwrap();
/// assert!(s.rss() > 0);
/// ```
pub fn read_smaps() -> io::Result<Smaps> {
    Ok(parse_smaps(&read_proc("/proc/self/smaps")?))
}

/// Reads and parses `/proc/self/maps` (headers only: no sizes, cheaper).
///
/// ```
/// let m = arenaprof_native::maps::read_maps().unwrap();
/// assert!(m.vmas.iter().all(|v| v.rss == 0));
/// ```
pub fn read_maps() -> io::Result<Smaps> {
    Ok(parse_smaps(&read_proc("/proc/self/maps")?))
}

/// `/proc/self/smaps_rollup`: the sums over all mappings, in bytes.
///
/// ```
/// let r = arenaprof_native::maps::parse_smaps_rollup("00400000-ffffffffff601000 ---p 00000000 00:00 0  [rollup]\nRss: 8 kB\nPss_Anon: 4 kB\n");
/// assert_eq!((r.rss, r.pss_anon), (8192, 4096));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rollup {
    /// `Rss`
    pub rss: u64,
    /// `Pss`
    pub pss: u64,
    /// `Pss_Anon`
    pub pss_anon: u64,
    /// `Pss_File`
    pub pss_file: u64,
    /// `Pss_Shmem`
    pub pss_shmem: u64,
    /// `Shared_Clean`
    pub shared_clean: u64,
    /// `Shared_Dirty`
    pub shared_dirty: u64,
    /// `Private_Clean`
    pub private_clean: u64,
    /// `Private_Dirty`
    pub private_dirty: u64,
    /// `Anonymous`
    pub anonymous: u64,
    /// `Swap`
    pub swap: u64,
    /// `Locked`
    pub locked: u64,
}

/// Parses `smaps_rollup`.
pub fn parse_smaps_rollup(text: &str) -> Rollup {
    let mut r = Rollup::default();
    for line in text.lines() {
        if let Some((k, n)) = parse_field(line) {
            match k {
                "Rss" => r.rss = n,
                "Pss" => r.pss = n,
                "Pss_Anon" => r.pss_anon = n,
                "Pss_File" => r.pss_file = n,
                "Pss_Shmem" => r.pss_shmem = n,
                "Shared_Clean" => r.shared_clean = n,
                "Shared_Dirty" => r.shared_dirty = n,
                "Private_Clean" => r.private_clean = n,
                "Private_Dirty" => r.private_dirty = n,
                "Anonymous" => r.anonymous = n,
                "Swap" => r.swap = n,
                "Locked" => r.locked = n,
                _ => {}
            }
        }
    }
    r
}

/// Reads `/proc/self/smaps_rollup`.
///
/// ```
/// assert!(arenaprof_native::maps::read_smaps_rollup().unwrap().rss > 0);
/// ```
pub fn read_smaps_rollup() -> io::Result<Rollup> {
    Ok(parse_smaps_rollup(&read_proc("/proc/self/smaps_rollup")?))
}

/// `/proc/self/statm` in bytes: the cheap sample for a timeline.
///
/// ```
/// let s = arenaprof_native::maps::parse_statm("100 20 5 1 0 30 0", 4096).unwrap();
/// assert_eq!((s.size, s.resident), (409_600, 81_920));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statm {
    /// VmSize.
    pub size: u64,
    /// VmRSS.
    pub resident: u64,
    /// Resident file-backed and shared pages.
    pub shared: u64,
    /// Text (code).
    pub text: u64,
    /// Data + stack.
    pub data: u64,
}

/// Parses `statm` (pages) with the page size.
pub fn parse_statm(text: &str, page: u64) -> Option<Statm> {
    let mut it = text.split_whitespace().map(|w| w.parse::<u64>().ok());
    let mut next = || it.next().flatten().map(|p| p.saturating_mul(page));
    let size = next()?;
    let resident = next()?;
    let shared = next()?;
    let text_ = next()?;
    let _lib = next();
    let data = next().unwrap_or(0);
    Some(Statm {
        size,
        resident,
        shared,
        text: text_,
        data,
    })
}

/// Reads `/proc/self/statm` without allocating (a stack buffer).
///
/// ```
/// let s = arenaprof_native::maps::read_statm().unwrap();
/// assert!(s.size >= s.resident);
/// ```
pub fn read_statm() -> io::Result<Statm> {
    let mut buf = [0u8; 256];
    let mut f = std::fs::File::open("/proc/self/statm")?;
    let mut n = 0;
    while n < buf.len() {
        let m = f.read(&mut buf[n..])?;
        if m == 0 {
            break;
        }
        n += m;
    }
    let text =
        std::str::from_utf8(&buf[..n]).map_err(|_| io::Error::other("statm is not UTF-8"))?;
    parse_statm(text, crate::page_size() as u64)
        .ok_or_else(|| io::Error::other("statm did not parse"))
}

/// Resident bytes of `[start, start+len)` from `mincore` (exact per page
/// for anonymous memory; page-cache residency for file mappings). Uses a
/// stack buffer, no allocation; pages that are not mapped count as 0.
///
/// ```
/// let v = vec![1u8; 1 << 20];
/// let page = 4096;
/// let start = (v.as_ptr() as usize + page - 1) & !(page - 1);
/// assert!(arenaprof_native::maps::resident_bytes(start, 16 * page).unwrap() >= 16 * page as u64 / 2);
/// ```
pub fn resident_bytes(start: usize, len: usize) -> io::Result<u64> {
    let ps = crate::page_size();
    let a = start & !(ps - 1);
    let end = start.saturating_add(len);
    let mut p = a;
    let mut total = 0u64;
    let mut vec = [0u8; 4096];
    while p < end {
        let pages = ((end - p).div_ceil(ps)).min(vec.len());
        // SAFETY: `p` is page-aligned; `vec` has room for `pages` bytes;
        // mincore only reads page tables (ENOMEM for unmapped pages).
        let rc = unsafe { libc::mincore(p as *mut libc::c_void, pages * ps, vec.as_mut_ptr()) };
        if rc == 0 {
            total += vec[..pages].iter().filter(|&&b| b & 1 != 0).count() as u64 * ps as u64;
        } else {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ENOMEM) {
                return Err(e);
            }
            // Partly unmapped: go page by page for this chunk.
            for i in 0..pages {
                let mut b = [0u8; 1];
                // SAFETY: one aligned page, one byte of output.
                let rc1 =
                    unsafe { libc::mincore((p + i * ps) as *mut libc::c_void, ps, b.as_mut_ptr()) };
                if rc1 == 0 && b[0] & 1 != 0 {
                    total += ps as u64;
                }
            }
        }
        p += pages * ps;
    }
    // Trim the partial first page outside the range is not needed: whole
    // pages are what residency means.
    Ok(total)
}

/// Stack pointers of the process's threads, from
/// `/proc/self/task/*/syscall` (threads blocked in or between system calls
/// report theirs; running ones do not), plus the caller's own.
///
/// ```
/// assert!(!arenaprof_native::maps::thread_stack_pointers().is_empty());
/// ```
pub fn thread_stack_pointers() -> Vec<u64> {
    let here = 0u8;
    let mut out = vec![&here as *const u8 as u64];
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for e in dir.flatten().take(65_536) {
        let mut p = e.path();
        p.push("syscall");
        let Ok(s) = std::fs::read_to_string(&p) else {
            continue;
        };
        let w: Vec<&str> = s.split_whitespace().collect();
        if w.len() >= 3 {
            if let Some(sp) = w.get(w.len() - 2).and_then(|x| x.strip_prefix("0x")) {
                if let Ok(v) = u64::from_str_radix(sp, 16) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// What a mapping (or part of one) belongs to.
///
/// ```
/// use arenaprof_native::maps::Group;
/// assert_eq!(Group::NativeAnon("/usr/lib/libopenblas.so.0".into()).label(), "anon by libopenblas.so.0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Ranges the caller says are the allocator's.
    Allocator,
    /// Thread stacks (the main `[stack]`, and anonymous mappings holding a
    /// thread's stack pointer or sitting right above a guard page).
    ThreadStacks,
    /// The main executable's file mappings (and its `.bss`).
    Binary,
    /// One shared object's file mappings (and its `.bss`), by path.
    Library(String),
    /// The profiler's own tables (the hooks' table and caller's ranges).
    Profiler,
    /// Anonymous mappings the hooks attributed to the object that made them.
    NativeAnon(String),
    /// `[heap]`: the `brk` area (glibc malloc's main arena, used by C code).
    Heap,
    /// Anonymous memory nobody claimed (the Rust allocator's, when the
    /// caller did not pass its ranges; glibc malloc's thread arenas;
    /// mappings made by unhooked code).
    OtherAnon,
    /// Files mapped that are not loaded objects (data files, fonts, ..).
    OtherFile,
    /// `[vdso]`, `[vvar]`, `[vsyscall]`.
    Kernel,
}

impl Group {
    /// Short label (file names, not full paths).
    pub fn label(&self) -> String {
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        match self {
            Group::Allocator => "allocator".into(),
            Group::ThreadStacks => "thread stacks".into(),
            Group::Binary => "binary".into(),
            Group::Library(p) => base(p),
            Group::Profiler => "profiler tables".into(),
            Group::NativeAnon(p) => format!("anon by {}", base(p)),
            Group::Heap => "[heap] (brk)".into(),
            Group::OtherAnon => "other anonymous".into(),
            Group::OtherFile => "other files".into(),
            Group::Kernel => "kernel ([vdso], [vvar])".into(),
        }
    }
}

/// Bytes of a group. `commit_bytes` is the size of mappings charged to
/// commit (`VmFlags: ac`); the others are `smaps` fields.
///
/// ```
/// let u = arenaprof_native::maps::Usage::default();
/// assert_eq!(u.resident_bytes, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Mappings (or parts of mappings) in the group.
    pub mappings: u64,
    /// Virtual bytes.
    pub virtual_bytes: u64,
    /// Resident bytes (`Rss`).
    pub resident_bytes: u64,
    /// Private bytes (`Private_Clean + Private_Dirty`).
    pub private_bytes: u64,
    /// Anonymous bytes (`Anonymous`).
    pub anonymous_bytes: u64,
    /// Swapped-out bytes.
    pub swap_bytes: u64,
    /// Commit charge.
    pub commit_bytes: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.mappings += o.mappings;
        self.virtual_bytes += o.virtual_bytes;
        self.resident_bytes += o.resident_bytes;
        self.private_bytes += o.private_bytes;
        self.anonymous_bytes += o.anonymous_bytes;
        self.swap_bytes += o.swap_bytes;
        self.commit_bytes += o.commit_bytes;
    }
    fn of(v: &Vma) -> Usage {
        Usage {
            mappings: 1,
            virtual_bytes: v.size(),
            resident_bytes: v.rss,
            private_bytes: v.private(),
            anonymous_bytes: v.anonymous,
            swap_bytes: v.swap,
            commit_bytes: v.commit(),
        }
    }
}

/// How to split a mapping's `Rss` when only part of it is claimed (the
/// kernel merges adjacent anonymous mappings into one VMA, so one VMA can
/// hold several libraries' buffers and the allocator's memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Split {
    /// In proportion to the bytes (for fixtures or another process).
    #[default]
    Proportional,
    /// `mincore` on the claimed part (exact for anonymous memory of this
    /// process).
    Mincore,
}

/// What the caller knows about address ranges.
///
/// ```
/// let k = arenaprof_native::maps::Known { allocator: &[0x1000..0x2000], ..Default::default() };
/// assert_eq!(k.allocator.len(), 1);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Known<'a> {
    /// The allocator's ranges.
    pub allocator: &'a [Range<u64>],
    /// The profiler's own tables.
    pub profiler: &'a [Range<u64>],
    /// Mappings attributed to shared objects (from [`crate::hooks`]).
    pub native: &'a [(Range<u64>, &'a str)],
    /// Threads' stack pointers ([`thread_stack_pointers`]).
    pub stack_pointers: &'a [u64],
    /// The main executable's path (else the first file mapping's path).
    pub exe: Option<&'a str>,
    /// How to split partly claimed mappings.
    pub split: Split,
}

/// Usage by group; `total` is the sum over every mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grouped {
    /// Groups in a stable order (by [`Group`]'s ordering).
    pub groups: Vec<(Group, Usage)>,
    /// Sum over all mappings.
    pub total: Usage,
}

impl Grouped {
    /// The usage of one group (zero if absent).
    ///
    /// ```
    /// let g = arenaprof_native::maps::Grouped::default();
    /// assert_eq!(g.get(&arenaprof_native::maps::Group::Heap).mappings, 0);
    /// ```
    pub fn get(&self, g: &Group) -> Usage {
        self.groups
            .iter()
            .find(|(k, _)| k == g)
            .map(|(_, u)| *u)
            .unwrap_or_default()
    }

    /// Sum over groups matching `f`.
    pub fn sum(&self, f: impl Fn(&Group) -> bool) -> Usage {
        let mut u = Usage::default();
        for (g, x) in &self.groups {
            if f(g) {
                u.add(x);
            }
        }
        u
    }
}

fn is_so_path(p: &str) -> bool {
    let base = p.rsplit('/').next().unwrap_or(p);
    base.contains(".so")
}

fn default_group(vmas: &[Vma], i: usize, known: &Known<'_>, exe: Option<&str>) -> Group {
    let v = &vmas[i];
    let file_group = |p: &str| {
        if Some(p) == exe {
            Group::Binary
        } else if is_so_path(p) {
            Group::Library(p.to_string())
        } else {
            Group::OtherFile
        }
    };
    match &v.name {
        Some(VmaName::Heap) => Group::Heap,
        Some(VmaName::Stack) => Group::ThreadStacks,
        Some(VmaName::Vdso) | Some(VmaName::Vvar) | Some(VmaName::Vsyscall) => Group::Kernel,
        Some(VmaName::File(p)) if v.inode != 0 || !p.is_empty() => file_group(p),
        _ => {
            if known
                .stack_pointers
                .iter()
                .any(|&sp| sp >= v.start && sp < v.end)
                || v.grows_down
            {
                return Group::ThreadStacks;
            }
            // A guard page right below a thread stack.
            if v.perms.is_none() && v.size() <= 64 << 10 {
                if let Some(n) = vmas.get(i + 1).filter(|n| n.start == v.end && n.inode == 0) {
                    let n_is_stack = known
                        .stack_pointers
                        .iter()
                        .any(|&sp| sp >= n.start && sp < n.end)
                        || (n.perms.read
                            && n.perms.write
                            && matches!(n.name, None | Some(VmaName::Anonymous)));
                    if n_is_stack {
                        return Group::ThreadStacks;
                    }
                }
            }
            let prev = i.checked_sub(1).map(|j| &vmas[j]);
            if let Some(p) = prev.filter(|p| p.end == v.start) {
                // A glibc thread stack: a small PROT_NONE guard right below.
                if v.perms.read
                    && v.perms.write
                    && p.perms.is_none()
                    && p.inode == 0
                    && p.size() <= 64 << 10
                {
                    return Group::ThreadStacks;
                }
                // `.bss` of an object: anonymous rw right after its data.
                if v.perms.write && p.perms.write && !p.perms.shared {
                    if let Some(path) = p.path() {
                        return file_group(path);
                    }
                }
            }
            Group::OtherAnon
        }
    }
}

/// Groups the mappings. Claimed ranges (profiler, allocator, native, in that
/// priority) take the part of each mapping they cover; the rest of a
/// mapping goes to its default group (by name, stack pointers, guard pages,
/// `.bss` adjacency). Every byte of every mapping lands in exactly one
/// group, so the groups sum to `total`. Work: O(mappings + ranges·log).
///
/// ```
/// use arenaprof_native::maps::{group, parse_smaps, Group, Known};
/// let s = parse_smaps("1000-5000 rw-p 0 00:00 0\nRss: 8 kB\n");
/// let k = Known { native: &[(0x1000..0x3000, "/lib/libfoo.so")], ..Default::default() };
/// let g = group(&s, &k);
/// assert_eq!(g.get(&Group::NativeAnon("/lib/libfoo.so".into())).virtual_bytes, 0x2000);
/// assert_eq!(g.get(&Group::OtherAnon).resident_bytes, 4096);
/// ```
pub fn group(smaps: &Smaps, known: &Known<'_>) -> Grouped {
    let exe_owned;
    let exe = match known.exe {
        Some(e) => Some(e),
        None => {
            exe_owned = smaps.vmas.iter().find_map(|v| v.path().map(str::to_string));
            exe_owned.as_deref()
        }
    };
    // Claimed ranges, sorted, overlaps clipped (earlier priority wins on ties).
    let mut claims: Vec<(u64, u64, Group)> = Vec::new();
    claims.extend(
        known
            .profiler
            .iter()
            .map(|r| (r.start, r.end, Group::Profiler)),
    );
    claims.extend(
        known
            .allocator
            .iter()
            .map(|r| (r.start, r.end, Group::Allocator)),
    );
    claims.extend(
        known
            .native
            .iter()
            .map(|(r, n)| (r.start, r.end, Group::NativeAnon(n.to_string()))),
    );
    claims.retain(|c| c.1 > c.0);
    claims.sort_by_key(|c| c.0);
    let mut clipped: Vec<(u64, u64, Group)> = Vec::with_capacity(claims.len());
    for (s, e, g) in claims {
        let s = clipped.last().map_or(s, |l| s.max(l.1));
        if s < e {
            clipped.push((s, e, g));
        }
    }
    let mut acc: Vec<(Group, Usage)> = Vec::new();
    let mut add = |g: Group, u: Usage| {
        if let Some(x) = acc.iter_mut().find(|(k, _)| *k == g) {
            x.1.add(&u);
        } else {
            acc.push((g, u));
        }
    };
    let mut total = Usage::default();
    for (i, v) in smaps.vmas.iter().enumerate() {
        let whole = Usage::of(v);
        total.add(&whole);
        let first = clipped.partition_point(|c| c.1 <= v.start);
        let mut pieces: Vec<(u64, u64, &Group)> = Vec::new();
        for c in clipped[first..].iter().take_while(|c| c.0 < v.end) {
            let s = c.0.max(v.start);
            let e = c.1.min(v.end);
            if s < e {
                pieces.push((s, e, &c.2));
            }
        }
        if pieces.len() == 1 && pieces[0].0 == v.start && pieces[0].1 == v.end {
            add(pieces[0].2.clone(), whole);
            continue;
        }
        let mut rest = whole;
        for (s, e, g) in pieces {
            let len = e - s;
            let rss = match known.split {
                Split::Mincore if v.is_anonymous() => {
                    resident_bytes(s as usize, len as usize).unwrap_or(0)
                }
                _ => scale(v.rss, len, v.size()),
            }
            .min(rest.resident_bytes);
            let part = Usage {
                mappings: 1,
                virtual_bytes: len,
                resident_bytes: rss,
                private_bytes: scale(v.private(), rss, v.rss).min(rest.private_bytes),
                anonymous_bytes: scale(v.anonymous, rss, v.rss).min(rest.anonymous_bytes),
                swap_bytes: scale(v.swap, len, v.size()).min(rest.swap_bytes),
                commit_bytes: if v.accounted { len } else { 0 },
            };
            rest.virtual_bytes -= part.virtual_bytes;
            rest.resident_bytes -= part.resident_bytes;
            rest.private_bytes -= part.private_bytes;
            rest.anonymous_bytes -= part.anonymous_bytes;
            rest.swap_bytes -= part.swap_bytes;
            rest.commit_bytes -= part.commit_bytes.min(rest.commit_bytes);
            add(g.clone(), part);
        }
        if rest.virtual_bytes > 0 || rest.resident_bytes > 0 {
            add(default_group(&smaps.vmas, i, known, exe), rest);
        }
    }
    acc.sort_by(|a, b| a.0.cmp(&b.0));
    Grouped { groups: acc, total }
}

fn scale(x: u64, num: u64, den: u64) -> u64 {
    if den == 0 {
        0
    } else {
        ((x as u128 * num as u128) / den as u128) as u64
    }
}

/// One rung of the memory ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    /// Short stable name (`tracked`, `allocator_beyond_tracked`,
    /// `native_mapped`, `c_heap`, `other_anonymous`, `thread_stacks`,
    /// `code_and_data`, `other_files`, `profiler_tables`, `kernel`).
    pub key: &'static str,
    /// What it is.
    pub name: String,
    /// Resident bytes.
    pub bytes: u64,
}

/// From the allocator's tracked bytes up to RSS. Every rung is a resident
/// measurement (or a difference of two, clamped at zero by construction)
/// and the rungs sum to `rss` exactly.
///
/// ```
/// use arenaprof_native::maps::{ladder, parse_smaps, group, Known};
/// let s = parse_smaps("1000-5000 rw-p 0 00:00 0\nRss: 16 kB\n7000-8000 rw-p 0 00:00 0\nRss: 4 kB\n[heap]\n");
/// let k = Known { allocator: &[0x1000..0x5000], ..Default::default() };
/// let l = ladder(&group(&s, &k), 10_000, None);
/// assert_eq!(l.rungs.iter().map(|r| r.bytes).sum::<u64>(), l.rss);
/// assert_eq!(l.rungs[0].bytes, 10_000);
/// assert_eq!(l.rungs[1].bytes, 16 * 1024 - 10_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ladder {
    /// Rungs, bottom (tracked) first.
    pub rungs: Vec<Rung>,
    /// Total resident bytes (sum of `Rss` over mappings).
    pub rss: u64,
    /// Tracked bytes the caller passed.
    pub tracked: u64,
    /// Tracked bytes that are not resident (allocated but never touched, or
    /// swapped): outside the ladder.
    pub tracked_not_resident: u64,
    /// Where the allocator's resident figure came from.
    pub allocator_source: &'static str,
}

/// Builds the ladder. `allocator_resident`: the allocator's own resident
/// figure (e.g. jemalloc's `stats.resident`), used when no allocator ranges
/// were grouped: it is carved out of "other anonymous" (at most all of it).
pub fn ladder(g: &Grouped, tracked: u64, allocator_resident: Option<u64>) -> Ladder {
    let mut other_anon = g.get(&Group::OtherAnon).resident_bytes;
    let ranged = g.get(&Group::Allocator);
    let (alloc_rss, source) = if ranged.virtual_bytes > 0 {
        (ranged.resident_bytes, "allocator ranges in smaps")
    } else if let Some(h) = allocator_resident {
        let a = h.min(other_anon);
        other_anon -= a;
        (
            a,
            "allocator's resident figure, carved from anonymous memory",
        )
    } else {
        let a = tracked.min(other_anon);
        other_anon -= a;
        (
            a,
            "assumed: tracked bytes within unattributed anonymous memory",
        )
    };
    let t = tracked.min(alloc_rss);
    let native = g.sum(|k| matches!(k, Group::NativeAnon(_))).resident_bytes;
    let files = g
        .sum(|k| matches!(k, Group::Binary | Group::Library(_)))
        .resident_bytes;
    let rungs = vec![
        Rung {
            key: "tracked",
            name: "tracked (live allocations)".into(),
            bytes: t,
        },
        Rung {
            key: "allocator_beyond_tracked",
            name: "allocator beyond tracked (headers, fragmentation, caches)".into(),
            bytes: alloc_rss - t,
        },
        Rung {
            key: "native_mapped",
            name: "native libraries' mappings (attributed)".into(),
            bytes: native,
        },
        Rung {
            key: "c_heap",
            name: "[heap] (brk: C malloc)".into(),
            bytes: g.get(&Group::Heap).resident_bytes,
        },
        Rung {
            key: "other_anonymous",
            name: "other anonymous".into(),
            bytes: other_anon,
        },
        Rung {
            key: "thread_stacks",
            name: "thread stacks".into(),
            bytes: g.get(&Group::ThreadStacks).resident_bytes,
        },
        Rung {
            key: "code_and_data",
            name: "binary and shared libraries (code, data)".into(),
            bytes: files,
        },
        Rung {
            key: "other_files",
            name: "other mapped files".into(),
            bytes: g.get(&Group::OtherFile).resident_bytes,
        },
        Rung {
            key: "profiler_tables",
            name: "profiler tables".into(),
            bytes: g.get(&Group::Profiler).resident_bytes,
        },
        Rung {
            key: "kernel",
            name: "kernel ([vdso], [vvar])".into(),
            bytes: g.get(&Group::Kernel).resident_bytes,
        },
    ];
    Ladder {
        rss: g.total.resident_bytes,
        tracked,
        tracked_not_resident: tracked - t,
        rungs,
        allocator_source: source,
    }
}
