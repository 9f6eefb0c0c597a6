//! `fork()` safety: the child of a forked process inherits only the forking
//! thread, so a lock another thread held at the fork stays held in the child
//! forever.
//!
//! Every profiler operation that takes a lock (sampling a stack, freeing a
//! sampled block, building a snapshot, registering or naming a tag, a mark,
//! registering a contributor) runs inside a *gate* ([`enter`]). The
//! `pthread_atfork` prepare handler closes the gate and waits until no
//! operation is inside, so no thread holds any of those locks (the
//! sampling tables, the unwinder's and backtrace's locks, the tag names,
//! the marks) when the process forks. It then takes the tracker's spin
//! flags and runs the prepare handlers that components registered with
//! [`register_fork_handlers`] (the array registry's shard locks), in that
//! order; the parent and child handlers undo all of it in reverse. Both
//! processes continue with every lock free.
//!
//! Operations nest (a thread already inside passes freely), and a thread
//! that arrives while a fork is being prepared waits for it. Installed at
//! the first allocation.

use crate::local::LOCAL;
use crate::spin::SpinFlag;
use crate::sync::{spin_loop, yield_now};
use crate::{retag, ring, rows, window};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::*};

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Operations inside the gate, plus `CLOSING` while a fork is prepared.
static GATE: AtomicUsize = AtomicUsize::new(0);
const CLOSING: usize = 1 << (usize::BITS - 1);

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

/// Inside the gate while alive.
pub(crate) struct Gate(());

/// Enters the gate (waiting while a fork is being prepared).
pub(crate) fn enter() -> Gate {
    let nested = LOCAL
        .try_with(|l| {
            let d = l.gate_depth.get();
            l.gate_depth.set(d + 1);
            d > 0
        })
        .unwrap_or(false);
    if !nested {
        let mut spins = 0u32;
        loop {
            let s = GATE.load(Relaxed);
            if s & CLOSING == 0
                && GATE
                    .compare_exchange_weak(s, s + 1, Acquire, Relaxed)
                    .is_ok()
            {
                break;
            }
            spins += 1;
            if spins < 64 {
                spin_loop();
            } else {
                yield_now();
            }
        }
    }
    Gate(())
}

impl Drop for Gate {
    fn drop(&mut self) {
        let last = LOCAL
            .try_with(|l| {
                let d = l.gate_depth.get().saturating_sub(1);
                l.gate_depth.set(d);
                d == 0
            })
            .unwrap_or(true);
        if last {
            GATE.fetch_sub(1, Release);
        }
    }
}

/// A component's fork handlers: `prepare` takes its locks, `release`
/// frees them (in the parent and in the child).
#[derive(Clone, Copy)]
struct Handlers {
    prepare: fn(),
    release: fn(),
}

const MAX_HANDLERS: usize = 8;
#[allow(clippy::declare_interior_mutable_const)]
const NO_HANDLERS: AtomicPtr<Handlers> = AtomicPtr::new(std::ptr::null_mut());
static HANDLERS: [AtomicPtr<Handlers>; MAX_HANDLERS] = [NO_HANDLERS; MAX_HANDLERS];
static REGISTER: SpinFlag = SpinFlag::new();

/// Registers fork handlers of a component that keeps its own locks (the
/// array registry does): `prepare` runs after the gate is closed and the
/// tracker's locks are taken, and must take every lock of the component
/// without allocating and without waiting on anything a profiler operation
/// may hold; `release` frees them. At most 8 components; returns `false`
/// past that or when `prepare` is already registered.
///
/// ```
/// fn prepare() {}
/// fn release() {}
/// assert!(arenaprof_alloc::register_fork_handlers(prepare, release));
/// assert!(!arenaprof_alloc::register_fork_handlers(prepare, release));
/// ```
pub fn register_fork_handlers(prepare: fn(), release: fn()) -> bool {
    let _g = enter();
    REGISTER.with(|| {
        for slot in &HANDLERS {
            let cur = slot.load(Acquire);
            // SAFETY: non-null entries are leaked `Handlers`, never freed.
            if let Some(h) = unsafe { cur.as_ref() } {
                if h.prepare as usize == prepare as usize {
                    return false;
                }
                continue;
            }
            let b =
                crate::local::with_busy(|| Box::into_raw(Box::new(Handlers { prepare, release })));
            slot.store(b, Release);
            return true;
        }
        false
    })
}

fn handlers() -> impl DoubleEndedIterator<Item = &'static Handlers> {
    HANDLERS.iter().filter_map(|p| {
        // SAFETY: non-null entries are leaked `Handlers`, never freed.
        unsafe { p.load(Acquire).as_ref() }
    })
}

extern "C" fn prepare() {
    GATE.fetch_or(CLOSING, AcqRel);
    while GATE.load(Acquire) & !CLOSING != 0 {
        yield_now();
    }
    REGISTER.lock();
    window::lock_creation();
    retag::LOCK.lock();
    rows::FLAGS_LOCK.lock();
    ring::LOCK.lock();
    for h in handlers() {
        (h.prepare)();
    }
}

extern "C" fn release() {
    for h in handlers().rev() {
        (h.release)();
    }
    ring::LOCK.unlock();
    rows::FLAGS_LOCK.unlock();
    retag::LOCK.unlock();
    window::unlock_creation();
    REGISTER.unlock();
    GATE.fetch_and(!CLOSING, AcqRel);
}
