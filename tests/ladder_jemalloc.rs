//! The ladder with jemalloc inside: its rungs are measured over the ranges
//! jemalloc mapped (learnt through the executable's `mmap`), not carved
//! from its `stats.resident`. See `tests/ladder/mod.rs`.

mod ladder;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

#[test]
fn the_ladder_measures_jemalloc_by_its_ranges() {
    let source = ladder::written_512_mib_is_tracked();
    assert_eq!(source, "allocator ranges in smaps");
}
