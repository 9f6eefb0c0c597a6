//! Reallocations while sampling is on: the new block is drawn for a
//! backtrace once, like any allocation; sampled or not, the counts are the
//! same exact figures as with sampling off. Only the peak may differ: a
//! sampled block that moves is counted allocated before its old block is
//! freed (as the memory is, for that moment), where an unsampled one is
//! counted freed first.

use arenaprof_alloc::testing::measure;
use arenaprof_alloc::{set_sampling, Sampling, TrackingAlloc};
use std::hint::black_box;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

fn grow() -> u64 {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..5000u64 {
        v.push(i);
    }
    let mut s = String::new();
    for i in 0..300 {
        s.push_str(&i.to_string());
    }
    black_box(v.iter().sum::<u64>() + s.len() as u64)
}

#[test]
fn counts_do_not_depend_on_sampling() {
    let (r0, off) = measure(grow);
    let mut seen = Vec::new();
    for mode in [
        Sampling::All,
        Sampling::Bytes { mean: 256 },
        Sampling::Bytes { mean: 1 << 20 },
        Sampling::Threshold { min_size: 1024 },
    ] {
        set_sampling(mode);
        let (r, m) = measure(grow);
        set_sampling(Sampling::Off);
        assert_eq!(r, r0);
        let (a, b) = (m.total, off.total);
        assert_eq!(
            (
                a.alloc_count,
                a.alloc_bytes,
                a.free_count,
                a.freed_bytes,
                a.live_bytes
            ),
            (
                b.alloc_count,
                b.alloc_bytes,
                b.free_count,
                b.freed_bytes,
                b.live_bytes
            ),
            "{mode:?}:\n{m}\noff:\n{off}"
        );
        // The largest block of `grow` is the vector's 64 KiB.
        assert!(
            b.peak_bytes <= a.peak_bytes && a.peak_bytes <= b.peak_bytes + (64 << 10),
            "{mode:?}:\n{m}\noff:\n{off}"
        );
        seen.push(m.total.alloc_count);
    }
    assert!(off.total.alloc_count > 10, "{off}");
    // Under `All` every reallocation's new block was sampled: the live one
    // is in the heap profile with its stack.
    set_sampling(Sampling::All);
    let kept: Vec<u8> = {
        let mut v = Vec::with_capacity(1);
        v.extend_from_slice(&[1u8; 3000]);
        v
    };
    let snap = arenaprof_alloc::snapshot();
    set_sampling(Sampling::Off);
    assert!(
        snap.heap
            .samples
            .iter()
            .any(|s| s.free_ns.is_none() && s.size == kept.capacity() as u64),
        "the reallocated block was not sampled"
    );
}
