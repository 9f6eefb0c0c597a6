//! OpenBLAS linked at build time, as `openblas-src` (feature `system`) or a
//! `#[link(name = "openblas")]` block links it: its constructor starts the
//! workers and maps their buffers before `main`. One `n`³ dgemm (n = 1024,
//! or the first argument), then the snapshot `$ARENAPROF_OUT` at exit.
//! `ARENAPROF_SET_THREADS=N` calls `openblas_set_num_threads(N)` first.
//!
//! ```sh
//! apt-get install libopenblas-dev
//! ARENAPROF_OUT=blas.arenaprof cargo run --release --features link-openblas --example openblas_linked
//! arenaprof report blas.arenaprof
//! ```

use std::ffi::c_int;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

#[link(name = "openblas")]
extern "C" {
    fn openblas_set_num_threads(n: c_int);
    fn openblas_get_num_threads() -> c_int;
    #[allow(clippy::too_many_arguments)]
    fn cblas_dgemm(
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
}

fn main() {
    let _profiler = arenaprof::Profiler::from_env();
    if let Some(t) = std::env::var("ARENAPROF_SET_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        // SAFETY: void openblas_set_num_threads(int).
        unsafe { openblas_set_num_threads(t) };
    }
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let a = vec![1.0f64; n * n];
    let b = vec![0.5f64; n * n];
    let mut c = vec![0.0f64; n * n];
    let ni = n as c_int;
    // SAFETY: row-major (101), no transposes (111); a, b, c hold n*n
    // elements each with leading dimension n.
    unsafe {
        cblas_dgemm(
            101,
            111,
            111,
            ni,
            ni,
            ni,
            1.0,
            a.as_ptr(),
            ni,
            b.as_ptr(),
            ni,
            0.0,
            c.as_mut_ptr(),
            ni,
        )
    };
    assert_eq!(c[n * n - 1], 0.5 * n as f64);
    // SAFETY: int openblas_get_num_threads(void).
    let threads = unsafe { openblas_get_num_threads() };
    println!("openblas threads {threads}; {n}x{n}x{n} dgemm done");
}
