//! Retention at its worst moment, end to end (issue 12, acceptance 1): the
//! program of `examples/retention_worst.rs` (compiled into this test and
//! run as a child process, `Profiler::from_env()` its first local, the
//! snapshot written when its `main` returns) pins 100 MB through a chain
//! of views for most of its run and drops them all before returning.
//! `arenaprof report` names the arena at the worst moment, its wasted
//! bytes within 1%, the chain with each file:line, a time between the
//! marks around the plateau, and 0 wasted at the end; `arenaprof check
//! --max-wasted 10MiB` exits 1 (and 0 with `--at-end`).
//!
//! A test without libtest's harness: its `main` is either the checks or,
//! with `RETENTION_WORST_CHILD` set, the example's `main`.

#[path = "../../../examples/retention_worst.rs"]
#[allow(dead_code)]
mod program;

mod common;
use common::{arenaprof, outcome};
use serde_json::Value;
use std::process::Command;

const CHILD: &str = "RETENTION_WORST_CHILD";

/// `(file, line)` of a site string `file:line:col`.
fn file_line(site: &str) -> (String, u32) {
    let mut it = site.rsplitn(3, ':');
    let _col = it.next();
    let line = it.next().unwrap().parse().unwrap();
    (it.next().unwrap().to_owned(), line)
}

/// The 1-based line of the first line of `src` containing `needle`.
fn line_of(src: &str, needle: &str) -> u32 {
    src.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the example")) as u32
        + 1
}

fn main() {
    if std::env::var_os(CHILD).is_some() {
        program::main();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("worst.arenaprof");
    let status = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, "1")
        .env("ARENAPROF_OUT", &out)
        .status()
        .unwrap();
    assert!(status.success(), "the program failed: {status}");
    let path = out.to_str().unwrap();

    let (code, json, err) = outcome(&arenaprof(&["report", path, "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&json).unwrap();

    // At the end: nothing is pinned any more.
    assert_eq!(r["retention"]["wasted_bytes"], 0, "{}", r["retention"]);

    // At the worst moment: the 100 MB arena, named, its bytes within 1%.
    let w = &r["retention_worst"];
    assert!(w.is_object(), "no retention_worst: {w}");
    let capacity = program::N as u64 * 8;
    assert_eq!(w["arenas"], 1, "{w}");
    let a = w["arena_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["capacity_bytes"] == capacity)
        .unwrap_or_else(|| panic!("the 100 MB arena is not at the worst: {w}"));
    assert_eq!(a["op"], "arange");
    assert_eq!(a["owner_alive"], false);
    let wasted = a["wasted_bytes"].as_u64().unwrap();
    assert_eq!(wasted, capacity - 80, "2x5 f64 reachable");
    let total = w["wasted_bytes"].as_u64().unwrap();
    assert!(
        total.abs_diff(capacity) * 100 <= capacity,
        "{total} vs {capacity}"
    );

    // The chain, root first, with each file:line of the example.
    let src = include_str!("../../../examples/retention_worst.rs");
    let expect = [
        ("arange", line_of(src, "Array::<f64>::arange(N)")),
        ("reshape", line_of(src, "a.reshape(")),
        ("slice", line_of(src, "m.slice(")),
        ("t()", line_of(src, "corner.t()")),
    ];
    let (file, line) = file_line(a["site"].as_str().unwrap());
    assert!(file.ends_with("examples/retention_worst.rs"), "{file}");
    assert_eq!(line, expect[0].1);
    let rt = &a["retainers"][0];
    let chain = rt["chain"].as_array().unwrap();
    assert_eq!(chain.len(), expect.len(), "{chain:?}");
    for (step, (op, line)) in chain.iter().zip(expect) {
        assert!(
            step["op"].as_str().unwrap().starts_with(op),
            "{step} vs {op}"
        );
        let (f, l) = file_line(step["site"].as_str().unwrap());
        assert!(f.ends_with("examples/retention_worst.rs"), "{f}");
        assert_eq!(l, line, "{step}");
    }

    // Its time lies inside the plateau: after the owner was dropped (inside
    // `pin`, between the marks "pinning" and "pinned") and before the
    // last view was ("releasing").
    let marks = r["timeline"]["marks"].as_array().unwrap();
    let mark = |label: &str| {
        marks
            .iter()
            .find(|m| m["label"] == label)
            .unwrap_or_else(|| panic!("no mark {label}"))["t_ns"]
            .as_u64()
            .unwrap()
    };
    let t = w["t_ns"].as_u64().unwrap();
    assert!(mark("pinning") <= t && t <= mark("pinned"), "{t} {marks:?}");
    assert!(t < mark("releasing"));
    assert_eq!(
        w["nearest_mark"]["label"], "pinned",
        "{}",
        w["nearest_mark"]
    );

    // The wasted-bytes series shows the plateau: about 100 MB from the
    // worst moment until the release, 0 after it.
    let series = r["timeline"]["wasted"].as_array().unwrap();
    let at = |t_ns: u64| {
        series
            .iter()
            .take_while(|p| p["t_ns"].as_u64().unwrap() <= t_ns)
            .last()
            .map_or(0, |p| p["wasted_bytes"].as_u64().unwrap())
    };
    assert_eq!(at(mark("pinned")), capacity - 80, "{series:?}");
    assert_eq!(at(mark("releasing")), capacity - 80, "{series:?}");
    assert_eq!(at(u64::MAX), 0, "{series:?}");

    // The text report shows both moments.
    let (code, text, err) = outcome(&arenaprof(&["report", path]));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("RETENTION AT WORST: at "), "{text}");
    assert!(text.contains("after mark \"pinned\"") || text.contains("before mark \"pinned\""));
    assert!(text.contains("RETENTION AT END: 0 arenas"), "{text}");
    assert!(text.contains("examples/retention_worst.rs"), "{text}");

    // check gates on the worst by default, on the end with --at-end.
    let (code, _, err) = outcome(&arenaprof(&["check", path, "--max-wasted", "10MiB"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("retention_worst.wasted_bytes") || err.is_empty());
    let o = arenaprof(&["check", path, "--max-wasted", "10MiB"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains("retention_worst.wasted_bytes"), "{all}");
    assert!(all.contains("retention_worst.rs"), "{all}");
    let (code, _, err) = outcome(&arenaprof(&[
        "check",
        path,
        "--max-wasted",
        "10MiB",
        "--at-end",
    ]));
    assert_eq!(code, 0, "{err}");
    println!("retention_worst: ok");
}
