//! The header-free tracker's per-thread bins: the blocks they keep are
//! counted by the snapshot (`profiler_caches`) exactly, and the report
//! shows them as the profiler's, not as jemalloc's rounding; and its address
//! windows are named as reserved address space. One test in this binary.

use arenaprof_alloc::{snapshot, testing, TrackingAlloc};
use arenaprof_snapshot::Snapshot;
use std::sync::{Arc, Barrier};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

fn bins_bytes(s: &Snapshot) -> Option<u64> {
    s.sections
        .iter()
        .find(|x| x.name == "profiler_caches")?
        .entries
        .iter()
        .find(|(k, _)| k == "bins_bytes")?
        .1
        .parse()
        .ok()
}

#[test]
fn the_blocks_a_thread_keeps_are_counted_and_shown_as_the_profilers() {
    // 10 blocks of 100 B: jemalloc's class of 112 B, under the bin's 16.
    const N: usize = 10;
    let step = Arc::new(Barrier::new(2));
    let s = step.clone();
    let t = std::thread::spawn(move || {
        let blocks: [Box<[u8; 100]>; N] = std::array::from_fn(|i| Box::new([i as u8; 100]));
        s.wait();
        // The main thread's first snapshot: the blocks are live.
        s.wait();
        drop(std::hint::black_box(blocks));
        s.wait();
        // Its second: they are in this thread's bins.
        s.wait();
        testing::flush_thread_caches();
        s.wait();
        // Its third: this thread's bins are empty.
        s.wait();
    });
    let mut snaps = Vec::with_capacity(3);
    for _ in 0..3 {
        step.wait();
        snaps.push(snapshot());
        step.wait();
    }
    t.join().unwrap();

    the_address_windows_are_named_as_reserved_address_space();
    if !cfg!(feature = "jemalloc") || cfg!(feature = "header") {
        // With a header there are no bins, and nothing to show.
        assert!(snaps.iter().all(|s| bins_bytes(s).is_none()));
        return;
    }
    let b: Vec<u64> = snaps.iter().map(|s| bins_bytes(s).unwrap()).collect();
    assert_eq!(b[1] - b[0], (N * 112) as u64, "{b:?}");
    assert!(b[1] - b[2] >= (N * 112) as u64, "{b:?}");
    // The report: a rung of its own, inside the profiler's overhead.
    let r = arenaprof_report::analyze(&snaps[1], &Default::default());
    let rung = r
        .memory
        .gap
        .iter()
        .find(|g| g.name == "profiler_caches")
        .expect("a profiler_caches rung");
    assert_eq!(rung.bytes, b[1] as i64);
    assert_eq!(r.overhead.cached_bytes, b[1]);
}

/// The address windows' reservation is named in the overhead line: whole
/// 64 GiB chunks, inside VmSize, and not counted as resident overhead.
/// (Called from the test above: one test per binary, so no other test's
/// frees move the bins between its snapshots.)
fn the_address_windows_are_named_as_reserved_address_space() {
    let s = snapshot();
    let r = arenaprof_report::analyze(&s, &Default::default());
    let reserved = r.overhead.windows_reserved_bytes;
    if !cfg!(feature = "jemalloc") || cfg!(feature = "header") {
        assert_eq!(reserved, 0);
        return;
    }
    // At least the profiler's own arena has its window.
    assert!(reserved >= 64 << 30, "{reserved}");
    assert_eq!(reserved % (64 << 30), 0);
    assert!(reserved <= s.native.vm_size_bytes, "{reserved} in VmSize");
    assert!(r.overhead.total_bytes < reserved);
    let text = arenaprof_report::render::text::render(&r, Default::default()).unwrap();
    assert!(
        text.contains(&format!(
            "address windows {} reserved",
            arenaprof_report::units::format_bytes(reserved)
        )),
        "{text}"
    );
}
