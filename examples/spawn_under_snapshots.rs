//! `fork()` while snapshots are taken: 800 `Command` spawns from 4 threads,
//! once alone and once while another thread takes snapshots in a loop with
//! every allocation's stack sampled (`Sampling::All`, so each snapshot has
//! stacks to symbolise). Prints both times and their ratio. A snapshot
//! reads the process inside the fork gate and symbolises after it, so the
//! spawns wait for the reading, not for the symbolising.
//!
//! ```sh
//! cargo run --release --example spawn_under_snapshots
//! ```

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

fn spawns(total: usize, threads: usize) -> Duration {
    let t = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..total / threads {
                    assert!(Command::new("true").status().unwrap().success());
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    t.elapsed()
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
    let snapper = std::thread::spawn(move || {
        while !s.load(SeqCst) {
            let snap = arenaprof::snapshot();
            assert!(!snap.heap.stacks.is_empty());
            n.fetch_add(1, SeqCst);
        }
    });
    let busy = spawns(800, 4);
    stop.store(true, SeqCst);
    snapper.join().unwrap();
    println!(
        "800 spawns from 4 threads: {:.2} s alone, {:.2} s while {} snapshots with sampled stacks were taken: {:.2}x",
        alone.as_secs_f64(),
        busy.as_secs_f64(),
        taken.load(SeqCst),
        busy.as_secs_f64() / alone.as_secs_f64()
    );
    drop(keep);
}
