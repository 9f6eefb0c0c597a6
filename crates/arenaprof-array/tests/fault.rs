//! Allocation failure never aborts: the inner allocator refuses every
//! request on this thread inside `refused`, and every `try_` path returns
//! `ArrayError::Alloc` with the counters left exact.

use arenaprof_alloc::testing::{self, FailingAlloc};
use arenaprof_alloc::Tag;
use arenaprof_array::{s, Array, ArrayError};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc<FailingAlloc> =
    arenaprof_alloc::TrackingAlloc::wrap(FailingAlloc::new());

fn refused<R>(f: impl FnOnce() -> R) -> R {
    let _refuse = testing::refuse_on_this_thread(0);
    f()
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
