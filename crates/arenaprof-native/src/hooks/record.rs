//! The calls that record: each calls the real function it is given and
//! puts the result in the table. The GOT trampolines and the program's own
//! `mmap` family (the interposer) both end here.

use std::ffi::{c_int, c_void};

use super::table::{
    region, round_up, Frags, C_FAILED, C_MMAP_CALLS, C_MREMAP_CALLS, C_MUNMAP_CALLS, C_UNMATCHED,
    RLX,
};

pub(crate) type MmapFn =
    unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, c_int, libc::off_t) -> *mut c_void;
pub(crate) type MunmapFn = unsafe extern "C" fn(*mut c_void, usize) -> c_int;

pub(crate) type MremapFixed =
    unsafe extern "C" fn(*mut c_void, usize, usize, c_int, *mut c_void) -> *mut c_void;

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
    let ps = crate::units::page_size();
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
    let ps = crate::units::page_size();
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
