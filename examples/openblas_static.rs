//! OpenBLAS linked statically into the executable (`libopenblas.a`, as the
//! `openblas-static` crate links it): there is no shared object to find, so
//! `blas::info()` reads the executable's symbol table. Sets 16 threads,
//! then prints what `blas::info()` and `blas::limits(1, ..)` see.
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
}
