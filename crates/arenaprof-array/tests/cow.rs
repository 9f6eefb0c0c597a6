//! Copy-on-write writes and the pinned-bytes warning.

use arenaprof_alloc::Tag;
use arenaprof_array::{registry, s, warn, Array, ArrayError, NewAxis};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

#[test]
fn writing_to_a_shared_arena_copies_and_records_it() {
    let a = Array::<f64>::arange(1000);
    let mut v = a.slice(s![100..200]);
    let from = a.arena_id().unwrap();
    let cows_before = registry::stats().cow_events;
    let (r, line) = (v.set(&[0], -1.0), line!());
    r.unwrap();
    // v now owns a private 100-element arena; a is untouched.
    let to = v.arena_id().unwrap();
    assert_ne!(to, from);
    assert!(!v.is_view());
    assert_eq!(a.get(&[100]), Some(100.0));
    assert_eq!(v.get(&[0]), Some(-1.0));
    assert_eq!(v.get(&[1]), Some(101.0));
    assert_eq!(registry::stats().cow_events, cows_before + 1);
    let ev = registry::cow_events()
        .into_iter()
        .find(|e| e.from_arena == from)
        .unwrap();
    assert_eq!((ev.to_arena, ev.bytes), (to, 800));
    assert_eq!((ev.site.file.as_str(), ev.site.line), (file!(), line));
    let info = registry::arena(to).unwrap();
    assert_eq!(
        (info.op.as_str(), info.capacity_bytes, info.site.line),
        ("cow", 800, line)
    );
    // A second write finds the arena unshared: no copy.
    v.fill(3.0).unwrap();
    assert_eq!(v.arena_id(), Some(to));
    assert_eq!(registry::stats().cow_events, cows_before + 1);
    assert_eq!(v.sum(), 300.0);
}

#[test]
fn a_sole_view_writes_in_place() {
    let a = Array::<i32>::zeros(&[4, 4]);
    let mut col = a.slice(s![.., 1]);
    let id = a.arena_id();
    drop(a);
    // Nobody else holds the arena: the view writes into it.
    col.map_inplace(|x| *x += 7).unwrap();
    assert_eq!(col.arena_id(), id);
    assert!(col.is_view());
    assert_eq!(col.to_vec(), vec![7; 4]);
    let mut t = col.view_mut().unwrap();
    t[[3]] = 1;
    assert_eq!(col.to_vec(), vec![7, 7, 7, 1]);
}

#[test]
fn negative_strides_write_the_right_elements() {
    let mut r = Array::<i64>::arange(6).slice(s![..;-2]);
    // The temporary base is gone: r is the only handle.
    r.set(&[0], 50).unwrap();
    assert_eq!(r.to_vec(), vec![50, 3, 1]);
    // A new axis (stride 0, length 1) is writable too.
    let mut n = Array::<f64>::zeros(&[3]).slice(s![NewAxis, ..;-1]);
    n.fill(2.0).unwrap();
    n.set(&[0, 2], 5.0).unwrap();
    assert_eq!(n.to_vec(), vec![2.0, 2.0, 5.0]);
}

#[test]
fn read_only_views_refuse_writes() {
    let a = Array::<f64>::arange(3);
    let mut b = a.broadcast_to(&[2, 3]).unwrap();
    assert_eq!(b.set(&[0, 0], 1.0), Err(ArrayError::ReadOnly));
    assert!(matches!(b.view_mut(), Err(ArrayError::ReadOnly)));
    let mut c = b.clone();
    assert!(c.is_read_only());
    assert_eq!(c.fill(0.0), Err(ArrayError::ReadOnly));
    let mut o = b.to_owned();
    o.set(&[1, 2], 9.0).unwrap();
    assert_eq!(o.to_vec(), vec![0.0, 1.0, 2.0, 0.0, 1.0, 9.0]);
    assert_eq!(
        b.set(&[5, 0], 1.0),
        Err(ArrayError::IndexOutOfBounds {
            axis: 0,
            index: 5,
            len: 2
        })
    );
}

#[test]
fn pinned_warning_names_the_retaining_view_and_the_fix() {
    warn::set_threshold(Some(500_000));
    let a = Array::<f64>::arange(100_000);
    let (v, line) = (a.slice(s![..10]), line!());
    let id = a.arena_id().unwrap();
    let small = Array::<f64>::arange(10);
    let sv = small.slice(s![..1]);
    drop(small); // 72 wasted bytes: under the threshold, no warning
    drop(a);
    let lines: Vec<String> = warn::recent()
        .into_iter()
        .filter(|l| l.contains(&format!("of arena {id} ")))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let site = format!("{}:{}:", file!(), line);
    let l = &lines[0];
    assert!(
        l.starts_with("arenaprof: 799920 of 800000 bytes of arena"),
        "{l}"
    );
    assert!(
        l.contains(&format!("are pinned by slice[..10] at {site}")),
        "{l}"
    );
    assert!(l.contains(&format!("fix: to_owned() at {site}")), "{l}");
    assert!(l.ends_with("frees 799920 bytes"), "{l}");
    assert!(!l.contains('\n'));
    // Once per arena.
    let v2 = v.clone();
    drop(v2);
    let again = warn::recent()
        .into_iter()
        .filter(|l| l.contains(&format!("of arena {id} ")))
        .count();
    assert_eq!(again, 1);
    warn::set_threshold(None);
    drop((v, sv));
}

#[test]
fn array_base_counts_arena_bytes_exactly() {
    // Other tests in this binary run concurrently; use this thread's row.
    let slot = arenaprof_alloc::current_thread_slot().unwrap();
    let mine = || {
        arenaprof_alloc::stats()
            .thread(slot)
            .unwrap()
            .tag(Tag::ARRAY_BASE)
    };
    let before = mine();
    let a = Array::<f32>::zeros(&[3, 5]);
    let v = a.slice(s![1.., ..;2]).t();
    let c = &a + 1.0;
    let after = mine();
    assert_eq!(after.live_bytes - before.live_bytes, 2 * 15 * 4);
    assert_eq!(after.alloc_count - before.alloc_count, 2);
    drop((a, v, c));
    let end = mine();
    assert_eq!(end.live_bytes, before.live_bytes);
    assert_eq!(end.free_count - before.free_count, 2);
}
