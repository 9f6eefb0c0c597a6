//! `arenaprof report`, `check` and `diff` on the synthetic "views pin arenas"
//! snapshot (an 800 MB arange pinned through slice → t() → slice).

mod common;
use arenaprof_report::fixtures::{self, CAPACITY, VIEW_BYTES};
use common::{arenaprof, outcome, s, write};
use serde_json::Value;

fn json_report(path: &str) -> Value {
    let (code, out, err) = outcome(&arenaprof(&["report", path, "--format", "json"]));
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_str(&out).expect("report is JSON")
}

#[test]
fn json_names_the_pinned_arena_its_bytes_chain_sites_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let r = json_report(s(&p));
    assert_eq!(r["schema"], "arenaprof-report");
    assert_eq!(r["schema_version"], 1);
    let a = &r["arenas"][0];
    assert_eq!(a["id"], 1);
    assert_eq!(a["op"], "arange");
    assert_eq!(a["site"], "src/main.rs:10:13");
    assert_eq!(a["capacity_bytes"], CAPACITY);
    assert_eq!(a["reachable_bytes"], VIEW_BYTES);
    assert_eq!(a["wasted_bytes"], CAPACITY - VIEW_BYTES);
    assert_eq!(a["owner_alive"], false);
    let rt = &a["retainers"][0];
    assert_eq!(rt["view"], 4);
    assert_eq!(rt["site"], "src/main.rs:14:15");
    assert_eq!(rt["exclusive_retained_bytes"], CAPACITY);
    let chain: Vec<(String, String, bool)> = rt["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["op"].as_str().unwrap().to_owned(),
                c["site"].as_str().unwrap().to_owned(),
                c["alive"].as_bool().unwrap(),
            )
        })
        .collect();
    let expect = [
        ("arange", "src/main.rs:10:13", false),
        ("slice[1000..]", "src/main.rs:11:15", false),
        ("t()", "src/main.rs:12:15", false),
        ("slice[..10]", "src/main.rs:14:15", true),
    ];
    assert_eq!(chain.len(), expect.len());
    for (got, want) in chain.iter().zip(expect) {
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2), want);
    }
    assert_eq!(
        rt["fix"]["text"],
        "`to_owned()` at src/main.rs:14 frees 762.9 MiB (copies 80 B)"
    );
    assert_eq!(rt["fix"]["frees_bytes"], CAPACITY);
    assert_eq!(r["retention"]["wasted_bytes"], CAPACITY - VIEW_BYTES);
    assert_eq!(r["retention"]["pinned_arenas"], 1);
    // Tags, timeline jump, sites.
    let gemm = r["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "gemm-workspace")
        .unwrap();
    assert_eq!(gemm["live_bytes"], 48u64 << 20);
    assert_eq!(gemm["peak_bytes"], 48u64 << 20);
    let jumps: Vec<&str> = r["timeline"]["jumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["description"].as_str().unwrap())
        .collect();
    assert!(
        jumps.contains(&"gemm-workspace +48.0 MiB at 1.20 s (mark: first matmul)"),
        "{jumps:?}"
    );
    assert_eq!(
        r["sites"]["live"][0]["site"],
        "demo_app::load_signal (src/main.rs:10)"
    );
    assert_eq!(r["sites"]["at_peak"][1]["tag"], "gemm-workspace");
    // The memory ladder sums to RSS.
    let gap: i64 = r["memory"]["gap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["bytes"].as_i64().unwrap())
        .sum();
    assert_eq!(gap as u64, r["memory"]["rss_bytes"].as_u64().unwrap());
}

#[test]
fn text_report_shows_the_chain_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    // Unwrapped (--width 0): each finding on one line.
    let (code, out, _) = outcome(&arenaprof(&["report", s(&p), "--width", "0"]));
    assert_eq!(code, 0);
    assert!(out.contains("arena #1 arange i64[100000000] at src/main.rs:10:13: capacity 762.9 MiB, reachable 80 B, wasted 762.9 MiB, owner dropped"), "{out}");
    assert!(out.contains("-> #3 t() at src/main.rs:12:15 [dropped]"));
    assert!(out.contains("fix: `to_owned()` at src/main.rs:14 frees 762.9 MiB (copies 80 B)"));
    assert!(out.contains("gemm-workspace +48.0 MiB at 1.20 s (mark: first matmul)"));
    // -o writes the same text to a file.
    let f = dir.path().join("r.txt");
    let (code, stdout, _) = outcome(&arenaprof(&["report", s(&p), "--width", "0", "-o", s(&f)]));
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), out);
}

#[test]
fn check_fails_on_pinned_views_and_passes_after_to_owned() {
    let dir = tempfile::tempdir().unwrap();
    let pinned = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let fixed = write(dir.path(), "fixed.arenaprof", &fixtures::fixed_views());
    let (code, out, _) = outcome(&arenaprof(&["check", s(&pinned), "--max-wasted", "10MiB"]));
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].starts_with("FAIL: retention_worst.wasted_bytes = 762.9 MiB exceeds --max-wasted 10.0 MiB at 1.00 s: largest is arena #1 (arange at src/main.rs:10:13"), "{out}");
    assert!(lines[0].contains("fix: `to_owned()` at src/main.rs:14"));
    let (code, out, _) = outcome(&arenaprof(&["check", s(&fixed), "--max-wasted", "10MiB"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: retention.wasted_bytes = 0 B within --max-wasted 10.0 MiB"));
    // Two limits violated: two lines.
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        s(&pinned),
        "--max-wasted",
        "1MiB",
        "--max-tag",
        "gemm-workspace=16MiB",
        "--max-tag",
        "untagged=1GiB",
    ]));
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("FAIL: tags[gemm-workspace].live_bytes = 48.0 MiB exceeds --max-tag gemm-workspace=16.0 MiB"), "{out}");
}

#[test]
fn check_and_diff_read_json_reports_too() {
    let dir = tempfile::tempdir().unwrap();
    let pinned = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let fixed = write(dir.path(), "fixed.arenaprof", &fixtures::fixed_views());
    let json = dir.path().join("pinned.json");
    let (code, _, _) = outcome(&arenaprof(&[
        "report",
        s(&pinned),
        "--format",
        "json",
        "-o",
        s(&json),
    ]));
    assert_eq!(code, 0);
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        s(&json),
        "--max-peak",
        "1GiB",
        "--max-live",
        "100MiB",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL: totals.live_bytes = 811.0 MiB exceeds --max-live 100.0 MiB"));
    // A saved JSON report renders again as text.
    let (code, text, _) = outcome(&arenaprof(&["report", s(&json)]));
    assert_eq!(code, 0);
    assert!(text.contains("fix: `to_owned()` at src/main.rs:14 frees 762.9 MiB"));
    let (code, out, _) = outcome(&arenaprof(&["diff", s(&json), s(&fixed)]));
    assert_eq!(code, 0);
    assert!(out.contains("-762.9 MiB"), "{out}");
    assert!(out.contains("arange at src/main.rs:10:13"));
    let (code, out, _) = outcome(&arenaprof(&[
        "diff",
        s(&fixed),
        s(&pinned),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["schema"], "arenaprof-diff");
    let wasted = d["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "retention.wasted_bytes")
        .unwrap();
    assert_eq!(wasted["delta"], CAPACITY - VIEW_BYTES);
    let first_arena = &d["arenas"][0];
    assert_eq!(first_arena["key"], "arange at src/main.rs:10:13");
    assert_eq!(first_arena["metric"], "capacity_bytes");
    assert_eq!(first_arena["delta"], CAPACITY);
}

#[test]
fn check_without_limits_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let (code, _, err) = outcome(&arenaprof(&["check", s(&p)]));
    assert_eq!(code, 2);
    assert!(err.contains("no limit given"));
    let (code, _, err) = outcome(&arenaprof(&["check", s(&p), "--max-wasted", "ten"]));
    assert_eq!(code, 2);
    assert!(err.contains("invalid size"), "{err}");
}

#[test]
fn flame_without_samples_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "empty.arenaprof",
        &arenaprof_snapshot::Snapshot::default(),
    );
    let out = dir.path().join("f.svg");
    let (code, _, err) = outcome(&arenaprof(&["flame", s(&p), "-o", s(&out)]));
    assert_eq!(code, 2);
    assert!(err.contains("nothing to draw: no sampled stacks"), "{err}");
    assert!(!out.exists());
    let (code, _, err) = outcome(&arenaprof(&["flame", s(&p), "--leaks", "-o", s(&out)]));
    assert_eq!(code, 2);
    assert!(err.contains("no arena is pinned"), "{err}");
    // The leaks flame graph of the pinned snapshot shows the chain.
    let p = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let (code, _, err) = outcome(&arenaprof(&["flame", s(&p), "--leaks", "-o", s(&out)]));
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("#3 t() at src/main.rs:12:15"));
}
