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

#[test]
fn a_same_size_realloc_under_another_tag_adopts_the_block_in_place() {
    let (a, b) = (Tag::new("basic-adopt-a"), Tag::new("basic-adopt-b"));
    let layout = std::alloc::Layout::from_size_align(1 << 20, 8).unwrap();
    // SAFETY: a non-zero size.
    let p = with_tag(a, || unsafe { std::alloc::alloc(layout) });
    assert!(!p.is_null());
    // SAFETY: `p` is live with `layout`; the new size is the same.
    let q = with_tag(b, || unsafe {
        std::alloc::realloc(p, layout, layout.size())
    });
    // jemalloc keeps the block; another inner allocator (ASan's, with
    // `--no-default-features`) may move it.
    if cfg!(feature = "jemalloc") {
        assert_eq!(q, p, "adopted in place, not copied");
    }
    let s = stats();
    assert_eq!((s.tag(a).live_bytes, s.tag(b).live_bytes), (0, 1 << 20));
    assert_eq!(s.tag(b).realloc_count, 1);
    if NET_FLOW {
        use arenaprof_alloc::testing::{arena_of_block, tag_of_block};
        assert_eq!(tag_of_block(q), Some(b));
        assert_eq!(arena_of_block(q), Some(a));
    }
    // SAFETY: `q` is live with `layout`.
    unsafe { std::alloc::dealloc(q, layout) };
    let s = stats();
    assert_eq!((s.tag(a).live_bytes, s.tag(b).live_bytes), (0, 0));
    assert_eq!((s.tag(a).free_count, s.tag(b).free_count), (1, 1));
}
