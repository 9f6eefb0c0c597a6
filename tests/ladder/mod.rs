//! The memory ladder of a program holding a written 512 MiB `Vec`, checked
//! on the report: the `tracked` rung holds it, `check --max-outside 64MiB`
//! passes, every rung is >= 0 and the rungs sum to RSS within 2%. Run with
//! jemalloc inside (`ladder_jemalloc.rs`) and the system allocator inside
//! (`ladder_system.rs`), with jemalloc linked either way.

use arenaprof_report::check::{check, Thresholds};
use arenaprof_report::{analyze, Options};

/// Runs the scenario under whatever allocator the test binary installed;
/// returns the allocator source the ladder used.
pub fn written_512_mib_is_tracked() -> String {
    let _p = arenaprof::Profiler::from_env();
    let mut v = vec![0u8; 512 << 20];
    for i in (0..v.len()).step_by(4096) {
        v[i] = (i / 4096) as u8 | 1;
    }
    let snap = arenaprof::snapshot();
    assert!(snap.native.measured, "{:?}", snap.native.notes);
    let r = analyze(&snap, &Options::default());
    let m = &r.memory;
    println!(
        "{}: {:?}",
        snap.native.allocator_source,
        m.gap.iter().map(|g| (&g.name, g.bytes)).collect::<Vec<_>>()
    );
    let tracked = m.gap.iter().find(|g| g.name == "tracked").unwrap().bytes;
    assert!(tracked >= 500 << 20, "tracked rung {tracked}: {:?}", m.gap);
    assert!(m.gap.iter().all(|g| g.bytes >= 0), "{:?}", m.gap);
    let sum: i64 = m.gap.iter().map(|g| g.bytes).sum();
    let rss = m.rss_bytes;
    assert!(
        (sum as u64).abs_diff(rss) as f64 <= 0.02 * rss as f64,
        "ladder {sum} vs RSS {rss}: {:?}",
        m.gap
    );
    let limits = Thresholds {
        max_outside: Some(64 << 20),
        ..Default::default()
    };
    let out = check(&r, &limits);
    assert!(
        out.violations.is_empty(),
        "check --max-outside 64MiB: {:?}; outside rows {:?}",
        out.violations,
        m.outside_allocator
    );
    assert_eq!(v[4096], 1, "the written pages are kept");
    snap.native.allocator_source.clone()
}
