//! How the dispatcher hands a command to pool threads and waits for them.
//!
//! - A [`Mailbox`] per pool thread: the dispatcher stores the command and
//!   its argument, then bumps `gen` with Release and unparks the thread; the
//!   thread waits until `gen` changes (Acquire), so it sees the command and
//!   everything the dispatcher wrote before (the job).
//! - A [`Countdown`] per pool: the dispatcher arms it with the number of
//!   threads taking part; each counts itself out (AcqRel); the last one
//!   unparks the dispatcher, which waits until the count reads 0 (Acquire),
//!   so it sees everything the threads wrote (C's tiles, their figures).
//!
//! Model-checked with loom in `crates/arenaprof-loom` (this file is compiled
//! there against loom's atomics and threads).

use crate::sync::{
    current, park, spin_loop, AtomicU64, AtomicU8, AtomicUsize, Ordering::*, Thread,
};
use std::cell::UnsafeCell;
use std::time::{Duration, Instant};

/// One pool thread's mailbox.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    /// Bumped (Release) by the dispatcher for each command.
    gen: AtomicU64,
    cmd: AtomicU8,
    arg: AtomicUsize,
}

impl Mailbox {
    /// Posts `cmd` with `arg` and wakes `worker`, the mailbox's thread.
    pub(crate) fn post(&self, cmd: u8, arg: usize, worker: &Thread) {
        self.cmd.store(cmd, Relaxed);
        self.arg.store(arg, Relaxed);
        self.gen.fetch_add(1, Release);
        worker.unpark();
    }

    /// Waits (spinning up to `spin`, then parked) for the command after the
    /// one numbered `seen`; returns it and its argument. Mailbox thread only.
    pub(crate) fn wait(&self, seen: &mut u64, spin: Duration) -> (u8, usize) {
        wait_until(spin, || self.gen.load(Acquire) != *seen);
        *seen = self.gen.load(Acquire);
        (self.cmd.load(Relaxed), self.arg.load(Relaxed))
    }
}

/// Counts pool threads out of a command; the last one wakes the dispatcher.
#[derive(Debug)]
pub(crate) struct Countdown {
    pending: AtomicUsize,
    /// The dispatcher to wake; written only while `pending == 0`.
    caller: UnsafeCell<Option<Thread>>,
}

// SAFETY: `caller` is written only by the dispatcher while `pending == 0`
// (no thread reads it then: readers are threads counted in `pending`) and
// read by threads counted in `pending` before they count out; the Release
// store of `pending` in `arm` publishes it to them (they start after
// observing a mailbox's Release bump, made after `arm`).
unsafe impl Sync for Countdown {}
// SAFETY: nothing in it is tied to a thread.
unsafe impl Send for Countdown {}

impl Default for Countdown {
    fn default() -> Self {
        Countdown {
            pending: AtomicUsize::new(0),
            caller: UnsafeCell::new(None),
        }
    }
}

impl Countdown {
    /// Expects `workers` threads to count out, and the calling thread to
    /// wait for them.
    ///
    /// # Safety
    /// Only one thread (the dispatcher) arms, and only while `pending() == 0`.
    pub(crate) unsafe fn arm(&self, workers: usize) {
        // SAFETY: per the contract no other thread reads `caller` now.
        let caller = unsafe { &mut *self.caller.get() };
        let me = current();
        if caller.as_ref().map(|t| t.id()) != Some(me.id()) {
            *caller = Some(me);
        }
        self.pending.store(workers, Release);
    }

    /// Counts one thread out; the last one wakes the dispatcher. Only a
    /// thread counted in by [`arm`](Self::arm) calls this, once.
    pub(crate) fn ack(&self) {
        // SAFETY: the dispatcher does not rewrite `caller` before `pending`
        // reaches 0, which cannot happen before the `fetch_sub` below.
        let caller = unsafe { (*self.caller.get()).clone() };
        if self.pending.fetch_sub(1, AcqRel) == 1 {
            if let Some(t) = caller {
                t.unpark();
            }
        }
    }

    /// Takes back `n` threads that will never count out (they failed to
    /// start). Dispatcher only.
    pub(crate) fn cancel(&self, n: usize) {
        self.pending.fetch_sub(n, AcqRel);
    }

    /// Waits (spinning up to `spin`, then parked) until every thread counted
    /// out. Dispatcher only.
    pub(crate) fn wait(&self, spin: Duration) {
        wait_until(spin, || self.pending.load(Acquire) == 0);
    }
}

/// Spins for up to `spin`, then parks, until `done()`.
pub(crate) fn wait_until(spin: Duration, mut done: impl FnMut() -> bool) {
    if done() {
        return;
    }
    if !spin.is_zero() {
        let start = Instant::now();
        let mut i = 0u32;
        loop {
            for _ in 0..64 {
                spin_loop();
                if done() {
                    return;
                }
            }
            i += 1;
            if i % 4 == 0 && start.elapsed() >= spin {
                break;
            }
        }
    }
    while !done() {
        park();
    }
}
