//! Reading the process's memory: `/proc/self/smaps`, `maps`,
//! `smaps_rollup` and `statm` parsed into typed structs, residency from
//! `mincore`, and the threads' stack pointers.

use std::fmt;
use std::io::{self, Read};

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
    parse_statm(text, crate::units::page_size() as u64)
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
    let ps = crate::units::page_size();
    let a = start & !(ps - 1);
    let end = start.saturating_add(len);
    let mut p = a;
    let mut total = 0u64;
    // 64 KiB of residency bytes a call: a reserved but untouched 64 GiB
    // range (an address window of the header-free tracker) is 256 calls,
    // counted 8 pages a step.
    let mut vec = [0u8; 65536];
    while p < end {
        let pages = ((end - p).div_ceil(ps)).min(vec.len());
        // SAFETY: `p` is page-aligned; `vec` has room for `pages` bytes;
        // mincore only reads page tables (ENOMEM for unmapped pages).
        let rc = unsafe { libc::mincore(p as *mut libc::c_void, pages * ps, vec.as_mut_ptr()) };
        if rc == 0 {
            total += count_resident(&vec[..pages]) * ps as u64;
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

/// Pages whose `mincore` byte has its low bit set.
fn count_resident(v: &[u8]) -> u64 {
    const LOW: u64 = 0x0101_0101_0101_0101;
    let words = v.chunks_exact(8);
    let tail = words.remainder().iter().filter(|&&b| b & 1 != 0).count() as u64;
    words.fold(tail, |n, w| {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        n + (u64::from_ne_bytes(b) & LOW).count_ones() as u64
    })
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
