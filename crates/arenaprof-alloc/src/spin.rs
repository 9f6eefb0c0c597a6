//! A test-and-set flag for the tracker's few short critical sections (the
//! timeline ring, the sampling-flag sweep). Model-checked with loom in
//! `crates/arenaprof-loom`. It never allocates and never
//! sleeps in the kernel, so it is usable inside the allocator; holders only
//! do plain stores and copies, never allocate, and a `fork()` prepare
//! handler can take it (see [`fork`](crate::fork)).

use crate::sync::{spin_loop, yield_now, AtomicBool, Ordering::*};

/// A raw spin lock: `lock`/`try_lock` and `unlock` must pair up.
pub(crate) struct SpinFlag(AtomicBool);

impl SpinFlag {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        SpinFlag(AtomicBool::new(false))
    }

    /// Loom's atomics have no `const` constructor.
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        SpinFlag(AtomicBool::new(false))
    }

    /// Takes the flag if it is free.
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        // A failed attempt writes nothing (unlike `swap`).
        self.0
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_ok()
    }

    /// Takes the flag, spinning (then yielding) while another thread holds it.
    pub(crate) fn lock(&self) {
        let mut spins = 0u32;
        while !self.try_lock() {
            while self.0.load(Relaxed) {
                if spins < 64 {
                    spin_loop();
                    spins += 1;
                } else {
                    yield_now();
                }
            }
        }
    }

    /// Releases the flag taken by this thread.
    #[inline]
    pub(crate) fn unlock(&self) {
        self.0.store(false, Release);
    }

    /// Runs `f` with the flag held.
    pub(crate) fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        self.lock();
        let r = f();
        self.unlock();
        r
    }
}
