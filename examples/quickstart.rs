//! The README's "Using it in a program" snippet, exactly (tools/arenaprof/tests/readme.rs
//! checks that the two agree and runs it as the README says):
//! `ARENAPROF_OUT=run.arenaprof ARENAPROF_SAMPLE=bytes cargo run --release --example quickstart`.

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new(); // jemalloc inside

fn main() {
    let profiler = arenaprof::Profiler::from_env(); // writes $ARENAPROF_OUT when dropped

    let cache = arenaprof::Tag::new("decoder-cache");
    let v = arenaprof::with_tag(cache, || vec![0u8; 1 << 20]);
    {
        let _g = arenaprof::Tag::GEMM_WORKSPACE.enter(); // scope guard; nests; per thread
    }
    let s = arenaprof::stats();
    println!("{} live under {cache}", s.tag(cache).live_bytes);

    // GEMM on capped, pre-allocated workspaces (ndarray views convert too):
    let a = vec![1.0f64; 64 * 32];
    let mut c = vec![0.0f64; 64 * 64];
    use arenaprof::gemm::{MatMut, MatRef};
    arenaprof::gemm::general_mat_mul(
        1.0,
        MatRef::row_major(&a, 64, 32),
        MatRef::row_major(&a, 32, 64),
        0.0,
        MatMut::row_major(&mut c, 64, 64),
    )
    .unwrap();

    // OpenBLAS (or MKL, BLIS, OpenMP) loaded in the process, threadpoolctl-style:
    arenaprof::blas::limits(1, || { /* BLAS calls here run on one thread */ });

    drop(profiler); // the snapshot, taken while `v` still holds its 1 MiB
    drop(v);
}
