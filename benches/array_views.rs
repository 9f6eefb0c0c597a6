//! The registry's cost: creating and dropping a view of an `arenaprof`
//! array vs an ndarray `ArcArray` clone + slice + drop (the same work minus
//! the registry), for `s![..10]` on a 1-D array and `s![1..;2, ..;-1]` on a
//! 2-D one; and (interleaved only) `s![..10]` of a view whose arena's owner
//! was dropped, where every view made and dropped moves the wasted-bytes
//! estimate behind the retention high-water mark. The target: at most
//! 1.25x against `ArcArray<f64, IxDyn>`, high-water tracking included.
//!
//! Run: `cargo bench -p arenaprof-benches --bench array_views`
//!
//! Both run in this one binary under the tracking allocator (as a profiled
//! program would). After criterion's report, the binary prints two ratios
//! per pair: of criterion's means (`target/criterion/.../new/estimates.json`),
//! and an interleaved one, robust to other load on the machine: 200 rounds
//! of 20,000 iterations of each side back to back, the median of the
//! per-round ratios. Skip criterion with `ARENAPROF_BENCH_QUICK=1`.

use arenaprof::array::{s, Array};
use criterion::Criterion;
use ndarray::{ArcArray, Ix1, IxDyn};
use std::hint::black_box;

#[global_allocator]
static A: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

const PAIRS: [(&str, &str); 3] = [
    ("1d/arenaprof", "1d/ndarray-arc-ixdyn"),
    ("1d/arenaprof", "1d/ndarray-arc-ix1"),
    ("2d/arenaprof", "2d/ndarray-arc-ixdyn"),
];

/// The arrays both measurements slice: the same data on each side.
struct Fixtures {
    a: Array<f64>,
    nd_dyn: ArcArray<f64, IxDyn>,
    nd_1: ArcArray<f64, Ix1>,
    m: Array<f64>,
    nd_m: ArcArray<f64, IxDyn>,
}

fn fixtures() -> Fixtures {
    let a = Array::<f64>::arange(1 << 20);
    let nd_dyn = ndarray::Array::from_shape_vec(IxDyn(&[1 << 20]), a.to_vec())
        .unwrap()
        .into_shared();
    let nd_1 = ndarray::Array::from_vec(a.to_vec()).into_shared();
    Fixtures {
        a,
        nd_dyn,
        nd_1,
        m: Array::<f64>::zeros(&[512, 512]),
        nd_m: ndarray::ArrayD::zeros(IxDyn(&[512, 512])).into_shared(),
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("view-create-drop");
    let Fixtures {
        a,
        nd_dyn,
        nd_1,
        m,
        nd_m,
    } = fixtures();
    g.bench_function("1d/arenaprof", |b| {
        b.iter(|| drop(black_box(black_box(&a).slice(s![..10]))))
    });
    g.bench_function("1d/ndarray-arc-ixdyn", |b| {
        b.iter(|| drop(black_box(black_box(&nd_dyn).clone().slice_move(s![..10]))))
    });
    g.bench_function("1d/ndarray-arc-ix1", |b| {
        b.iter(|| drop(black_box(black_box(&nd_1).clone().slice_move(s![..10]))))
    });

    g.bench_function("2d/arenaprof", |b| {
        b.iter(|| drop(black_box(black_box(&m).slice(s![1..;2, ..;-1]))))
    });
    g.bench_function("2d/ndarray-arc-ixdyn", |b| {
        b.iter(|| {
            drop(black_box(
                black_box(&nd_m).clone().slice_move(s![1..;2, ..;-1]),
            ))
        })
    });
    g.finish();
}

fn mean_ns(id: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = format!(
        "{dir}/criterion/view-create-drop/{}/new/estimates.json",
        id.replace('/', "_")
    );
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// ns per iteration of `f` over `n` iterations.
fn time(n: u32, mut f: impl FnMut()) -> f64 {
    let t = std::time::Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

/// Median over rounds of (ours / theirs), each round timing both back to back.
fn interleaved(mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (f64, f64, f64) {
    const ROUNDS: usize = 200;
    const N: u32 = 20_000;
    // Warm up both (caches, branch predictors, the registry's slab).
    time(N * 10, &mut ours);
    time(N * 10, &mut theirs);
    let mut r = Vec::with_capacity(ROUNDS);
    let (mut o_all, mut t_all) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let o = time(N, &mut ours);
        let t = time(N, &mut theirs);
        r.push(o / t);
        o_all.push(o);
        t_all.push(t);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (med(&mut o_all), med(&mut t_all), med(&mut r))
}

fn main() {
    if std::env::var_os("ARENAPROF_BENCH_QUICK").is_none() {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
        c.final_summary();
        for (ours, theirs) in PAIRS {
            if let (Some(o), Some(t)) = (mean_ns(ours), mean_ns(theirs)) {
                println!(
                    "criterion means {ours} / {theirs}: {o:.1} ns / {t:.1} ns = {:.2}x",
                    o / t
                );
            }
        }
    }
    let Fixtures {
        a,
        nd_dyn,
        nd_1,
        m,
        nd_m,
    } = fixtures();
    let ours_1d = || drop(black_box(black_box(&a).slice(s![..10])));
    let ours_2d = || drop(black_box(black_box(&m).slice(s![1..;2, ..;-1])));
    // A view of an arena whose owner is gone (wasted bytes change with
    // every view made and dropped: the high-water mark's own path).
    let orphan = Array::<f64>::arange(1 << 20).slice(s![..100]);
    let ours_orphan = || drop(black_box(black_box(&orphan).slice(s![..10])));
    let rows = [
        (
            PAIRS[0],
            interleaved(ours_1d, || {
                drop(black_box(black_box(&nd_dyn).clone().slice_move(s![..10])))
            }),
        ),
        (
            PAIRS[1],
            interleaved(ours_1d, || {
                drop(black_box(black_box(&nd_1).clone().slice_move(s![..10])))
            }),
        ),
        (
            PAIRS[2],
            interleaved(ours_2d, || {
                drop(black_box(
                    black_box(&nd_m).clone().slice_move(s![1..;2, ..;-1]),
                ))
            }),
        ),
        (
            ("1d-orphan/arenaprof", "1d/ndarray-arc-ixdyn"),
            interleaved(ours_orphan, || {
                drop(black_box(black_box(&nd_dyn).clone().slice_move(s![..10])))
            }),
        ),
    ];
    for ((ours, theirs), (o, t, r)) in rows {
        println!("interleaved median {ours} / {theirs}: {o:.1} ns / {t:.1} ns, ratio {r:.2}x");
    }
}
