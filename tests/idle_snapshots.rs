//! Snapshots are the profiler's work (issue #11, acceptance 3): snapshots of
//! an idle program, each built and written as `Profiler` does, differ in no
//! rung of the memory ladder attributed to the program.

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

/// The rungs that are the profiler's own (its heap, headers and tables).
fn profilers(key: &str) -> bool {
    key.starts_with("memory.gap.profiler_") || key == "overhead.total_bytes"
}

#[test]
fn idle_program_snapshots_do_not_change_its_figures() {
    arenaprof::set_sampling(arenaprof::Sampling::Bytes { mean: 64 << 10 });
    let keep: Vec<Vec<u8>> = (0..16).map(|i| vec![i as u8; 64 << 10]).collect();
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<_> = (0..4)
        .map(|i| dir.path().join(format!("s{i}.arenaprof")))
        .collect();
    // Nothing else runs between the snapshots. The first one of a process
    // also pays one-time costs (the profiler's code paged in, its arena
    // created, jemalloc's thread-cache GC run by its allocations): it is the
    // baseline, not compared.
    for p in &paths {
        arenaprof::plumbing::untracked(|| arenaprof::snapshot().write(p)).unwrap();
    }
    let opts = arenaprof_report::Options::default();
    let reports: Vec<_> = paths
        .iter()
        .map(|p| {
            let s = arenaprof::snapshot::Snapshot::read(p).unwrap();
            arenaprof_report::analyze(&s, &opts)
        })
        .collect();
    for pair in reports[1..].windows(2) {
        let d = arenaprof_report::diff::diff(&pair[0], &pair[1]);
        let text = arenaprof_report::render::diff::text(&d, Default::default()).unwrap();
        let rungs: Vec<_> = d.memory.iter().filter(|r| !profilers(&r.key)).collect();
        assert!(rungs.len() >= 6, "{text}");
        for r in rungs {
            // One page: the profiler's arena figures are taken out of the
            // process's, and its pages move as its heap does.
            assert!(
                r.delta.abs() <= 4096 + 256,
                "{} changed by {} B between idle snapshots:\n{text}",
                r.key,
                r.delta
            );
        }
        let t = &d.totals;
        assert_eq!(t[0].key, "totals.live_bytes");
        assert_eq!(t[0].delta, 0, "{text}");
        // Nothing the program holds looks like a regression: the whole
        // program part of the ladder moved by less than two pages.
        let program: i64 = d
            .memory
            .iter()
            .filter(|r| !profilers(&r.key))
            .map(|r| r.delta)
            .sum();
        assert!(
            program.abs() <= 8192,
            "program rungs moved {program} B:\n{text}"
        );
    }
    // The dirty pages a snapshot leaves are not the program's: none at all
    // after four snapshots of a 1 MiB program (46 MiB before the profiler
    // had its own arena).
    let last = &reports[3].memory.gap;
    let dirty = last.iter().find(|g| g.name == "dirty_unpurged").unwrap();
    assert!(dirty.bytes <= 1 << 20, "dirty_unpurged {} B", dirty.bytes);
    // The overhead line is a share of RSS, so it stays meaningful (< 100%).
    let o = &reports[3].overhead;
    assert!(o.percent_of_rss > 0.0 && o.percent_of_rss < 100.0, "{o:?}");
    drop(keep);
}
