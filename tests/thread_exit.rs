//! Threads that exit while holding views: the views are dropped by the
//! thread's TLS destructors, which free their arenas through the tracker; the
//! registry ends empty and `array-base` back at zero, exactly.

use arenaprof::array::{registry, s, Array};
use arenaprof::{stats, Tag, TrackingAlloc};
use std::cell::RefCell;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

thread_local! {
    static HELD: RefCell<Vec<Array<f64>>> = const { RefCell::new(Vec::new()) };
}

#[test]
fn views_held_by_exiting_threads_are_released() {
    let base = stats().tag(Tag::ARRAY_BASE).live_bytes;
    let slots: Vec<u32> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let a = Array::<f64>::arange(10_000 + i);
                let v = a.slice(s![..10]).t();
                let w = a.reshape(&[1, 10_000 + i]).slice(s![.., 5..]);
                drop(a);
                // Held in TLS: dropped only when the thread's destructors run.
                HELD.with(|h| h.borrow_mut().extend([v, w]));
                assert!(registry::stats().live_views >= 2);
                arenaprof::plumbing::current_thread_slot().unwrap()
            })
            .join()
            .unwrap()
        })
        .collect();
    let s = stats();
    assert_eq!(s.tag(Tag::ARRAY_BASE).live_bytes, base, "arenas freed");
    let allocated: u64 = slots
        .iter()
        .map(|&slot| s.thread(slot).unwrap().tag(Tag::ARRAY_BASE).allocated_bytes)
        .sum();
    assert_eq!(allocated, (0..4).map(|i| (10_000 + i) * 8).sum::<u64>());
    for slot in slots {
        assert!(!s.thread(slot).unwrap().alive, "row {slot} marked exited");
    }
    assert!(registry::stats().is_empty(), "{:?}", registry::stats());
}
