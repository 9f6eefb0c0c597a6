//! Exact workspace bytes through the global pool's life, as the tracking
//! allocator counts them: 8 workers, then `set_threads(1)` drops the
//! `GEMM_WORKSPACE` tag's live bytes to exactly one worker's workspace;
//! `limits` caps the threads without freeing; `free_buffers` releases everything
//! and the next call allocates again; the snapshot gets a `gemm` section.
//!
//! One test: the global pool and the tag's counters are process-wide.

use arenaprof_alloc::{stats, untracked, with_tag, Tag, Workspace};
use arenaprof_gemm::sizing::Limit;
use arenaprof_gemm::sizing::FULL_WORKSPACE;
use arenaprof_gemm::{GemmConfig, MatMut, MatRef, Strides};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn live() -> u64 {
    untracked(stats).tag(Tag::GEMM_WORKSPACE).live_bytes
}

/// Bytes the tracker charges for one workspace of `region` bytes: measured
/// under a probe tag, so the GEMM tag stays clean.
fn charge_of(region: usize) -> u64 {
    let probe = Tag::new("gemm-exact-probe");
    let ws = with_tag(probe, || Workspace::new(region).unwrap());
    let c = untracked(stats).tag(probe).live_bytes;
    drop(ws);
    c
}

fn square(n: usize) {
    let a: Vec<f64> = (0..n * n).map(|x| (x % 4) as f64).collect();
    let mut c = vec![0.0; n * n];
    let rm = Strides::row_major(n);
    arenaprof_gemm::global()
        .gemm(
            1.0,
            MatRef::new(&a, n, n, rm),
            MatRef::new(&a, n, n, rm),
            0.0,
            MatMut::new(&mut c, n, n, rm),
        )
        .unwrap();
    let want: f64 = (0..n).map(|p| a[p] * a[p * n]).sum();
    assert_eq!(c[0], want);
}

fn pool_threads_alive() -> usize {
    untracked(stats)
        .threads()
        .iter()
        .filter(|t| t.alive && t.name.starts_with("arenaprof-gemm"))
        .count()
}

#[test]
fn global_pool_bytes_are_exact_through_set_threads_and_free_buffers() {
    // The global pool reads the environment once, when it is built.
    std::env::set_var("ARENAPROF_GEMM_THREADS", "8");
    std::env::set_var("ARENAPROF_GEMM_WORKSPACE_CAP", "64MiB");
    let cfg = GemmConfig::from_env();
    assert_eq!((cfg.threads, cfg.workspace_cap), (8, 64 << 20));
    let one = charge_of(FULL_WORKSPACE);
    assert!(one >= FULL_WORKSPACE as u64);
    assert_eq!(live(), 0);

    // Start: 8 workers, each with a full workspace, allocated up front.
    let s = arenaprof_gemm::mem_stat();
    assert_eq!((s.pool.as_str(), s.threads, s.workers), ("global", 8, 8));
    assert_eq!(s.limit, Limit::None);
    assert_eq!(live(), 8 * one);
    assert_eq!(pool_threads_alive(), 7);

    // A run on 8 threads: 256^3 is worth 8 workers; all of them compute.
    square(256);
    let s = arenaprof_gemm::mem_stat();
    assert_eq!(s.calls, 1);
    assert_eq!(s.per_worker.iter().map(|w| w.tiles).sum::<u64>(), 8);
    assert_eq!(live(), 8 * one);

    // set_threads(1): the other 7 workspaces are freed before it returns.
    arenaprof_gemm::set_threads(1);
    assert_eq!(live(), one, "exactly one worker's workspace");
    let s = arenaprof_gemm::mem_stat();
    assert_eq!((s.workers, s.workspace_bytes), (1, FULL_WORKSPACE));
    assert_eq!(pool_threads_alive(), 0, "pool threads above 1 have exited");
    square(64);
    assert_eq!(live(), one);

    // Back up to 4: three new workspaces, allocated when the threads start.
    arenaprof_gemm::set_threads(4);
    assert_eq!(live(), 4 * one);
    let tiles =
        |s: &arenaprof_gemm::MemStat| s.per_worker.iter().map(|w| w.tiles).collect::<Vec<_>>();
    let before = tiles(&arenaprof_gemm::mem_stat());
    // limits(1): this thread's calls use worker 0 only; nothing freed.
    arenaprof_gemm::limits(1, || square(128));
    let after = tiles(&arenaprof_gemm::mem_stat());
    assert_eq!(after[0], before[0] + 1);
    assert_eq!(after[1..], before[1..]);
    assert_eq!(live(), 4 * one);
    // Outside the scope the limit is gone.
    square(128);
    assert_eq!(
        tiles(&arenaprof_gemm::mem_stat()).iter().sum::<u64>(),
        after.iter().sum::<u64>() + 4
    );

    // free_buffers: everything released; the next call allocates again.
    arenaprof_gemm::free_buffers();
    assert_eq!(live(), 0);
    let s = arenaprof_gemm::mem_stat();
    assert!(s.released && s.workspace_bytes == 0, "{s}");
    square(32);
    assert_eq!(live(), 4 * one);
    assert!(!arenaprof_gemm::mem_stat().released);

    // A smaller cap resizes (frees first, then allocates) and is kept.
    arenaprof_gemm::set_workspace_cap(4 << 20);
    let s = arenaprof_gemm::mem_stat();
    assert_eq!((s.workers, s.limit), (4, Limit::SmallerBlocks));
    assert_eq!(live(), 4 * charge_of(s.region));
    assert!(live() <= 4 << 20);
    square(200);
    assert_eq!(arenaprof_gemm::mem_stat().overflows(), 0);

    // The snapshot carries per-worker figures.
    let snap = arenaprof_alloc::snapshot();
    let sec = snap
        .sections
        .iter()
        .find(|s| s.name == "gemm")
        .expect("gemm section");
    let get = |k: &str| {
        sec.entries
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("global.workers").as_deref(), Some("4"));
    assert_eq!(get("global.workspace_cap").as_deref(), Some("4194304"));
    let w3 = get("global.worker3").expect("worker 3 entry");
    assert!(w3.starts_with(&format!("workspace={} ", s.region)), "{w3}");
    assert!(w3.contains("overflows=0"), "{w3}");
}
