//! `fork()` while another thread allocates, with sampling off and with every
//! allocation sampled: each child allocates, builds and encodes a snapshot
//! and exits; none may hang (each gets 5 s). Alone in its test binary, so
//! the only other threads are the ones it starts.

use arenaprof_alloc::{set_sampling, snapshot, timeline, with_tag, Sampling, Tag, TrackingAlloc};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

/// Forks `n` children while a worker allocates (and, every so often, makes
/// tags and marks); returns how long the slowest child took.
fn storm(mode: Sampling, n: usize) -> Duration {
    set_sampling(mode);
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let worker = {
        let (stop, rounds) = (stop.clone(), rounds.clone());
        std::thread::spawn(move || {
            let tag = Tag::new("fork-storm");
            let mut keep: Vec<Vec<u8>> = Vec::new();
            let mut i = 0u64;
            while !stop.load(Relaxed) {
                with_tag(tag, || {
                    keep.push(vec![i as u8; 64 + (i as usize % 4000)]);
                    if keep.len() > 64 {
                        keep.drain(..32);
                    }
                });
                if i % 512 == 0 {
                    timeline::mark("storm");
                    let _ = Tag::new(&format!("storm-{}", i % 8)).name();
                }
                i += 1;
                rounds.fetch_add(1, Relaxed);
            }
        })
    };
    let mut slowest = Duration::ZERO;
    for k in 0..n {
        // Let the worker get going between forks.
        let r0 = rounds.load(Relaxed);
        while rounds.load(Relaxed) < r0 + 16 {
            std::hint::spin_loop();
        }
        let start = Instant::now();
        // SAFETY: the child only allocates, builds a snapshot (locks the
        // fork handlers freed) and ends with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let v = vec![7u8; 1 << 16];
            let s = snapshot();
            let ok = s.total.live_bytes >= v.len() as u64 && s.to_bytes().is_ok();
            drop(v);
            // SAFETY: ends the child without running the parent's handlers.
            unsafe { libc::_exit(if ok { 0 } else { 3 }) };
        }
        let mut status = 0;
        loop {
            // SAFETY: polling our own child.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            if start.elapsed() > Duration::from_secs(5) {
                // SAFETY: our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                stop.store(true, Relaxed);
                panic!("{mode:?}: child {k} of {n} hung for 5 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{mode:?}: child {k} ended with status {status:#x}"
        );
        slowest = slowest.max(start.elapsed());
    }
    stop.store(true, Relaxed);
    worker.join().unwrap();
    set_sampling(Sampling::Off);
    slowest
}

#[test]
fn three_hundred_forks_with_sampling_off_and_all_never_hang() {
    let n: usize = std::env::var("ARENAPROF_FORKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let off = storm(Sampling::Off, n);
    let all = storm(Sampling::All, n);
    eprintln!("{n} forks each: slowest child {off:?} (sampling off), {all:?} (all)");
}
