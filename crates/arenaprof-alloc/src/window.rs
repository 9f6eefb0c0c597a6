//! Address windows: the tag of a block, read from its address.
//!
//! The header-free tracker ([`TrackingAlloc::new`](crate::TrackingAlloc::new))
//! gives each tag its own jemalloc arena, and each of those arenas gets its
//! memory from extent hooks that serve it from address ranges reserved for
//! that tag alone: 64 GiB *chunks*, aligned to 64 GiB. A table of one byte
//! per chunk (2,048 chunks cover the 128 TiB of user address space) names
//! the *kind* of every chunk the tracker reserved, so a free finds a block's
//! tag with one shift and one load, and no byte of the block is the
//! profiler's:
//! - kind 0: not ours: untagged memory, from jemalloc's automatic arenas;
//! - kinds 1 to 63: tag 1 to 63;
//! - [`INTERNAL`]: the profiler's own arena (see [`arena`](crate::arena));
//! - [`SAMPLED`]: blocks chosen for a backtrace, whose tag is in the
//!   sampling side table.
//!
//! A window grows by a new chunk when the current one cannot hold a request
//! (a request above 64 GiB takes as many chunks as it needs), so a tag is
//! limited by the address space, not by a fixed window size. Chunks are
//! reserved `PROT_NONE` with `MAP_NORESERVE` and made writable extent by
//! extent as jemalloc asks for them, so reserved address space costs no
//! memory and no commit charge; jemalloc keeps what it was given (`dalloc`
//! opts out, as with `opt.retain`) and gives pages back with `madvise`.
//!
//! The hooks never allocate, take only the kind's spin flag (held for a
//! few stores and at most one `mmap` and one `mprotect`) and are never
//! entered while a `fork()` is under way: jemalloc calls them under its own
//! mutexes, which its `fork` prepare handler takes.

use crate::capacity::MAX_TAGS;
#[cfg(feature = "jemalloc")]
pub(crate) use imp::*;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::*};
#[cfg(not(feature = "jemalloc"))]
pub(crate) use stub::*;

/// Set by the header-free tracker ([`TrackingAlloc::new`](crate::TrackingAlloc::new))
/// at its first allocation: tags then live in their own jemalloc arenas,
/// and a thread's figures are net flow (frees counted on the freeing
/// thread).
pub(crate) static HEADERLESS: AtomicBool = AtomicBool::new(false);

/// log2 of a chunk's size (64 GiB).
pub(crate) const CHUNK_SHIFT: u32 = 36;
/// A chunk's size.
#[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
pub(crate) const CHUNK: usize = 1 << CHUNK_SHIFT;
/// Chunks in the 47-bit user address space.
const TABLE_LEN: usize = 1 << (47 - CHUNK_SHIFT);

/// The kind of untagged memory (and of every address outside the windows).
pub(crate) const UNTAGGED: u8 = 0;
/// The kind of the profiler's own arena.
pub(crate) const INTERNAL: u8 = MAX_TAGS as u8;
/// The kind of sampled blocks.
pub(crate) const SAMPLED: u8 = INTERNAL + 1;
/// Kinds with windows (index 0, untagged, has none).
pub(crate) const KINDS: usize = SAMPLED as usize + 1;

const _: () = assert!(MAX_TAGS <= 64 && KINDS < 256);

#[allow(clippy::declare_interior_mutable_const)]
const NO_KIND: AtomicU8 = AtomicU8::new(UNTAGGED);
static TABLE: [AtomicU8; TABLE_LEN] = [NO_KIND; TABLE_LEN];

/// The kind of the memory at `p`: [`UNTAGGED`], a tag, [`INTERNAL`] or
/// [`SAMPLED`]. One shift, one compare and one load.
#[inline(always)]
pub(crate) fn kind_of(p: *const u8) -> u8 {
    match TABLE.get((p as usize) >> CHUNK_SHIFT) {
        Some(k) => k.load(Relaxed),
        None => UNTAGGED,
    }
}

/// Address space reserved for the windows (whole chunks, `PROT_NONE`
/// until carved, no commit charge): the profiler's, shown in VmSize only.
pub(crate) fn reserved_bytes() -> u64 {
    TABLE.iter().filter(|k| k.load(Relaxed) != UNTAGGED).count() as u64 * (1u64 << CHUNK_SHIFT)
}

/// `mallocx` flags (jemalloc's macros, which the `jemalloc` feature's
/// bindings provide; written out so the no-jemalloc build has them too).
pub(crate) mod flags {
    /// `MALLOCX_ARENA(a)`.
    pub(crate) const fn arena(a: u32) -> i32 {
        ((a as i32) + 1) << 20
    }
    /// `MALLOCX_TCACHE(tc)`.
    pub(crate) const fn tcache(tc: u32) -> i32 {
        ((tc as i32) + 2) << 8
    }
    /// `MALLOCX_TCACHE_NONE`.
    pub(crate) const TCACHE_NONE: i32 = 1 << 8;
    /// `MALLOCX_ZERO`.
    #[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
    pub(crate) const ZERO: i32 = 0x40;

    /// Whether `malloc`'s own alignment (16, or the size's when smaller)
    /// serves `layout`, as tikv-jemallocator decides it.
    #[inline(always)]
    #[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
    pub(crate) fn malloc_aligns(layout: std::alloc::Layout) -> bool {
        layout.align() <= 16 && layout.align() <= layout.size()
    }

    /// jemalloc's alignment flag for `layout`, as tikv-jemallocator computes
    /// it: none (0) when [`malloc_aligns`] it, else `MALLOCX_LG_ALIGN(la)`,
    /// which is `la`.
    #[inline(always)]
    #[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
    pub(crate) fn align(layout: std::alloc::Layout) -> i32 {
        if malloc_aligns(layout) {
            0
        } else {
            layout.align().trailing_zeros() as i32
        }
    }
}

#[cfg(feature = "jemalloc")]
mod imp {
    use super::*;
    use crate::spin::SpinFlag;
    use std::cell::UnsafeCell;
    use std::ffi::{c_uint, c_void};
    use std::sync::atomic::{AtomicU32, AtomicUsize};
    use tikv_jemalloc_sys as sys;

    const _: () = assert!(
        flags::arena(3) == sys::MALLOCX_ARENA(3)
            && flags::tcache(5) == sys::MALLOCX_TCACHE(5)
            && flags::TCACHE_NONE == sys::MALLOCX_TCACHE_NONE
            && flags::ZERO == sys::MALLOCX_ZERO
    );

    /// A kind's bump state: `[next, end)` is what is left of its newest chunk.
    struct Bump {
        lock: SpinFlag,
        next: AtomicUsize,
        end: AtomicUsize,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const NO_BUMP: Bump = Bump {
        lock: SpinFlag::new(),
        next: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
    };
    static BUMPS: [Bump; KINDS] = [NO_BUMP; KINDS];

    /// Maps `len` bytes of address space with no access and no commit charge;
    /// null on failure. One call site for every window, so the executable's
    /// interposed `mmap` learns it as the allocator's (see `learn_site`).
    #[inline(never)]
    fn reserve_os(len: usize) -> *mut u8 {
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; failure is MAP_FAILED, turned into null.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    /// Reserves and unmaps one page through [`reserve_os`], so that an
    /// interposed `mmap` running `f`'s learning sees the windows' call site.
    pub(crate) fn learn_site() {
        let p = reserve_os(4096);
        if !p.is_null() {
            // SAFETY: `p` is the page just mapped, used by nothing.
            unsafe { libc::munmap(p.cast(), 4096) };
        }
    }

    /// Reserves `n` chunks for `kind`, aligned to a chunk, and marks them in the
    /// table; returns their start, or `None`.
    pub(super) fn reserve_chunks(kind: u8, n: usize) -> Option<usize> {
        let len = n.checked_mul(CHUNK)?;
        let p = reserve_os(len.checked_add(CHUNK)?) as usize;
        if p == 0 {
            return None;
        }
        let start = (p + CHUNK - 1) & !(CHUNK - 1);
        let (head, tail) = (start - p, p + len + CHUNK - (start + len));
        // SAFETY: the head and tail are parts of the mapping just made, outside
        // the aligned range kept; nothing uses them.
        unsafe {
            if head != 0 {
                libc::munmap(p as *mut c_void, head);
            }
            if tail != 0 {
                libc::munmap((start + len) as *mut c_void, tail);
            }
        }
        let first = start >> CHUNK_SHIFT;
        if first + n > TABLE_LEN {
            // SAFETY: the range just kept, used by nothing.
            unsafe { libc::munmap(start as *mut c_void, len) };
            return None;
        }
        for e in &TABLE[first..first + n] {
            e.store(kind, Release);
        }
        Some(start)
    }

    /// Carves `size` bytes at `align` from `kind`'s window, reserving a chunk
    /// when the current one is full, and makes them writable.
    pub(super) fn carve(kind: u8, size: usize, align: usize) -> *mut u8 {
        let b = &BUMPS[kind as usize];
        let align = align.max(4096);
        b.lock.lock();
        let mut next = b.next.load(Relaxed);
        let mut at = next.checked_add(align - 1).map(|v| v & !(align - 1));
        let fits = |at: Option<usize>| {
            at.and_then(|a| a.checked_add(size))
                .is_some_and(|e| e <= b.end.load(Relaxed))
        };
        if next == 0 || !fits(at) {
            let n = size.saturating_add(align).div_ceil(CHUNK);
            match reserve_chunks(kind, n) {
                Some(start) => {
                    next = start;
                    b.next.store(start, Relaxed);
                    b.end.store(start + n * CHUNK, Relaxed);
                    at = Some((next + align - 1) & !(align - 1));
                }
                None => {
                    b.lock.unlock();
                    return std::ptr::null_mut();
                }
            }
        }
        let at = at.unwrap_or(next);
        // SAFETY: `[at, at + size)` lies inside a chunk reserved for this kind
        // and not yet handed out (the bump pointer only moves forward).
        let rc =
            unsafe { libc::mprotect(at as *mut c_void, size, libc::PROT_READ | libc::PROT_WRITE) };
        if rc != 0 {
            b.lock.unlock();
            return std::ptr::null_mut();
        }
        b.next.store(at + size, Relaxed);
        b.lock.unlock();
        at as *mut u8
    }

    /// The kind whose hooks `hooks` is.
    fn kind_of_hooks(hooks: *mut sys::extent_hooks_t) -> u8 {
        let base = HOOKS.0.get() as usize;
        ((hooks as usize - base) / std::mem::size_of::<sys::extent_hooks_t>()) as u8
    }

    unsafe extern "C" fn hook_alloc(
        hooks: *mut sys::extent_hooks_t,
        new_addr: *mut c_void,
        size: usize,
        alignment: usize,
        zero: *mut bool,
        commit: *mut bool,
        _arena: c_uint,
    ) -> *mut c_void {
        // A request for a given address (jemalloc growing an extent in place):
        // refused, so jemalloc allocates elsewhere.
        if !new_addr.is_null() || size == 0 || !alignment.is_power_of_two() {
            return std::ptr::null_mut();
        }
        let p = carve(kind_of_hooks(hooks), size, alignment);
        if !p.is_null() {
            // SAFETY: jemalloc passes valid pointers to its two flags. Fresh
            // anonymous pages read as zero and were just made writable.
            unsafe {
                *zero = true;
                *commit = true;
            }
        }
        p.cast()
    }

    unsafe extern "C" fn hook_commit(
        _: *mut sys::extent_hooks_t,
        _: *mut c_void,
        _: usize,
        _: usize,
        _: usize,
        _: c_uint,
    ) -> bool {
        // Every extent is writable from its allocation on, and never decommitted.
        false
    }

    /// `madvise(advice)` over `[addr + offset, + length)`; `true` on failure
    /// (jemalloc's convention).
    ///
    /// # Safety
    /// The range is pages of an extent jemalloc owns and no longer uses.
    unsafe fn purge(addr: *mut c_void, offset: usize, length: usize, advice: i32) -> bool {
        // SAFETY: our caller's contract.
        unsafe { libc::madvise(addr.cast::<u8>().add(offset).cast(), length, advice) != 0 }
    }

    unsafe extern "C" fn hook_purge_lazy(
        _: *mut sys::extent_hooks_t,
        addr: *mut c_void,
        _: usize,
        offset: usize,
        length: usize,
        _: c_uint,
    ) -> bool {
        // SAFETY: jemalloc purges pages of an extent it owns and no longer uses.
        unsafe { purge(addr, offset, length, libc::MADV_FREE) }
    }

    unsafe extern "C" fn hook_purge_forced(
        _: *mut sys::extent_hooks_t,
        addr: *mut c_void,
        _: usize,
        offset: usize,
        length: usize,
        _: c_uint,
    ) -> bool {
        // SAFETY: as above; private anonymous pages read as zero afterwards,
        // which is what a forced purge promises.
        unsafe { purge(addr, offset, length, libc::MADV_DONTNEED) }
    }

    unsafe extern "C" fn hook_split(
        _: *mut sys::extent_hooks_t,
        _: *mut c_void,
        _: usize,
        _: usize,
        _: usize,
        _: bool,
        _: c_uint,
    ) -> bool {
        false
    }

    unsafe extern "C" fn hook_merge(
        _: *mut sys::extent_hooks_t,
        _: *mut c_void,
        _: usize,
        _: *mut c_void,
        _: usize,
        _: bool,
        _: c_uint,
    ) -> bool {
        // jemalloc merges only extents of one arena, so of one kind's chunks.
        false
    }

    const HOOK: sys::extent_hooks_t = sys::extent_hooks_t {
        alloc: Some(hook_alloc),
        // No `dalloc`, `destroy` or `decommit`: jemalloc keeps the address
        // space and purges pages instead (as with `opt.retain`).
        dalloc: None,
        destroy: None,
        commit: Some(hook_commit),
        decommit: None,
        purge_lazy: Some(hook_purge_lazy),
        purge_forced: Some(hook_purge_forced),
        split: Some(hook_split),
        merge: Some(hook_merge),
    };

    /// One hooks table per kind: the hooks learn their kind from the table's
    /// address, which jemalloc passes to every call (also while it creates the
    /// arena, before its index is known).
    struct Hooks(UnsafeCell<[sys::extent_hooks_t; KINDS]>);
    // SAFETY: the tables are never written after construction; jemalloc only
    // reads them (it takes `*mut` for historical reasons).
    unsafe impl Sync for Hooks {}
    static HOOKS: Hooks = Hooks(UnsafeCell::new([HOOK; KINDS]));

    /// Arena of each kind: 0 none yet, [`FAILED`], or the index plus 1.
    #[allow(clippy::declare_interior_mutable_const)]
    const NO_ARENA: AtomicU32 = AtomicU32::new(0);
    static ARENAS: [AtomicU32; KINDS] = [NO_ARENA; KINDS];
    const FAILED: u32 = u32::MAX;
    /// Serialises arena creation (held across `arenas.create`, which never
    /// calls back into the global allocator).
    static CREATE: SpinFlag = SpinFlag::new();

    /// The jemalloc arena of `kind`, creating it (and its first window chunk)
    /// on first use; `None` if jemalloc refused. A fork waits for a creation
    /// under way ([`lock_creation`]).
    pub(crate) fn arena(kind: u8) -> Option<u32> {
        let slot = ARENAS.get(kind as usize)?;
        match slot.load(Acquire) {
            0 => create(kind),
            FAILED => None,
            a => Some(a - 1),
        }
    }

    #[cold]
    fn create(kind: u8) -> Option<u32> {
        if kind == UNTAGGED {
            return None;
        }
        CREATE.lock();
        let slot = &ARENAS[kind as usize];
        let got = match slot.load(Acquire) {
            0 => {
                let made = create_now(kind);
                if let (Some(a), INTERNAL | SAMPLED) = (made, kind) {
                    return_freed_pages(a);
                }
                slot.store(made.map_or(FAILED, |a| a + 1), Release);
                made
            }
            FAILED => None,
            a => Some(a - 1),
        };
        CREATE.unlock();
        got
    }

    /// Dirty and muzzy decay of 0 for arena `idx`: its freed pages go back
    /// to the OS at once. For the profiler's arena (what a snapshot frees
    /// never shows as the program's) and the sampled blocks' (rare frees,
    /// often large: a sampled, growing buffer would otherwise leave its old
    /// pages dirty in an arena the program's other blocks never reuse;
    /// +9 MiB of RSS on a 100 MiB serde_json run).
    fn return_freed_pages(idx: u32) {
        for what in ["dirty_decay_ms", "muzzy_decay_ms"] {
            let mut name = [0u8; 64];
            let n = ctl_name(&mut name, b"arena.", idx, what.as_bytes());
            // SAFETY: a NUL-terminated `arena.<i>.*_decay_ms` name, whose
            // value is an ssize_t (`isize`); formatted without allocating,
            // as the creation lock is held.
            let _ = unsafe { tikv_jemalloc_ctl::raw::write::<isize>(&name[..n], 0) };
        }
    }

    /// Writes `prefix<i>.suffix\0` into `buf` without allocating; returns
    /// its length with the NUL.
    pub(crate) fn ctl_name(buf: &mut [u8; 64], prefix: &[u8], i: u32, suffix: &[u8]) -> usize {
        let mut n = 0;
        let mut put = |b: u8| {
            if n < buf.len() - 1 {
                buf[n] = b;
                n += 1;
            }
        };
        prefix.iter().for_each(|&b| put(b));
        let mut digits = [0u8; 10];
        let (mut v, mut k) = (i, 0);
        loop {
            digits[k] = b'0' + (v % 10) as u8;
            k += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        digits[..k].iter().rev().for_each(|&b| put(b));
        put(b'.');
        suffix.iter().for_each(|&b| put(b));
        buf[n] = 0;
        n + 1
    }

    fn create_now(kind: u8) -> Option<u32> {
        // SAFETY: `kind < KINDS` (checked by `arena`), so the pointer is inside
        // the static tables.
        let mut hooks: *mut sys::extent_hooks_t = unsafe {
            HOOKS
                .0
                .get()
                .cast::<sys::extent_hooks_t>()
                .add(kind as usize)
        };
        let mut idx: c_uint = 0;
        let mut len = std::mem::size_of::<c_uint>();
        // SAFETY: `arenas.create` reads an `extent_hooks_t *` (the new value)
        // and writes the new arena's index, an unsigned, into `idx`.
        let rc = unsafe {
            sys::mallctl(
                c"arenas.create".as_ptr(),
                (&raw mut idx).cast::<c_void>(),
                &mut len,
                (&raw mut hooks).cast::<c_void>(),
                std::mem::size_of::<*mut sys::extent_hooks_t>(),
            )
        };
        (rc == 0).then_some(idx)
    }

    /// The kind's arena index if it exists, without creating it.
    pub(crate) fn arena_now(kind: u8) -> Option<u32> {
        match ARENAS.get(kind as usize)?.load(Acquire) {
            0 | FAILED => None,
            a => Some(a - 1),
        }
    }

    /// Creates an explicit jemalloc thread cache; its id, or `None`.
    pub(crate) fn tcache_create() -> Option<u32> {
        // SAFETY: `tcache.create` reads back an unsigned (the new id).
        unsafe { tikv_jemalloc_ctl::raw::read::<c_uint>(b"tcache.create\0") }.ok()
    }

    /// Flushes and destroys the explicit thread cache `id`.
    pub(crate) fn tcache_destroy(id: u32) {
        // SAFETY: `tcache.destroy` takes an unsigned id.
        let _ = unsafe { tikv_jemalloc_ctl::raw::write::<c_uint>(b"tcache.destroy\0", id) };
    }

    /// Frees a jemalloc block of `size` bytes (alignment at most 8) with
    /// the `MALLOCX_TCACHE` flag `tcache` (0 for the automatic cache).
    ///
    /// # Safety
    /// `p` is a live jemalloc block of `size`'s size class, alignment at
    /// most 8, that nothing refers to any more; `tcache` is 0,
    /// `MALLOCX_TCACHE_NONE`, or the calling thread's cache for its arena.
    pub(crate) unsafe fn free_block(p: *mut u8, size: usize, tcache: i32) {
        // SAFETY: our caller's contract.
        unsafe { sys::sdallocx(p.cast(), size, tcache) }
    }

    /// Flushes the explicit thread cache `id` (its blocks go back to their arenas).
    pub(crate) fn tcache_flush(id: u32) {
        // SAFETY: `tcache.flush` takes an unsigned id.
        let _ = unsafe { tikv_jemalloc_ctl::raw::write::<c_uint>(b"tcache.flush\0", id) };
    }

    /// jemalloc's statistic `stats.arenas.<a>.<suffix>` (a size_t), named
    /// without allocating, as of the last `epoch` advance; `None` if
    /// jemalloc has no such statistic.
    pub(crate) fn arena_stat(a: u32, suffix: &str) -> Option<u64> {
        let mut name = [0u8; 64];
        let n = ctl_name(&mut name, b"stats.arenas.", a, suffix.as_bytes());
        // SAFETY: a NUL-terminated name of a size_t statistic.
        unsafe { tikv_jemalloc_ctl::raw::read::<usize>(&name[..n]) }
            .ok()
            .map(|v| v as u64)
    }

    /// `stats.arenas.<a>.small.allocated + large.allocated`, after an
    /// `epoch` advance (jemalloc's statistics are snapshots).
    pub(crate) fn arena_allocated(a: u32) -> Option<u64> {
        tikv_jemalloc_ctl::epoch::advance().ok()?;
        Some(arena_stat(a, "small.allocated")? + arena_stat(a, "large.allocated")?)
    }

    /// `nallocx` of `layout`, with tikv-jemallocator's alignment flag.
    pub(crate) fn usable_size(layout: std::alloc::Layout) -> usize {
        // SAFETY: `nallocx` has no preconditions besides a non-zero size.
        unsafe { sys::nallocx(layout.size().max(1), flags::align(layout)) }
    }

    /// Taken by the `fork()` prepare handler, so that no arena is being
    /// created while the process forks.
    pub(crate) fn lock_creation() {
        CREATE.lock();
    }

    /// Undoes [`lock_creation`] (parent and child).
    pub(crate) fn unlock_creation() {
        CREATE.unlock();
    }
}

/// Without jemalloc there are no arenas: every address is untagged.
#[cfg(not(feature = "jemalloc"))]
mod stub {
    pub(crate) fn arena(_: u8) -> Option<u32> {
        None
    }
    pub(crate) fn arena_now(_: u8) -> Option<u32> {
        None
    }
    pub(crate) fn tcache_create() -> Option<u32> {
        None
    }
    pub(crate) fn tcache_destroy(_: u32) {}
    pub(crate) fn tcache_flush(_: u32) {}
    pub(crate) unsafe fn free_block(_: *mut u8, _: usize, _: i32) {}
    pub(crate) fn arena_allocated(_: u32) -> Option<u64> {
        None
    }
    pub(crate) fn usable_size(layout: std::alloc::Layout) -> usize {
        layout.size()
    }
    pub(crate) fn lock_creation() {}
    pub(crate) fn unlock_creation() {}
    pub(crate) fn learn_site() {}
}

#[cfg(all(test, feature = "jemalloc"))]
mod tests {
    use super::*;

    #[test]
    fn names_are_formatted_without_allocating() {
        let mut b = [0u8; 64];
        let n = ctl_name(&mut b, b"stats.arenas.", 107, b"pactive");
        assert_eq!(&b[..n], b"stats.arenas.107.pactive\0");
        let n = ctl_name(&mut b, b"arena.", 0, b"dirty_decay_ms");
        assert_eq!(&b[..n], b"arena.0.dirty_decay_ms\0");
    }

    #[test]
    fn addresses_outside_any_window_are_untagged() {
        assert_eq!(kind_of(std::ptr::null()), UNTAGGED);
        assert_eq!(kind_of(usize::MAX as *const u8), UNTAGGED);
        let x = 5u8;
        assert_eq!(kind_of(&x), UNTAGGED);
    }

    #[test]
    fn a_carved_extent_is_writable_and_in_its_kinds_window() {
        let p = carve(7, 1 << 20, 1 << 16);
        assert!(!p.is_null());
        assert_eq!(p as usize % (1 << 16), 0);
        assert_eq!(kind_of(p), 7);
        assert_eq!(kind_of(p.wrapping_add((1 << 20) - 1)), 7);
        // SAFETY: the extent was just made writable.
        unsafe { p.write_bytes(1, 1 << 20) };
        // Chunks are aligned and marked one by one.
        let q = reserve_chunks(9, 2).unwrap();
        assert_eq!(q % CHUNK, 0);
        assert_eq!(kind_of(q as *const u8), 9);
        assert_eq!(kind_of((q + 2 * CHUNK - 1) as *const u8), 9);
    }
}
