//! Reading what the hooks recorded: per-object counters, the live
//! mappings (without allocating: [`for_each_mapping`]), per-object
//! summaries, and the interposer's figures.

use std::fmt;
use std::ops::Range;

use super::table::{
    is_real, key_file, key_owner, key_start, region, slot_name, Region, C_ADOPTED, C_DROPPED,
    C_FAILED, C_GOT_SLOTS, C_INTERPOSED, C_LIVE_BYTES, C_LIVE_FILE_BYTES, C_LIVE_MAPPINGS,
    C_MAPPED_TOTAL, C_MMAP_CALLS, C_MREMAP_CALLS, C_MUNMAP_CALLS, C_PEAK_BYTES, C_STALE,
    C_UNMAPPED_TOTAL, C_UNMATCHED, K_BUSY, MAX_OBJECTS, NAME_CAP, SEQ, S_FREE, S_LIVE,
    TABLE_CAPACITY,
};

/// Whether the program's own `mmap` family is the one every library is
/// bound to (see the crate's `interpose` feature): true when the executable
/// exports `mmap`, which it does when a library linked at build time calls
/// it. Then calls made before `main` and before [`install`](super::install)
/// (a linked library's constructor) are attributed too.
///
/// ```
/// let _ = arenaprof_native::hooks::interposed();
/// ```
pub fn interposed() -> bool {
    crate::interpose::active()
}

/// Calls that reached the program's own `mmap` family from any object,
/// recorded or passed through (0 when [`interposed`] is false and no code in
/// the executable called them).
///
/// ```
/// let _ = arenaprof_native::hooks::interposed_calls();
/// ```
pub fn interposed_calls() -> usize {
    crate::interpose::calls()
}

/// Runs `f`, which makes the allocator linked into the executable map
/// memory (arenaprof-alloc creates its jemalloc arena and allocates from
/// it), and learns the return addresses of the executable's `mmap` calls on
/// this thread meanwhile: the allocator's call sites. Mappings made from
/// them, before or after, are the allocator's ranges in
/// [`crate::process_memory`]'s ladder. Plumbing for the tracker.
///
/// ```
/// let v = arenaprof_native::hooks::learn_allocator_sites(|| vec![0u8; 1 << 20].len());
/// assert_eq!(v, 1 << 20);
/// ```
pub fn learn_allocator_sites<R>(f: impl FnOnce() -> R) -> R {
    crate::interpose::learn_allocator_sites(f)
}

/// The live mappings the allocator linked into the executable made (see
/// [`learn_allocator_sites`]), as address ranges; empty when its call sites
/// were never learnt or the executable's calls are not interposed.
///
/// ```
/// for r in arenaprof_native::hooks::allocator_ranges() {
///     assert!(r.end > r.start);
/// }
/// ```
pub fn allocator_ranges() -> Vec<Range<u64>> {
    mappings()
        .into_iter()
        .filter(is_allocators)
        .map(|m| m.start as u64..m.end() as u64)
        .collect()
}

/// Whether `m` is the allocator's: made by the executable from one of the
/// allocator's learnt call sites.
pub(crate) fn is_allocators(m: &Mapping) -> bool {
    Some(m.object) == crate::interpose::exe_slot()
        && !m.file_backed
        && crate::interpose::is_allocator_site(m.caller)
}

/// Counters of one hooked object. Live figures are exact when no hooked
/// call is in flight; `peak_bytes` is the high-water mark of `live_bytes`.
///
/// ```no_run
/// for o in arenaprof_native::hooks::objects() {
///     println!("{}: {} live mappings, {} B", o.name, o.live_mappings, o.live_bytes);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStats {
    /// Slot id (1..[`MAX_OBJECTS`]; 0 = objects past the capacity).
    pub id: u16,
    /// Path as the loader recorded it (tail kept if long).
    pub name: String,
    /// Load bias.
    pub base: usize,
    /// Still in the loader's list at the last pass.
    pub loaded: bool,
    /// GOT slots patched in this object.
    pub got_slots: u64,
    /// Mappings made by this object and still live.
    pub live_mappings: u64,
    /// Their bytes (page-rounded).
    pub live_bytes: u64,
    /// Of which file-backed.
    pub live_file_bytes: u64,
    /// High-water mark of `live_bytes`.
    pub peak_bytes: u64,
    /// `mmap`/`mmap64` calls.
    pub mmap_calls: u64,
    /// `munmap` calls.
    pub munmap_calls: u64,
    /// `mremap` calls.
    pub mremap_calls: u64,
    /// Calls that failed.
    pub failed_calls: u64,
    /// Bytes ever mapped.
    pub mapped_bytes_total: u64,
    /// Bytes of this object's mappings ever unmapped (by anyone hooked).
    pub unmapped_bytes_total: u64,
    /// `munmap` calls from this object that matched no tracked mapping.
    pub unmatched_unmaps: u64,
    /// Mappings not tracked because the table was full.
    pub dropped: u64,
    /// Entries found stale (unmapped behind the hooks' back).
    pub stale: u64,
    /// Mappings adopted with [`adopt`](super::adopt) (made while the object
    /// was loading, before it could be patched).
    pub adopted: u64,
    /// Calls that reached the program's own `mmap` family (the interposer,
    /// bound before any constructor ran) rather than a patched GOT slot.
    pub interposed_calls: u64,
}

fn stats_of(r: &Region, k: usize) -> Option<ObjectStats> {
    let s = &r.slots[k];
    let st = s.state.load(SEQ);
    if k > 0 && st == S_FREE {
        return None;
    }
    let c = |i: usize| s.c[i].load(SEQ);
    if k == 0 && c(C_MMAP_CALLS) == 0 && c(C_MUNMAP_CALLS) == 0 && c(C_MREMAP_CALLS) == 0 {
        return None;
    }
    let mut buf = [0u8; NAME_CAP];
    let n = slot_name(s, &mut buf);
    let name = if k == 0 {
        "(objects past the table's capacity)".to_string()
    } else {
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    Some(ObjectStats {
        id: k as u16,
        name,
        base: s.base.load(SEQ),
        loaded: st == S_LIVE,
        got_slots: c(C_GOT_SLOTS),
        live_mappings: c(C_LIVE_MAPPINGS),
        live_bytes: c(C_LIVE_BYTES),
        live_file_bytes: c(C_LIVE_FILE_BYTES),
        peak_bytes: c(C_PEAK_BYTES),
        mmap_calls: c(C_MMAP_CALLS),
        munmap_calls: c(C_MUNMAP_CALLS),
        mremap_calls: c(C_MREMAP_CALLS),
        failed_calls: c(C_FAILED),
        mapped_bytes_total: c(C_MAPPED_TOTAL),
        unmapped_bytes_total: c(C_UNMAPPED_TOTAL),
        unmatched_unmaps: c(C_UNMATCHED),
        dropped: c(C_DROPPED),
        stale: c(C_STALE),
        adopted: c(C_ADOPTED),
        interposed_calls: c(C_INTERPOSED),
    })
}

/// Every object the hooks have registered (loaded or since unloaded).
///
/// ```
/// let objs = arenaprof_native::hooks::objects();
/// assert!(objs.iter().all(|o| o.live_bytes <= o.peak_bytes));
/// ```
pub fn objects() -> Vec<ObjectStats> {
    crate::scope::internal(|| {
        let Some(r) = region() else { return Vec::new() };
        let n = r.next_slot.load(SEQ).min(MAX_OBJECTS);
        (0..n).filter_map(|k| stats_of(r, k)).collect()
    })
}

/// The counters of object slot `id`.
///
/// ```
/// assert!(arenaprof_native::hooks::object(u16::MAX).is_none());
/// ```
pub fn object(id: u16) -> Option<ObjectStats> {
    let r = region()?;
    if id as usize >= MAX_OBJECTS {
        return None;
    }
    stats_of(r, id as usize)
}

/// Slot id of the registered, loaded object with this load bias.
///
/// ```
/// assert_eq!(arenaprof_native::hooks::object_id_by_base(1), None);
/// ```
pub fn object_id_by_base(base: usize) -> Option<u16> {
    let r = region()?;
    let n = r.next_slot.load(SEQ).min(MAX_OBJECTS);
    (1..n)
        .find(|&k| r.slots[k].state.load(SEQ) == S_LIVE && r.slots[k].base.load(SEQ) == base)
        .map(|k| k as u16)
}

/// One live mapping in the table.
///
/// ```
/// let m = arenaprof_native::hooks::Mapping { object: 1, start: 0x1000, len: 4096, file_backed: false, caller: 0 };
/// assert_eq!(m.end(), 0x2000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Slot id of the object that made it.
    pub object: u16,
    /// First address.
    pub start: usize,
    /// Length in bytes (page-rounded).
    pub len: usize,
    /// Made with a file descriptor (not `MAP_ANONYMOUS`).
    pub file_backed: bool,
    /// Return address of the call that made it, when the interposer saw
    /// it (0 for calls through a patched GOT slot and adopted mappings).
    pub caller: usize,
}

impl Mapping {
    /// One past the last address.
    pub fn end(&self) -> usize {
        self.start + self.len
    }
}

/// How a table scan went.
///
/// ```
/// let s = arenaprof_native::hooks::for_each_mapping(|_| {});
/// assert!(s.busy_skipped <= s.slots_scanned);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Entries visited (the used part of the table).
    pub slots_scanned: usize,
    /// Mappings reported.
    pub mappings: usize,
    /// Entries being changed by a hook during the whole read (skipped).
    pub busy_skipped: usize,
}

/// Calls `f` for every live mapping, without allocating and without
/// blocking any hook: each entry is read with a generation check and
/// retried a few times if a hook changes it meanwhile.
///
/// ```
/// let mut n = 0;
/// arenaprof_native::hooks::for_each_mapping(|_m| n += 1);
/// ```
pub fn for_each_mapping(mut f: impl FnMut(Mapping)) -> ScanStats {
    let mut st = ScanStats::default();
    let Some(r) = region() else { return st };
    let hw = r.high_water.load(SEQ).min(TABLE_CAPACITY);
    st.slots_scanned = hw;
    for e in &r.entries[..hw] {
        let mut got = None;
        let mut busy = false;
        for _ in 0..8 {
            let g1 = e.gen.load(SEQ);
            let k = e.key.load(SEQ);
            if k == K_BUSY {
                busy = true;
                std::hint::spin_loop();
                continue;
            }
            busy = false;
            if !is_real(k) {
                break;
            }
            let l = e.len.load(SEQ);
            if e.key.load(SEQ) == k && e.gen.load(SEQ) == g1 {
                got = Some(Mapping {
                    object: key_owner(k) as u16,
                    start: key_start(k),
                    len: l,
                    file_backed: key_file(k),
                    caller: e.caller.load(SEQ),
                });
                break;
            }
            busy = true;
        }
        if let Some(m) = got {
            st.mappings += 1;
            f(m);
        } else if busy {
            st.busy_skipped += 1;
        }
    }
    st
}

/// The live mappings, sorted by address.
///
/// ```
/// let v = arenaprof_native::hooks::mappings();
/// assert!(v.windows(2).all(|w| w[0].start <= w[1].start));
/// ```
pub fn mappings() -> Vec<Mapping> {
    crate::scope::internal(|| {
        let mut v = Vec::new();
        for_each_mapping(|m| v.push(m));
        v.sort_by_key(|m| m.start);
        v
    })
}

/// Per-object figures with resident bytes (from `mincore`, exact per page
/// for anonymous memory), one line each when printed.
///
/// ```
/// let s = arenaprof_native::hooks::ObjectSummary {
///     name: "/usr/lib/libopenblas.so.0".into(), mappings: 16,
///     virtual_bytes: 16 * (128 << 20), resident_bytes: 4 << 20,
/// };
/// assert_eq!(s.to_string(), "libopenblas.so.0: 16 mappings, 2.0 GiB virtual, 4.0 MiB resident");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Object path.
    pub name: String,
    /// Live mappings it made.
    pub mappings: u64,
    /// Their virtual bytes.
    pub virtual_bytes: u64,
    /// Their resident bytes.
    pub resident_bytes: u64,
}

impl fmt::Display for ObjectSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.name.rsplit('/').next().unwrap_or(&self.name);
        write!(
            f,
            "{base}: {} mappings, {} virtual, {} resident",
            self.mappings,
            arenaprof_snapshot::size::format_bytes(self.virtual_bytes),
            arenaprof_snapshot::size::format_bytes(self.resident_bytes)
        )
    }
}

/// One [`ObjectSummary`] per object with live mappings, largest first.
///
/// ```
/// for line in arenaprof_native::hooks::summary() { println!("{line}"); }
/// ```
pub fn summary() -> Vec<ObjectSummary> {
    summarise(|start, len| crate::maps::resident_bytes(start, len).unwrap_or(0))
}

/// [`summary`] with resident bytes taken from `smaps` read just before:
/// a mapping's part in a VMA with no resident page counts 0 and a VMA
/// wholly inside it counts its `Rss`, so `mincore` runs only over VMAs
/// that straddle a mapping's ends and hold resident pages. (A reserved,
/// untouched 64 GiB address window costs nothing instead of 16 M page
/// bytes.)
///
/// ```
/// let smaps = arenaprof_native::maps::read_smaps().unwrap();
/// let a = arenaprof_native::hooks::summary_with(&smaps);
/// assert_eq!(a.len(), arenaprof_native::hooks::summary().len());
/// ```
pub fn summary_with(smaps: &crate::maps::Smaps) -> Vec<ObjectSummary> {
    summarise(|start, len| {
        let (s, e) = (start as u64, start.saturating_add(len) as u64);
        // VMAs are in address order: start at the first that ends after `s`.
        let first = smaps.vmas.partition_point(|v| v.end <= s);
        smaps.vmas[first..]
            .iter()
            .take_while(|v| v.start < e)
            .map(|v| {
                if v.rss == 0 {
                    0
                } else if s <= v.start && v.end <= e {
                    v.rss
                } else {
                    let (a, b) = (v.start.max(s), v.end.min(e));
                    crate::maps::resident_bytes(a as usize, (b - a) as usize).unwrap_or(0)
                }
            })
            .sum()
    })
}

/// The summary, with `resident(start, len)` giving a mapping's resident
/// bytes.
fn summarise(resident: impl Fn(usize, usize) -> u64) -> Vec<ObjectSummary> {
    crate::scope::internal(|| {
        let objs = objects();
        let maps = mappings();
        let mut out: Vec<ObjectSummary> = objs
            .iter()
            .filter(|o| o.live_mappings > 0)
            .map(|o| {
                let resident = maps
                    .iter()
                    .filter(|m| m.object == o.id)
                    .map(|m| resident(m.start, m.len))
                    .sum();
                ObjectSummary {
                    name: o.name.clone(),
                    mappings: o.live_mappings,
                    virtual_bytes: o.live_bytes,
                    resident_bytes: resident,
                }
            })
            .collect();
        out.sort_by_key(|o| std::cmp::Reverse(o.virtual_bytes));
        out
    })
}
