//! `arenaprof::bench` (feature `bench`): the criterion measurements report
//! exact figures per iteration for known workloads, driven through the
//! `Measurement` trait's start/end (as criterion's `iter` does) and through
//! the per-iteration path `iter_peak` uses (criterion's `iter_custom`).
//! Criterion itself runs these measurements in `benches/alloc_bytes.rs`
//! (`.ci/run` runs it once with `--test`).
//! Counters are per thread, so these tests run in parallel.

use arenaprof::bench::Alloc;
use arenaprof::Tag;
use criterion::measurement::Measurement;
use std::hint::black_box;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

/// What criterion's `Bencher::iter` does: start, `iters` calls, end.
fn iter<O>(m: &Alloc, iters: u64, mut f: impl FnMut() -> O) -> u64 {
    let start = m.start();
    for _ in 0..iters {
        black_box(f());
    }
    m.end(start)
}

fn vec_1000() -> Vec<u8> {
    Vec::with_capacity(black_box(1000))
}

#[test]
fn one_vec_per_iteration_is_one_allocation_of_1000_bytes() {
    for iters in [1, 7, 100] {
        assert_eq!(iter(&Alloc::bytes(), iters, vec_1000), 1000 * iters);
        assert_eq!(iter(&Alloc::count(), iters, vec_1000), iters);
        // The peak of a sample whose iterations each free what they made.
        assert_eq!(iter(&Alloc::peak(), iters, vec_1000), 1000);
        // Per iteration, as `iter_peak` hands it to criterion (which
        // divides by `iters`).
        assert_eq!(Alloc::peak().each(iters, vec_1000), 1000 * iters);
        assert_eq!(Alloc::bytes().each(iters, vec_1000), 1000 * iters);
        assert_eq!(Alloc::count().each(iters, vec_1000), iters);
    }
}

#[test]
fn growth_counts_every_reallocation() {
    // 512 pushes of u64 from empty: capacities 4, 8, ..., 512 (Vec's
    // doubling from its minimum of 4 for 8-byte elements): 8 allocations
    // (the first and 7 reallocations) of 32 + 64 + ... + 4096 bytes.
    let grow = || {
        let mut v = Vec::new();
        for i in 0..black_box(512u64) {
            v.push(i);
        }
        v
    };
    let bytes: u64 = (0..8).map(|k| 32u64 << k).sum();
    assert_eq!(iter(&Alloc::count(), 3, grow), 3 * 8);
    assert_eq!(iter(&Alloc::bytes(), 3, grow), 3 * bytes);
    // The tracker counts a realloc as the old block's free and the new
    // block's allocation at once: the peak is the last capacity.
    assert_eq!(Alloc::peak().each(1, grow), 4096);
    assert_eq!(Alloc::peak().each(5, grow), 5 * 4096);
}

#[test]
fn a_tag_restricts_the_figures() {
    let tag = Tag::new("bench-measurement-test");
    let tagged = || {
        let a = arenaprof::with_tag(tag, || vec![0u8; 300]);
        let b = vec![0u8; 50];
        (a, b)
    };
    assert_eq!(iter(&Alloc::bytes().tag(tag), 4, tagged), 4 * 300);
    assert_eq!(iter(&Alloc::count().tag(tag), 4, tagged), 4);
    assert_eq!(iter(&Alloc::bytes(), 4, tagged), 4 * 350);
    assert_eq!(Alloc::peak().tag(tag).each(2, tagged), 2 * 300);
    assert_eq!(iter(&Alloc::bytes().tag(Tag::ARRAY_BASE), 4, tagged), 0);
}
