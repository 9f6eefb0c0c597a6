//! Concurrency: several threads call one pool while another changes its
//! threads and cap and releases its buffers, and another takes snapshots.
//! Every result is exact (integer-valued operands), the pool counts exactly
//! the calls made, and the `GEMM_WORKSPACE` tag never goes above the largest
//! cap in force.
//!
//! One test: the tag's peak is process-wide.

use arenaprof_alloc::{stats, untracked, Tag};
use arenaprof_gemm::partition::Grid;
use arenaprof_gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};
use std::sync::atomic::{AtomicBool, Ordering};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn tag() -> (u64, u64) {
    let c = untracked(stats).tag(Tag::GEMM_WORKSPACE);
    (c.live_bytes, c.peak_bytes)
}

/// C = A B for integer matrices seeded by `seed`, checked element by element.
fn exact_call(pool: &GemmPool, seed: usize, m: usize, k: usize, n: usize) {
    let a: Vec<f64> = (0..m * k).map(|x| ((x + seed) % 9) as f64 - 4.0).collect();
    let b: Vec<f64> = (0..k * n).map(|x| ((x * 7 + seed) % 5) as f64).collect();
    let mut c = vec![f64::NAN; m * n];
    let (sa, sb, sc) = (
        Strides::row_major(k),
        Strides::col_major(k),
        Strides::row_major(n),
    );
    pool.gemm(
        1.0,
        MatRef::new(&a, m, k, sa),
        MatRef::new(&b, k, n, sb),
        0.0,
        MatMut::new(&mut c, m, n, sc),
    )
    .unwrap();
    for i in 0..m {
        for j in 0..n {
            let want: f64 = (0..k).map(|p| a[sa.index(i, p)] * b[sb.index(p, j)]).sum();
            assert_eq!(c[i * n + j], want, "seed {seed} C({i},{j})");
        }
    }
}

#[test]
fn concurrent_callers_and_reconfiguration() {
    // Phase 1, sequential: transitions under a 4 MiB cap keep the peak under it.
    let pool = GemmPool::new(GemmConfig {
        threads: 2,
        workspace_cap: 4 << 20,
        min_work_per_worker: 1,
        ..Default::default()
    });
    for (step, t) in [1usize, 16, 2, 8, 3, 1, 5].into_iter().enumerate() {
        pool.set_threads(t);
        exact_call(&pool, step, 70, 300, 50);
        if step % 3 == 2 {
            pool.free_buffers();
            assert_eq!(tag().0, 0);
        }
        if step == 4 {
            pool.set_workspace_cap(1 << 20);
            exact_call(&pool, step, 30, 40, 50);
            pool.set_workspace_cap(4 << 20);
        }
    }
    assert!(tag().1 <= 4 << 20, "peak {} over the 4 MiB cap", tag().1);
    drop(pool);
    assert_eq!(tag().0, 0);

    // Phase 2, concurrent: 4 callers x 40 calls, a reconfigurer, a snapshotter.
    let pool = GemmPool::new(GemmConfig {
        threads: 3,
        workspace_cap: 8 << 20,
        min_work_per_worker: 1,
        tiles_per_worker: 2,
        ..Default::default()
    });
    let (m, k, n) = (48, 40, 64);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..4)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    for i in 0..40 {
                        exact_call(pool, t * 100 + i, m, k, n);
                    }
                })
            })
            .collect();
        let reconf = s.spawn(|| {
            let mut i = 0usize;
            while !stop.load(Ordering::Acquire) {
                match i % 5 {
                    0 => pool.set_threads(1 + i % 4),
                    1 => pool.set_workspace_cap([2 << 20, 8 << 20, 3 << 20][i % 3]),
                    2 => pool.free_buffers(),
                    3 => pool.set_threads(3),
                    _ => pool.set_workspace_cap(8 << 20),
                }
                assert!(pool.mem_stat().charged_bytes_max <= 8 << 20);
                i += 1;
                std::thread::yield_now();
            }
            i
        });
        let snaps = s.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::Acquire) {
                let snap = arenaprof_alloc::snapshot();
                assert!(snap.sections.iter().any(|s| s.name == "gemm"));
                n += 1;
            }
            n
        });
        for c in callers {
            c.join().unwrap();
        }
        stop.store(true, Ordering::Release);
        assert!(reconf.join().unwrap() > 0);
        assert!(snaps.join().unwrap() > 0);
    });
    let s = pool.mem_stat();
    assert_eq!(s.calls, 160, "{s}");
    assert_eq!(s.overflows(), 0, "{s}");
    // Tiles per call depend on the workers in force at that moment; each call
    // has between 1 and Grid(.., 4 threads x 2) tiles.
    let tiles: u64 = s.per_worker.iter().map(|w| w.tiles).sum();
    let most = Grid::new(m, k, n, 8).count() as u64;
    assert!((160..=160 * most).contains(&tiles), "{tiles} {s}");
    assert!(tag().1 <= 8 << 20, "peak {} over the largest cap", tag().1);
    drop(pool);
    assert_eq!(tag().0, 0);
}
