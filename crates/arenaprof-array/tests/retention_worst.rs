//! The retention high-water mark: the running wasted-bytes estimate, the
//! picture taken at a new worst (arena, views, chain, exact bytes, time),
//! its hysteresis, the series, and what a snapshot carries. One test: the
//! high-water mark is process-wide, so the steps run in order.

use arenaprof_array::{registry, s, Array};
use arenaprof_snapshot::RetentionWorst;

#[global_allocator]
static ALLOC: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

const MIB: u64 = 1 << 20;

fn worst() -> RetentionWorst {
    registry::retention_worst().expect("a worst picture")
}

#[test]
fn the_worst_moment_is_captured_with_its_chain_and_time() {
    assert_eq!(registry::wasted_bytes_now(), 0);
    assert!(registry::retention_worst().is_none());

    // Below the minimum: no picture, but the estimate is exact.
    let small = Array::<f64>::arange(1000);
    let head = small.slice(s![..10]);
    drop(small);
    assert_eq!(registry::wasted_bytes_now(), 7920);
    assert!(registry::retention_worst().is_none());
    drop(head);
    assert_eq!(registry::wasted_bytes_now(), 0);

    // 8 MiB pinned by a 2x5 corner through reshape, slice and t().
    let t0 = arenaprof_alloc::clock::now_ns();
    let line = line!() + 1;
    let a = Array::<f64>::arange(1 << 20);
    let m = a.reshape(&[1024, 1024]);
    let corner = m.slice(s![..2, ..5]).t();
    let id = a.arena_id().unwrap();
    drop(m);
    assert_eq!(
        registry::wasted_bytes_now(),
        0,
        "the owner still reaches all"
    );
    drop(a);
    let t1 = arenaprof_alloc::clock::now_ns();
    assert_eq!(registry::wasted_bytes_now(), 8 * MIB - 80);
    let w = worst();
    assert_eq!(w.wasted_bytes, 8 * MIB - 80);
    assert!(t0 <= w.t_ns && w.t_ns <= t1);
    assert_eq!(w.registry.arenas.len(), 1);
    assert_eq!(w.registry.arenas[0].id, id);
    assert!(!w.registry.arenas[0].owner_alive);
    let ops: Vec<(&str, u32, bool)> = w
        .registry
        .views
        .iter()
        .map(|v| (v.op.as_str(), v.site.line, v.alive))
        .collect();
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!(ops[0], ("arange", line, false));
    assert_eq!(ops[1], ("reshape([1024, 1024])", line + 1, false));
    assert!(ops[2].0.starts_with("slice") && ops[2].1 == line + 2 && !ops[2].2);
    assert_eq!(ops[3], ("t()", line + 2, true));
    // Parents link the chain, root first.
    let v = &w.registry.views;
    assert_eq!(v[0].parent, None);
    assert_eq!(
        (v[1].parent, v[2].parent, v[3].parent),
        (Some(v[0].id), Some(v[1].id), Some(v[2].id))
    );

    // Dropping the last view frees the arena: back to 0, the worst stays.
    drop(corner);
    assert_eq!(registry::wasted_bytes_now(), 0);
    assert_eq!(worst().wasted_bytes, 8 * MIB - 80);
    assert!(registry::arenas().iter().all(|x| x.id != id));

    // A smaller plateau, and one less than 1/16 higher: no new picture.
    let b = Array::<u8>::zeros(&[4 << 20]);
    let bv = b.slice(s![..1]);
    drop(b);
    assert_eq!(registry::wasted_bytes_now(), 4 * MIB - 1);
    assert_eq!(worst().wasted_bytes, 8 * MIB - 80);
    let c = Array::<u8>::zeros(&[(4 << 20) + (256 << 10)]);
    let cv = c.slice(s![..1]);
    drop(c);
    assert_eq!(registry::wasted_bytes_now(), 8 * MIB + 256 * 1024 - 2);
    assert_eq!(worst().wasted_bytes, 8 * MIB - 80, "within the 1/16 step");
    // Past the step (8 MiB + 1/16 = 8.5 MiB): a new picture with both arenas.
    let d = Array::<u8>::zeros(&[MIB as usize]);
    let dv = d.slice(s![..;2]); // every other byte: reach 512 KiB
    drop(d);
    let now = registry::wasted_bytes_now();
    assert_eq!(now, 8 * MIB + 256 * 1024 - 2 + MIB / 2);
    let w = worst();
    assert_eq!(w.wasted_bytes, now, "exact, no overlapping views");
    assert_eq!(w.registry.arenas.len(), 3);
    assert_eq!(w.registry.views.iter().filter(|v| v.alive).count(), 3);

    // The series rose and fell with the estimate; a snapshot carries it all.
    drop((bv, cv, dv));
    assert_eq!(registry::wasted_bytes_now(), 0);
    let snap = arenaprof_alloc::snapshot();
    let h = &snap.retention;
    assert!(h.tracked);
    assert_eq!(h.worst.as_ref().unwrap().wasted_bytes, now);
    let series: Vec<u64> = h.wasted.iter().map(|p| p.wasted_bytes).collect();
    assert!(series.contains(&(8 * MIB - 80)), "{series:?}");
    assert!(series.contains(&now), "{series:?}");
    assert_eq!(series.last(), Some(&0));
    assert!(h.wasted.windows(2).all(|p| p[0].t_ns <= p[1].t_ns));
    assert!(registry::stats().is_empty(), "{:?}", registry::stats());

    // Overlapping live views: the estimate counts each view's reach, so it
    // is a lower bound; the registry's figure is the exact union.
    let a = Array::<f64>::arange(100);
    let x = a.slice(s![..10]);
    let y = x.clone(); // the same window twice
    let id = a.arena_id().unwrap();
    drop(a);
    assert_eq!(registry::arena(id).unwrap().wasted_bytes, 720);
    assert_eq!(registry::wasted_bytes_now(), 640);
    drop((x, y));
    assert!(registry::arena(id).is_none());
    assert_eq!(registry::wasted_bytes_now(), 0);
}
