//! The lock-free table the hooks and the interposer record into: one
//! anonymous mapping, made with a raw `mmap` system call at install time (or
//! at the interposer's first call) and never unmapped, holding a slot of
//! counters per loaded object and the live mappings keyed by address. No
//! lock (beyond the registration spin), no call into the global allocator.

use std::ops::Range;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Object slots in the table (slot 0 collects objects past the capacity).
pub const MAX_OBJECTS: usize = 256;
/// Live mappings the table can hold; past it a mapping is counted as
/// `dropped` and not tracked.
pub const TABLE_CAPACITY: usize = 1 << 16;
pub(super) const NAME_CAP: usize = 216;

pub(super) const SEQ: Ordering = Ordering::SeqCst;
pub(super) const RLX: Ordering = Ordering::Relaxed;

// ---- per-object counters --------------------------------------------------

pub(super) const C_LIVE_MAPPINGS: usize = 0;
pub(super) const C_LIVE_BYTES: usize = 1;
pub(super) const C_PEAK_BYTES: usize = 2;
pub(super) const C_MMAP_CALLS: usize = 3;
pub(super) const C_MUNMAP_CALLS: usize = 4;
pub(super) const C_MREMAP_CALLS: usize = 5;
pub(super) const C_FAILED: usize = 6;
pub(super) const C_MAPPED_TOTAL: usize = 7;
pub(super) const C_UNMAPPED_TOTAL: usize = 8;
pub(super) const C_UNMATCHED: usize = 9;
pub(super) const C_DROPPED: usize = 10;
pub(super) const C_LIVE_FILE_BYTES: usize = 11;
pub(super) const C_STALE: usize = 12;
pub(super) const C_GOT_SLOTS: usize = 13;
pub(super) const C_ADOPTED: usize = 14;
pub(super) const C_INTERPOSED: usize = 15;
const N_COUNTERS: usize = 16;

pub(super) const S_FREE: u32 = 0;
pub(super) const S_LIVE: u32 = 2;
pub(super) const S_UNLOADED: u32 = 3;

#[repr(C)]
pub(super) struct ObjSlot {
    pub(super) state: AtomicU32,
    pub(super) seen: AtomicU32,
    pub(super) base: AtomicUsize,
    name_len: AtomicUsize,
    name: [AtomicU64; NAME_CAP / 8],
    pub(super) c: [AtomicU64; N_COUNTERS],
}

// ---- the mapping table ----------------------------------------------------

/// Key values that are not mappings. A real key is `start | owner << 4 |
/// file_bit`, with `start` page-aligned and at least one page.
const K_EMPTY: usize = 0;
pub(super) const K_BUSY: usize = 2;
const KEY_LOW: usize = 0xfff;

#[repr(C)]
pub(super) struct Entry {
    pub(super) key: AtomicUsize,
    pub(super) len: AtomicUsize,
    pub(super) gen: AtomicUsize,
    /// Return address of the call that made the mapping (0: not known).
    pub(super) caller: AtomicUsize,
}

#[repr(C)]
pub(crate) struct Region {
    pub(super) slots: [ObjSlot; MAX_OBJECTS],
    pub(super) entries: [Entry; TABLE_CAPACITY],
    pub(super) high_water: AtomicUsize,
    free_hint: AtomicUsize,
    lo: AtomicUsize,
    hi: AtomicUsize,
    pub(super) next_slot: AtomicUsize,
    pub(super) epoch: AtomicU32,
    live_entries: AtomicUsize,
}

static REGION: AtomicPtr<Region> = AtomicPtr::new(std::ptr::null_mut());

pub(super) fn region() -> Option<&'static Region> {
    let p = REGION.load(Ordering::Acquire);
    // SAFETY: REGION is either null or a mapping of `size_of::<Region>()`
    // zeroed bytes that is never unmapped; all-zero bytes are a valid Region
    // (only atomics), and every field is only accessed atomically.
    unsafe { p.as_ref() }
}

pub(crate) fn region_or_init() -> Option<&'static Region> {
    if let Some(r) = region() {
        return Some(r);
    }
    let size = std::mem::size_of::<Region>();
    // SAFETY: a fresh private anonymous mapping; no existing memory is
    // touched. MAP_NORESERVE: pages become resident only when written.
    // A raw system call: this runs inside the `mmap` interposer too.
    let p = unsafe {
        crate::sys::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    let r = p as *mut Region;
    // SAFETY: `r` points at `size` zeroed writable bytes that nobody else
    // sees yet; next_slot starts at 1 (slot 0 is the overflow slot).
    unsafe {
        (*r).next_slot.store(1, RLX);
        (*r).lo.store(usize::MAX, RLX);
    }
    match REGION.compare_exchange(std::ptr::null_mut(), r, SEQ, SEQ) {
        Ok(_) => region(),
        Err(_) => {
            // SAFETY: our own mapping, never published.
            unsafe { crate::sys::munmap(p, size) };
            region()
        }
    }
}

/// The profiler's own table mapping (one anonymous mapping made with `mmap`
/// at [`install`](super::install)), for grouping `/proc/self/smaps`; `None` before install.
///
/// ```
/// if let Some(r) = arenaprof_native::hooks::table_range() {
///     assert!(r.end > r.start);
/// }
/// ```
pub fn table_range() -> Option<Range<u64>> {
    let p = REGION.load(Ordering::Acquire) as usize;
    if p == 0 {
        return None;
    }
    let size = round_up(std::mem::size_of::<Region>());
    Some(p as u64..(p + size) as u64)
}

pub(super) fn round_up(n: usize) -> usize {
    let ps = crate::units::page_size();
    n.checked_add(ps - 1)
        .map_or(usize::MAX & !(ps - 1), |v| v & !(ps - 1))
}

pub(super) fn is_real(k: usize) -> bool {
    k > KEY_LOW
}

pub(super) fn key_start(k: usize) -> usize {
    k & !KEY_LOW
}

pub(super) fn key_owner(k: usize) -> usize {
    (k >> 4) & 0xff
}

pub(super) fn key_file(k: usize) -> bool {
    k & 1 != 0
}

fn make_key(start: usize, owner: usize, file: bool) -> usize {
    start | (owner & 0xff) << 4 | file as usize
}

/// A piece removed from the table, kept so a failed call can put it back.
#[derive(Clone, Copy, Default)]
pub(super) struct Frag {
    start: usize,
    len: usize,
    pub(super) owner: usize,
    pub(super) file: bool,
    pub(super) caller: usize,
}

pub(super) struct Frags {
    v: [Frag; 8],
    n: usize,
    lost: usize,
}

impl Frags {
    pub(super) fn new() -> Self {
        Frags {
            v: [Frag::default(); 8],
            n: 0,
            lost: 0,
        }
    }
    fn push(&mut self, f: Frag) {
        if self.n < self.v.len() {
            self.v[self.n] = f;
            self.n += 1;
        } else {
            self.lost += 1;
        }
    }
    pub(super) fn as_slice(&self) -> &[Frag] {
        &self.v[..self.n]
    }
}

impl Region {
    /// Counts a call that reached the interposer for object slot `k`.
    pub(crate) fn count_interposed(&self, k: usize) {
        self.ctr(k, C_INTERPOSED).fetch_add(1, RLX);
    }

    pub(super) fn ctr(&self, owner: usize, c: usize) -> &AtomicU64 {
        &self.slots[owner.min(MAX_OBJECTS - 1)].c[c]
    }

    fn add_live(&self, owner: usize, len: usize, file: bool) {
        self.ctr(owner, C_LIVE_MAPPINGS).fetch_add(1, SEQ);
        let now = self.ctr(owner, C_LIVE_BYTES).fetch_add(len as u64, SEQ) + len as u64;
        self.ctr(owner, C_PEAK_BYTES).fetch_max(now, SEQ);
        if file {
            self.ctr(owner, C_LIVE_FILE_BYTES)
                .fetch_add(len as u64, SEQ);
        }
    }

    /// Claims an empty entry (marks it busy). Lock-free: one CAS per try.
    fn claim_free(&self) -> Option<usize> {
        let start = self.free_hint.load(RLX).min(TABLE_CAPACITY);
        let order = (start..TABLE_CAPACITY).chain(0..start);
        for i in order {
            let e = &self.entries[i];
            if e.key.load(RLX) == K_EMPTY
                && e.key.compare_exchange(K_EMPTY, K_BUSY, SEQ, RLX).is_ok()
            {
                e.gen.fetch_add(1, SEQ);
                self.high_water.fetch_max(i + 1, SEQ);
                let _ = self.free_hint.compare_exchange(start, i + 1, RLX, RLX);
                self.live_entries.fetch_add(1, RLX);
                return Some(i);
            }
        }
        None
    }

    fn release(&self, i: usize) {
        self.entries[i].key.store(K_EMPTY, SEQ);
        self.free_hint.fetch_min(i, RLX);
        self.live_entries.fetch_sub(1, RLX);
    }

    /// Puts `[start, start+len)` in the table for `owner`. Counters are
    /// raised before the entry is published, so a concurrent remover never
    /// takes them below zero.
    fn insert_raw(
        &self,
        start: usize,
        len: usize,
        owner: usize,
        file: bool,
        caller: usize,
    ) -> bool {
        let Some(i) = self.claim_free() else {
            self.ctr(owner, C_DROPPED).fetch_add(1, SEQ);
            return false;
        };
        let e = &self.entries[i];
        e.len.store(len, SEQ);
        e.caller.store(caller, SEQ);
        self.add_live(owner, len, file);
        self.lo.fetch_min(start, SEQ);
        self.hi.fetch_max(start.saturating_add(len), SEQ);
        e.key.store(make_key(start, owner, file), SEQ);
        true
    }

    /// Records a new mapping made by `owner`; anything the table still has
    /// at those addresses was unmapped behind the hooks' back (stale).
    pub(super) fn insert(&self, start: usize, len: usize, owner: usize, file: bool, caller: usize) {
        if start <= KEY_LOW || len == 0 {
            return;
        }
        self.remove_range(start, len, None, None);
        if self.insert_raw(start, len, owner, file, caller) {
            self.ctr(owner, C_MAPPED_TOTAL).fetch_add(len as u64, SEQ);
        }
    }

    /// Removes `[a, a+len)` from every entry it overlaps, splitting or
    /// shrinking entries as `munmap` does. `unmapper`: `Some(caller)` for
    /// an unmap (counted in the owner's unmapped total), `None` for stale
    /// entries found under a new mapping. Returns how many entries it
    /// touched. Bounded: one pass over the used part of the table.
    pub(super) fn remove_range(
        &self,
        a: usize,
        len: usize,
        unmapper: Option<usize>,
        mut frags: Option<&mut Frags>,
    ) -> usize {
        let b = a.saturating_add(len);
        if b <= self.lo.load(SEQ) || a >= self.hi.load(SEQ) {
            return 0;
        }
        let mut touched = 0;
        let hw = self.high_water.load(SEQ).min(TABLE_CAPACITY);
        for i in 0..hw {
            let e = &self.entries[i];
            let k = e.key.load(SEQ);
            if !is_real(k) {
                continue;
            }
            let s = key_start(k);
            if s >= b || s.saturating_add(e.len.load(SEQ)) <= a {
                continue;
            }
            if e.key.compare_exchange(k, K_BUSY, SEQ, RLX).is_err() {
                continue;
            }
            e.gen.fetch_add(1, SEQ);
            let l = e.len.load(SEQ);
            let end = s.saturating_add(l);
            if s >= b || end <= a {
                e.key.store(k, SEQ);
                continue;
            }
            touched += 1;
            let owner = key_owner(k);
            let file = key_file(k);
            let caller = e.caller.load(SEQ);
            let left = a.saturating_sub(s);
            let right = end.saturating_sub(b);
            let removed = l - left - right;
            self.ctr(owner, C_LIVE_BYTES).fetch_sub(removed as u64, SEQ);
            if file {
                self.ctr(owner, C_LIVE_FILE_BYTES)
                    .fetch_sub(removed as u64, SEQ);
            }
            match unmapper {
                Some(_) => self
                    .ctr(owner, C_UNMAPPED_TOTAL)
                    .fetch_add(removed as u64, SEQ),
                None => self.ctr(owner, C_STALE).fetch_add(1, SEQ),
            };
            if let Some(f) = frags.as_deref_mut() {
                f.push(Frag {
                    start: s.max(a),
                    len: removed,
                    owner,
                    file,
                    caller,
                });
            }
            match (left > 0, right > 0) {
                (false, false) => {
                    self.ctr(owner, C_LIVE_MAPPINGS).fetch_sub(1, SEQ);
                    self.release(i);
                }
                (true, false) => {
                    e.len.store(left, SEQ);
                    e.key.store(k, SEQ);
                }
                (false, true) => {
                    e.len.store(right, SEQ);
                    e.key.store(make_key(b, owner, file), SEQ);
                }
                (true, true) => {
                    // One mapping becomes two: the left part keeps the entry,
                    // the right part gets a new one (one more live mapping).
                    e.len.store(left, SEQ);
                    e.key.store(k, SEQ);
                    if self
                        .claim_free()
                        .map(|j| {
                            let ej = &self.entries[j];
                            ej.len.store(right, SEQ);
                            ej.caller.store(caller, SEQ);
                            self.ctr(owner, C_LIVE_MAPPINGS).fetch_add(1, SEQ);
                            ej.key.store(make_key(b, owner, file), SEQ);
                        })
                        .is_none()
                    {
                        // Table full: the right part is no longer tracked.
                        self.ctr(owner, C_LIVE_BYTES).fetch_sub(right as u64, SEQ);
                        if file {
                            self.ctr(owner, C_LIVE_FILE_BYTES)
                                .fetch_sub(right as u64, SEQ);
                        }
                        self.ctr(owner, C_DROPPED).fetch_add(1, SEQ);
                    }
                }
            }
        }
        touched
    }

    /// Puts back what a failed `munmap`/`mremap` had removed.
    pub(super) fn restore(&self, frags: &Frags) {
        for f in frags.as_slice() {
            if self.insert_raw(f.start, f.len, f.owner, f.file, f.caller) {
                self.ctr(f.owner, C_UNMAPPED_TOTAL)
                    .fetch_sub(f.len as u64, SEQ);
            }
        }
    }
}

/// Serialises registration: the patch pass and the interposer (any thread,
/// before `main` too) register objects. Held only around the scan and the
/// stores below, which call nothing.
/// Holds the holder's process id (0: free). A forked child finds its
/// parent's id there if a parent thread held it at the fork, and takes it:
/// no thread of the child can be inside.
pub(super) static REG_LOCK: AtomicUsize = AtomicUsize::new(0);

/// The slot of the loaded object at `base` named `name`, registered if new
/// (0 when the table of objects is full).
pub(crate) fn find_or_register(r: &Region, base: usize, name: &[u8]) -> usize {
    // SAFETY: getpid has no preconditions (a system call, no allocation).
    let me = unsafe { libc::getpid() } as usize;
    loop {
        let cur = REG_LOCK.load(SEQ);
        if (cur == 0 || cur != me) && REG_LOCK.compare_exchange(cur, me, SEQ, RLX).is_ok() {
            break;
        }
        std::hint::spin_loop();
    }
    let k = find_or_register_locked(r, base, name);
    REG_LOCK.store(0, SEQ);
    k
}

fn find_or_register_locked(r: &Region, base: usize, name: &[u8]) -> usize {
    let n = r.next_slot.load(SEQ).min(MAX_OBJECTS);
    for k in 1..n {
        let s = &r.slots[k];
        if s.state.load(SEQ) == S_LIVE && s.base.load(SEQ) == base && slot_name_eq(s, name) {
            return k;
        }
    }
    if n >= MAX_OBJECTS {
        return 0;
    }
    let k = r.next_slot.fetch_add(1, SEQ);
    if k >= MAX_OBJECTS {
        return 0;
    }
    let s = &r.slots[k];
    // Keep the tail of a long path: the file name matters most.
    let tail = &name[name.len().saturating_sub(NAME_CAP)..];
    for (i, w) in s.name.iter().enumerate() {
        let mut b = [0u8; 8];
        for (j, x) in b.iter_mut().enumerate() {
            *x = tail.get(i * 8 + j).copied().unwrap_or(0);
        }
        w.store(u64::from_ne_bytes(b), SEQ);
    }
    s.name_len.store(tail.len(), SEQ);
    s.base.store(base, SEQ);
    // Seen in the pass now running (if any), so its sweep of unloaded
    // objects does not take an object registered meanwhile for unloaded.
    s.seen.store(r.epoch.load(SEQ), SEQ);
    s.state.store(S_LIVE, SEQ);
    k
}

fn slot_name_eq(s: &ObjSlot, name: &[u8]) -> bool {
    let tail = &name[name.len().saturating_sub(NAME_CAP)..];
    if s.name_len.load(SEQ) != tail.len() {
        return false;
    }
    tail.chunks(8).enumerate().all(|(i, c)| {
        let w = s.name[i].load(SEQ).to_ne_bytes();
        &w[..c.len()] == c
    })
}

/// Name bytes of a published slot, copied into `buf`; returns the length.
pub(super) fn slot_name(s: &ObjSlot, buf: &mut [u8; NAME_CAP]) -> usize {
    let n = s.name_len.load(SEQ).min(NAME_CAP);
    for (i, w) in s.name.iter().enumerate() {
        let b = w.load(SEQ).to_ne_bytes();
        buf[i * 8..i * 8 + 8].copy_from_slice(&b);
    }
    n
}

/// Puts `[start, start+len)` in the table as a live anonymous mapping of
/// object `id`, for memory the object made before it could be patched
/// (e.g. by a thread its constructor started, during `dlopen`:
/// [`crate::blas::open`] does this). Its later `munmap` through the hooks
/// is then matched. Returns `false` without hooks, for an unknown id, an
/// unaligned or empty range, or a full table.
///
/// ```
/// assert!(!arenaprof_native::hooks::adopt(0x1000, 0, 1));
/// ```
pub fn adopt(start: usize, len: usize, id: u16) -> bool {
    let Some(r) = region() else { return false };
    let k = id as usize;
    let ps = crate::units::page_size();
    if k == 0
        || k >= MAX_OBJECTS
        || r.slots[k].state.load(SEQ) == S_FREE
        || len == 0
        || start & (ps - 1) != 0
    {
        return false;
    }
    let len = round_up(len);
    if r.insert_raw(start, len, k, false, 0) {
        r.ctr(k, C_MAPPED_TOTAL).fetch_add(len as u64, SEQ);
        r.ctr(k, C_ADOPTED).fetch_add(1, SEQ);
        true
    } else {
        false
    }
}
