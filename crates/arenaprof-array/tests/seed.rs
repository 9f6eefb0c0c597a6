//! The seed scenario: `arange(100_000_000)[:10]` with the base dropped keeps
//! 800 MB alive through an 80-byte view until `to_owned()`.
//!
//! One test in this binary, so the registry and the `ARRAY_BASE` tag hold
//! nothing else.

use arenaprof_alloc::Tag;
use arenaprof_array::{registry, s, Array};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

fn array_base_live() -> u64 {
    arenaprof_alloc::stats().tag(Tag::ARRAY_BASE).live_bytes
}

#[test]
fn a_ten_element_view_pins_800_mb_until_to_owned() {
    assert_eq!(array_base_live(), 0);
    let a = Array::<f64>::arange(100_000_000);
    let (v, line) = (a.slice(s![..10]), line!());
    let id = a.arena_id().unwrap();
    drop(a);

    // The registry: one arena, 80 of its 800,000,000 bytes reachable.
    let all = registry::arenas();
    assert_eq!(all.len(), 1);
    let info = &all[0];
    assert_eq!(info.id, id);
    assert_eq!(info.capacity_bytes, 800_000_000);
    assert_eq!(info.reachable_bytes, 80);
    assert_eq!(info.wasted_bytes, 799_999_920);
    assert_eq!(info.elem_type, "f64");
    assert_eq!(info.shape, vec![100_000_000]);
    assert_eq!(info.op, "arange");
    assert!(!info.owner_alive);
    assert_eq!(info.to_owned_frees(), 799_999_920);
    // Retained by exactly that view, made on this file's line `line`.
    assert_eq!(info.retainers.len(), 1);
    let r = &info.retainers[0];
    assert_eq!(r.view.id, v.view_id().unwrap());
    assert_eq!(r.view.op, "slice[..10]");
    assert_eq!(r.view.site.file, file!());
    assert_eq!(r.view.site.line, line);
    assert_eq!(r.reachable_bytes, 80);
    assert_eq!(r.chain.len(), 2);
    assert_eq!(r.chain[0].op, "arange");
    assert!(!r.chain[0].alive && r.chain[0].is_owner);
    assert_eq!(
        r.to_string(),
        format!(
            "arena <- arange@{} <- slice[..10]@{}",
            r.chain[0].site, r.view.site
        )
    );
    assert_eq!(array_base_live(), 800_000_000);

    // The fix: copy the 10 elements, drop the view.
    let rss_pinned = arenaprof_alloc::process::rss_bytes();
    let o = v.to_owned();
    let after_copy = array_base_live();
    assert_eq!(after_copy, 800_000_080);
    drop(v);
    assert!(registry::arena(id).is_none());
    assert_eq!(after_copy - array_base_live(), 800_000_000);
    let left = registry::arenas();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (
            left[0].capacity_bytes,
            left[0].wasted_bytes,
            left[0].op.as_str()
        ),
        (80, 0, "to_owned")
    );

    // jemalloc keeps freed pages until they decay; purge makes RSS fall now.
    // (Without jemalloc inside, as under ASan, there is nothing to purge and
    // the inner allocator decides when pages go back.)
    if cfg!(feature = "jemalloc") {
        assert!(arenaprof_alloc::process::purge());
        let rss_after = arenaprof_alloc::process::rss_bytes();
        assert!(
            rss_pinned >= rss_after + 700_000_000,
            "RSS fell from {rss_pinned} to {rss_after} only"
        );
    }
    assert_eq!(o.to_vec(), (0..10).map(|i| i as f64).collect::<Vec<_>>());
}
