//! The ladder with the system allocator inside while jemalloc is linked
//! (default features): jemalloc's figures are not the allocator's, so the
//! tracked bytes are found in unclaimed anonymous memory. See
//! `tests/ladder/mod.rs`.

mod ladder;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc<std::alloc::System> =
    arenaprof::TrackingAlloc::wrap(std::alloc::System);

#[test]
fn the_ladder_uses_the_system_allocators_figures() {
    let source = ladder::written_512_mib_is_tracked();
    assert!(source.starts_with("assumed"), "{source}");
}
