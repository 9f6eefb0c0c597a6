//! `min:SIZE` samples exactly the allocations of at least SIZE bytes, `all`
//! every allocation, both on the countdown the hot path keeps for bytes mode.

use arenaprof_alloc::{set_sampling, snapshot, Sampling, TrackingAlloc};
use std::hint::black_box;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

fn live_samples_of(size: u64) -> usize {
    snapshot()
        .heap
        .samples
        .iter()
        .filter(|s| s.free_ns.is_none() && s.size == size)
        .count()
}

#[test]
fn threshold_and_all_sample_exactly() {
    set_sampling(Sampling::Threshold { min_size: 1000 });
    let mut kept = Vec::with_capacity(400);
    for _ in 0..100 {
        for size in [11usize, 999, 1000, 5003] {
            kept.push(black_box(vec![1u8; size]));
        }
    }
    set_sampling(Sampling::Off);
    assert_eq!(live_samples_of(11), 0);
    assert_eq!(live_samples_of(999), 0);
    assert_eq!(live_samples_of(1000), 100);
    assert_eq!(live_samples_of(5003), 100);

    set_sampling(Sampling::All);
    let mut more = Vec::with_capacity(50);
    for _ in 0..50 {
        more.push(black_box(vec![2u8; 77]));
    }
    set_sampling(Sampling::Off);
    assert_eq!(live_samples_of(77), 50);
    drop((kept, more));
}
