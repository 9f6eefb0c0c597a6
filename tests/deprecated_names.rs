//! The 0.2 names still compile for one release and are the 0.3 items
//! (`#[deprecated]`, so a user's build warns with the new name).
#![allow(deprecated)]

#[test]
fn old_names_are_the_new_items() {
    // Modules and types: the same items under both names.
    assert_eq!(arenaprof::limits::MAX_TAGS, arenaprof::capacity::MAX_TAGS);
    assert_eq!(
        arenaprof_alloc::limits::MAX_ROWS,
        arenaprof_alloc::capacity::MAX_ROWS
    );
    let snap = arenaprof::model::Snapshot::default();
    let _: arenaprof::snapshot::Snapshot = snap;
    let rows: Vec<arenaprof::ThreadRow> = arenaprof::stats().threads().to_vec();
    let _: Vec<arenaprof::ThreadCounters> = rows;
    let cell = arenaprof_snapshot::ThreadTagRow::default();
    let _: arenaprof_snapshot::ThreadTagStats = cell;
    let t = arenaprof_report::check::Limits::default();
    let _: arenaprof_report::check::Thresholds = t;
    assert_eq!(
        arenaprof_gemm::budget::FULL_WORKSPACE,
        arenaprof_gemm::sizing::FULL_WORKSPACE
    );
    // Functions: the old ones call the new ones.
    assert_eq!(arenaprof::untracked(|| 7), 7);
    assert_eq!(
        arenaprof::current_thread_slot(),
        arenaprof::plumbing::current_thread_slot()
    );
    assert_eq!(arenaprof::gemm::with_threads(1, || 3), 3);
    let p = arenaprof::Profiler::to_path("x.arenaprof");
    assert_eq!(p.out(), Some(std::path::Path::new("x.arenaprof")));
    std::mem::forget(p);
    assert_eq!(
        arenaprof_report::check::parse_tag_limit("a=1KiB"),
        arenaprof_report::check::parse_tag_threshold("a=1KiB")
    );
}
