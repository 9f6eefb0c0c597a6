//! Views created and dropped across 4 threads leave nothing behind.
//!
//! One test in this binary, so the registry and the `ARRAY_BASE` tag hold
//! nothing else.

use arenaprof_alloc::Tag;
use arenaprof_array::{registry, s, Array};
use std::sync::mpsc;

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn views_across_four_threads_leave_registry_empty_and_tag_at_zero() {
    assert_send_sync::<Array<f64>>();
    assert_eq!(arenaprof_alloc::stats().tag(Tag::ARRAY_BASE).live_bytes, 0);
    let shared = Array::<f64>::arange(4096).reshape(&[64, 64]);
    let created_before = registry::stats().views_created;
    const PER_THREAD: usize = 2000;
    std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..4 {
            let (tx, rx) = mpsc::channel::<Vec<Array<f64>>>();
            senders.push(tx);
            receivers.push(rx);
        }
        for (t, rx) in receivers.into_iter().enumerate() {
            let next = senders[(t + 1) % 4].clone();
            let shared = &shared;
            scope.spawn(move || {
                let own = Array::<f64>::zeros(&[256]);
                let mut batch = Vec::new();
                for k in 0..PER_THREAD {
                    let r = k % 64;
                    // A view of the shared arena, a view of it, and a view of
                    // this thread's own arena; some die here, some travel.
                    let v = shared.slice(s![r.., ..;2]);
                    let w = v.t();
                    drop(v);
                    let o = own.slice(s![k % 256..]);
                    if k % 3 == 0 {
                        batch.push(w);
                        batch.push(o);
                    }
                    if batch.len() >= 64 {
                        next.send(std::mem::take(&mut batch)).unwrap();
                    }
                }
                next.send(batch).unwrap();
                drop(next);
                drop(own);
                // Drop what the previous thread sent (made on another thread).
                for b in rx.iter() {
                    drop(b);
                }
            });
        }
        drop(senders);
        // Meanwhile, read the registry as a profiler would.
        scope.spawn(|| {
            for _ in 0..200 {
                for a in registry::arenas() {
                    assert!(a.reachable_bytes <= a.capacity_bytes);
                    assert_eq!(a.wasted_bytes, a.capacity_bytes - a.reachable_bytes);
                    for r in &a.retainers {
                        assert!(r.view.alive);
                        assert_eq!(r.chain.last().map(|v| v.id), Some(r.view.id));
                    }
                }
                let s = registry::stats();
                assert!(s.view_records >= s.live_views);
                let _ = arenaprof_alloc::snapshot();
            }
        });
    });
    // 3 views per step plus each thread's own owning array.
    assert_eq!(
        registry::stats().views_created - created_before,
        4 * (3 * PER_THREAD as u64 + 1)
    );
    let s = registry::stats();
    assert_eq!((s.live_arenas, s.live_views), (1, 1));
    drop(shared);
    let s = registry::stats();
    assert!(s.is_empty(), "{s:?}");
    assert_eq!((s.live_arenas, s.live_views, s.view_records), (0, 0, 0));
    assert!(registry::arenas().is_empty());
    assert_eq!(registry::to_snapshot().views.len(), 0);
    // The incremental wasted estimate came back to 0 too (each thread's
    // own arena was orphaned while its views travelled and died elsewhere).
    assert_eq!(registry::wasted_bytes_now(), 0);
    let tag = arenaprof_alloc::stats().tag(Tag::ARRAY_BASE);
    assert_eq!(tag.live_bytes, 0);
    assert_eq!(tag.alloc_count, tag.free_count);
    // 1 shared arena + 4 per-thread arenas, all freed.
    assert_eq!(tag.alloc_count, 5);
}
