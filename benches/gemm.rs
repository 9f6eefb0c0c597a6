//! GEMM throughput: arenaprof's pool vs matrixmultiply vs OpenBLAS, f32 and
//! f64, square sizes 256 to 4096, on 1 and 2 threads.
//!
//! ```text
//! bash benches/setup-openblas.sh                     # once: libopenblas-dev
//! cargo bench -p arenaprof-benches --bench gemm --features openblas       # full run, then a summary table
//! cargo bench -p arenaprof-benches --bench gemm -- --test                 # smoke: 256 only, one iteration each
//! ```
//!
//! - arenaprof: `GemmPool` with 1 or 2 threads and the default 16 MiB cap
//!   (full blocks: one 2,228,352-byte workspace per worker).
//! - matrixmultiply: on 1 thread the crates.io crate (what arenaprof's
//!   workers call); on 2 threads a vendored copy of the same 0.3.11 built with
//!   its `threading` feature and `MATMUL_NUM_THREADS=2` (a renamed package:
//!   Cargo would otherwise turn `threading` on for arenaprof too).
//! - OpenBLAS: `cblas_sgemm`/`cblas_dgemm` from the system libopenblas, with
//!   `openblas_set_num_threads`; only with `--features openblas`.
//!
//! All of them run under arenaprof's tracking allocator (jemalloc inside),
//! as a user of arenaprof would. The summary table comes first, from paired
//! rounds: each round runs every implementation once, order rotated, so a
//! burst of load from other processes hits all of them alike; GFLOP/s is the
//! best round, ratios are medians of per-round ratios. Then each (type,
//! size, threads) is one criterion group (criterion's statistics and
//! reports), and the table is printed again at the end.
//!
//! Environment: `GEMM_BENCH_SIZES=256,1024` picks sizes, `GEMM_BENCH_ROUNDS`
//! the paired rounds (default 9 up to 1024, 7 at 2048, 5 at 4096),
//! `GEMM_BENCH_CRITERION=0` skips the criterion part.

use arenaprof::gemm::{GemmConfig, GemmPool, GemmScalar, MatMut, MatRef, Strides};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use std::time::{Duration, Instant};

#[global_allocator]
static A: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

#[cfg(feature = "openblas")]
mod openblas {
    use std::os::raw::{c_char, c_int};
    pub const ROW_MAJOR: c_int = 101;
    pub const NO_TRANS: c_int = 111;
    #[link(name = "openblas")]
    extern "C" {
        pub fn cblas_sgemm(
            order: c_int,
            ta: c_int,
            tb: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: f32,
            a: *const f32,
            lda: c_int,
            b: *const f32,
            ldb: c_int,
            beta: f32,
            c: *mut f32,
            ldc: c_int,
        );
        pub fn cblas_dgemm(
            order: c_int,
            ta: c_int,
            tb: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: f64,
            a: *const f64,
            lda: c_int,
            b: *const f64,
            ldb: c_int,
            beta: f64,
            c: *mut f64,
            ldc: c_int,
        );
        pub fn openblas_set_num_threads(n: c_int);
        pub fn openblas_get_config() -> *const c_char;
    }
}

/// What each implementation needs from an element type.
trait Elem: GemmScalar + Copy + Default {
    const NAME: &'static str;
    fn of(x: f64) -> Self;
    fn f(self) -> f64;
    /// Square row-major `C = A B` with the given matrixmultiply build.
    fn mm(threaded: bool, n: usize, a: &[Self], b: &[Self], c: &mut [Self]);
    /// Square row-major `C = A B` with OpenBLAS.
    #[cfg(feature = "openblas")]
    fn blas(n: usize, a: &[Self], b: &[Self], c: &mut [Self]);
}

macro_rules! elem {
    ($t:ty, $name:literal, $mm:ident, $cblas:ident) => {
        impl Elem for $t {
            const NAME: &'static str = $name;
            fn of(x: f64) -> $t {
                x as $t
            }
            fn f(self) -> f64 {
                self as f64
            }
            fn mm(threaded: bool, n: usize, a: &[$t], b: &[$t], c: &mut [$t]) {
                assert!(a.len() >= n * n && b.len() >= n * n && c.len() >= n * n);
                let s = n as isize;
                // SAFETY: the three slices hold dense row-major n x n
                // matrices (checked above); C does not alias A or B.
                unsafe {
                    if threaded {
                        matrixmultiply_threaded::$mm(
                            n,
                            n,
                            n,
                            1.0,
                            a.as_ptr(),
                            s,
                            1,
                            b.as_ptr(),
                            s,
                            1,
                            0.0,
                            c.as_mut_ptr(),
                            s,
                            1,
                        )
                    } else {
                        matrixmultiply::$mm(
                            n,
                            n,
                            n,
                            1.0,
                            a.as_ptr(),
                            s,
                            1,
                            b.as_ptr(),
                            s,
                            1,
                            0.0,
                            c.as_mut_ptr(),
                            s,
                            1,
                        )
                    }
                }
            }
            #[cfg(feature = "openblas")]
            fn blas(n: usize, a: &[$t], b: &[$t], c: &mut [$t]) {
                assert!(a.len() >= n * n && b.len() >= n * n && c.len() >= n * n);
                let i = n as std::os::raw::c_int;
                // SAFETY: dense row-major n x n matrices with leading
                // dimension n, as cblas expects (checked above).
                unsafe {
                    openblas::$cblas(
                        openblas::ROW_MAJOR,
                        openblas::NO_TRANS,
                        openblas::NO_TRANS,
                        i,
                        i,
                        i,
                        1.0,
                        a.as_ptr(),
                        i,
                        b.as_ptr(),
                        i,
                        0.0,
                        c.as_mut_ptr(),
                        i,
                    )
                }
            }
        }
    };
}
elem!(f32, "f32", sgemm, cblas_sgemm);
elem!(f64, "f64", dgemm, cblas_dgemm);

const IMPLS: [&str; 3] = ["arenaprof", "matrixmultiply", "openblas"];

fn set_blas_threads(_t: usize) {
    #[cfg(feature = "openblas")]
    // SAFETY: plain setter, no preconditions.
    unsafe {
        openblas::openblas_set_num_threads(_t as std::os::raw::c_int)
    };
}

/// Runs `imp` once on `n x n` operands.
fn run<T: Elem>(
    imp: &str,
    threads: usize,
    pools: &[GemmPool; 2],
    n: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
) {
    match imp {
        "arenaprof" => {
            let rm = Strides::row_major(n);
            pools[threads - 1]
                .gemm(
                    T::of(1.0),
                    MatRef::new(a, n, n, rm),
                    MatRef::new(b, n, n, rm),
                    T::of(0.0),
                    MatMut::new(c, n, n, rm),
                )
                .unwrap();
        }
        "matrixmultiply" => T::mm(threads > 1, n, a, b, c),
        #[cfg(feature = "openblas")]
        "openblas" => T::blas(n, a, b, c),
        _ => unreachable!(),
    }
}

fn available(imp: &str) -> bool {
    imp != "openblas" || cfg!(feature = "openblas")
}

fn operands<T: Elem>(n: usize) -> (Vec<T>, Vec<T>) {
    let mut s = 0x1234_5678u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        T::of((s % 2001) as f64 / 1000.0 - 1.0)
    };
    let a = (0..n * n).map(|_| next()).collect();
    let b = (0..n * n).map(|_| next()).collect();
    (a, b)
}

/// Every implementation agrees with arenaprof on a size that is not a
/// multiple of any block (a wrong comparison would be worse than none).
fn cross_check<T: Elem>(pools: &[GemmPool; 2]) {
    let n = 203;
    let (a, b) = operands::<T>(n);
    let mut want = vec![T::default(); n * n];
    run("arenaprof", 1, pools, n, &a, &b, &mut want);
    for imp in IMPLS.into_iter().filter(|i| available(i)) {
        for threads in [1, 2] {
            set_blas_threads(threads);
            let mut c = vec![T::default(); n * n];
            run(imp, threads, pools, n, &a, &b, &mut c);
            let tol = if T::NAME == "f32" { 1e-3 } else { 1e-9 };
            for (x, y) in c.iter().zip(&want) {
                assert!(
                    (x.f() - y.f()).abs() <= tol,
                    "{imp} {threads}t {} disagrees",
                    T::NAME
                );
            }
        }
    }
}

fn bench<T: Elem>(c: &mut Criterion, pools: &[GemmPool; 2], n: usize, threads: usize) {
    let (a, b) = operands::<T>(n);
    let mut out = vec![T::default(); n * n];
    let flops = 2 * (n as u64).pow(3);
    // Rough time of one iteration, to size the measurement window.
    let gflops = if T::NAME == "f32" { 90.0 } else { 45.0 } * threads as f64;
    let iter_s = flops as f64 / (gflops * 1e9);
    let mut g = c.benchmark_group(format!("gemm_{}_{n}_{threads}t", T::NAME));
    g.throughput(Throughput::Elements(flops))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs_f64((iter_s * 2.0).clamp(0.2, 1.0)))
        .measurement_time(Duration::from_secs_f64((iter_s * 12.0).clamp(0.5, 40.0)));
    for imp in IMPLS.into_iter().filter(|i| available(i)) {
        set_blas_threads(threads);
        g.bench_function(BenchmarkId::new(imp, n), |bch| {
            bch.iter_custom(|iters| {
                let t0 = Instant::now();
                for _ in 0..iters {
                    run(imp, threads, pools, n, &a, &b, &mut out);
                }
                t0.elapsed()
            })
        });
    }
    g.finish();
    std::hint::black_box(&out);
}

/// Paired, interleaved timing for the summary table: `rounds` rounds, each
/// running every implementation once (order rotated), so noise from other
/// processes hits all of them alike. An implementation's turn is a batch of
/// back-to-back calls lasting about 50 ms (threads stay warm, as in a loop of
/// matmuls); after OpenBLAS's turn the bench waits 150 ms, because OpenBLAS's
/// threads keep spinning for a while after a call and would steal the next
/// one's CPU. Returns seconds per call, per round and implementation.
fn paired<T: Elem>(
    pools: &[GemmPool; 2],
    n: usize,
    threads: usize,
    rounds: usize,
) -> Vec<[f64; 3]> {
    let (a, b) = operands::<T>(n);
    let mut out = vec![T::default(); n * n];
    let imps: Vec<usize> = (0..IMPLS.len()).filter(|&i| available(IMPLS[i])).collect();
    let mut batch = [1usize; 3];
    for &i in &imps {
        set_blas_threads(threads);
        let t0 = Instant::now();
        run(IMPLS[i], threads, pools, n, &a, &b, &mut out); // warm-up
        batch[i] = (0.05 / t0.elapsed().as_secs_f64().max(1e-6)).clamp(1.0, 1000.0) as usize;
    }
    let settle = |i: usize| {
        if IMPLS[i] == "openblas" && threads > 1 {
            std::thread::sleep(Duration::from_millis(150));
        }
    };
    settle(2);
    (0..rounds)
        .map(|r| {
            let mut t = [f64::NAN; 3];
            for j in 0..imps.len() {
                let i = imps[(j + r) % imps.len()];
                set_blas_threads(threads);
                let t0 = Instant::now();
                for _ in 0..batch[i] {
                    run(IMPLS[i], threads, pools, n, &a, &b, &mut out);
                }
                t[i] = t0.elapsed().as_secs_f64() / batch[i] as f64;
                settle(i);
            }
            t
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let h = v.len() / 2;
    if v.len() % 2 == 1 {
        v[h]
    } else {
        (v[h - 1] + v[h]) / 2.0
    }
}

/// One table row from paired rounds: GFLOP/s of the best round of each
/// implementation, and the median over rounds of the per-round speed ratio.
fn row(ty: &str, n: usize, threads: usize, rounds: &[[f64; 3]]) -> String {
    let flop = 2.0 * (n as f64).powi(3);
    let best = |i: usize| {
        let b = rounds.iter().map(|r| r[i]).fold(f64::INFINITY, f64::min);
        b.is_finite().then(|| flop / b / 1e9)
    };
    let ratio = |i: usize| {
        if rounds.iter().any(|r| r[i].is_nan()) {
            return "n/a".to_owned();
        }
        format!(
            "{:.2}x",
            median(rounds.iter().map(|r| r[i] / r[0]).collect())
        )
    };
    let g = |x: Option<f64>| x.map(|x| format!("{x:.1}")).unwrap_or_else(|| "n/a".into());
    format!(
        "| {ty} | {n} | {threads} | {} | {} | {} | {} | {} |\n",
        g(best(0)),
        g(best(1)),
        g(best(2)),
        ratio(1),
        ratio(2)
    )
}

fn table(rows: &[String], rounds: &str) -> String {
    let mut s = format!(
        "GFLOP/s: best of {rounds} interleaved rounds; ratios: arenaprof's speed over the other's, median of the per-round ratios\n\n\
         | type | n | threads | arenaprof GFLOP/s | matrixmultiply | OpenBLAS | vs matrixmultiply | vs OpenBLAS |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for r in rows {
        s += r;
    }
    s
}

fn main() {
    // Read once by the threaded matrixmultiply copy, on its first call.
    std::env::set_var("MATMUL_NUM_THREADS", "2");
    let smoke = std::env::args().any(|a| a == "--test");
    let sizes: Vec<usize> = match std::env::var("GEMM_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) if smoke => vec![256],
        Err(_) => vec![256, 1024, 2048, 4096],
    };
    let pools = [1, 2].map(|threads| {
        GemmPool::new(GemmConfig {
            threads,
            ..Default::default()
        })
    });
    cross_check::<f32>(&pools);
    cross_check::<f64>(&pools);
    #[cfg(feature = "openblas")]
    {
        // SAFETY: returns a static NUL-terminated string.
        let cfg = unsafe { std::ffi::CStr::from_ptr(openblas::openblas_get_config()) };
        println!("OpenBLAS: {}", cfg.to_string_lossy());
    }
    // The summary table, from paired interleaved rounds.
    let rounds_for = |n: usize| match std::env::var("GEMM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        Some(r) => r,
        None if smoke => 1,
        None if n <= 1024 => 9,
        None if n <= 2048 => 7,
        None => 5,
    };
    let mut rows = Vec::new();
    for &n in &sizes {
        for threads in [1, 2] {
            let r = paired::<f32>(&pools, n, threads, rounds_for(n));
            rows.push(row("f32", n, threads, &r));
            let r = paired::<f64>(&pools, n, threads, rounds_for(n));
            rows.push(row("f64", n, threads, &r));
        }
    }
    let rounds_text: Vec<String> = sizes
        .iter()
        .map(|&n| format!("{n}: {}", rounds_for(n)))
        .collect();
    let summary = table(&rows, &rounds_text.join(", "));
    println!("\n{summary}");
    let ws = pools[1].mem_stat();
    let ws_line = format!(
        "arenaprof workspace: {} B per worker, {} B for 2 threads (OpenBLAS in NumPy's wheels: 33,554,432 B per thread); overflows: {}",
        ws.region,
        ws.workspace_bytes,
        ws.overflows()
    );
    println!("{ws_line}\n");

    // Criterion's own measurements and reports (skip with GEMM_BENCH_CRITERION=0).
    if std::env::var("GEMM_BENCH_CRITERION").as_deref() != Ok("0") {
        let mut c = Criterion::default().configure_from_args();
        for &n in &sizes {
            for threads in [1, 2] {
                bench::<f32>(&mut c, &pools, n, threads);
                bench::<f64>(&mut c, &pools, n, threads);
            }
        }
        c.final_summary();
        println!("\n{summary}\n{ws_line}");
    }
}
