//! Failure injection and awkward moments: an inner allocator that returns
//! null on chosen calls, allocations in thread-local destructors, and
//! allocations after `main` returns.

use arenaprof_alloc::testing::{fail_next, FailingAlloc};
use arenaprof_alloc::{snapshot, stats, with_tag, Tag, TrackingAlloc};
use std::alloc::Layout;
use std::cell::Cell;

#[global_allocator]
static ALLOC: TrackingAlloc<FailingAlloc> = TrackingAlloc::wrap(FailingAlloc::new());

#[test]
fn refused_alloc_passes_null_through_and_counters_stay_exact() {
    let tag = Tag::new("fault-alloc");
    let slot = arenaprof_alloc::current_thread_slot().unwrap();
    let before = stats().thread(slot).unwrap().tag(tag);
    fail_next(1);
    let r = with_tag(tag, || Vec::<u8>::new().try_reserve_exact(1000));
    assert!(r.is_err(), "the refusal reached the caller");
    fail_next(1);
    let z = with_tag(tag, || {
        // SAFETY: non-zero size.
        unsafe { std::alloc::alloc_zeroed(Layout::from_size_align(64, 8).unwrap()) }
    });
    assert!(z.is_null());
    let after = stats().thread(slot).unwrap().tag(tag);
    assert_eq!(after.failed_count, before.failed_count + 2);
    assert_eq!(after.alloc_count, before.alloc_count);
    assert_eq!(after.live_bytes, before.live_bytes);
    assert_eq!(after.allocated_bytes, before.allocated_bytes);
}

#[test]
fn refused_realloc_keeps_the_old_block_and_its_counts() {
    let tag = Tag::new("fault-realloc");
    let mut v = with_tag(tag, || vec![5u8; 100]);
    let before = stats().tag(tag);
    fail_next(1);
    let r = with_tag(tag, || v.try_reserve_exact(10_000));
    assert!(r.is_err());
    assert_eq!(v, vec![5u8; 100], "old block intact");
    let after = stats().tag(tag);
    assert_eq!(after.live_bytes, 100);
    assert_eq!(after.failed_count, before.failed_count + 1);
    assert_eq!(after.realloc_count, before.realloc_count);
    assert_eq!(after.free_count, before.free_count);
    drop(v);
    assert_eq!(stats().tag(tag).live_bytes, 0);
    // The snapshot still builds and writes after failures.
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot();
    let t = snap
        .tags
        .iter()
        .find(|t| t.name == "fault-realloc")
        .unwrap();
    assert_eq!(t.counters.failed_count, 1);
    snap.write(dir.path().join("after-failures.arenaprof"))
        .unwrap();
    assert!(
        snap.meta.allocator.contains("Failing"),
        "{}",
        snap.meta.allocator
    );
}

struct AllocOnDrop(Tag);

impl Drop for AllocOnDrop {
    fn drop(&mut self) {
        let v = with_tag(self.0, || vec![1u8; 4096]);
        std::hint::black_box(&v);
    }
}

thread_local! {
    static ON_EXIT: Cell<Option<AllocOnDrop>> = const { Cell::new(None) };
}

#[test]
fn allocations_in_thread_local_destructors_are_counted() {
    let tag = Tag::new("fault-tls-dtor");
    let slot = std::thread::spawn(move || {
        ON_EXIT.with(|c| c.set(Some(AllocOnDrop(tag))));
        arenaprof_alloc::current_thread_slot().unwrap()
    })
    .join()
    .unwrap();
    let s = stats();
    let row = s.thread(slot).unwrap();
    assert_eq!(row.tag(tag).alloc_count, 1);
    assert_eq!(row.tag(tag).free_count, 1);
    assert_eq!(row.tag(tag).live_bytes, 0);
    assert!(!row.alive, "the row knows its thread exited");
}

extern "C" fn allocate_after_main() {
    let v = with_tag(Tag::new("after-main"), || vec![3u8; 1 << 16]);
    let live = stats().tag(Tag::new("after-main")).live_bytes;
    drop(v);
    println!("after-main live={live}");
}

#[test]
fn allocations_after_main_returns_are_safe() {
    if std::env::var_os("ARENAPROF_AFTER_MAIN_CHILD").is_some() {
        // SAFETY: registering a plain extern "C" fn with atexit.
        unsafe { libc::atexit(allocate_after_main) };
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "allocations_after_main_returns_are_safe",
            "--nocapture",
        ])
        .env("ARENAPROF_AFTER_MAIN_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("after-main live=65536"), "{stdout}");
}
