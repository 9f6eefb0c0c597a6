//! `arenaprof report` and `check` on memory outside the allocator: the
//! text and JSON sections, `--max-outside` and `--max-virtual`, and a
//! version-1 snapshot (no measurements) that still reports and fails those
//! limits with a message instead of passing them.

mod common;
use arenaprof_report::fixtures;
use common::{arenaprof, outcome, s, write};

#[test]
fn report_shows_outside_memory_and_blas() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let (code, out, err) = outcome(&arenaprof(&["report", s(&p)]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("MEMORY OUTSIDE THE ALLOCATOR ("), "{out}");
    assert!(out.contains("BLAS (runtimes loaded in the process)"));
    let (code, json, _) = outcome(&arenaprof(&["report", s(&p), "--format", "json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["memory"]["outside_allocator"][0]["object"].is_string());
    assert_eq!(v["blas"][0]["version"], "0.3.21");
    // check reads the same fields from the saved JSON report.
    let j = dir.path().join("r.json");
    std::fs::write(&j, json).unwrap();
    let (code, out, _) = outcome(&arenaprof(&["check", s(&j), "--max-outside", "1GiB"]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn check_max_outside_and_max_virtual() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        s(&p),
        "--max-outside",
        "64MiB",
        "--max-virtual",
        "8GiB",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ok: memory.outside_allocator_resident_bytes = "),
        "{out}"
    );
    assert!(out.contains("memory.virtual_bytes = "), "{out}");
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        s(&p),
        "--max-outside",
        "1MiB",
        "--max-virtual",
        "1GiB",
    ]));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("FAIL: memory.outside_allocator_resident_bytes = "));
    assert!(
        lines[1].starts_with("FAIL: memory.virtual_bytes = 3."),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("largest is /usr/lib/x86_64-linux-gnu/libopenblas.so.0 (anonymous memory mapped by libopenblas.so.0, 2.0 GiB virtual in 16 mappings)"), "{}", lines[1]);
}

#[test]
fn version_1_snapshot_reports_and_cannot_pass_the_new_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.arenaprof");
    std::fs::write(
        &p,
        arenaprof_snapshot::to_bytes_v1(&fixtures::pinned_views()).unwrap(),
    )
    .unwrap();
    let (code, out, err) = outcome(&arenaprof(&["report", s(&p)]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("MEMORY OUTSIDE THE ALLOCATOR: not measured (snapshot format version 1"));
    let (code, out, _) = outcome(&arenaprof(&["check", s(&p), "--max-wasted", "1GiB"]));
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = outcome(&arenaprof(&["check", s(&p), "--max-virtual", "1GiB"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "memory.virtual_bytes was not measured, so --max-virtual 1.0 GiB cannot be checked"
        ),
        "{out}"
    );
}
