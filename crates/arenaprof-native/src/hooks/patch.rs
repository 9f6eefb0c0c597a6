//! GOT/PLT patching: [`install`] walks the loaded objects and points the
//! GOT slots of their `mmap` family at the trampolines (and the main
//! executable's `dlopen`/`dlclose` at hooks that patch what they load);
//! [`uninstall`] puts the bound functions back.

use std::ffi::{c_char, c_int, c_void};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use super::settings::{excluded, excluded_list_is, Options, EXCLUDE, UNINSTALLED};
use super::table::{
    find_or_register, region, region_or_init, C_GOT_SLOTS, MAX_OBJECTS, REG_LOCK, RLX, SEQ, S_LIVE,
    S_UNLOADED,
};
use super::trampolines::{
    real, F_DLCLOSE, F_DLOPEN, F_MMAP, F_MMAP64, F_MREMAP, F_MUNMAP, MMAP64_HOOKS, MMAP_HOOKS,
    MREMAP_HOOKS, MUNMAP_HOOKS, REAL,
};
use crate::elf;

type DlopenFn = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
type DlcloseFn = unsafe extern "C" fn(*mut c_void) -> c_int;

const NAMES: [&[u8]; 6] = [
    b"mmap", b"mmap64", b"munmap", b"mremap", b"dlopen", b"dlclose",
];
const CNAMES: [&std::ffi::CStr; 6] = [
    c"mmap", c"mmap64", c"munmap", c"mremap", c"dlopen", c"dlclose",
];

/// What `dlsym(RTLD_DEFAULT, ..)` found: what a bound GOT slot holds
/// before patching and gets back at [`uninstall`]. The same as [`REAL`]
/// unless it is the program's own `mmap` family (the interposer), which
/// the hooks do not call (it would record the call a second time).
static BOUND: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];

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

static INSTALLED: AtomicBool = AtomicBool::new(false);
static PATCH_LOCK: AtomicBool = AtomicBool::new(false);
static PATCH_PENDING: AtomicBool = AtomicBool::new(false);
static ATFORK: AtomicBool = AtomicBool::new(false);
static HOOK_DLOPEN: AtomicBool = AtomicBool::new(true);

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

/// Whether the hooks are installed.
///
/// ```
/// let _ = arenaprof_native::hooks::is_installed();
/// ```
pub fn is_installed() -> bool {
    INSTALLED.load(SEQ)
}
