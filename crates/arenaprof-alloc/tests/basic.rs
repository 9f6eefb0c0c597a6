//! Exact counts for simple, single-threaded sequences.

use arenaprof_alloc::{stats, with_tag, Tag, TrackingAlloc};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

#[test]
fn tagged_alloc_and_free_are_exact() {
    let t = Tag::new("basic-exact");
    let before = stats().tag(t);
    let v = with_tag(t, || Vec::<u8>::with_capacity(1000));
    let mid = stats().tag(t);
    assert_eq!(mid.live_bytes - before.live_bytes, 1000);
    assert_eq!(mid.alloc_count - before.alloc_count, 1);
    drop(v);
    let after = stats().tag(t);
    assert_eq!(after.live_bytes, before.live_bytes);
    assert_eq!(after.free_count - before.free_count, 1);
    assert!(after.peak_bytes >= 1000);
}

/// Thread figures are net flow with the header-free tracker (jemalloc
/// inside, no `header` feature): a free counts on the freeing thread.
const NET_FLOW: bool = cfg!(feature = "jemalloc") && !cfg!(feature = "header");

#[test]
fn free_on_other_thread_is_exact_per_tag_and_per_thread() {
    let t = Tag::new("basic-remote");
    let v = with_tag(t, || vec![1u8; 4096]);
    let slot = arenaprof_alloc::current_thread_slot().unwrap();
    let freer = std::thread::spawn(move || {
        drop(v);
        arenaprof_alloc::current_thread_slot().unwrap()
    })
    .join()
    .unwrap();
    let s = stats();
    assert_eq!(s.tag(t).live_bytes, 0);
    assert_eq!((s.tag(t).alloc_count, s.tag(t).free_count), (1, 1));
    let row = s.thread(slot).unwrap().tag(t);
    let other = s.thread(freer).unwrap().tag(t);
    assert_eq!(row.alloc_count, 1);
    if NET_FLOW {
        // Allocations credit the allocating thread, frees debit the freeing one.
        assert_eq!((row.free_count, row.live_bytes), (0, 4096));
        assert_eq!(
            (
                other.alloc_count,
                other.free_count,
                other.freed_bytes,
                other.live_bytes
            ),
            (0, 1, 4096, 0)
        );
    } else {
        // The header names the allocating thread: the free is its.
        assert_eq!((row.free_count, row.live_bytes), (1, 0));
        assert_eq!((other.alloc_count, other.free_count), (0, 0));
    }
}

#[test]
fn realloc_moves_bytes_between_cells() {
    let t = Tag::new("basic-realloc");
    let mut v = with_tag(t, || Vec::<u8>::with_capacity(16));
    with_tag(t, || v.reserve_exact(4096));
    let s = stats().tag(t);
    assert_eq!(s.live_bytes, v.capacity() as u64);
    assert_eq!(s.realloc_count, 1);
    drop(v);
    assert_eq!(stats().tag(t).live_bytes, 0);
}
