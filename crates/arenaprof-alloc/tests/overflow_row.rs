//! Threads past the 4,095th share one row, updated atomically. Its own test
//! binary: rows are process-wide and never given back.

use arenaprof_alloc::capacity::MAX_ROWS;
use arenaprof_alloc::{stats, with_tag, Tag, TrackingAlloc};
use std::sync::mpsc;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

/// Blocks each thread allocates under the tag: it frees the first half
/// itself, and sends the second half to the main thread, which frees every
/// other one of them and keeps the rest.
const PER_THREAD: usize = 4;
/// Thread figures are net flow with the header-free tracker.
const NET_FLOW: bool = cfg!(feature = "jemalloc") && !cfg!(feature = "header");
const SIZE: usize = 1000;

#[test]
fn threads_past_the_last_row_share_it_exactly() {
    let tag = Tag::new("overflow-row");
    // Enough threads, one after another, to fill every row and spill 20 past.
    let threads = MAX_ROWS + 20;
    let (tx, rx) = mpsc::channel::<Vec<Vec<u8>>>();
    let mut kept = Vec::new();
    let mut last_slots = Vec::new();
    for _ in 0..threads {
        let tx = tx.clone();
        let slot = std::thread::spawn(move || {
            let mut blocks: Vec<Vec<u8>> = (0..PER_THREAD)
                .map(|_| with_tag(tag, || vec![7u8; SIZE]))
                .collect();
            let sent = blocks.split_off(PER_THREAD / 2);
            drop(blocks);
            tx.send(sent).unwrap();
            arenaprof_alloc::current_thread_slot().unwrap()
        })
        .join()
        .unwrap();
        let mut sent = rx.recv().unwrap();
        kept.push(sent.pop().unwrap());
        drop(sent);
        last_slots.push(slot);
    }
    // Threads registered before these (the harness's) take rows too, so at
    // least the last 20 spill over; every spill-over reports the last slot.
    let shared = (MAX_ROWS - 1) as u32;
    let sharers = last_slots.iter().filter(|&&s| s == shared).count() as u64;
    assert!(sharers >= 21, "{sharers}");
    assert!(last_slots[last_slots.len() - 21..]
        .iter()
        .all(|&s| s == shared));
    let s = stats();
    let t = s.tag(tag);
    let n = threads as u64;
    assert_eq!(t.alloc_count, n * PER_THREAD as u64);
    assert_eq!(t.free_count, n * (PER_THREAD as u64 - 1));
    assert_eq!(t.live_bytes, n * SIZE as u64);
    assert_eq!(t.allocated_bytes, n * (PER_THREAD * SIZE) as u64);
    let row = s.thread(shared).unwrap().tag(tag);
    // The shared row holds exactly the blocks of the threads that share it:
    // with a header, their frees wherever made; net flow (header-free), the
    // frees they made themselves (the first half of each thread's blocks).
    let own_frees = if NET_FLOW {
        (PER_THREAD / 2) as u64
    } else {
        PER_THREAD as u64 - 1
    };
    assert_eq!(row.alloc_count, sharers * PER_THREAD as u64);
    assert_eq!(row.free_count, sharers * own_frees);
    assert_eq!(
        row.live_bytes,
        sharers * (PER_THREAD as u64 - own_frees) * SIZE as u64
    );
    drop(kept);
    let s = stats();
    assert_eq!(s.tag(tag).live_bytes, 0);
    let after = s.thread(shared).unwrap().tag(tag).live_bytes;
    assert_eq!(after, if NET_FLOW { row.live_bytes } else { 0 });
}
