//! Misuse from safe code: shared workspaces with forgotten guards, tag
//! guards dropped out of order, reserved and overflowing tag names.

use arenaprof_alloc::{current_tag, stats, with_tag, Tag, TagError, TrackingAlloc, Workspace};
use std::sync::{Arc, Barrier, Mutex};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

/// Fills a block with a pattern unique to (thread, block), keeps a window of
/// blocks alive, and checks every pattern before freeing: any block carved
/// twice from one region would be overwritten by the other thread.
fn churn(thread: u8, rounds: usize) -> usize {
    let mut live: Vec<Box<[u8]>> = Vec::with_capacity(64);
    let mut bad = 0;
    for i in 0..rounds {
        let len = 64 + (i * 37) % 2000;
        let fill = thread.wrapping_mul(31).wrapping_add(i as u8) | 1;
        let b = vec![fill; len].into_boxed_slice();
        if live.len() == live.capacity() {
            for b in live.drain(..) {
                bad += b.iter().filter(|&&x| x != b[0]).count();
            }
        }
        live.push(b);
    }
    for b in live {
        bad += b.iter().filter(|&&x| x != b[0]).count();
    }
    bad
}

#[test]
fn one_workspace_shared_by_threads_with_forgotten_guards_never_overlaps() {
    let ws = Arc::new(Mutex::new(Workspace::new(256 << 10).unwrap()));
    let start = Arc::new(Barrier::new(3));
    let mut handles = Vec::new();
    // Two threads forget their guards: each stays pointed at the region.
    for t in 0..2u8 {
        let (ws, start) = (ws.clone(), start.clone());
        handles.push(std::thread::spawn(move || {
            std::mem::forget(ws.lock().unwrap().enter());
            start.wait();
            churn(t, 20_000)
        }));
    }
    // A third enters properly, holding the lock (and so the workspace)
    // while it allocates.
    {
        let (ws, start) = (ws.clone(), start.clone());
        handles.push(std::thread::spawn(move || {
            start.wait();
            let mut w = ws.lock().unwrap();
            let _g = w.enter();
            churn(2, 20_000)
        }));
    }
    let bad: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(
        bad, 0,
        "bytes overwritten: a block was carved for two threads"
    );
    let s = ws.lock().unwrap().stats();
    // Every allocation inside a scope was either served or overflowed,
    // and only one thread (the region's owner) was served.
    assert!(s.served_count > 0, "the owner thread carved nothing: {s:?}");
    assert!(
        s.overflow_count >= 20_000,
        "non-owners must overflow: {s:?}"
    );
}

#[test]
fn a_long_lived_block_pins_only_the_space_below_it() {
    let mut ws = Workspace::new(64 << 10).unwrap();
    let _g = ws.enter();
    let keep = vec![1u8; 1000];
    for _ in 0..1000 {
        drop(vec![2u8; 30_000]);
    }
    drop(keep);
    drop(_g);
    let s = ws.stats();
    assert_eq!(s.overflow_count, 0, "{s:?}");
    assert_eq!(s.served_count, 1001);
}

#[test]
fn tag_guards_dropped_out_of_order_restore_the_innermost_live_tag() {
    let (x, y, z) = (
        Tag::new("order-x"),
        Tag::new("order-y"),
        Tag::new("order-z"),
    );
    let a = x.enter();
    let b = y.enter();
    drop(a); // outer first
    assert_eq!(current_tag(), y, "the inner guard is still alive");
    let c = z.enter();
    drop(b);
    assert_eq!(current_tag(), z);
    drop(c);
    assert_eq!(current_tag(), Tag::UNTAGGED, "every guard is gone");
    let before = stats().tag(x).alloc_count;
    let v = vec![0u8; 100];
    assert_eq!(stats().tag(x).alloc_count, before, "nothing charged to x");
    drop(v);
    // LIFO order keeps working after that.
    let a = x.enter();
    {
        let _b = y.enter();
        assert_eq!(current_tag(), y);
    }
    assert_eq!(current_tag(), x);
    drop(a);
    assert_eq!(with_tag(z, current_tag), z);
    assert_eq!(current_tag(), Tag::UNTAGGED);
}

#[test]
fn the_overflow_name_is_reserved_and_the_limit_is_an_error() {
    assert!(matches!(
        Tag::try_new("other-tags"),
        Err(TagError::Reserved(_))
    ));
    assert_eq!(Tag::new("other-tags"), Tag::OVERFLOW);
    let mut last = Ok(Tag::UNTAGGED);
    for i in 0..arenaprof_alloc::capacity::MAX_TAGS {
        last = Tag::try_new(&format!("limit-{i}"));
        if last.is_err() {
            break;
        }
    }
    match last {
        Err(TagError::Limit { name }) => assert!(name.starts_with("limit-")),
        other => panic!("expected the tag limit, got {other:?}"),
    }
    let t = Tag::new("one-more-past-the-limit");
    assert!(t.is_overflow());
    assert_eq!(t.name(), "other-tags");
}
