//! The capped workspaces serve every packing buffer they were sized for: a
//! sweep of shapes up to 4096 (1024³ included), f32 and f64, row- and
//! column-major operands, 1 to 4 threads, asserts zero overflows.

use arenaprof_gemm::{GemmConfig, GemmPool, GemmScalar, MatMut, MatRef, Strides};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

/// Sizes around matrixmultiply's blocks (`mc` 64, `kc` 256, `nc` 1024).
const DIMS: [usize; 9] = [1, 17, 64, 65, 256, 257, 1024, 1025, 4096];

fn call<T: GemmScalar + Copy + From<u8> + Into<f64>>(
    pool: &GemmPool,
    m: usize,
    k: usize,
    n: usize,
    col: bool,
) {
    let a: Vec<T> = (0..m * k).map(|x| T::from((x % 7) as u8)).collect();
    let b: Vec<T> = (0..k * n).map(|x| T::from((x % 5) as u8)).collect();
    let mut c = vec![T::from(0); m * n];
    let (sa, sb) = if col {
        (Strides::col_major(m), Strides::col_major(k))
    } else {
        (Strides::row_major(k), Strides::row_major(n))
    };
    let sc = Strides::row_major(n);
    pool.gemm(
        T::from(1),
        MatRef::new(&a, m, k, sa),
        MatRef::new(&b, k, n, sb),
        T::from(0),
        MatMut::new(&mut c, m, n, sc),
    )
    .unwrap();
    // Spot checks: the corners and the middle (sums of small integers are
    // exact in f32 up to 2^24: k * 6 * 4 < 2^24 for k <= 4096).
    for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 2)] {
        let want: f64 = (0..k)
            .map(|p| ((sa.index(i, p) % 7) * (sb.index(p, j) % 5)) as f64)
            .sum();
        let got: f64 = c[i * n + j].into();
        assert_eq!(got, want, "{m}x{k}x{n} col={col} C({i},{j})");
    }
}

fn pools() -> Vec<GemmPool> {
    (1..=4)
        .map(|threads| {
            GemmPool::new(GemmConfig {
                threads,
                min_work_per_worker: 1,
                ..Default::default()
            })
        })
        .collect()
}

#[test]
fn every_shape_is_served_by_the_workspaces() {
    let pools = pools();
    let mut calls = 0usize;
    let mut round = 0usize;
    for &m in &DIMS {
        for &k in &DIMS {
            for &n in &DIMS {
                if m * k * n > 1 << 28 {
                    continue;
                }
                // Every shape once, cycling threads, element type and layout.
                let pool = &pools[round % 4];
                let col = round / 4 % 2 == 1;
                if round / 8 % 2 == 0 {
                    call::<f64>(pool, m, k, n, col);
                } else {
                    call::<f32>(pool, m, k, n, col);
                }
                round += 1;
                calls += 1;
            }
        }
    }
    // 1024³ and the largest edge at full depth, on every pool, both types
    // and layouts.
    for pool in &pools {
        for col in [false, true] {
            call::<f64>(pool, 1024, 1024, 1024, col);
            call::<f32>(pool, 1024, 1024, 1024, col);
            call::<f64>(pool, 64, 4096, 4096, col);
            calls += 3;
        }
    }
    assert!(calls > 300, "{calls} calls");
    for pool in &pools {
        let s = pool.mem_stat();
        assert_eq!(s.overflows(), 0, "{s}");
        assert!(s.workspace_bytes > 0, "{s}");
    }
}
