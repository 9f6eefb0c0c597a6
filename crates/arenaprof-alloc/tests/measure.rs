//! `testing::measure` in parallel tests of one binary: each test asserts the
//! exact counts and peak of its own closure while the others run.

use arenaprof_alloc::testing::measure;
use arenaprof_alloc::{with_tag, Tag, TrackingAlloc};
use std::hint::black_box;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

/// Allocates `n` blocks of `size` bytes, keeps them, frees them; each test
/// uses its own sizes so a leak between tests would show.
fn churn(n: usize, size: usize) {
    let v: Vec<Vec<u8>> = (0..n).map(|_| Vec::with_capacity(size)).collect();
    black_box(&v);
}

macro_rules! parallel_case {
    ($name:ident, $n:expr, $size:expr) => {
        #[test]
        fn $name() {
            for _ in 0..200 {
                let (_, m) = measure(|| churn($n, $size));
                let outer = ($n * std::mem::size_of::<Vec<u8>>()) as u64;
                let inner = ($n * $size) as u64;
                let t = m.total;
                assert_eq!(t.alloc_count, $n as u64 + 1, "{m}");
                assert_eq!(t.alloc_bytes, outer + inner, "{m}");
                assert_eq!(t.free_count, $n as u64 + 1, "{m}");
                assert_eq!(t.freed_bytes, outer + inner, "{m}");
                assert_eq!(t.live_bytes, 0, "{m}");
                assert_eq!(t.peak_bytes, outer + inner, "{m}");
                assert!(m.exact);
            }
        }
    };
}

parallel_case!(case_1, 1, 24);
parallel_case!(case_2, 2, 40);
parallel_case!(case_3, 3, 72);
parallel_case!(case_4, 5, 136);
parallel_case!(case_5, 8, 264);
parallel_case!(case_6, 13, 520);
parallel_case!(case_7, 21, 1032);
parallel_case!(case_8, 34, 4104);

#[test]
fn per_tag_figures_and_a_block_that_outlives_the_closure() {
    let a = Tag::new("measure-a");
    let b = Tag::new("measure-b");
    let (kept, m) = measure(|| {
        let x = with_tag(a, || vec![1u8; 1000]);
        let y = with_tag(b, || vec![2u8; 300]);
        drop(x);
        y
    });
    assert_eq!(m.tag(a).alloc_bytes, 1000, "{m}");
    assert_eq!(m.tag(a).live_bytes, 0, "{m}");
    assert_eq!(m.tag(a).peak_bytes, 1000, "{m}");
    assert_eq!(m.tag(b).live_bytes, 300, "{m}");
    assert_eq!(m.tag(b).free_count, 0, "{m}");
    assert_eq!(m.total.alloc_count, 2, "{m}");
    assert_eq!(m.total.live_bytes, 300, "{m}");
    // Freeing it later is a free in the next measurement.
    let (_, m2) = measure(|| drop(kept));
    assert_eq!(m2.tag(b).freed_bytes, 300, "{m2}");
    assert_eq!(m2.total.live_bytes, -300, "{m2}");
}

#[test]
fn the_threads_lifetime_peak_survives_a_measurement() {
    let t = Tag::new("measure-peak");
    let big = with_tag(t, || vec![0u8; 1 << 20]);
    drop(big);
    let slot = arenaprof_alloc::current_thread_slot().unwrap();
    let peak = |s: &arenaprof_alloc::Stats| s.thread(slot).unwrap().tag(t).peak_bytes;
    let before = peak(&arenaprof_alloc::stats());
    assert!(before >= 1 << 20);
    let (_, m) = measure(|| drop(with_tag(t, || vec![0u8; 100])));
    assert_eq!(m.tag(t).peak_bytes, 100, "{m}");
    assert_eq!(peak(&arenaprof_alloc::stats()), before);
}

/// Peaks stay exact when growth raises live bytes past the recorded peak
/// without an edge per allocation: a random walk of allocations and frees
/// (sizes from 8 B to 200 KiB, so both quiet growth and batch edges occur)
/// against a ledger of its own running maximum.
#[test]
fn peak_of_a_random_walk_matches_the_ledger() {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..50 {
        let ops: Vec<(bool, usize)> = (0..2000)
            .map(|_| {
                let r = next();
                let size = if r % 50 == 0 {
                    8 + (r >> 8) as usize % (200 << 10)
                } else {
                    8 + (r >> 8) as usize % 600
                };
                // Grow more than shrink, in phases.
                let grow = (r >> 40) % 100 < if round % 2 == 0 { 70 } else { 55 };
                (grow, size)
            })
            .collect();
        // The ledger: the walk's exact running maximum of live bytes, given
        // that each free drops the oldest block still held.
        let mut held = std::collections::VecDeque::new();
        let (mut live, mut max) = (0u64, 0u64);
        for &(grow, size) in &ops {
            if grow || held.is_empty() {
                held.push_back(size);
                live += size as u64;
                max = max.max(live);
            } else {
                live -= held.pop_front().unwrap() as u64;
            }
        }
        let (_, m) = measure(|| {
            let mut blocks: std::collections::VecDeque<Vec<u8>> =
                std::collections::VecDeque::with_capacity(ops.len());
            for &(grow, size) in &ops {
                if grow || blocks.is_empty() {
                    blocks.push_back(black_box(Vec::with_capacity(size)));
                } else {
                    drop(blocks.pop_front());
                }
            }
        });
        let deque = (ops.len() * std::mem::size_of::<Vec<u8>>()) as u64;
        assert_eq!(m.total.peak_bytes, max + deque, "round {round}: {m}");
    }
}
