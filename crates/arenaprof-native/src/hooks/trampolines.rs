//! The hooks a patched GOT slot points at: one copy of each of `mmap`,
//! `mmap64`, `munmap` and `mremap` per object slot (a const-generic function
//! per slot, so the hook knows its caller without unwinding), each calling
//! the real function through [`record`](super::record).

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::record::{record_mmap, record_mremap, record_munmap, MmapFn, MremapFixed, MunmapFn};

pub(super) const F_MMAP: usize = 0;
pub(super) const F_MMAP64: usize = 1;
pub(super) const F_MUNMAP: usize = 2;
pub(super) const F_MREMAP: usize = 3;
pub(super) const F_DLOPEN: usize = 4;
pub(super) const F_DLCLOSE: usize = 5;

/// The real functions, resolved at install with `dlsym(RTLD_DEFAULT, ..)`;
/// set once before any slot is patched and never cleared.
pub(super) static REAL: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];

pub(super) fn real(f: usize) -> usize {
    REAL[f].load(Ordering::Acquire)
}

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

unsafe fn on_munmap(k: usize, a: *mut c_void, l: usize) -> c_int {
    // SAFETY: REAL[F_MUNMAP] is libc's munmap (see on_mmap).
    let realf: MunmapFn = unsafe { std::mem::transmute::<usize, MunmapFn>(real(F_MUNMAP)) };
    // SAFETY: forwarded unchanged.
    unsafe { record_munmap(k, realf, a, l) }
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

pub(super) static MMAP_HOOKS: [[MmapFn; 16]; 16] = hook_table!(hook_mmap, MmapFn);
pub(super) static MMAP64_HOOKS: [[MmapFn; 16]; 16] = hook_table!(hook_mmap64, MmapFn);
pub(super) static MUNMAP_HOOKS: [[MunmapFn; 16]; 16] = hook_table!(hook_munmap, MunmapFn);
pub(super) static MREMAP_HOOKS: [[MremapFixed; 16]; 16] = hook_table!(hook_mremap, MremapFixed);
