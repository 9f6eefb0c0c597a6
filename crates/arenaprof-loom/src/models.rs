//! The models. Each runs every interleaving loom finds (bounded preemption
//! where noted, to keep CI inside a minute) and asserts exact results.

use crate::alloc_spin::SpinFlag;
use crate::array_spin::SpinLock;
use crate::counts::{fold_remote, freed_bytes, own_add, remote_free};
use crate::handoff::{Countdown, Mailbox};
use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(f);
}

/// A writer increments under `try_lock` when it gets it (the timeline
/// ring's writers), the main thread under `lock` (its reader). The data is
/// a relaxed atomic, so a lock that fails to order it loses an increment in
/// some interleaving.
#[test]
fn spin_flag_excludes_and_publishes() {
    model(|| {
        let flag = Arc::new(SpinFlag::new());
        let data = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (f, d) = (flag.clone(), data.clone());
            thread::spawn(move || {
                if !f.try_lock() {
                    return 0;
                }
                let v = d.load(Relaxed);
                d.store(v + 1, Relaxed);
                f.unlock();
                1
            })
        };
        flag.lock();
        let v = data.load(Relaxed);
        data.store(v + 1, Relaxed);
        flag.unlock();
        let wrote = writer.join().unwrap();
        assert_eq!(data.load(Relaxed), 1 + wrote);
        assert!(flag.try_lock(), "the flag is free at the end");
    });
}

/// The registry's shard lock: two threads increment through the guard.
#[test]
fn shard_lock_excludes_and_publishes() {
    model(|| {
        let lock = Arc::new(SpinLock::new(AtomicUsize::new(0)));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let l = lock.clone();
                thread::spawn(move || {
                    let g = l.lock();
                    let v = g.load(Relaxed);
                    g.store(v + 1, Relaxed);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(lock.lock().load(Relaxed), 2);
    });
}

/// The four counters of one (thread, tag) cell that `counts.rs` works on.
#[derive(Default)]
struct Counters {
    allocated: AtomicU64,
    live: AtomicU64,
    seen: AtomicU64,
    remote: AtomicU64,
}

impl Counters {
    fn freed(&self) -> u64 {
        freed_bytes(&self.allocated, &self.live, &self.seen, &self.remote)
    }

    fn fold(&self) -> u64 {
        fold_remote(&self.live, &self.seen, &self.remote)
    }

    /// The owner's allocation of `size` bytes.
    fn own_alloc(&self, size: u64) {
        own_add(&self.allocated, size);
        own_add(&self.live, size);
    }
}

/// One cell's counters: the owner allocates 100 and 20 bytes and frees the
/// 20 itself; it hands the 100-byte block to another thread, which frees it
/// remotely; the owner folds remote frees at an edge while that may be in
/// flight; a third thread reads `freed_bytes` at any moment.
#[test]
fn counter_rows_are_exact_when_quiescent() {
    model(|| {
        let c = Arc::new(Counters::default());
        let handed = Arc::new(AtomicBool::new(false));

        let owner = {
            let (c, h) = (c.clone(), handed.clone());
            thread::spawn(move || {
                for size in [100, 20] {
                    c.own_alloc(size);
                }
                h.store(true, Release); // the 100-byte block leaves
                own_add(&c.live, 20u64.wrapping_neg()); // local free of the 20
                c.fold(); // an edge, racing the remote free
            })
        };
        let freer = {
            let (c, h) = (c.clone(), handed.clone());
            thread::spawn(move || {
                while !h.load(Acquire) {
                    thread::yield_now();
                }
                remote_free(&c.remote, 100);
            })
        };
        let reader = {
            let c = c.clone();
            thread::spawn(move || {
                let freed = c.freed();
                let alloc = c.allocated.load(Relaxed);
                assert!(freed <= alloc, "freed {freed} of {alloc} allocated");
            })
        };
        owner.join().unwrap();
        freer.join().unwrap();
        reader.join().unwrap();
        let (l, s, r) = (
            c.live.load(Relaxed),
            c.seen.load(Relaxed),
            c.remote.load(Relaxed),
        );
        assert_eq!(l.wrapping_sub(r.wrapping_sub(s)), 0, "true live bytes");
        assert_eq!(c.freed(), 120);
        // A later fold by the owner settles `live` itself.
        c.fold();
        assert_eq!(c.live.load(Relaxed), 0);
    });
}

/// A reader racing the owner and a remote free: `freed_bytes` stays within
/// `0..=allocated` whatever mix of moments it reads.
#[test]
fn counter_rows_reader_stays_in_bounds() {
    model(|| {
        let c = Arc::new(Counters::default());
        let owner = {
            let c = c.clone();
            thread::spawn(move || {
                c.own_alloc(100);
                remote_free(&c.remote, 100); // as if freed elsewhere, right away
                c.fold();
            })
        };
        let freed = c.freed();
        let alloc = c.allocated.load(Relaxed);
        assert!(
            freed <= alloc.max(100),
            "freed {freed} with {alloc} allocated"
        );
        owner.join().unwrap();
        assert_eq!(c.freed(), 100);
    });
}

/// The GEMM pool's hand-off: the dispatcher writes a job, arms the
/// countdown for two workers and posts to each mailbox; each worker reads
/// the job and writes its result; the dispatcher waits and reads both.
#[test]
fn gemm_handoff_publishes_job_and_results() {
    model(|| {
        let job = Arc::new(AtomicUsize::new(0));
        let out = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let countdown = Arc::new(Countdown::default());
        let boxes = Arc::new([Mailbox::default(), Mailbox::default()]);
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (job, out, cd, mb) =
                    (job.clone(), out.clone(), countdown.clone(), boxes.clone());
                thread::spawn(move || {
                    let mut seen = 0;
                    let (cmd, arg) = mb[i].wait(&mut seen, Duration::ZERO);
                    out[i].store(job.load(Relaxed) * 10 + cmd as usize + arg, Relaxed);
                    cd.ack();
                })
            })
            .collect();
        job.store(7, Relaxed);
        // SAFETY: this thread is the only dispatcher and nothing is pending.
        unsafe { countdown.arm(2) };
        for (i, w) in workers.iter().enumerate() {
            boxes[i].post(1, i, w.thread());
        }
        countdown.wait(Duration::ZERO);
        assert_eq!(out[0].load(Relaxed), 71);
        assert_eq!(out[1].load(Relaxed), 72);
        for w in workers {
            w.join().unwrap();
        }
    });
}
