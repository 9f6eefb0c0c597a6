//! Grouping the mappings by what owns each one (allocator, thread stacks,
//! binary, each library, the profiler's tables, anonymous memory by the
//! object that made it, `[heap]`, other), splitting a mapping between the
//! ranges that claim parts of it.

use std::ops::Range;

use super::proc::{resident_bytes, Smaps, Vma, VmaName};

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
    /// Threads' stack pointers
    /// ([`thread_stack_pointers`](super::thread_stack_pointers)).
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
                Split::Mincore if v.is_anonymous() && v.rss > 0 => {
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
