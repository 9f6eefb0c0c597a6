//! Steady state: on a warm pool, 100 GEMM calls make zero allocations from
//! the inner allocator, on the calling thread, on the pool threads, and in the
//! whole process, as counted by the tracking allocator itself. Every packing
//! buffer matrixmultiply asks for is served from a workspace.
//!
//! One test per binary: the counters are process-wide.

use arenaprof_alloc::{stats, untracked, Stats};
use arenaprof_gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn read() -> Stats {
    untracked(stats)
}

fn allocs_of(s: &Stats, pred: impl Fn(&arenaprof_alloc::ThreadCounters) -> bool) -> (u64, u64) {
    s.threads()
        .iter()
        .filter(|t| pred(t))
        .fold((0, 0), |(a, r), t| {
            (a + t.total.alloc_count, r + t.total.realloc_count)
        })
}

#[test]
fn hundred_warm_calls_allocate_nothing() {
    // Full blocks (one kernel call per tile) and small blocks (tiled in K and
    // N: several kernel calls per tile, each served from the workspace).
    let full = GemmPool::new(GemmConfig {
        threads: 2,
        workspace_cap: 64 << 20,
        min_work_per_worker: 1,
        ..Default::default()
    });
    let small = GemmPool::new(GemmConfig {
        threads: 2,
        workspace_cap: 2 << 20,
        min_work_per_worker: 1,
        tiles_per_worker: 2,
        ..Default::default()
    });
    let (m, k, n) = (96, 300, 80);
    let a64: Vec<f64> = (0..m * k).map(|x| (x % 13) as f64).collect();
    let b64: Vec<f64> = (0..k * n).map(|x| (x % 7) as f64).collect();
    let a32: Vec<f32> = a64.iter().map(|&x| x as f32).collect();
    let b32: Vec<f32> = b64.iter().map(|&x| x as f32).collect();
    let mut c64 = vec![0.0f64; m * n];
    let mut c32 = vec![0.0f32; m * n];
    let rm = Strides::row_major;
    let mut call = |pool: &GemmPool, i: usize| match i % 4 {
        0 => pool.gemm(
            1.0,
            MatRef::new(&a64, m, k, rm(k)),
            MatRef::new(&b64, k, n, rm(n)),
            0.0,
            MatMut::new(&mut c64, m, n, rm(n)),
        ),
        1 => pool.gemm(
            1.0,
            MatRef::new(&a32, m, k, rm(k)),
            MatRef::new(&b32, k, n, rm(n)),
            0.5,
            MatMut::new(&mut c32, m, n, rm(n)),
        ),
        // B read transposed, C column-major.
        2 => pool.gemm(
            2.0,
            MatRef::new(&a64, m, k, rm(k)),
            MatRef::new(&b64[..k * n], k, n, Strides::col_major(k)),
            0.0,
            MatMut::new(&mut c64, m, n, Strides::col_major(m)),
        ),
        // A with rows bottom-up.
        _ => pool.gemm(
            1.0,
            MatRef::new(&a32, m, k, rm(k).flip_rows(m)),
            MatRef::new(&b32, k, n, rm(n)),
            0.0,
            MatMut::new(&mut c32, m, n, rm(n)),
        ),
    };
    for pool in [&full, &small] {
        for i in 0..8 {
            call(pool, i).unwrap(); // warm-up: thread handles, tags, first use
        }
        let stat0 = pool.mem_stat();
        let me = arenaprof_alloc::current_thread_slot().unwrap();
        let before = read();
        for i in 0..100 {
            call(pool, i).unwrap();
        }
        let after = read();
        let stat1 = pool.mem_stat();

        let total = (
            after.total().alloc_count - before.total().alloc_count,
            after.total().realloc_count - before.total().realloc_count,
        );
        assert_eq!(
            total,
            (0, 0),
            "process-wide allocations during 100 warm calls"
        );
        let mine = |t: &arenaprof_alloc::ThreadCounters| t.slot == me;
        let workers = |t: &arenaprof_alloc::ThreadCounters| t.name.starts_with("arenaprof-gemm");
        assert_eq!(
            allocs_of(&after, mine),
            allocs_of(&before, mine),
            "calling thread"
        );
        assert_eq!(
            allocs_of(&after, workers),
            allocs_of(&before, workers),
            "pool threads"
        );
        assert!(after.threads().iter().filter(|t| workers(t)).count() >= 2);

        // Every kernel call's packing buffer came from a workspace.
        let sum = |s: &arenaprof_gemm::MemStat, f: fn(&arenaprof_gemm::WorkerStat) -> u64| {
            s.per_worker.iter().map(f).sum::<u64>()
        };
        let kernel = sum(&stat1, |w| w.kernel_calls) - sum(&stat0, |w| w.kernel_calls);
        let served = sum(&stat1, |w| w.served) - sum(&stat0, |w| w.served);
        assert!(kernel >= 100);
        assert_eq!(served, kernel, "{stat1}");
        assert_eq!(stat1.overflows(), 0, "{stat1}");
        assert_eq!(stat1.calls - stat0.calls, 100);
        assert!(stat1
            .per_worker
            .iter()
            .all(|w| w.peak_used <= w.workspace_bytes));
    }
    // The small pool really tiled: more kernel calls than tiles.
    let s = small.mem_stat();
    let (tiles, kernel): (u64, u64) = s
        .per_worker
        .iter()
        .fold((0, 0), |(t, k), w| (t + w.tiles, k + w.kernel_calls));
    assert!(kernel > tiles, "{s}");
}
