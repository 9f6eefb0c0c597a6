//! GEMM results against a straightforward f64 reference: random shapes and
//! layouts (row/column-major, transposed, padded, negative and zero strides,
//! offsets), f32 and f64, on pools that split, tile and overflow differently.
//! Elements of C's slice outside the matrix must be left untouched.

use arenaprof_gemm::{
    GemmConfig, GemmError, GemmPool, GemmScalar, MatMut, MatRef, Operand, Strides,
};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

/// SplitMix64: deterministic, no dependency on an RNG crate's API.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

trait Elem: GemmScalar + Copy {
    const EPS: f64;
    fn of(x: f64) -> Self;
    fn f(self) -> f64;
}
impl Elem for f32 {
    const EPS: f64 = f32::EPSILON as f64;
    fn of(x: f64) -> f32 {
        x as f32
    }
    fn f(self) -> f64 {
        self as f64
    }
}
impl Elem for f64 {
    const EPS: f64 = f64::EPSILON;
    fn of(x: f64) -> f64 {
        x
    }
    fn f(self) -> f64 {
        self
    }
}

/// A matrix placed in a slice with random layout.
struct Placed<T> {
    data: Vec<T>,
    s: Strides,
}

fn dim_of(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0 => rng.below(3),                                    // 0, 1, 2
        1 => [3, 5, 7, 11, 13, 17, 31, 37, 61][rng.below(9)], // primes
        2..=6 => 1 + rng.below(40),
        7 | 8 => 16 * (1 + rng.below(4)) + rng.below(3),
        _ => 40 + rng.below(60),
    }
}

/// Strides for a `rows x cols` matrix; `distinct` forbids zero strides and
/// interleavings that map two elements to one place (C).
fn layout(rng: &mut Rng, rows: usize, cols: usize, distinct: bool) -> Strides {
    let pad = if rng.chance(30) { rng.below(4) } else { 0 };
    let inner = if rng.chance(15) { 2 } else { 1 };
    let (mut rs, mut cs) = if rng.chance(50) {
        // row-major: rows apart by at least cols * inner
        (((cols * inner).max(1) + pad) as isize, inner as isize)
    } else {
        (inner as isize, ((rows * inner).max(1) + pad) as isize)
    };
    if !distinct && rng.chance(8) {
        // broadcast: every row (or column) is the same
        if rng.chance(50) {
            rs = 0;
        } else {
            cs = 0;
        }
    }
    if rng.chance(25) {
        rs = -rs;
    }
    if rng.chance(25) {
        cs = -cs;
    }
    let neg = |d: usize, s: isize| {
        if s < 0 {
            (d.saturating_sub(1)) * s.unsigned_abs()
        } else {
            0
        }
    };
    let extra = if rng.chance(20) { rng.below(5) } else { 0 };
    Strides {
        row: rs,
        col: cs,
        offset: neg(rows, rs) + neg(cols, cs) + extra,
    }
}

fn place<T: Elem>(
    rng: &mut Rng,
    rows: usize,
    cols: usize,
    distinct: bool,
    nan_fill: bool,
) -> Placed<T> {
    let s = layout(rng, rows, cols, distinct);
    let hi = if rows == 0 || cols == 0 {
        s.offset
    } else {
        let r = (rows - 1) as isize * s.row;
        let c = (cols - 1) as isize * s.col;
        (s.offset as isize + r.max(0) + c.max(0)) as usize
    };
    let len = hi + 1 + rng.below(3);
    let data = (0..len)
        .map(|_| {
            if nan_fill {
                T::of(f64::NAN)
            } else {
                T::of(rng.unit())
            }
        })
        .collect();
    Placed { data, s }
}

fn check_one<T: Elem>(pool: &GemmPool, rng: &mut Rng, m: usize, k: usize, n: usize, label: &str) {
    let a = place::<T>(rng, m, k, false, false);
    let b = place::<T>(rng, k, n, false, false);
    let beta_zero_nan = rng.chance(20);
    let mut c = place::<T>(rng, m, n, true, beta_zero_nan);
    let alpha = match rng.below(6) {
        0 => 0.0,
        1 => 1.0,
        2 => -1.0,
        _ => rng.unit() * 3.0,
    };
    let beta = if beta_zero_nan {
        0.0
    } else {
        match rng.below(5) {
            0 => 0.0,
            1 => 1.0,
            _ => rng.unit() * 2.0,
        }
    };
    let (alpha_t, beta_t) = (T::of(alpha), T::of(beta));
    let c0 = c.data.clone();
    pool.gemm(
        alpha_t,
        MatRef::new(&a.data, m, k, a.s),
        MatRef::new(&b.data, k, n, b.s),
        beta_t,
        MatMut::new(&mut c.data, m, n, c.s),
    )
    .unwrap_or_else(|e| panic!("{label}: {e}"));
    // The reference, in f64 on the values as stored in T.
    let mut touched = vec![false; c.data.len()];
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f64;
            let mut mag = 0.0f64;
            if alpha != 0.0 {
                for p in 0..k {
                    let x = a.data[a.s.index(i, p)].f() * b.data[b.s.index(p, j)].f();
                    acc += x;
                    mag += x.abs();
                }
            }
            let ci = c.s.index(i, j);
            touched[ci] = true;
            let old = c0[ci].f();
            let want = alpha_t.f() * acc + if beta == 0.0 { 0.0 } else { beta_t.f() * old };
            let scale = alpha_t.f().abs() * mag
                + if beta == 0.0 {
                    0.0
                } else {
                    (beta_t.f() * old).abs()
                };
            let tol = 4.0 * T::EPS * (k as f64 + 2.0) * scale.max(f64::MIN_POSITIVE);
            let got = c.data[ci].f();
            assert!(
                (got - want).abs() <= tol,
                "{label}: m={m} k={k} n={n} alpha={alpha} beta={beta} a={:?} b={:?} c={:?} \
                 C({i},{j}) = {got}, want {want} (tol {tol})",
                a.s,
                b.s,
                c.s
            );
        }
    }
    for (idx, t) in touched.iter().enumerate() {
        if !t {
            assert!(
                c.data[idx].f().to_bits() == c0[idx].f().to_bits(),
                "{label}: element {idx} outside C was written (m={m} k={k} n={n} c={:?})",
                c.s
            );
        }
    }
}

fn pools() -> Vec<(&'static str, GemmPool)> {
    use arenaprof_gemm::sizing::{EFFICIENT_WORKSPACE, WORKSPACE_RECORD};
    let split = |threads, cap, tiles| GemmConfig {
        threads,
        workspace_cap: cap,
        min_work_per_worker: 1,
        tiles_per_worker: tiles,
        ..Default::default()
    };
    vec![
        (
            "1 thread",
            GemmPool::new(GemmConfig {
                threads: 1,
                ..Default::default()
            }),
        ),
        ("2 threads split", GemmPool::new(split(2, 16 << 20, 1))),
        (
            "3 threads, 2 tiles each",
            GemmPool::new(split(3, 16 << 20, 2)),
        ),
        // 4 workers, 655,488-byte regions: f64 tiled at kc=256 nc=256.
        (
            "4 threads small blocks",
            GemmPool::new(split(4, 4 * (EFFICIENT_WORKSPACE + WORKSPACE_RECORD), 1)),
        ),
        // 64 KiB for 3 threads: one worker, kc=32 nc=176 for f64.
        ("64 KiB cap", GemmPool::new(split(3, 64 << 10, 1))),
        // Below the minimum: no workspace, every packing buffer overflows.
        ("no workspace", GemmPool::new(split(2, 1000, 1))),
    ]
}

#[test]
fn random_shapes_and_layouts_match_the_reference() {
    let pools = pools();
    let mut rng = Rng(0x5EED_0001);
    let mut count = 0;
    for round in 0..105 {
        for (name, pool) in &pools {
            let (mut m, mut k, mut n) = (dim_of(&mut rng), dim_of(&mut rng), dim_of(&mut rng));
            match round % 7 {
                0 => k = 1,
                1 => {
                    m = 100 + rng.below(200); // tall-skinny
                    n = 1 + rng.below(3);
                }
                2 => {
                    n = 100 + rng.below(200); // short-wide
                    m = 1 + rng.below(3);
                }
                3 if round % 2 == 1 => k = 257 + rng.below(300), // crosses kc = 256
                _ => {}
            }
            if round % 2 == 0 {
                check_one::<f64>(pool, &mut rng, m, k, n, name);
            } else {
                check_one::<f32>(pool, &mut rng, m, k, n, name);
            }
            count += 1;
        }
    }
    assert!(count >= 600);
    let s = pools[5].1.mem_stat();
    assert_eq!(s.workspace_bytes, 0);
    assert!(
        s.overflows() > 0,
        "the no-workspace pool must count its packing buffers: {s}"
    );
    for (name, pool) in &pools[..5] {
        let s = pool.mem_stat();
        assert_eq!(s.overflows(), 0, "{name}: {s}");
    }
}

#[test]
fn fixed_edge_shapes() {
    let pools = pools();
    let mut rng = Rng(7);
    let dims = [0usize, 1, 2, 3, 15, 16, 17, 64, 65];
    for (name, pool) in &pools[..4] {
        for &m in &dims {
            for &k in &[0usize, 1, 7, 256, 257] {
                for &n in &dims {
                    if m * k * n > 64 * 257 * 17 {
                        continue;
                    }
                    check_one::<f64>(pool, &mut rng, m, k, n, name);
                    check_one::<f32>(pool, &mut rng, m, k, n, name);
                }
            }
        }
    }
}

#[test]
fn beta_zero_overwrites_nan_and_alpha_zero_skips_a_and_b() {
    let pool = GemmPool::new(GemmConfig {
        threads: 2,
        min_work_per_worker: 1,
        ..Default::default()
    });
    let a = vec![1.0; 6];
    let b = vec![2.0; 6];
    let mut c = vec![f64::NAN; 4];
    pool.gemm(
        1.0,
        MatRef::new(&a, 2, 3, (3, 1)),
        MatRef::new(&b, 3, 2, (2, 1)),
        0.0,
        MatMut::new(&mut c, 2, 2, (2, 1)),
    )
    .unwrap();
    assert_eq!(c, [6.0; 4]);
    // α = 0: A and B are not read (NaN there must not reach C).
    let nan = vec![f64::NAN; 6];
    pool.gemm(
        0.0,
        MatRef::new(&nan, 2, 3, (3, 1)),
        MatRef::new(&nan, 3, 2, (2, 1)),
        0.5,
        MatMut::new(&mut c, 2, 2, (2, 1)),
    )
    .unwrap();
    assert_eq!(c, [3.0; 4]);
    // k = 0 and β = 0 zeroes C, even NaN.
    let mut c = vec![f32::NAN; 4];
    pool.gemm(
        1.0,
        MatRef::new(&[], 2, 0, (0, 1)),
        MatRef::new(&[], 0, 2, (2, 1)),
        0.0,
        MatMut::new(&mut c, 2, 2, (2, 1)),
    )
    .unwrap();
    assert_eq!(c, [0.0; 4]);
}

#[test]
fn short_slices_and_bad_strides_are_errors_naming_the_operand() {
    let pool = GemmPool::new(GemmConfig {
        threads: 2,
        ..Default::default()
    });
    let (a, b) = (vec![1.0; 12], vec![1.0; 12]);
    let mut c = vec![7.0; 9];
    let rm = Strides::row_major;
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a[..11], 3, 4, rm(4)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, rm(3)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            GemmError::TooShort {
                operand: Operand::A,
                needed: 12,
                len: 11,
                ..
            }
        ),
        "{e}"
    );
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, rm(4)),
            MatRef::new(&b[..11], 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, rm(3)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            GemmError::TooShort {
                operand: Operand::B,
                ..
            }
        ),
        "{e}"
    );
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, rm(4)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c[..8], 3, 3, rm(3)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            GemmError::TooShort {
                operand: Operand::C,
                needed: 9,
                len: 8,
                ..
            }
        ),
        "{e}"
    );
    // A negative stride without an offset reaches before the slice.
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, Strides::new(-4, 1)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, rm(3)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            GemmError::BeforeStart {
                operand: Operand::A,
                reach: 8,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("offset must be at least 8"), "{e}");
    let ok = Strides::new(-4, 1).with_offset(8);
    pool.gemm(
        1.0,
        MatRef::new(&a, 3, 4, ok),
        MatRef::new(&b, 4, 3, rm(3)),
        0.0,
        MatMut::new(&mut c, 3, 3, rm(3)),
    )
    .unwrap();
    // An offset that pushes the last element out.
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, rm(4).with_offset(1)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, rm(3)),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            GemmError::TooShort {
                operand: Operand::A,
                needed: 13,
                ..
            }
        ),
        "{e}"
    );
    // C with overlapping elements.
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, rm(4)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, (1, 1)),
        )
        .unwrap_err();
    assert!(matches!(e, GemmError::OverlappingOutput { .. }), "{e}");
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, rm(4)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, (0, 1)),
        )
        .unwrap_err();
    assert!(matches!(e, GemmError::OverlappingOutput { .. }), "{e}");
    // Absurd strides overflow cleanly.
    let e = pool
        .gemm(
            1.0,
            MatRef::new(&a, 3, 4, (isize::MAX, 1)),
            MatRef::new(&b, 4, 3, rm(3)),
            0.0,
            MatMut::new(&mut c, 3, 3, rm(3)),
        )
        .unwrap_err();
    assert_eq!(
        e,
        GemmError::IndexOverflow {
            operand: Operand::A
        }
    );
    // Nothing was written by refused calls: the last successful call left C = A B.
    let mut want = vec![4.0; 9];
    let good = Strides::new(-4, 1).with_offset(8);
    pool.gemm(
        1.0,
        MatRef::new(&a, 3, 4, good),
        MatRef::new(&b, 4, 3, rm(3)),
        0.0,
        MatMut::new(&mut want, 3, 3, rm(3)),
    )
    .unwrap();
    assert_eq!(c, want);
    // Empty products never touch the slices.
    pool.gemm(
        1.0,
        MatRef::new(&[], 0, 4, rm(4)),
        MatRef::new(&b, 4, 3, rm(3)),
        0.0,
        MatMut::new(&mut [], 0, 3, rm(3)),
    )
    .unwrap();
    pool.gemm(
        1.0,
        MatRef::new(&a, 3, 4, rm(4)),
        MatRef::new(&[], 4, 0, rm(0)),
        0.0,
        MatMut::new(&mut [], 3, 0, rm(0)),
    )
    .unwrap();
}
