//! The program's own `mmap`, `mmap64`, `munmap` and `mremap` (feature
//! `interpose`, on by default; Linux x86_64).
//!
//! A shared library linked at build time (`-lopenblas`, `openblas-src`) is
//! bound by the dynamic loader before any constructor runs, and an
//! executable that defines a function a linked library calls exports it and
//! takes precedence over libc (the way `LD_PRELOAD` interposers work, with
//! the executable first in the lookup order). So OpenBLAS's constructor,
//! which starts its workers and maps their buffers before `main`, already
//! calls the functions here. Each one finds its caller from the return
//! address, attributes the call to the object whose code holds it, records
//! it in the hooks' table and makes the system call itself. Calls from the
//! executable (Rust code, jemalloc, the profiler) and from excluded objects
//! are passed through unrecorded, as the GOT hooks never see them.
//!
//! What it does not see: objects loaded with `dlopen` when the executable
//! exports no `mmap` (no library linked at build time calls it; the GOT
//! hooks patch those), and statically linked libraries (their calls are
//! the executable's). Nothing here allocates, locks (beyond a spin held
//! around a few stores), or calls back into the loader except
//! `dl_iterate_phdr` the first time a code range is seen.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Code ranges already resolved to an object slot: `[lo, hi, slot]`, slot
/// [`PASS`] for callers that are not recorded.
const CACHE: usize = 64;
const PASS: usize = usize::MAX;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: [AtomicUsize; 3] = [
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
];
static RANGES: [[AtomicUsize; 3]; CACHE] = [EMPTY; CACHE];
static RANGE_N: AtomicUsize = AtomicUsize::new(0);
/// Set for good once an object was unloaded: entries are never rewritten
/// (a reader could pair one entry's bounds with another's slot), so after
/// a `dlclose` every call resolves its caller with `dl_iterate_phdr`.
static CACHE_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static INTERPOSED: AtomicUsize = AtomicUsize::new(0);

/// Drops the cached code ranges (an object was unloaded; its range may be
/// reused).
pub(crate) fn forget_ranges() {
    CACHE_OFF.store(true, Ordering::SeqCst);
}

/// Whether the program's own `mmap` is the one the loader binds: the
/// executable defines and exports it (a library linked at build time calls
/// `mmap`), so every library's calls reach it from their first.
pub(crate) fn active() -> bool {
    #[cfg(all(feature = "interpose", target_os = "linux", target_arch = "x86_64"))]
    {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"mmap".as_ptr()) } as usize;
        p != 0 && p == imp::mmap_address()
    }
    #[cfg(not(all(feature = "interpose", target_os = "linux", target_arch = "x86_64")))]
    {
        false
    }
}

/// Calls that reached the interposer from any object (recorded or passed
/// through).
pub(crate) fn calls() -> usize {
    INTERPOSED.load(Ordering::Relaxed)
}

/// The object slot that owns code address `pc`, or [`PASS`].
fn owner_of(pc: usize) -> usize {
    let cached = !CACHE_OFF.load(Ordering::Acquire);
    if cached {
        let n = RANGE_N.load(Ordering::Acquire).min(CACHE);
        for r in &RANGES[..n] {
            // `hi` is published last: non-zero means `lo` and the slot are
            // written (entries are written once, never rewritten).
            let hi = r[1].load(Ordering::Acquire);
            if hi != 0 && pc < hi && pc >= r[0].load(Ordering::Acquire) {
                return r[2].load(Ordering::Acquire);
            }
        }
    }
    let Some(region) = crate::hooks::region_or_init() else {
        return PASS;
    };
    let mut found = None;
    crate::elf::for_each_object(&mut |o| {
        let (lo, hi) = o.load_range();
        if pc < lo || pc >= hi {
            return true;
        }
        let k = if o.index == 0 || o.is_loader_or_vdso() || crate::hooks::excluded(o.name) {
            PASS
        } else {
            crate::hooks::find_or_register(region, o.base, o.name)
        };
        found = Some((lo, hi, k));
        false
    });
    let Some((lo, hi, k)) = found else {
        return PASS;
    };
    if cached && RANGE_N.load(Ordering::Relaxed) < CACHE {
        let i = RANGE_N.fetch_add(1, Ordering::AcqRel);
        if let Some(r) = RANGES.get(i) {
            r[0].store(lo, Ordering::Release);
            r[2].store(k, Ordering::Release);
            r[1].store(hi, Ordering::Release);
        }
    }
    k
}

#[cfg(all(feature = "interpose", target_os = "linux", target_arch = "x86_64"))]
mod imp {
    use super::{owner_of, INTERPOSED, PASS};
    use crate::{hooks, sys};
    use std::ffi::{c_int, c_void};
    use std::sync::atomic::Ordering;

    // Each entry point passes its return address (the caller's code) to the
    // Rust function as one more argument: `mmap` has six, so the seventh
    // goes on the stack (a copy of the return address pushed, which also
    // keeps the stack 16-aligned at the call); `munmap` and `mremap` take it
    // in the first free register and jump. `mmap64` is `mmap` on LP64.
    std::arch::global_asm!(
        ".pushsection .text.arenaprof_interpose,\"ax\",@progbits",
        ".globl mmap",
        ".globl mmap64",
        ".type mmap,@function",
        ".type mmap64,@function",
        "mmap:",
        "mmap64:",
        ".cfi_startproc",
        "push qword ptr [rsp]",
        ".cfi_adjust_cfa_offset 8",
        "call {mmap}",
        "add rsp, 8",
        ".cfi_adjust_cfa_offset -8",
        "ret",
        ".cfi_endproc",
        ".size mmap, .-mmap",
        ".size mmap64, .-mmap64",
        ".globl munmap",
        ".type munmap,@function",
        "munmap:",
        ".cfi_startproc",
        "mov rdx, qword ptr [rsp]",
        "jmp {munmap}",
        ".cfi_endproc",
        ".size munmap, .-munmap",
        ".globl mremap",
        ".type mremap,@function",
        "mremap:",
        ".cfi_startproc",
        "mov r9, qword ptr [rsp]",
        "jmp {mremap}",
        ".cfi_endproc",
        ".size mremap, .-mremap",
        ".popsection",
        mmap = sym interposed_mmap,
        munmap = sym interposed_munmap,
        mremap = sym interposed_mremap,
    );

    extern "C" {
        #[link_name = "mmap"]
        fn exported_mmap();
    }

    /// Address of the `mmap` defined above (also keeps its section linked).
    pub(super) fn mmap_address() -> usize {
        exported_mmap as *const () as usize
    }

    fn owner(pc: usize) -> usize {
        INTERPOSED.fetch_add(1, Ordering::Relaxed);
        if !hooks::recording() {
            return PASS;
        }
        owner_of(pc)
    }

    unsafe extern "C" fn interposed_mmap(
        a: *mut c_void,
        l: usize,
        p: c_int,
        f: c_int,
        fd: c_int,
        o: libc::off_t,
        pc: usize,
    ) -> *mut c_void {
        let k = owner(pc);
        if k == PASS {
            // SAFETY: the caller's arguments, unchanged.
            return unsafe { sys::mmap(a, l, p, f, fd, o) };
        }
        if let Some(r) = hooks::region_or_init() {
            r.count_interposed(k);
        }
        // SAFETY: `sys::mmap` is an mmap; the caller's arguments, unchanged.
        unsafe { hooks::record_mmap(k, sys::mmap, a, l, p, f, fd, o) }
    }

    unsafe extern "C" fn interposed_munmap(a: *mut c_void, l: usize, pc: usize) -> c_int {
        let k = owner(pc);
        if k == PASS {
            // SAFETY: the caller's arguments, unchanged.
            return unsafe { sys::munmap(a, l) };
        }
        if let Some(r) = hooks::region_or_init() {
            r.count_interposed(k);
        }
        // SAFETY: `sys::munmap` is a munmap; the caller's arguments.
        unsafe { hooks::record_munmap(k, sys::munmap, a, l) }
    }

    unsafe extern "C" fn interposed_mremap(
        a: *mut c_void,
        old: usize,
        new: usize,
        flags: c_int,
        na: *mut c_void,
        pc: usize,
    ) -> *mut c_void {
        let k = owner(pc);
        if k == PASS {
            // SAFETY: the caller's arguments, unchanged.
            return unsafe { sys::mremap(a, old, new, flags, na) };
        }
        if let Some(r) = hooks::region_or_init() {
            r.count_interposed(k);
        }
        // SAFETY: `sys::mremap` takes five arguments; the caller's.
        unsafe { hooks::record_mremap(k, sys::mremap, a, old, new, flags, na) }
    }
}
