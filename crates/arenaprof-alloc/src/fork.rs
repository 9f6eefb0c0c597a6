//! `fork()` handlers: the child of a forked process inherits only the
//! forking thread, so a lock another thread held at the fork would stay held
//! in the child forever. The prepare handler takes every lock of the
//! tracker's own (in one fixed order), and both the parent and the child
//! release them, so the child starts with every lock free.
//!
//! Installed once, at the first allocation of the first thread.

use crate::{ring, rows};
use std::sync::atomic::{AtomicBool, Ordering::*};

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Registers the handlers (once per process).
#[cold]
pub(crate) fn install() {
    if INSTALLED.swap(true, AcqRel) {
        return;
    }
    // SAFETY: the three handlers are `extern "C" fn()` that neither unwind
    // nor allocate; glibc keeps them for the life of the process.
    unsafe { libc::pthread_atfork(Some(prepare), Some(release), Some(release)) };
}

/// Whether the handlers are registered.
#[inline]
pub(crate) fn installed() -> bool {
    INSTALLED.load(Relaxed)
}

extern "C" fn prepare() {
    // Order: the flags lock is never held while the ring lock is wanted, and
    // the reverse; either order is deadlock-free, this one is fixed.
    rows::FLAGS_LOCK.lock();
    ring::LOCK.lock();
}

extern "C" fn release() {
    ring::LOCK.unlock();
    rows::FLAGS_LOCK.unlock();
}
