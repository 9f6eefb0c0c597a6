//! The `mmap` family as raw system calls: what the profiler's own tables and
//! the interposer call, so that neither goes through the program's exported
//! `mmap` (the interposer itself) nor recurses.

use std::ffi::{c_int, c_void};

/// `mmap(2)` as a system call; `MAP_FAILED` and `errno` on failure.
///
/// # Safety
/// As `mmap(2)`: a `MAP_FIXED` request replaces whatever was mapped there.
pub(crate) unsafe extern "C" fn mmap(
    a: *mut c_void,
    l: usize,
    p: c_int,
    f: c_int,
    fd: c_int,
    o: libc::off_t,
) -> *mut c_void {
    // SAFETY: the caller's arguments, passed to the kernel unchanged; libc's
    // `syscall` returns -1 (MAP_FAILED) and sets errno on failure.
    unsafe {
        libc::syscall(
            libc::SYS_mmap,
            a,
            l,
            p as libc::c_long,
            f as libc::c_long,
            fd as libc::c_long,
            o,
        ) as *mut c_void
    }
}

/// `munmap(2)` as a system call.
///
/// # Safety
/// As `munmap(2)`: nothing may use the range afterwards.
pub(crate) unsafe extern "C" fn munmap(a: *mut c_void, l: usize) -> c_int {
    // SAFETY: the caller's arguments, passed to the kernel unchanged.
    unsafe { libc::syscall(libc::SYS_munmap, a, l) as c_int }
}

/// `mremap(2)` as a system call, its fifth argument always passed (the
/// kernel reads it only with `MREMAP_FIXED`).
///
/// # Safety
/// As `mremap(2)`: the old range is invalid afterwards when it moved.
pub(crate) unsafe extern "C" fn mremap(
    a: *mut c_void,
    old: usize,
    new: usize,
    flags: c_int,
    na: *mut c_void,
) -> *mut c_void {
    // SAFETY: the caller's arguments, passed to the kernel unchanged.
    unsafe {
        libc::syscall(libc::SYS_mremap, a, old, new, flags as libc::c_long, na) as *mut c_void
    }
}
