//! The profiler's own work, called by the program (`blas::info`, the
//! mapping tables, `process_memory`), allocates as the profiler: the
//! program's exact counters do not move, and none of it shows among the
//! program's sites.

use arenaprof::{plumbing::untracked, stats};

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

#[test]
fn native_work_is_the_profilers() {
    let _p = arenaprof::Profiler::from_env();
    // Warm: the first calls may create the program's thread row.
    let warm = vec![0u8; 64];
    let before = untracked(stats).total();
    let info = arenaprof::blas::info();
    let maps = arenaprof_native::hooks::mappings();
    let objs = arenaprof_native::hooks::summary();
    let pm = arenaprof_native::process_memory(&[], &[], 0, None).unwrap();
    let after = untracked(stats).total();
    assert_eq!(
        (after.alloc_count, after.allocated_bytes, after.free_count),
        (
            before.alloc_count,
            before.allocated_bytes,
            before.free_count
        ),
        "the program's counters moved: {before:?} -> {after:?}"
    );
    assert!(pm.grouped.total.resident_bytes > 0);
    drop((info, maps, objs, pm));
    // Their blocks were the profiler's: freeing them moves nothing either.
    let end = untracked(stats).total();
    assert_eq!(end.free_count, after.free_count);
    drop(warm);
}
