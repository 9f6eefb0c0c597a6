//! The workloads on bare jemalloc (the baseline).

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    arenaprof_user_build::main();
}
