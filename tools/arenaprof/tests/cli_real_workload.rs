//! A real snapshot from this test binary (tracking allocator, every allocation
//! sampled) through `arenaprof flame` and `arenaprof pprof`: the flame graph
//! names the workload's functions, and the pprof totals equal the snapshot's
//! exact counters.

mod common;
use arenaprof::{set_sampling, with_tag, Sampling, Tag};
use arenaprof_report::render::pprof::{
    self, ALLOC_OBJECTS, ALLOC_SPACE, INUSE_OBJECTS, INUSE_SPACE,
};
use common::{arenaprof, outcome, s};
use std::hint::black_box;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

const TAG: &str = "cli-real-workload";

#[inline(never)]
fn arenaprof_flame_distinctive_keeper(tag: Tag) -> Vec<Vec<u8>> {
    with_tag(tag, || (0..64).map(|i| vec![i as u8; 4096 + i]).collect())
}

#[inline(never)]
fn arenaprof_flame_distinctive_churn(tag: Tag) {
    with_tag(tag, || {
        for i in 0..100 {
            black_box(vec![i as u8; 1000]);
        }
    })
}

#[test]
fn flame_and_pprof_from_a_real_snapshot() {
    let tag = Tag::new(TAG);
    set_sampling(Sampling::All);
    let keep = black_box(arenaprof_flame_distinctive_keeper(tag));
    arenaprof_flame_distinctive_churn(tag);
    let snap = arenaprof::snapshot();
    set_sampling(Sampling::Off);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real.arenaprof");
    snap.write(&path).unwrap();
    let exact = snap
        .tags
        .iter()
        .find(|t| t.name == TAG)
        .expect("the workload's tag is in the snapshot")
        .counters;
    assert_eq!(exact.alloc_count, 1 + 64 + 100);
    assert_eq!(
        exact.live_bytes,
        (64 * 4096 + (0..64).sum::<u64>()) + 64 * 24
    );

    // Flame graphs: live bytes show the keeper, cumulative ones the churn too.
    let live = dir.path().join("live.svg");
    let (code, _, err) = outcome(&arenaprof(&["flame", s(&path), "-o", s(&live)]));
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&live).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    assert!(
        svg.contains("arenaprof_flame_distinctive_keeper"),
        "keeper frame missing"
    );
    assert!(svg.contains(&format!("[tag {TAG}]")));
    assert!(
        !svg.contains("arenaprof_flame_distinctive_churn"),
        "freed churn is not live"
    );
    let alloc = dir.path().join("alloc.svg");
    let (code, _, err) = outcome(&arenaprof(&["flame", s(&path), "--alloc", "-o", s(&alloc)]));
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&alloc).unwrap();
    assert!(svg.contains("arenaprof_flame_distinctive_churn"));
    assert!(svg.contains("arenaprof_flame_distinctive_keeper"));

    // pprof: decode our own messages after gunzip; totals equal the snapshot's.
    let pb = dir.path().join("heap.pb.gz");
    let (code, _, err) = outcome(&arenaprof(&["pprof", s(&path), "-o", s(&pb)]));
    assert_eq!(code, 0, "{err}");
    let p = pprof::decode_gzip(&std::fs::read(&pb).unwrap()).unwrap();
    let st = |i: i64| p.string_table[i as usize].as_str();
    let types: Vec<(&str, &str)> = p
        .sample_type
        .iter()
        .map(|v| (st(v.r#type), st(v.unit)))
        .collect();
    assert_eq!(
        types,
        [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes")
        ]
    );
    assert_eq!(st(p.default_sample_type), "inuse_space");
    // All samples together equal the snapshot's sampled records (weight 1 each).
    let sum = |k: usize| p.sample.iter().map(|x| x.value[k]).sum::<i64>();
    let recs = &snap.heap.samples;
    assert!(recs.iter().all(|r| r.weight == 1.0));
    assert_eq!(sum(ALLOC_OBJECTS), recs.len() as i64);
    assert_eq!(
        sum(ALLOC_SPACE),
        recs.iter().map(|r| r.size as i64).sum::<i64>()
    );
    let live_recs = recs.iter().filter(|r| r.free_ns.is_none());
    assert_eq!(sum(INUSE_OBJECTS), live_recs.clone().count() as i64);
    assert_eq!(
        sum(INUSE_SPACE),
        live_recs.map(|r| r.size as i64).sum::<i64>()
    );
    // The workload's tag label carries exactly its counters.
    let tagged: Vec<_> = p
        .sample
        .iter()
        .filter(|x| {
            x.label
                .iter()
                .any(|l| st(l.key) == "tag" && st(l.str) == TAG)
        })
        .collect();
    let tsum = |k: usize| tagged.iter().map(|x| x.value[k]).sum::<i64>() as u64;
    assert_eq!(tsum(ALLOC_OBJECTS), exact.alloc_count);
    assert_eq!(tsum(ALLOC_SPACE), exact.allocated_bytes);
    assert_eq!(tsum(INUSE_OBJECTS), exact.live_count());
    assert_eq!(tsum(INUSE_SPACE), exact.live_bytes);
    assert!(tagged
        .iter()
        .all(|x| x.label.iter().any(|l| st(l.key) == "thread")));
    // Locations resolve to functions: the keeper is among them.
    assert!(p
        .function
        .iter()
        .any(|f| st(f.name).contains("arenaprof_flame_distinctive_keeper")));
    drop(keep);
}
