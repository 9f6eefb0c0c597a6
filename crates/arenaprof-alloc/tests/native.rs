//! Memory outside the allocator in the allocator's snapshot: the mappings
//! are measured, the profiler's own tables are named as its own, the
//! timeline carries VmSize and RSS, and `Profiler::from_env` installs the
//! `mmap` hooks.

use arenaprof_alloc::{snapshot, timeline, with_tag, Profiler, Tag, TrackingAlloc};
use arenaprof_snapshot::GroupKind;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

#[test]
fn snapshots_measure_the_mappings_and_name_the_profilers_tables() {
    let _p = Profiler::from_env();
    assert!(arenaprof_native::hooks::is_installed());
    let tag = Tag::new("native-test");
    let v = with_tag(tag, || vec![1u8; 8 << 20]);
    timeline::mark("after 8 MiB");
    let s = snapshot();
    let n = &s.native;
    assert!(n.measured, "{:?}", n.notes);
    assert!(n.hooks_installed);
    assert!(n.vm_size_bytes >= n.rss_bytes && n.rss_bytes > 0);
    // Every rung is a measurement (u64: never negative); they sum to the
    // mappings' RSS, within 2% of statm's.
    let sum: u64 = n.ladder.iter().map(|r| r.bytes).sum();
    assert_eq!(sum, n.mappings_rss_bytes);
    assert!(sum.abs_diff(n.rss_bytes) as f64 <= 0.02 * n.rss_bytes as f64);
    let tracked = n.ladder.iter().find(|r| r.key == "tracked").unwrap();
    assert!(tracked.bytes >= 8 << 20, "{:?}", n.ladder);
    // The counter rows and the timeline ring are the profiler's.
    let prof = n
        .groups
        .iter()
        .find(|g| g.kind == GroupKind::Profiler)
        .expect("profiler group");
    assert!(prof.virtual_bytes >= s.overhead.table_bytes, "{prof:?}");
    // VmSize and RSS for every timeline point.
    assert_eq!(n.series.len(), s.timeline.points.len());
    assert!(n
        .series
        .iter()
        .zip(&s.timeline.points)
        .all(|(a, b)| a.t_ns == b.t_ns));
    let mark = s
        .timeline
        .marks
        .iter()
        .find(|m| m.label == "after 8 MiB")
        .unwrap();
    let at = n.series.iter().find(|p| p.t_ns == mark.t_ns).unwrap();
    assert!(at.rss_bytes >= 8 << 20 && at.vm_size_bytes >= at.rss_bytes);
    // It round-trips through the file format.
    let back = arenaprof_snapshot::Snapshot::from_bytes(&s.to_bytes().unwrap()).unwrap();
    assert_eq!(back.native, s.native);
    drop(v);
}
