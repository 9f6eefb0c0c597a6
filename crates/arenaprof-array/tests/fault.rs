//! Allocation failure never aborts: the inner allocator refuses every
//! request on this thread while `FAIL` is set, and every `try_` path returns
//! `ArrayError::Alloc` with the counters left exact.

use arenaprof_alloc::Tag;
use arenaprof_array::{s, Array, ArrayError};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static FAIL: Cell<bool> = const { Cell::new(false) };
}

struct Refusing;

fn refusing() -> bool {
    FAIL.try_with(|f| f.get()).unwrap_or(false)
}

// SAFETY: forwards to `System`, or returns null (allowed by the contract).
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if refusing() {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if refusing() {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if refusing() {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc<Refusing> = arenaprof_alloc::TrackingAlloc::wrap(Refusing);

fn refused<R>(f: impl FnOnce() -> R) -> R {
    FAIL.with(|x| x.set(true));
    let r = f();
    FAIL.with(|x| x.set(false));
    r
}

#[test]
fn refused_allocations_are_errors_and_counters_stay_exact() {
    let a = Array::<f64>::arange(1000);
    let slot = arenaprof_alloc::current_thread_slot().unwrap();
    let mine = || {
        arenaprof_alloc::stats()
            .thread(slot)
            .unwrap()
            .tag(Tag::ARRAY_BASE)
    };
    let before = mine();
    let results = refused(|| {
        [
            Array::<f64>::try_zeros(&[1000]).err(),
            Array::<f64>::try_ones(&[10, 10]).err(),
            Array::<f64>::try_arange(1000).err(),
            Array::<f64>::try_full(&[3], 1.0).err(),
            a.try_to_owned().err(),
            a.try_map(|x| x + 1.0).err(),
            a.try_reshape(&[10, 100])
                .and_then(|m| m.t().try_reshape(&[1000]))
                .err(),
            a.try_select(0, &[1, 2]).err(),
            a.try_sum_axis(0).err(),
        ]
    });
    for r in &results {
        assert!(matches!(r, Some(ArrayError::Alloc { .. })), "{results:?}");
    }
    let after = mine();
    assert_eq!(after.live_bytes, before.live_bytes);
    assert_eq!(after.alloc_count, before.alloc_count);
    assert_eq!(
        after.failed_count - before.failed_count,
        results.len() as u64
    );
    // Views allocate nothing for the arena: they still work while refused.
    let v = refused(|| a.slice(s![..;100]));
    assert_eq!(
        v.to_vec(),
        (0..10).map(|i| (i * 100) as f64).collect::<Vec<_>>()
    );
    assert!(v.shares_memory(&a));
}
