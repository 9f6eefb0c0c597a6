//! Who mapped it: `mmap`, `mmap64`, `munmap` and `mremap` calls made by
//! loaded shared objects, attributed to the calling object by patching the
//! objects' GOT slots (the way memray's native mode does).
//!
//! [`install`] walks the loaded objects with `dl_iterate_phdr`, reads each
//! one's dynamic section in place, and rewrites the GOT slots (`JUMP_SLOT`
//! and `GLOB_DAT` relocations) of those four functions so that they point at
//! a hook. Each object gets its own copy of each hook (a const-generic
//! function per object slot), so the hook knows its caller without
//! unwinding or `dladdr`. The hook calls the real function (resolved once
//! with `dlsym(RTLD_DEFAULT, ..)`) and records the result in a fixed-size,
//! lock-free table of live mappings keyed by address, plus per-object
//! counters; both live in one anonymous mapping made with `mmap` at install
//! time ([`table_range`]), never in memory from the global allocator.
//!
//! The main executable's `dlopen`/`dlclose` slots are patched too, so an
//! object the program loads later is patched right after `dlopen` returns.
//!
//! ```no_run
//! use arenaprof_native::hooks;
//! hooks::install().expect("hooks");
//! // ... load and run native libraries ...
//! for o in hooks::summary() {
//!     println!("{o}"); // libopenblas.so.0: 16 mappings, 2.0 GiB virtual, 4.0 MiB resident
//! }
//! ```
//!
//! # What is not seen
//! - Objects excluded by [`Options::exclude`] (the allocator, if it is a
//!   shared library) and the main executable (where the Rust allocator and
//!   this crate live): their calls are not intercepted.
//! - Calls that do not go through a GOT slot: raw `syscall(SYS_mmap, ..)`,
//!   inline `syscall` instructions, statically linked binaries, libc's own
//!   internal calls (glibc `malloc`'s arenas, thread stacks from
//!   `pthread_create`, the loader mapping objects).
//! - Mappings made before [`install`], or by an object before it was
//!   patched: constructors of an object run inside `dlopen`, before the hook
//!   can patch it; objects loaded by another library's `dlopen` (not the
//!   main executable's) are patched only at the next [`refresh`] (which
//!   [`crate::blas::info`] and [`crate::process_memory`] call).
//! - A mapping unmapped by code that is not hooked stays in the table until
//!   a hooked call maps over its address (it is then counted as stale) or
//!   until the object's mappings are checked against `/proc/self/maps`.
//! - In a forked child, an entry that another thread of the parent was
//!   modifying at the instant of `fork` stays marked busy (skipped).

use std::ffi::{c_char, c_int, c_void};
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::elf;

/// Object slots in the table (slot 0 collects objects past the capacity).
pub const MAX_OBJECTS: usize = 256;
/// Live mappings the table can hold; past it a mapping is counted as
/// `dropped` and not tracked.
pub const TABLE_CAPACITY: usize = 1 << 16;
const NAME_CAP: usize = 216;

const SEQ: Ordering = Ordering::SeqCst;
const RLX: Ordering = Ordering::Relaxed;

// ---- per-object counters --------------------------------------------------

const C_LIVE_MAPPINGS: usize = 0;
const C_LIVE_BYTES: usize = 1;
const C_PEAK_BYTES: usize = 2;
const C_MMAP_CALLS: usize = 3;
const C_MUNMAP_CALLS: usize = 4;
const C_MREMAP_CALLS: usize = 5;
const C_FAILED: usize = 6;
const C_MAPPED_TOTAL: usize = 7;
const C_UNMAPPED_TOTAL: usize = 8;
const C_UNMATCHED: usize = 9;
const C_DROPPED: usize = 10;
const C_LIVE_FILE_BYTES: usize = 11;
const C_STALE: usize = 12;
const C_GOT_SLOTS: usize = 13;
const C_ADOPTED: usize = 14;
const C_INTERPOSED: usize = 15;
const N_COUNTERS: usize = 16;

const S_FREE: u32 = 0;
const S_LIVE: u32 = 2;
const S_UNLOADED: u32 = 3;

#[repr(C)]
struct ObjSlot {
    state: AtomicU32,
    seen: AtomicU32,
    base: AtomicUsize,
    name_len: AtomicUsize,
    name: [AtomicU64; NAME_CAP / 8],
    c: [AtomicU64; N_COUNTERS],
}

// ---- the mapping table ----------------------------------------------------

/// Key values that are not mappings. A real key is `start | owner << 4 |
/// file_bit`, with `start` page-aligned and at least one page.
const K_EMPTY: usize = 0;
const K_BUSY: usize = 2;
const KEY_LOW: usize = 0xfff;

#[repr(C)]
struct Entry {
    key: AtomicUsize,
    len: AtomicUsize,
    gen: AtomicUsize,
    /// Return address of the call that made the mapping (0: not known).
    caller: AtomicUsize,
}

#[repr(C)]
pub(crate) struct Region {
    slots: [ObjSlot; MAX_OBJECTS],
    entries: [Entry; TABLE_CAPACITY],
    high_water: AtomicUsize,
    free_hint: AtomicUsize,
    lo: AtomicUsize,
    hi: AtomicUsize,
    next_slot: AtomicUsize,
    epoch: AtomicU32,
    live_entries: AtomicUsize,
}

static REGION: AtomicPtr<Region> = AtomicPtr::new(std::ptr::null_mut());

fn region() -> Option<&'static Region> {
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
/// at [`install`]), for grouping `/proc/self/smaps`; `None` before install.
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

fn round_up(n: usize) -> usize {
    let ps = crate::page_size();
    n.checked_add(ps - 1)
        .map_or(usize::MAX & !(ps - 1), |v| v & !(ps - 1))
}

fn is_real(k: usize) -> bool {
    k > KEY_LOW
}

fn key_start(k: usize) -> usize {
    k & !KEY_LOW
}

fn key_owner(k: usize) -> usize {
    (k >> 4) & 0xff
}

fn key_file(k: usize) -> bool {
    k & 1 != 0
}

fn make_key(start: usize, owner: usize, file: bool) -> usize {
    start | (owner & 0xff) << 4 | file as usize
}

/// A piece removed from the table, kept so a failed call can put it back.
#[derive(Clone, Copy, Default)]
struct Frag {
    start: usize,
    len: usize,
    owner: usize,
    file: bool,
    caller: usize,
}

struct Frags {
    v: [Frag; 8],
    n: usize,
    lost: usize,
}

impl Frags {
    fn new() -> Self {
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
    fn as_slice(&self) -> &[Frag] {
        &self.v[..self.n]
    }
}

impl Region {
    /// Counts a call that reached the interposer for object slot `k`.
    pub(crate) fn count_interposed(&self, k: usize) {
        self.ctr(k, C_INTERPOSED).fetch_add(1, RLX);
    }

    fn ctr(&self, owner: usize, c: usize) -> &AtomicU64 {
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
    fn insert(&self, start: usize, len: usize, owner: usize, file: bool, caller: usize) {
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
    fn remove_range(
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
    fn restore(&self, frags: &Frags) {
        for f in frags.as_slice() {
            if self.insert_raw(f.start, f.len, f.owner, f.file, f.caller) {
                self.ctr(f.owner, C_UNMAPPED_TOTAL)
                    .fetch_sub(f.len as u64, SEQ);
            }
        }
    }
}

// ---- real functions and hooks ---------------------------------------------

pub(crate) type MmapFn =
    unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, c_int, libc::off_t) -> *mut c_void;
pub(crate) type MunmapFn = unsafe extern "C" fn(*mut c_void, usize) -> c_int;
type DlopenFn = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
type DlcloseFn = unsafe extern "C" fn(*mut c_void) -> c_int;

const F_MMAP: usize = 0;
const F_MMAP64: usize = 1;
const F_MUNMAP: usize = 2;
const F_MREMAP: usize = 3;
const F_DLOPEN: usize = 4;
const F_DLCLOSE: usize = 5;
const NAMES: [&[u8]; 6] = [
    b"mmap", b"mmap64", b"munmap", b"mremap", b"dlopen", b"dlclose",
];
const CNAMES: [&std::ffi::CStr; 6] = [
    c"mmap", c"mmap64", c"munmap", c"mremap", c"dlopen", c"dlclose",
];

/// The real functions, resolved at install with `dlsym(RTLD_DEFAULT, ..)`;
/// set once before any slot is patched and never cleared.
static REAL: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];

fn real(f: usize) -> usize {
    REAL[f].load(Ordering::Acquire)
}

/// What `dlsym(RTLD_DEFAULT, ..)` found: what a bound GOT slot holds
/// before patching and gets back at [`uninstall`]. The same as [`REAL`]
/// unless it is the program's own `mmap` family (the interposer), which
/// the hooks do not call (it would record the call a second time).
static BOUND: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];

unsafe extern "C" fn hook_mmap<const K: usize>(
    a: *mut c_void,
    l: usize,
    p: c_int,
    f: c_int,
    fd: c_int,
    o: libc::off_t,
) -> *mut c_void {
    // SAFETY: same contract as mmap; forwarded unchanged.
    unsafe { on_mmap((K, F_MMAP), a, l, p, f, fd, o) }
}

unsafe extern "C" fn hook_mmap64<const K: usize>(
    a: *mut c_void,
    l: usize,
    p: c_int,
    f: c_int,
    fd: c_int,
    o: libc::off_t,
) -> *mut c_void {
    // SAFETY: same contract as mmap64; forwarded unchanged.
    unsafe { on_mmap((K, F_MMAP64), a, l, p, f, fd, o) }
}

unsafe extern "C" fn hook_munmap<const K: usize>(a: *mut c_void, l: usize) -> c_int {
    // SAFETY: same contract as munmap; forwarded unchanged.
    unsafe { on_munmap(K, a, l) }
}

/// `mremap` is variadic in C; its fifth argument (`new_address`) is read
/// only with `MREMAP_FIXED`. On x86_64 SysV and aarch64 Linux a variadic
/// pointer argument travels in the same register as a fixed one, so the
/// hook declares five fixed arguments and passes the fifth on.
unsafe extern "C" fn hook_mremap<const K: usize>(
    a: *mut c_void,
    old: usize,
    new: usize,
    flags: c_int,
    new_addr: *mut c_void,
) -> *mut c_void {
    // SAFETY: same contract as mremap; forwarded unchanged.
    unsafe { on_mremap(K, a, old, new, flags, new_addr) }
}

/// `(k, which)`: the calling object's key and which libc function
/// (`F_MMAP` or `F_MMAP64`); the rest is `mmap`'s own signature.
unsafe fn on_mmap(
    (k, which): (usize, usize),
    a: *mut c_void,
    l: usize,
    p: c_int,
    f: c_int,
    fd: c_int,
    o: libc::off_t,
) -> *mut c_void {
    // SAFETY: REAL[which] was set from dlsym to the libc function of this
    // signature before any slot pointing here was written.
    let realf: MmapFn = unsafe { std::mem::transmute::<usize, MmapFn>(real(which)) };
    // SAFETY: forwarded unchanged.
    unsafe { record_mmap((k, 0), realf, a, l, p, f, fd, o) }
}

/// Calls `realf` (an `mmap`) with the caller's arguments and records the
/// result for object slot `k`, made from return address `caller` (0 when
/// not known).
///
/// # Safety
/// `realf` is an `mmap` of this signature; the arguments are the caller's.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn record_mmap(
    (k, caller): (usize, usize),
    realf: MmapFn,
    a: *mut c_void,
    l: usize,
    p: c_int,
    f: c_int,
    fd: c_int,
    o: libc::off_t,
) -> *mut c_void {
    let Some(r) = region() else {
        // SAFETY: forwarding the caller's arguments.
        return unsafe { realf(a, l, p, f, fd, o) };
    };
    r.ctr(k, C_MMAP_CALLS).fetch_add(1, RLX);
    let plen = round_up(l);
    if f & libc::MAP_FIXED != 0 && !a.is_null() && l > 0 {
        // The kernel replaces whatever was there.
        r.remove_range(a as usize, plen, Some(k), None);
    }
    // SAFETY: forwarding the caller's arguments to the real mmap.
    let ret = unsafe { realf(a, l, p, f, fd, o) };
    if ret == libc::MAP_FAILED {
        r.ctr(k, C_FAILED).fetch_add(1, RLX);
    } else {
        let file = f & libc::MAP_ANONYMOUS == 0 && fd >= 0;
        r.insert(ret as usize, plen, k, file, caller);
    }
    ret
}

unsafe fn on_munmap(k: usize, a: *mut c_void, l: usize) -> c_int {
    // SAFETY: REAL[F_MUNMAP] is libc's munmap (see on_mmap).
    let realf: MunmapFn = unsafe { std::mem::transmute::<usize, MunmapFn>(real(F_MUNMAP)) };
    // SAFETY: forwarded unchanged.
    unsafe { record_munmap(k, realf, a, l) }
}

/// Calls `realf` (a `munmap`) and takes the range out of the table.
///
/// # Safety
/// `realf` is a `munmap`; the arguments are the caller's.
pub(crate) unsafe fn record_munmap(k: usize, realf: MunmapFn, a: *mut c_void, l: usize) -> c_int {
    let Some(r) = region() else {
        // SAFETY: forwarding the caller's arguments.
        return unsafe { realf(a, l) };
    };
    r.ctr(k, C_MUNMAP_CALLS).fetch_add(1, RLX);
    let ps = crate::page_size();
    let valid = (a as usize) & (ps - 1) == 0 && l > 0;
    let mut frags = Frags::new();
    if valid {
        // Out of the table *before* the kernel frees the range, so another
        // thread's mmap that gets the same addresses cannot be removed here.
        if r.remove_range(a as usize, round_up(l), Some(k), Some(&mut frags)) == 0 {
            r.ctr(k, C_UNMATCHED).fetch_add(1, RLX);
        }
    }
    // SAFETY: forwarding the caller's arguments to the real munmap.
    let ret = unsafe { realf(a, l) };
    if ret != 0 {
        r.ctr(k, C_FAILED).fetch_add(1, RLX);
        r.restore(&frags);
    }
    ret
}

unsafe fn on_mremap(
    k: usize,
    a: *mut c_void,
    old: usize,
    new: usize,
    flags: c_int,
    na: *mut c_void,
) -> *mut c_void {
    // SAFETY: REAL[F_MREMAP] is libc's (variadic) mremap; with five
    // arguments it is called like the fixed-argument form (see hook_mremap).
    let realf: MremapFixed = unsafe { std::mem::transmute::<usize, MremapFixed>(real(F_MREMAP)) };
    // SAFETY: forwarded unchanged.
    unsafe { record_mremap(k, realf, a, old, new, flags, na) }
}

/// Calls `realf` (an `mremap`) and moves the entry in the table.
///
/// # Safety
/// `realf` is an `mremap` taking its fifth argument in a register; the
/// arguments are the caller's.
pub(crate) unsafe fn record_mremap(
    k: usize,
    realf: MremapFixed,
    a: *mut c_void,
    old: usize,
    new: usize,
    flags: c_int,
    na: *mut c_void,
) -> *mut c_void {
    let Some(r) = region() else {
        // SAFETY: forwarding the caller's arguments.
        return unsafe { realf(a, old, new, flags, na) };
    };
    r.ctr(k, C_MREMAP_CALLS).fetch_add(1, RLX);
    let ps = crate::page_size();
    let mut frags = Frags::new();
    if old > 0 && (a as usize) & (ps - 1) == 0 {
        r.remove_range(a as usize, round_up(old), Some(k), Some(&mut frags));
    }
    if flags & libc::MREMAP_FIXED != 0 && new > 0 {
        r.remove_range(na as usize, round_up(new), Some(k), None);
    }
    let (owner, file, caller) = frags
        .as_slice()
        .first()
        .map_or((k, false, 0), |f| (f.owner, f.file, f.caller));
    // SAFETY: forwarding the caller's arguments to the real mremap.
    let ret = unsafe { realf(a, old, new, flags, na) };
    if ret == libc::MAP_FAILED {
        r.ctr(k, C_FAILED).fetch_add(1, RLX);
        r.restore(&frags);
    } else {
        r.insert(ret as usize, round_up(new), owner, file, caller);
    }
    ret
}

unsafe extern "C" fn hook_dlopen(file: *const c_char, flags: c_int) -> *mut c_void {
    // SAFETY: REAL[F_DLOPEN] is libc's dlopen. The hook lives in the main
    // executable, which is the object whose slot points here, so glibc sees
    // the same caller for RPATH/RUNPATH and namespace purposes.
    let realf: DlopenFn = unsafe { std::mem::transmute::<usize, DlopenFn>(real(F_DLOPEN)) };
    // SAFETY: forwarding the caller's arguments.
    let h = unsafe { realf(file, flags) };
    if !h.is_null() && INSTALLED.load(SEQ) {
        patch_pass_try();
    }
    h
}

unsafe extern "C" fn hook_dlclose(h: *mut c_void) -> c_int {
    // SAFETY: REAL[F_DLCLOSE] is libc's dlclose.
    let realf: DlcloseFn = unsafe { std::mem::transmute::<usize, DlcloseFn>(real(F_DLCLOSE)) };
    // SAFETY: forwarding the caller's argument.
    let ret = unsafe { realf(h) };
    if ret == 0 && INSTALLED.load(SEQ) {
        patch_pass_try();
    }
    ret
}

/// Builds `[[hook::<0>, ..., hook::<15>], ..., [hook::<240>, ..., hook::<255>]]`.
macro_rules! hook_table {
    ($f:ident, $t:ty) => {
        hook_table!(@outer $f, $t, [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15])
    };
    (@outer $f:ident, $t:ty, [$($hi:literal)*]) => {
        [$( hook_table!(@inner $f, $t, $hi) ),*]
    };
    (@inner $f:ident, $t:ty, $hi:literal) => {
        hook_table!(@row $f, $t, $hi, [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15])
    };
    (@row $f:ident, $t:ty, $hi:literal, [$($lo:literal)*]) => {
        [$( $f::<{ $hi * 16 + $lo }> as $t ),*]
    };
}

pub(crate) type MremapFixed =
    unsafe extern "C" fn(*mut c_void, usize, usize, c_int, *mut c_void) -> *mut c_void;

static MMAP_HOOKS: [[MmapFn; 16]; 16] = hook_table!(hook_mmap, MmapFn);
static MMAP64_HOOKS: [[MmapFn; 16]; 16] = hook_table!(hook_mmap64, MmapFn);
static MUNMAP_HOOKS: [[MunmapFn; 16]; 16] = hook_table!(hook_munmap, MunmapFn);
static MREMAP_HOOKS: [[MremapFixed; 16]; 16] = hook_table!(hook_mremap, MremapFixed);

fn hook_addr(f: usize, k: usize) -> usize {
    let (hi, lo) = (k >> 4 & 15, k & 15);
    match f {
        F_MMAP => MMAP_HOOKS[hi][lo] as usize,
        F_MMAP64 => MMAP64_HOOKS[hi][lo] as usize,
        F_MUNMAP => MUNMAP_HOOKS[hi][lo] as usize,
        F_MREMAP => MREMAP_HOOKS[hi][lo] as usize,
        F_DLOPEN => hook_dlopen as *const () as usize,
        _ => hook_dlclose as *const () as usize,
    }
}

fn is_our_hook(f: usize, v: usize) -> bool {
    if f >= F_DLOPEN {
        return v == hook_addr(f, 0);
    }
    (0..MAX_OBJECTS).any(|k| hook_addr(f, k) == v)
}

// ---- patching -------------------------------------------------------------

static INSTALLED: AtomicBool = AtomicBool::new(false);
/// [`uninstall`] was called (and [`install`] not since): the interposer
/// passes calls through unrecorded too. Before the first [`install`] it
/// records, so that a linked library's constructor is seen.
static UNINSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether the interposer records calls now.
pub(crate) fn recording() -> bool {
    !UNINSTALLED.load(RLX)
}
static PATCH_LOCK: AtomicBool = AtomicBool::new(false);
static PATCH_PENDING: AtomicBool = AtomicBool::new(false);
static ATFORK: AtomicBool = AtomicBool::new(false);
/// The exclusion list in force: null until [`install_with`] sets one (a
/// leaked box per new list, so a reader never pairs one list's pointer with
/// another's length).
static EXCLUDE: AtomicPtr<&'static [&'static str]> = AtomicPtr::new(std::ptr::null_mut());
static HOOK_DLOPEN: AtomicBool = AtomicBool::new(true);

/// Settings for [`install_with`].
///
/// ```
/// let opts = arenaprof_native::hooks::Options::default();
/// assert!(opts.exclude.iter().any(|s| s.contains("jemalloc")));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Objects whose path contains one of these strings are not hooked
    /// (the allocator, when it is a shared library). The main executable
    /// is never hooked for `mmap`.
    pub exclude: &'static [&'static str],
    /// Patch the main executable's `dlopen`/`dlclose` so objects it loads
    /// later are patched at once (default: yes).
    pub hook_dlopen: bool,
}

/// The default exclusions: shared-library builds of common allocators.
pub const DEFAULT_EXCLUDE: &[&str] = &["libjemalloc", "libtcmalloc", "libmimalloc", "libarenaprof"];

impl Default for Options {
    fn default() -> Self {
        Options {
            exclude: DEFAULT_EXCLUDE,
            hook_dlopen: true,
        }
    }
}

/// Why hooks could not be installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstallError {
    /// Not Linux on x86_64 or aarch64 with 64-bit pointers.
    Unsupported,
    /// The table mapping could not be made.
    NoMemory,
    /// `dlsym(RTLD_DEFAULT, name)` found no such function.
    MissingSymbol(&'static str),
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallError::Unsupported => write!(
                f,
                "GOT patching is implemented for Linux x86_64/aarch64 only"
            ),
            InstallError::NoMemory => write!(f, "could not map the hooks' table"),
            InstallError::MissingSymbol(s) => write!(f, "dlsym found no `{s}`"),
        }
    }
}

impl std::error::Error for InstallError {}

/// What one patching pass did.
///
/// ```
/// let p = arenaprof_native::hooks::Patched::default();
/// assert_eq!(p.slots, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Patched {
    /// Objects whose `mmap` family is hooked (new in this pass).
    pub objects: usize,
    /// GOT slots written in this pass.
    pub slots: usize,
    /// Slots that held neither the real function nor a lazy-binding stub
    /// (another interposer got there first); left alone.
    pub foreign: usize,
    /// Slots whose page protection could not be changed.
    pub failed: usize,
}

fn lock_patch(wait: bool) -> bool {
    loop {
        if PATCH_LOCK.compare_exchange(false, true, SEQ, RLX).is_ok() {
            return true;
        }
        if !wait {
            return false;
        }
        std::thread::yield_now();
    }
}

fn unlock_patch() {
    PATCH_LOCK.store(false, SEQ);
}

/// From the `dlopen`/`dlclose` hooks: patch if nobody else is patching,
/// otherwise leave a note for the one who is (never waits, so a thread
/// holding the loader lock cannot deadlock with a patcher waiting for it).
fn patch_pass_try() {
    PATCH_PENDING.store(true, SEQ);
    while PATCH_PENDING.load(SEQ) {
        if !lock_patch(false) {
            return;
        }
        PATCH_PENDING.store(false, SEQ);
        patch_pass(true);
        unlock_patch();
    }
}

fn excluded_list_is(list: &'static [&'static str]) -> bool {
    // SAFETY: EXCLUDE is null or a leaked box, never freed.
    unsafe { EXCLUDE.load(SEQ).as_ref() }.is_some_and(|l| std::ptr::eq(*l, list))
}

/// Whether objects named `name` are never attributed (the allocator, if it
/// is a shared library): [`Options::exclude`], or [`DEFAULT_EXCLUDE`] before
/// [`install_with`] set one.
pub(crate) fn excluded(name: &[u8]) -> bool {
    let p = EXCLUDE.load(SEQ);
    // SAFETY: EXCLUDE is null or a leaked box, never freed.
    let list: &[&str] = unsafe { p.as_ref() }.copied().unwrap_or(DEFAULT_EXCLUDE);
    list.iter()
        .any(|s| !s.is_empty() && name.windows(s.len()).any(|w| w == s.as_bytes()))
}

/// Serialises registration: the patch pass and the interposer (any thread,
/// before `main` too) register objects. Held only around the scan and the
/// stores below, which call nothing.
/// Holds the holder's process id (0: free). A forked child finds its
/// parent's id there if a parent thread held it at the fork, and takes it:
/// no thread of the child can be inside.
static REG_LOCK: AtomicUsize = AtomicUsize::new(0);

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
fn slot_name(s: &ObjSlot, buf: &mut [u8; NAME_CAP]) -> usize {
    let n = s.name_len.load(SEQ).min(NAME_CAP);
    for (i, w) in s.name.iter().enumerate() {
        let b = w.load(SEQ).to_ne_bytes();
        buf[i * 8..i * 8 + 8].copy_from_slice(&b);
    }
    n
}

fn patch_pass(install: bool) -> Patched {
    let mut out = Patched::default();
    let Some(r) = region() else { return out };
    let epoch = r.epoch.fetch_add(1, SEQ).wrapping_add(1);
    let hook_dl = HOOK_DLOPEN.load(SEQ);
    elf::for_each_object(&mut |o| {
        if o.is_loader_or_vdso() {
            return true;
        }
        let main = o.index == 0;
        let (lo, hi) = o.load_range();
        let mut k = usize::MAX;
        if install && !main && !excluded(o.name) {
            k = find_or_register(r, o.base, o.name);
            if k > 0 {
                if r.slots[k].seen.load(SEQ) == 0 && install {
                    out.objects += 1;
                }
                r.slots[k].seen.store(epoch, SEQ);
            }
        }
        o.for_each_got_slot(&mut |slot, name| {
            let Some(f) = NAMES.iter().position(|n| *n == name) else {
                return;
            };
            let hooked_here = if f >= F_DLOPEN {
                main && hook_dl
            } else {
                k != usize::MAX
            };
            if install && !hooked_here {
                return;
            }
            // SAFETY: `slot` is a GOT slot of `o`, loaded (loader lock held).
            let cur = unsafe { elf::read_slot(slot) };
            let realv = real(f);
            let bound = BOUND[f].load(SEQ);
            let target = if install {
                hook_addr(f, k.min(MAX_OBJECTS - 1))
            } else {
                bound
            };
            if cur == target {
                return;
            }
            let ours = is_our_hook(f, cur);
            let lazy_stub = cur >= lo && cur < hi;
            let ok_to_write = if install {
                cur == realv || cur == bound || lazy_stub
            } else {
                ours
            };
            if !ok_to_write {
                if install && !ours {
                    out.foreign += 1;
                }
                return;
            }
            // SAFETY: the slot is a GOT slot of `o` for symbol NAMES[f];
            // `target` is either libc's function of that name or our hook
            // with the same signature; the patch lock is held.
            if unsafe { elf::write_slot(o, slot, target) } {
                out.slots += 1;
                if install && k < MAX_OBJECTS {
                    r.ctr(k, C_GOT_SLOTS).fetch_add(1, SEQ);
                }
            } else {
                out.failed += 1;
            }
        });
        true
    });
    // Objects no longer in the loader's list have been unloaded.
    let n = if install {
        r.next_slot.load(SEQ).min(MAX_OBJECTS)
    } else {
        0
    };
    for k in 1..n {
        let s = &r.slots[k];
        let exe = crate::interpose::exe_slot().map(usize::from);
        if s.state.load(SEQ) == S_LIVE && s.seen.load(SEQ) != epoch && exe != Some(k) {
            s.state.store(S_UNLOADED, SEQ);
            // Its code range may be reused by another object.
            crate::interpose::forget_ranges();
        }
    }
    out
}

extern "C" fn atfork_child() {
    // The child has one thread: nobody can be patching or registering.
    PATCH_LOCK.store(false, SEQ);
    PATCH_PENDING.store(false, SEQ);
    REG_LOCK.store(0, SEQ);
}

/// Installs the hooks with [`Options::default`]: one line to opt in.
///
/// ```no_run
/// arenaprof_native::hooks::install().unwrap();
/// ```
pub fn install() -> Result<Patched, InstallError> {
    install_with(Options::default())
}

/// Installs the hooks in every loaded object (except the main executable,
/// the loader, the vDSO and `opts.exclude`), and again for objects loaded
/// later. Calling it again patches objects loaded since (like [`refresh`]).
///
/// ```no_run
/// use arenaprof_native::hooks::{install_with, Options};
/// install_with(Options { exclude: &["libjemalloc", "libmylloc"], hook_dlopen: true }).unwrap();
/// ```
pub fn install_with(opts: Options) -> Result<Patched, InstallError> {
    if !elf::SUPPORTED {
        return Err(InstallError::Unsupported);
    }
    region_or_init().ok_or(InstallError::NoMemory)?;
    for (f, name) in CNAMES.iter().enumerate() {
        if real(f) != 0 {
            continue;
        }
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) } as usize;
        BOUND[f].store(p, SEQ);
        // The program's own `mmap` (the interposer) would record the call a
        // second time, for the executable: the hooks make the system call.
        let p = crate::interpose::direct(p).unwrap_or(p);
        if p == 0 {
            return Err(InstallError::MissingSymbol(
                ["mmap", "mmap64", "munmap", "mremap", "dlopen", "dlclose"][f],
            ));
        }
        REAL[f].store(p, SEQ);
    }
    if !ATFORK.swap(true, SEQ) {
        // SAFETY: registers a handler that only stores to atomics. Not on
        // the interposer's path: glibc holds its atfork lock while prepare
        // handlers run, and one of them may call mmap.
        unsafe { libc::pthread_atfork(None, None, Some(atfork_child)) };
    }
    lock_patch(true);
    if !excluded_list_is(opts.exclude) {
        EXCLUDE.store(Box::into_raw(Box::new(opts.exclude)), SEQ);
    }
    HOOK_DLOPEN.store(opts.hook_dlopen, SEQ);
    INSTALLED.store(true, SEQ);
    UNINSTALLED.store(false, SEQ);
    let p = patch_pass(true);
    unlock_patch();
    if PATCH_PENDING.load(SEQ) {
        patch_pass_try();
    }
    Ok(p)
}

/// Patches objects loaded since the last pass (e.g. by another library's
/// `dlopen`) and notes unloaded ones. No-op before [`install`].
///
/// ```
/// let p = arenaprof_native::hooks::refresh();
/// assert_eq!(p.failed, 0);
/// ```
pub fn refresh() -> Patched {
    if !INSTALLED.load(SEQ) {
        return Patched::default();
    }
    lock_patch(true);
    let p = patch_pass(true);
    unlock_patch();
    p
}

/// Restores every patched slot to the real function. The table and the
/// counters stay readable; calls already inside a hook finish normally.
///
/// ```no_run
/// arenaprof_native::hooks::install().unwrap();
/// let restored = arenaprof_native::hooks::uninstall();
/// assert!(!arenaprof_native::hooks::is_installed());
/// # let _ = restored;
/// ```
pub fn uninstall() -> usize {
    if !INSTALLED.load(SEQ) {
        return 0;
    }
    lock_patch(true);
    INSTALLED.store(false, SEQ);
    UNINSTALLED.store(true, SEQ);
    let p = patch_pass(false);
    unlock_patch();
    p.slots
}

/// Whether the program's own `mmap` family is the one every library is
/// bound to (see the crate's `interpose` feature): true when the executable
/// exports `mmap`, which it does when a library linked at build time calls
/// it. Then calls made before `main` and before [`install`] (a linked
/// library's constructor) are attributed too.
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

/// Whether the hooks are installed.
///
/// ```
/// let _ = arenaprof_native::hooks::is_installed();
/// ```
pub fn is_installed() -> bool {
    INSTALLED.load(SEQ)
}

// ---- reading --------------------------------------------------------------

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
    /// Mappings adopted with [`adopt`] (made while the object was loading,
    /// before it could be patched).
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
    crate::internal(|| {
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
    crate::internal(|| {
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
            crate::fmt_bytes(self.virtual_bytes),
            crate::fmt_bytes(self.resident_bytes)
        )
    }
}

/// One [`ObjectSummary`] per object with live mappings, largest first.
///
/// ```
/// for line in arenaprof_native::hooks::summary() { println!("{line}"); }
/// ```
pub fn summary() -> Vec<ObjectSummary> {
    crate::internal(|| {
        let objs = objects();
        let maps = mappings();
        let mut out: Vec<ObjectSummary> = objs
            .iter()
            .filter(|o| o.live_mappings > 0)
            .map(|o| {
                let resident = maps
                    .iter()
                    .filter(|m| m.object == o.id)
                    .map(|m| crate::maps::resident_bytes(m.start, m.len).unwrap_or(0))
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
    let ps = crate::page_size();
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
