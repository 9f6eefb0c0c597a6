//! OpenBLAS linked statically into the executable (`libopenblas.a`, as the
//! `openblas-static` crate links it): there is no shared object to find, so
//! `blas::info()` reads the executable's symbol table. Sets 16 threads,
//! prints what `blas::info()` and `blas::limits(1, ..)` see, runs one 512³
//! dgemm, prints the resident bytes of OpenBLAS's buffers (smaps `Rss` of
//! the executable's 128 MiB anonymous mappings) and writes the snapshot
//! `$ARENAPROF_OUT` at exit.
//!
//! ```sh
//! apt-get install libopenblas-dev
//! cargo run --release --features link-openblas-static --example openblas_static
//! ```

use std::ffi::c_int;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

#[link(name = "openblas", kind = "static")]
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

// Its threads are pthreads (the archive members these calls pull in need no
// Fortran runtime).
#[link(name = "pthread")]
#[link(name = "m")]
extern "C" {}

fn main() {
    let _profiler = arenaprof::Profiler::from_env();
    // SAFETY: void openblas_set_num_threads(int).
    unsafe { openblas_set_num_threads(16) };
    let info = arenaprof::blas::info();
    for r in &info.runtimes {
        println!(
            "runtime {} {} version {} threads {}",
            r.kind.name(),
            r.path,
            r.version.as_deref().unwrap_or("?"),
            r.num_threads
        );
    }
    // SAFETY: int openblas_get_num_threads(void).
    let inside = arenaprof::blas::limits(1, || unsafe { openblas_get_num_threads() });
    // SAFETY: as above.
    let after = unsafe { openblas_get_num_threads() };
    println!("limits(1): inside {inside}, after {after}");
    let n = 512usize;
    let (a, b, mut c) = (
        vec![1.0f64; n * n],
        vec![0.5f64; n * n],
        vec![0.0f64; n * n],
    );
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
    // OpenBLAS's buffers: its calls are the executable's own, each buffer
    // one anonymous mapping of BUFFER_SIZE (128 MiB in Debian's build).
    // Their resident bytes per smaps (mincore would also count pages that
    // only map the shared zero page): the VMAs inside the buffers' ranges.
    let mut bufs: Vec<(u64, u64)> = arenaprof_native::hooks::mappings()
        .into_iter()
        .filter(|m| !m.file_backed && m.len == 128 << 20)
        .map(|m| (m.start as u64, m.end() as u64))
        .collect();
    bufs.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, e) in bufs {
        match merged.last_mut() {
            Some(l) if l.1 == s => l.1 = e,
            _ => merged.push((s, e)),
        }
    }
    let smaps = arenaprof_native::maps::read_smaps().expect("smaps");
    let resident: u64 = smaps
        .vmas
        .iter()
        .filter(|v| merged.iter().any(|&(s, e)| v.start >= s && v.end <= e))
        .map(|v| v.rss)
        .sum();
    println!("openblas buffers resident {resident}");
}
