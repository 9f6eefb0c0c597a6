//! The cap holds, measured by the tracking allocator: for threads 1, 2, 4, 8
//! and 16 and caps of 1 MiB, 4 MiB and 64 MiB, the `GEMM_WORKSPACE` tag's
//! peak live bytes never exceed the cap.
//!
//! How the peak is measured: a tag's peak is a process-wide high-water mark
//! that cannot be reset. So this binary holds a single test that runs the
//! configurations one after the other, in ascending order of cap, dropping
//! each pool (its threads joined, every workspace freed, live bytes back to
//! exactly 0) before the next starts. After configuration `i` the peak is the
//! maximum over configurations `0..=i`; with caps ascending, "peak <= cap_i
//! after every `i`" holds exactly when every configuration stayed within its
//! own cap. Live bytes are also checked exactly against the pool's own
//! figures while each pool runs.

use arenaprof_alloc::{stats, untracked, with_tag, Tag, Workspace};
use arenaprof_gemm::sizing::Limit;
use arenaprof_gemm::sizing::WORKSPACE_RECORD;
use arenaprof_gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn gemm_tag() -> (u64, u64) {
    let c = untracked(stats).tag(Tag::GEMM_WORKSPACE);
    (c.live_bytes, c.peak_bytes)
}

/// Bytes the tracker charges for a workspace besides its region.
fn record_bytes() -> u64 {
    let probe = Tag::new("gemm-cap-probe");
    let ws = with_tag(probe, || Workspace::new(4096).unwrap());
    let live = untracked(stats).tag(probe).live_bytes;
    drop(ws);
    live - 4096
}

/// An exact product check on integer-valued matrices (every sum is exact).
fn run<T>(pool: &GemmPool, m: usize, k: usize, n: usize)
where
    T: arenaprof_gemm::GemmScalar + From<u8> + Into<f64> + Copy,
{
    let a: Vec<T> = (0..m * k).map(|x| T::from((x % 5) as u8)).collect();
    let b: Vec<T> = (0..k * n).map(|x| T::from((x % 3) as u8)).collect();
    let mut c: Vec<T> = vec![T::from(0); m * n];
    let rm = Strides::row_major;
    pool.gemm(
        T::from(1),
        MatRef::new(&a, m, k, rm(k)),
        MatRef::new(&b, k, n, rm(n)),
        T::from(0),
        MatMut::new(&mut c, m, n, rm(n)),
    )
    .unwrap();
    for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 3)] {
        let want: f64 = (0..k)
            .map(|p| a[i * k + p].into() * b[p * n + j].into())
            .sum();
        assert_eq!(c[i * n + j].into(), want, "C({i},{j}) of {m}x{k}x{n}");
    }
}

#[test]
fn gemm_workspace_peak_never_exceeds_the_cap() {
    let record = record_bytes();
    assert!(
        record as usize <= WORKSPACE_RECORD,
        "record {record} > budget {WORKSPACE_RECORD}"
    );
    assert_eq!(
        gemm_tag(),
        (0, 0),
        "nothing under the tag before the first pool"
    );
    let mut seen = Vec::new();
    for cap in [1usize << 20, 4 << 20, 64 << 20] {
        for threads in [1usize, 2, 4, 8, 16] {
            let pool = GemmPool::new(GemmConfig {
                threads,
                workspace_cap: cap,
                min_work_per_worker: 1,
                tiles_per_worker: 2,
                ..Default::default()
            });
            let s = pool.mem_stat();
            let live_ws = s
                .per_worker
                .iter()
                .filter(|w| w.workspace_bytes > 0)
                .count() as u64;
            let (live, _) = gemm_tag();
            assert_eq!(live, s.workspace_bytes as u64 + live_ws * record, "{s}");
            assert!(s.charged_bytes_max <= cap, "{s}");
            run::<f64>(&pool, 131, 300, 97);
            run::<f32>(&pool, 64, 513, 200);
            run::<f64>(&pool, 400, 20, 3);
            let s = pool.mem_stat();
            assert_eq!(s.overflows(), 0, "{s}");
            let (live, peak) = gemm_tag();
            assert_eq!(live, s.workspace_bytes as u64 + live_ws * record, "{s}");
            assert!(
                peak <= cap as u64,
                "threads {threads}, cap {cap}: peak {peak}\n{s}"
            );
            seen.push((threads, cap, s.workers, s.limit, s.region));
            drop(pool);
            assert_eq!(gemm_tag().0, 0, "every workspace freed when the pool drops");
        }
    }
    // What the caps cost (documented in docs/gemm.md).
    let full = arenaprof_gemm::sizing::FULL_WORKSPACE;
    for &(threads, cap, workers, limit, region) in &seen {
        match (cap >> 20, threads) {
            (64, _) => assert_eq!((workers, limit, region), (threads, Limit::None, full)),
            (4, 1) => assert_eq!((workers, limit), (1, Limit::None)),
            (4, 2 | 4) => assert_eq!((workers, limit), (threads, Limit::SmallerBlocks)),
            (4, _) => assert_eq!((workers, limit), (6, Limit::FewerWorkers)),
            (1, 1) => assert_eq!((workers, limit), (1, Limit::SmallerBlocks)),
            (1, _) => assert_eq!((workers, limit), (1, Limit::FewerWorkers)),
            _ => unreachable!(),
        }
    }
}
