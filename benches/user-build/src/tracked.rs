//! The workloads under arenaprof's tracker (jemalloc inside), as a user sets
//! it up: the global allocator, then `Profiler::from_env()` first in `main`.

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

fn main() {
    let _p = arenaprof::Profiler::from_env();
    arenaprof_user_build::set_scope(|f| {
        let _g = arenaprof::Tag::new("user-build").enter();
        f()
    });
    arenaprof_user_build::main();
}
