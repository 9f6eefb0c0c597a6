//! The program's own `mmap`, `mmap64`, `munmap` and `mremap` (feature
//! `interpose`, on by default; Linux x86_64 with glibc).
//!
//! A shared library linked at build time (`-lopenblas`, `openblas-src`) is
//! bound by the dynamic loader before any constructor runs, and an
//! executable that defines a function a linked library calls exports it and
//! takes precedence over libc (the way `LD_PRELOAD` interposers work, with
//! the executable first in the lookup order). So OpenBLAS's constructor,
//! which starts its workers and maps their buffers before `main`, already
//! calls the functions here. Each one finds its caller from the return
//! address, attributes the call to the object whose code holds it, records
//! it in the hooks' table and makes the system call itself. Calls from
//! excluded objects and the loader pass through unrecorded. Calls from the
//! executable are recorded under the executable with their return
//! addresses: those from the allocator's call sites (learnt by
//! [`learn_allocator_sites`]) are the allocator's ranges, the rest (a BLAS
//! linked statically, Rust code calling `mmap`) the executable's.
//!
//! What it does not see: objects loaded with `dlopen` when the executable
//! exports no `mmap` (no library linked at build time calls it; the GOT
//! hooks patch those). Nothing here allocates, locks (beyond a spin held
//! around a few stores), or calls back into the loader except
//! `dl_iterate_phdr` the first time a code range is seen.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The raw system call behind `addr` when it is one of the program's own
/// `mmap` family (see `imp::direct`).
pub(crate) fn direct(addr: usize) -> Option<usize> {
    #[cfg(all(
        feature = "interpose",
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86_64"
    ))]
    {
        imp::direct(addr)
    }
    #[cfg(not(all(
        feature = "interpose",
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86_64"
    )))]
    {
        let _ = addr;
        None
    }
}

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
    #[cfg(all(
        feature = "interpose",
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86_64"
    ))]
    {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"mmap".as_ptr()) } as usize;
        p != 0 && p == imp::mmap_address()
    }
    #[cfg(not(all(
        feature = "interpose",
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86_64"
    )))]
    {
        false
    }
}

/// Calls that reached the interposer from any object (recorded or passed
/// through).
pub(crate) fn calls() -> usize {
    INTERPOSED.load(Ordering::Relaxed)
}

/// The executable's object slot (0: none yet). Its calls are recorded too:
/// jemalloc, linked into it, maps its memory there, and so does a BLAS
/// linked statically.
static EXE_SLOT: AtomicUsize = AtomicUsize::new(0);

/// The executable's object slot, once a call from it was recorded.
pub(crate) fn exe_slot() -> Option<u16> {
    match EXE_SLOT.load(Ordering::Acquire) {
        0 => None,
        k => Some(k as u16),
    }
}

/// Return addresses of the inner allocator's `mmap` calls, learnt by
/// [`learn_allocator_sites`].
static SITES: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];
/// The thread learning them (its kernel thread id), 0 when none.
static LEARNER: AtomicUsize = AtomicUsize::new(0);

fn tid() -> usize {
    // SAFETY: gettid has no preconditions (a system call).
    unsafe { libc::syscall(libc::SYS_gettid) as usize }
}

/// Runs `f` (which makes the allocator linked into the executable map
/// memory: arenaprof-alloc creates its jemalloc arena and allocates from
/// it) and remembers the return addresses of the executable's `mmap` calls
/// on this thread meanwhile: the allocator's call sites. A mapping made
/// from one of them is the allocator's (see [`is_allocator_site`]).
pub(crate) fn learn_allocator_sites<R>(f: impl FnOnce() -> R) -> R {
    LEARNER.store(tid(), Ordering::SeqCst);
    let r = f();
    LEARNER.store(0, Ordering::SeqCst);
    r
}

fn learn(pc: usize) {
    if LEARNER.load(Ordering::Relaxed) == 0 || LEARNER.load(Ordering::SeqCst) != tid() {
        return;
    }
    for s in &SITES {
        match s.compare_exchange(0, pc, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return,
            Err(v) if v == pc => return,
            Err(_) => {}
        }
    }
}

/// Whether return address `pc` is one of the allocator's `mmap` call sites.
pub(crate) fn is_allocator_site(pc: usize) -> bool {
    pc != 0 && SITES.iter().any(|s| s.load(Ordering::Relaxed) == pc)
}

/// Registers the executable's slot, named by its path.
fn register_exe(region: &crate::hooks::table::Region, base: usize) -> usize {
    let mut buf = [0u8; 256];
    // SAFETY: readlink writes at most `buf.len()` bytes into `buf` and
    // allocates nothing.
    let n = unsafe {
        libc::readlink(
            c"/proc/self/exe".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let name: &[u8] = if n > 0 {
        &buf[..n as usize]
    } else {
        b"[executable]"
    };
    let k = crate::hooks::table::find_or_register(region, base, name);
    if k != 0 {
        EXE_SLOT.store(k, Ordering::Release);
    }
    k
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
    let Some(region) = crate::hooks::table::region_or_init() else {
        return PASS;
    };
    let mut found = None;
    crate::elf::for_each_object(&mut |o| {
        let (lo, hi) = o.load_range();
        if pc < lo || pc >= hi {
            return true;
        }
        let k = if o.index == 0 {
            register_exe(region, o.base)
        } else if o.is_loader_or_vdso() || crate::hooks::settings::excluded(o.name) {
            PASS
        } else {
            crate::hooks::table::find_or_register(region, o.base, o.name)
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

#[cfg(all(
    feature = "interpose",
    target_os = "linux",
    target_env = "gnu",
    target_arch = "x86_64"
))]
mod imp {
    use super::{owner_of, EXE_SLOT, INTERPOSED, PASS};
    use crate::hooks::{record, settings, table};
    use crate::sys;
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
        if !settings::recording() {
            return PASS;
        }
        let k = owner_of(pc);
        if k != PASS && k == EXE_SLOT.load(Ordering::Relaxed) {
            super::learn(pc);
        }
        k
    }

    /// The functions the program's `mmap` family forwards to, by the hooks'
    /// function index (mmap, mmap64, munmap, mremap), when `addr` is the
    /// address of one of the program's own (so a GOT hook does not call
    /// back into the interposer).
    pub(crate) fn direct(addr: usize) -> Option<usize> {
        extern "C" {
            #[link_name = "munmap"]
            fn exported_munmap();
            #[link_name = "mremap"]
            fn exported_mremap();
        }
        if addr == exported_mmap as *const () as usize {
            Some(sys::mmap as *const () as usize)
        } else if addr == exported_munmap as *const () as usize {
            Some(sys::munmap as *const () as usize)
        } else if addr == exported_mremap as *const () as usize {
            Some(sys::mremap as *const () as usize)
        } else {
            None
        }
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
        if let Some(r) = table::region_or_init() {
            r.count_interposed(k);
        }
        // SAFETY: `sys::mmap` is an mmap; the caller's arguments, unchanged.
        unsafe { record::record_mmap((k, pc), sys::mmap, a, l, p, f, fd, o) }
    }

    unsafe extern "C" fn interposed_munmap(a: *mut c_void, l: usize, pc: usize) -> c_int {
        let k = owner(pc);
        if k == PASS {
            // SAFETY: the caller's arguments, unchanged.
            return unsafe { sys::munmap(a, l) };
        }
        if let Some(r) = table::region_or_init() {
            r.count_interposed(k);
        }
        // SAFETY: `sys::munmap` is a munmap; the caller's arguments.
        unsafe { record::record_munmap(k, sys::munmap, a, l) }
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
        if let Some(r) = table::region_or_init() {
            r.count_interposed(k);
        }
        // SAFETY: `sys::mremap` takes five arguments; the caller's.
        unsafe { record::record_mremap(k, sys::mremap, a, old, new, flags, na) }
    }
}
