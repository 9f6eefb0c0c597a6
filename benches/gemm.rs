//! GEMM throughput: arenaprof's pool vs matrixmultiply vs OpenBLAS, f32 and
//! f64, square sizes 256 to 4096, on 1 and 2 threads.
//!
//! ```text
//! bash benches/setup-openblas.sh                     # once: libopenblas-dev
//! cargo bench --bench gemm --features openblas       # full run, then a summary table
//! cargo bench --bench gemm -- --test                 # smoke: 256 only, one iteration each
//! ```
//!
//! - arenaprof: `GemmPool` with 1 or 2 threads and the default 16 MiB cap
//!   (full blocks: one 2,228,288-byte workspace per worker).
//! - matrixmultiply: on 1 thread the crates.io crate (what arenaprof's
//!   workers call); on 2 threads a vendored copy of the same 0.3.11 built with
//!   its `threading` feature and `MATMUL_NUM_THREADS=2` (a renamed package:
//!   Cargo would otherwise turn `threading` on for arenaprof too).
//! - OpenBLAS: `cblas_sgemm`/`cblas_dgemm` from the system libopenblas, with
//!   `openblas_set_num_threads`; only with `--features openblas`.
//!
//! All of them run under arenaprof's tracking allocator (jemalloc inside),
//! as a user of arenaprof would. Each (type, size, threads) is one criterion
//! group; the table printed at the end gives GFLOP/s from the median of the
//! measured samples, and the ratios. Environment: `GEMM_BENCH_SIZES=256,1024`
//! picks sizes.

use arenaprof::gemm::{GemmConfig, GemmPool, GemmScalar, Strides};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use std::collections::BTreeMap;
use std::sync::Mutex;
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
                .gemm(n, n, n, T::of(1.0), a, rm, b, rm, T::of(0.0), c, rm)
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

type Key = (&'static str, usize, usize, &'static str);
/// Seconds per iteration of every sample, per (type, n, threads, impl).
static SAMPLES: Mutex<BTreeMap<Key, Vec<f64>>> = Mutex::new(BTreeMap::new());

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
                let d = t0.elapsed();
                SAMPLES
                    .lock()
                    .unwrap()
                    .entry((T::NAME, n, threads, imp))
                    .or_default()
                    .push(d.as_secs_f64() / iters as f64);
                d
            })
        });
    }
    g.finish();
    std::hint::black_box(&out);
}

/// GFLOP/s from the median of the last 10 samples (the measured ones;
/// earlier ones are criterion's warm-up).
fn summary() -> String {
    let samples = SAMPLES.lock().unwrap();
    let gf = |k: &Key| {
        samples.get(k).map(|v| {
            let mut v: Vec<f64> = v[v.len().saturating_sub(10)..].to_vec();
            v.sort_by(f64::total_cmp);
            2.0 * (k.1 as f64).powi(3) / v[v.len() / 2] / 1e9
        })
    };
    let mut keys: Vec<(&str, usize, usize)> = samples.keys().map(|k| (k.0, k.1, k.2)).collect();
    keys.dedup();
    let mut s = String::from(
        "| type | n | threads | arenaprof GFLOP/s | matrixmultiply | OpenBLAS | vs matrixmultiply | vs OpenBLAS |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let fmt = |x: Option<f64>| x.map(|x| format!("{x:.1}")).unwrap_or_else(|| "n/a".into());
    for (t, n, th) in keys {
        let [ours, mm, ob] = IMPLS.map(|i| gf(&(t, n, th, i)));
        let ratio = |o: Option<f64>| match (ours, o) {
            (Some(x), Some(y)) => format!("{:.2}x", x / y),
            _ => "n/a".into(),
        };
        s += &format!(
            "| {t} | {n} | {th} | {} | {} | {} | {} | {} |\n",
            fmt(ours),
            fmt(mm),
            fmt(ob),
            ratio(mm),
            ratio(ob)
        );
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
    let mut c = Criterion::default().configure_from_args();
    for &n in &sizes {
        for threads in [1, 2] {
            bench::<f32>(&mut c, &pools, n, threads);
            bench::<f64>(&mut c, &pools, n, threads);
        }
    }
    c.final_summary();
    let ws = pools[1].mem_stat();
    println!(
        "\narenaprof workspace: {} B per worker, {} B for 2 threads (OpenBLAS in NumPy's wheels: 33,554,432 B per thread); overflows: {}",
        ws.region,
        ws.workspace_bytes,
        ws.overflows()
    );
    println!("\n{}", summary());
}
