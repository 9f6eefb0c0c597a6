//! Retention analysis on synthetic registries: reachable and wasted bytes,
//! exclusive retained bytes, chains, fixes, and corrupt registries.

use arenaprof_report::fixtures::{self, CAPACITY, VIEW_BYTES};
use arenaprof_report::passes::retention::analyze;
use arenaprof_snapshot::{ArenaRecord, Layout, Registry, Site, ViewRecord};

fn lay(offset: i64, shape: &[usize], strides: &[isize]) -> Layout {
    Layout {
        offset,
        shape: shape.to_vec(),
        strides: strides.to_vec(),
        elem_size: 8,
    }
}

fn arena(id: u64, elems: u64, owner_alive: bool) -> ArenaRecord {
    ArenaRecord {
        id,
        capacity_bytes: elems * 8,
        elem_type: "f64".into(),
        elem_size: 8,
        shape: vec![elems as usize],
        site: Site {
            file: "a.rs".into(),
            line: id as u32,
            col: 1,
        },
        op: "zeros".into(),
        owner_alive,
        ..Default::default()
    }
}

fn view(id: u64, arena: u64, parent: Option<u64>, alive: bool, layout: Layout) -> ViewRecord {
    ViewRecord {
        id,
        arena,
        parent,
        op: format!("op{id}"),
        site: Site {
            file: "v.rs".into(),
            line: id as u32,
            col: 9,
        },
        alive,
        is_owner: parent.is_none(),
        layout,
        ..Default::default()
    }
}

fn reg(arenas: Vec<ArenaRecord>, views: Vec<ViewRecord>) -> Registry {
    Registry {
        arenas,
        views,
        ..Default::default()
    }
}

#[test]
fn pinned_fixture_chain_and_fix() {
    let mut w = vec![];
    let (rows, sum) = analyze(&fixtures::pinned_registry(), 32, 1 << 24, &mut w);
    assert!(w.is_empty(), "{w:?}");
    let a = &rows[0];
    assert_eq!(
        (a.id, a.capacity_bytes, a.reachable_bytes),
        (1, CAPACITY, VIEW_BYTES)
    );
    assert_eq!(a.wasted_bytes, CAPACITY - VIEW_BYTES);
    assert!(!a.owner_alive);
    let r = &a.retainers[0];
    assert_eq!(
        (r.view, r.exclusive_retained_bytes, r.footprint_bytes),
        (4, CAPACITY, VIEW_BYTES)
    );
    let ops: Vec<&str> = r.chain.iter().map(|s| s.op.as_str()).collect();
    assert_eq!(ops, ["arange", "slice[1000..]", "t()", "slice[..10]"]);
    let views: Vec<u64> = r.chain.iter().map(|s| s.view).collect();
    assert_eq!(views, [1, 2, 3, 4]);
    assert_eq!(r.chain_elided, 0);
    let fix = r.fix.as_ref().unwrap();
    assert_eq!(fix.sites, ["src/main.rs:14"]);
    assert_eq!((fix.frees_bytes, fix.copies_bytes), (CAPACITY, VIEW_BYTES));
    assert_eq!(sum.pinned_arenas, 1);
    assert_eq!(sum.wasted_bytes, CAPACITY - VIEW_BYTES);
    assert_eq!(sum.live_views, 2);
    // Largest wasted first.
    assert_eq!(rows[1].wasted_bytes, 0);
}

#[test]
fn two_live_views_share_the_arena_and_overlaps_count_once() {
    // 1000 elements; owner dropped; views [0, 100) and [50, 150): reachable 150 elements.
    let r = reg(
        vec![arena(1, 1000, false)],
        vec![
            view(1, 1, None, false, lay(0, &[1000], &[1])),
            view(2, 1, Some(1), true, lay(0, &[100], &[1])),
            view(3, 1, Some(1), true, lay(50, &[100], &[1])),
        ],
    );
    let (rows, _) = analyze(&r, 32, 1 << 24, &mut vec![]);
    let a = &rows[0];
    assert_eq!(a.reachable_bytes, 150 * 8);
    assert_eq!(a.wasted_bytes, 850 * 8);
    assert!(a.retainers.iter().all(|v| v.exclusive_retained_bytes == 0));
    let fix = a.fix.as_ref().unwrap();
    assert_eq!(fix.sites, ["v.rs:2", "v.rs:3"]);
    assert_eq!((fix.frees_bytes, fix.copies_bytes), (8000, 1600));
    assert!(fix
        .text
        .starts_with("`to_owned()` on the 2 live views (at v.rs:2, v.rs:3) frees 7.8 KiB"));
    let per_view = a.retainers[0].fix.as_ref().unwrap();
    assert!(per_view
        .text
        .contains("and on the 1 other live views of arena #1"));
}

#[test]
fn owner_alive_means_nothing_wasted_and_no_fix() {
    let r = reg(
        vec![arena(1, 100, true)],
        vec![
            view(1, 1, None, true, lay(0, &[100], &[1])),
            view(2, 1, Some(1), true, lay(0, &[10], &[1])),
        ],
    );
    let (rows, sum) = analyze(&r, 32, 1 << 24, &mut vec![]);
    assert_eq!((rows[0].reachable_bytes, rows[0].wasted_bytes), (800, 0));
    assert!(rows[0].owner_alive && rows[0].fix.is_none());
    assert!(rows[0]
        .retainers
        .iter()
        .all(|v| v.exclusive_retained_bytes == 0 && v.fix.is_none()));
    assert_eq!(sum.pinned_arenas, 0);
}

#[test]
fn strided_transposed_and_reversed_views() {
    // 10x10 matrix, owner dropped.
    let (rows, _) = analyze(
        &reg(
            vec![arena(1, 100, false)],
            vec![
                view(1, 1, None, false, lay(0, &[10, 10], &[10, 1])),
                // Every other column: 50 elements.
                view(2, 1, Some(1), true, lay(0, &[10, 5], &[10, 2])),
            ],
        ),
        32,
        1 << 24,
        &mut vec![],
    );
    assert_eq!(rows[0].reachable_bytes, 50 * 8);
    assert_eq!(rows[0].retainers[0].footprint_bytes, 50 * 8);
    let (rows, _) = analyze(
        &reg(
            vec![arena(1, 100, false)],
            vec![
                view(1, 1, None, false, lay(0, &[10, 10], &[10, 1])),
                // Transpose: the whole buffer.
                view(2, 1, Some(1), true, lay(0, &[10, 10], &[1, 10])),
                // Reversed last row: inside the transpose.
                view(3, 1, Some(1), true, lay(99, &[10], &[-1])),
            ],
        ),
        32,
        1 << 24,
        &mut vec![],
    );
    assert_eq!((rows[0].reachable_bytes, rows[0].wasted_bytes), (800, 0));
}

#[test]
fn long_chains_keep_the_root_and_the_nearest_steps() {
    let mut views = vec![view(1, 1, None, false, lay(0, &[100], &[1]))];
    for id in 2..=200 {
        views.push(view(id, 1, Some(id - 1), id == 200, lay(0, &[10], &[1])));
    }
    let (rows, _) = analyze(
        &reg(vec![arena(1, 100, false)], views),
        8,
        1 << 24,
        &mut vec![],
    );
    let r = &rows[0].retainers[0];
    assert_eq!(r.chain.len(), 8);
    assert_eq!(r.chain[0].view, 1);
    let tail: Vec<u64> = r.chain[1..].iter().map(|s| s.view).collect();
    assert_eq!(tail, [194, 195, 196, 197, 198, 199, 200]);
    assert_eq!(r.chain_elided, 199 - 7);
}

#[test]
fn many_live_views_on_one_linear_chain_stay_fast() {
    // 20,000 live views, each derived from the previous: memoised depths keep
    // this linear (an unmemoised walk would be 2 * 10^8 steps).
    let n = 20_000u64;
    let mut views = vec![view(1, 1, None, true, lay(0, &[100], &[1]))];
    for id in 2..=n {
        views.push(view(id, 1, Some(id - 1), true, lay(0, &[10], &[1])));
    }
    let (rows, _) = analyze(
        &reg(vec![arena(1, 100, true)], views),
        4,
        1 << 24,
        &mut vec![],
    );
    assert_eq!(rows[0].retainers.len(), n as usize);
    let deepest = rows[0].retainers.iter().find(|r| r.view == n).unwrap();
    assert_eq!(deepest.chain.len(), 4);
    assert_eq!(deepest.chain_elided, n - 1 - 3);
}

#[test]
fn corrupt_registries_become_warnings() {
    let r = reg(
        vec![
            arena(1, 100, false),
            arena(1, 5, false),
            arena(2, 10, false),
        ],
        vec![
            // A cycle: 3 -> 4 -> 3.
            view(3, 1, Some(4), true, lay(0, &[10], &[1])),
            view(4, 1, Some(3), false, lay(0, &[10], &[1])),
            // A dangling parent.
            view(5, 1, Some(77), true, lay(20, &[10], &[1])),
            // A layout outside its arena.
            view(6, 2, None, true, lay(5, &[10], &[1])),
            // A layout with mismatched strides, and one that overflows.
            view(7, 2, None, true, lay(0, &[10], &[])),
            view(
                8,
                2,
                None,
                true,
                lay(
                    i64::MAX,
                    &[usize::MAX, usize::MAX],
                    &[isize::MAX, isize::MAX],
                ),
            ),
            // A view of an arena that is not recorded.
            view(9, 42, None, true, lay(0, &[1], &[1])),
            // A duplicate id.
            view(9, 42, None, true, lay(0, &[1], &[1])),
        ],
    );
    let mut w = vec![];
    let (rows, sum) = analyze(&r, 32, 1 << 24, &mut w);
    let all = w.join("\n");
    for needle in [
        "cycle",
        "not recorded in arena #1",
        "outside their arena",
        "recorded twice",
        "not recorded",
        "duplicate view ids",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    assert_eq!(sum.arenas, 2);
    let a1 = rows.iter().find(|a| a.id == 1).unwrap();
    assert_eq!(a1.reachable_bytes, 20 * 8);
    let a2 = rows.iter().find(|a| a.id == 2).unwrap();
    assert_eq!((a2.reachable_bytes, a2.wasted_bytes), (0, 80));
}
