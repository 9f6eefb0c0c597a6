//! Provenance: chains survive dropped intermediate views, records go away
//! when no descendant needs them, and snapshots carry them.

use arenaprof_array::{registry, s, Array};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn record_ids(arena: u64) -> Vec<u64> {
    let mut ids: Vec<u64> = registry::to_snapshot()
        .views
        .into_iter()
        .filter(|v| v.arena == arena)
        .map(|v| v.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn three_derived_views_with_the_middle_dropped_keep_the_full_chain() {
    let (a, la) = (Array::<f64>::zeros(&[100, 100]), line!());
    let (v1, l1) = (a.slice(s![10..20, ..]), line!());
    let (v2, l2) = (v1.t(), line!());
    let (v3, l3) = (v2.slice(s![..5, ..]), line!());
    let id = a.arena_id().unwrap();
    let (i1, i2, i3) = (
        v1.view_id().unwrap(),
        v2.view_id().unwrap(),
        v3.view_id().unwrap(),
    );
    drop(v2);
    drop(a);

    let info = registry::arena(id).unwrap();
    assert!(!info.owner_alive);
    assert_eq!(info.retainers.len(), 2);
    let r3 = info.retainers.iter().find(|r| r.view.id == i3).unwrap();
    let ops: Vec<&str> = r3.chain.iter().map(|v| v.op.as_str()).collect();
    assert_eq!(ops, ["zeros", "slice[10..20, ..]", "t()", "slice[..5, ..]"]);
    let lines: Vec<u32> = r3.chain.iter().map(|v| v.site.line).collect();
    assert_eq!(lines, [la, l1, l2, l3]);
    assert!(r3.chain.iter().all(|v| v.site.file == file!()));
    let alive: Vec<bool> = r3.chain.iter().map(|v| v.alive).collect();
    assert_eq!(alive, [false, true, false, true]);
    let parents: Vec<Option<u64>> = r3.chain.iter().map(|v| v.parent).collect();
    assert_eq!(parents[1..], [Some(r3.chain[0].id), Some(i1), Some(i2)]);
    assert_eq!(
        r3.to_string(),
        format!(
            "arena <- zeros@{} <- slice[10..20, ..]@{} <- t()@{} <- slice[..5, ..]@{}",
            r3.chain[0].site, r3.chain[1].site, r3.chain[2].site, r3.chain[3].site
        )
    );
    // v1 covers v3 (rows 10..20 vs rows 10..20, columns 0..5): 10 rows of 800 bytes.
    assert_eq!(info.capacity_bytes, 80_000);
    assert_eq!(info.reachable_bytes, 8_000);
    assert_eq!(info.wasted_bytes, 72_000);

    // Dropping v1 keeps its record: v3 still needs it to explain itself.
    drop(v1);
    let info = registry::arena(id).unwrap();
    assert_eq!(info.retainers.len(), 1);
    assert_eq!(info.retainers[0].chain.len(), 4);
    assert_eq!(info.reachable_bytes, 5 * 10 * 8);
    assert_eq!(record_ids(id).len(), 4);

    // The last view gone: the arena and every record of it are gone.
    drop(v3);
    assert!(registry::arena(id).is_none());
    assert!(record_ids(id).is_empty());
}

#[test]
fn records_go_away_when_no_descendant_needs_them() {
    let a = Array::<f32>::ones(&[8, 8]);
    let v1 = a.slice(s![1.., ..]);
    let v2 = v1.slice(s![..;2, ..]);
    let id = a.arena_id().unwrap();
    let ids = (
        a.view_id().unwrap(),
        v1.view_id().unwrap(),
        v2.view_id().unwrap(),
    );
    assert_eq!(record_ids(id), vec![ids.0, ids.1, ids.2]);
    // v2 dropped first: nothing depends on it, so its record goes at once.
    drop(v2);
    assert_eq!(record_ids(id), vec![ids.0, ids.1]);
    // The owner's record stays while v1 (a descendant) lives.
    drop(a);
    assert_eq!(record_ids(id), vec![ids.0, ids.1]);
    drop(v1);
    assert!(record_ids(id).is_empty());
}

#[test]
fn empty_views_pin_nothing() {
    let a = Array::<f64>::arange(1000);
    let id = a.arena_id().unwrap();
    let e = a.slice(s![5..5]);
    assert_eq!((e.arena_id(), e.view_id()), (None, None));
    assert!(e.is_view() && e.is_empty());
    drop(a);
    assert!(registry::arena(id).is_none());
    assert_eq!(e.to_vec(), Vec::<f64>::new());
}

#[test]
fn snapshot_holds_the_registry_records() {
    let (a, la) = (Array::<f64>::arange(64).reshape(&[8, 8]), line!());
    let (v, lv) = (a.slice(s![2..4, ..;-2]), line!());
    let id = a.arena_id().unwrap();
    drop(a);
    let snap = arenaprof_alloc::snapshot();
    let reg = &snap.registry;
    let arena = reg.arenas.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        (
            arena.capacity_bytes,
            arena.elem_size,
            arena.elem_type.as_str()
        ),
        (512, 8, "f64")
    );
    assert_eq!(arena.shape, vec![64]);
    assert_eq!(
        (arena.op.as_str(), arena.site.file.as_str(), arena.site.line),
        ("arange", file!(), la)
    );
    assert!(!arena.owner_alive);
    let views: Vec<_> = reg.views.iter().filter(|r| r.arena == id).collect();
    // arange's owner (dropped), reshape (dropped), the slice (alive).
    assert_eq!(views.len(), 3);
    let live = views.iter().find(|r| r.id == v.view_id().unwrap()).unwrap();
    assert!(live.alive && !live.is_owner);
    assert_eq!(live.op, "slice[2..4, ..;-2]");
    assert_eq!((live.site.file.as_str(), live.site.line), (file!(), lv));
    assert_eq!(live.layout.offset, 2 * 8 + 7);
    assert_eq!(live.layout.shape, vec![2, 4]);
    assert_eq!(live.layout.strides, vec![8, -2]);
    assert_eq!(live.layout.elem_size, 8);
    let reshape = views.iter().find(|r| Some(r.id) == live.parent).unwrap();
    assert_eq!(reshape.op, "reshape([8, 8])");
    assert!(!reshape.alive);
    assert_eq!(reshape.site.line, la);
    let owner = views.iter().find(|r| Some(r.id) == reshape.parent).unwrap();
    assert!(owner.is_owner && owner.parent.is_none());
    // The report tool's footprint agrees with the live registry.
    let reach = arenaprof_snapshot::footprint::reachable_bytes(
        views.iter().filter(|r| r.alive).map(|r| &r.layout),
    );
    assert_eq!(reach, 64);
    assert_eq!(registry::arena(id).unwrap().reachable_bytes, 64);
    assert!(reg.arenas_created >= 1 && reg.views_created >= 3);
    // Stamps are on the profiler's clock: never after the snapshot itself.
    assert!(arena.created_ns <= snap.meta.elapsed_ns);
    assert!(live.created_ns <= snap.meta.elapsed_ns);
    drop(v);
}
