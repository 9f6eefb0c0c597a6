//! `fork()` while snapshots are taken: 800 `Command` spawns (forced to
//! `fork`, with a `pre_exec` hook) from 4 threads,
//! once alone and once while another thread takes snapshots in a loop with
//! every allocation's stack sampled (`Sampling::All`, so each snapshot has
//! stacks to symbolise). Prints both times and their ratio. A snapshot
//! reads the process inside the fork gate and symbolises after it, so the
//! spawns wait for the reading, not for the symbolising.
//!
//! ```sh
//! cargo run --release --example spawn_under_snapshots        # back to back
//! cargo run --release --example spawn_under_snapshots -- 100 # every 100 ms
//! ```

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

/// Total time, and the longest single spawn.
fn spawns(total: usize, threads: usize) -> (Duration, Duration) {
    let t = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut longest = Duration::ZERO;
                for _ in 0..total / threads {
                    let t = Instant::now();
                    let mut c = Command::new("true");
                    // A `pre_exec` hook makes std fork (running the
                    // `pthread_atfork` handlers, so the profiler's fork
                    // gate) instead of `posix_spawn`, which does not.
                    // SAFETY: the hook does nothing.
                    unsafe { c.pre_exec(|| Ok(())) };
                    assert!(c.status().unwrap().success());
                    longest = longest.max(t.elapsed());
                }
                longest
            })
        })
        .collect();
    let longest = hs.into_iter().map(|h| h.join().unwrap()).max().unwrap();
    (t.elapsed(), longest)
}

fn main() {
    let _profiler = arenaprof::Profiler::from_env();
    arenaprof::set_sampling(arenaprof::Sampling::All);
    // Live sampled blocks from many call sites' worth of stacks.
    let keep: Vec<Vec<u8>> = (0..2000).map(|i| vec![0u8; 16 + i % 512]).collect();
    let alone = spawns(800, 4);
    let stop = Arc::new(AtomicBool::new(false));
    let taken = Arc::new(AtomicUsize::new(0));
    let (s, n) = (stop.clone(), taken.clone());
    // Back to back, or every N ms with the first argument.
    let every = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    let snapper = std::thread::spawn(move || {
        while !s.load(SeqCst) {
            let snap = arenaprof::snapshot();
            assert!(!snap.heap.stacks.is_empty());
            n.fetch_add(1, SeqCst);
            if let Some(d) = every {
                std::thread::park_timeout(d);
            }
        }
    });
    let busy = spawns(800, 4);
    stop.store(true, SeqCst);
    snapper.join().unwrap();
    println!(
        "800 spawns from 4 threads: {:.2} s alone (longest spawn {:.1} ms), {:.2} s while {} snapshots with sampled stacks were taken (longest {:.1} ms): {:.2}x",
        alone.0.as_secs_f64(),
        alone.1.as_secs_f64() * 1e3,
        busy.0.as_secs_f64(),
        taken.load(SeqCst),
        busy.1.as_secs_f64() * 1e3,
        busy.0.as_secs_f64() / alone.0.as_secs_f64()
    );
    drop(keep);
}
