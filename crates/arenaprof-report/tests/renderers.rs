//! Renderers on the synthetic "views pin arenas" snapshot: flame graphs
//! contain the expected frames, pprof totals equal the snapshot's sampled
//! estimates, JSON round-trips, and diff/check read the report fields.

use arenaprof_report::check::{check, Thresholds};
use arenaprof_report::fixtures::{self, CAPACITY, GEMM_BYTES, VIEW_BYTES};
use arenaprof_report::render::{flame, html, json, pprof, text};
use arenaprof_report::{analyze, diff, Kind, Options, Report};
use common::{fold, profile};

mod common;

fn svg(kind: Kind) -> String {
    let mut out = Vec::new();
    let folded = fold(&fixtures::pinned_views(), None, kind);
    flame::render(&folded, Default::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn flame_graphs_contain_the_expected_frames() {
    let live = svg(Kind::Live);
    for f in [
        "demo_app::main",
        "demo_app::load_signal",
        "arenaprof_gemm::pool::Workspace::new",
        "[tag array-base]",
        "[tag gemm-workspace]",
    ] {
        assert!(live.contains(f), "live flame graph lacks {f}");
    }
    // Trimmed from the leaf as the site tables trim: the array crate's and
    // the standard library's allocation frames are not drawn.
    for f in ["arenaprof_array::Array", "alloc::raw_vec"] {
        assert!(!live.contains(f), "live flame graph draws {f}");
    }
    // parse_config's allocations were all freed: not live, but allocated.
    assert!(!live.contains("demo_app::parse_config"));
    assert!(svg(Kind::Alloc).contains("demo_app::parse_config"));
    assert!(svg(Kind::Peak).contains("demo_app::multiply"));
    let leaks = svg(Kind::Leaks);
    for f in [
        "arena #1 arange at src/main.rs:10:13",
        "#2 slice[1000..] at src/main.rs:11:15",
        "#3 t() at src/main.rs:12:15",
        "#4 slice[..10] at src/main.rs:14:15",
    ] {
        assert!(leaks.contains(f), "leaks flame graph lacks {f}");
    }
    // Folded lines: root first, bytes last.
    let folded = fold(&fixtures::pinned_views(), None, Kind::Live).lines;
    assert!(folded.contains(&format!(
        "[tag array-base];demo_app::main;demo_app::load_signal {CAPACITY}"
    )));
    assert!(folded.contains(&format!(
        "[tag gemm-workspace];demo_app::main;demo_app::multiply;arenaprof_gemm::pool::Workspace::new {GEMM_BYTES}"
    )));
}

#[test]
fn pprof_totals_equal_the_snapshot_estimates() {
    let snap = fixtures::pinned_views();
    let p = pprof::decode_gzip(&pprof::to_gzip(&profile(&snap)).unwrap()).unwrap();
    let sum = |k: usize| p.sample.iter().map(|s| s.value[k]).sum::<i64>() as f64;
    let est = |live: bool, bytes: bool| -> f64 {
        snap.heap
            .samples
            .iter()
            .filter(|s| !live || s.free_ns.is_none())
            .map(|s| {
                if bytes {
                    s.weight * s.size as f64
                } else {
                    s.weight
                }
            })
            .sum()
    };
    // Each pprof value is rounded once per (stack, tag, thread).
    let n = p.sample.len() as f64;
    assert!((sum(pprof::ALLOC_SPACE) - est(false, true)).abs() <= n);
    assert!((sum(pprof::ALLOC_OBJECTS) - est(false, false)).abs() <= n);
    assert!((sum(pprof::INUSE_SPACE) - est(true, true)).abs() <= n);
    assert!((sum(pprof::INUSE_OBJECTS) - est(true, false)).abs() <= n);
    // The weight-1 records are exact: the arange and the 16 GEMM workspaces.
    let st = |i: i64| p.string_table[i as usize].as_str();
    let by_tag = |tag: &str| -> i64 {
        p.sample
            .iter()
            .filter(|s| {
                s.label
                    .iter()
                    .any(|l| st(l.key) == "tag" && st(l.str) == tag)
            })
            .map(|s| s.value[pprof::INUSE_SPACE])
            .sum()
    };
    assert_eq!(by_tag("gemm-workspace") as u64, GEMM_BYTES);
    assert_eq!(p.string_table[0], "");
    assert_eq!(st(p.period_type.as_ref().unwrap().r#type), "space");
    assert_eq!(p.period, 512 << 10);
    // Every location id a sample names exists.
    let ids: std::collections::HashSet<u64> = p.location.iter().map(|l| l.id).collect();
    assert!(p
        .sample
        .iter()
        .flat_map(|s| &s.location_id)
        .all(|i| ids.contains(i)));
}

#[test]
fn json_round_trips_and_text_and_html_agree() {
    let r = analyze(&fixtures::pinned_views(), &Options::default());
    let j = json::render(&r, Default::default()).unwrap();
    let back: Report = serde_json::from_str(&j).unwrap();
    assert_eq!(back, r);
    let t = text::render(&r, Default::default()).unwrap();
    let h = html::render(&r, Default::default()).unwrap();
    for s in [
        "762.9 MiB",
        "src/main.rs:14:15",
        "first matmul",
        "demo_app::load_signal",
    ] {
        assert!(t.contains(s) && h.contains(s), "{s}");
    }
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // Per-thread sizes, estimated from sampled records: the GEMM worker made
    // sixteen 3 MiB workspaces.
    let worker = r
        .threads
        .iter()
        .find(|t| t.name == "gemm-worker-0")
        .unwrap();
    let p: Vec<(f64, u64)> = worker
        .sampled_size_percentiles
        .iter()
        .map(|p| (p.p, p.value))
        .collect();
    assert_eq!(
        p,
        [
            (50.0, 3 << 20),
            (90.0, 3 << 20),
            (99.0, 3 << 20),
            (100.0, 3 << 20)
        ]
    );
    let main = r.threads.iter().find(|t| t.name == "main").unwrap();
    assert_eq!(main.sampled_size_percentiles[3].value, CAPACITY);
    // The text THREADS table has a column for each of those cells: the
    // worker's row ends with its top tag, after its p50~ and p99~ sizes.
    let row = t
        .lines()
        .find(|l| l.trim_start().starts_with('#') && l.contains("gemm-worker-0"))
        .expect("worker row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.last(), Some(&"gemm-workspace"), "{row}");
    assert_eq!(
        cells[cells.len() - 5..cells.len() - 1],
        ["3.0", "MiB", "3.0", "MiB"],
        "{row}"
    );
    let head = t.lines().find(|l| l.contains("top tag")).unwrap();
    assert!(head.contains("p50~") && head.contains("p99~"), "{head}");
}

#[test]
fn check_and_diff_use_the_report_fields() {
    let before = analyze(&fixtures::pinned_views(), &Options::default());
    let after = analyze(&fixtures::fixed_views(), &Options::default());
    let limits = Thresholds {
        max_wasted: Some(10 << 20),
        max_tag: vec![("gemm-workspace".into(), 64 << 20)],
        max_tag_peak: vec![("nope".into(), 1)],
        ..Default::default()
    };
    let c = check(&before, &limits);
    assert_eq!(c.violations.len(), 1);
    // The worst moment by default (the fixture's worst is its end state).
    assert_eq!(c.violations[0].field, "retention_worst.wasted_bytes");
    assert_eq!(c.violations[0].value, CAPACITY - VIEW_BYTES);
    assert!(
        c.violations[0]
            .message
            .contains(" at 1.00 s: largest is arena #"),
        "{}",
        c.violations[0].message
    );
    let at_end = Thresholds {
        wasted_at_end: true,
        ..limits.clone()
    };
    let e = check(&before, &at_end);
    assert_eq!(e.violations[0].field, "retention.wasted_bytes");
    assert_eq!(e.violations[0].value, CAPACITY - VIEW_BYTES);
    // No worst picture (a format-2 snapshot): the end state is gated.
    let mut old = fixtures::pinned_views();
    old.retention = Default::default();
    let o = check(&analyze(&old, &Options::default()), &limits);
    assert_eq!(o.violations[0].field, "retention.wasted_bytes");
    assert_eq!(c.passed.len(), 2);
    assert!(c.notes[0].contains("\"nope\" does not occur"));
    assert!(check(&after, &limits).violations.is_empty());
    let d = diff::diff(&before, &after);
    let wasted = d
        .totals
        .iter()
        .find(|r| r.key == "retention.wasted_bytes")
        .unwrap();
    assert_eq!(wasted.delta, -((CAPACITY - VIEW_BYTES) as i64));
    let tag = d
        .tags
        .iter()
        .find(|r| r.key == "array-base" && r.metric == "live_bytes")
        .unwrap();
    assert_eq!(tag.delta, VIEW_BYTES as i64 - CAPACITY as i64);
    // Sorted by growth: the new to_owned arena first, the freed arange last.
    assert_eq!(
        d.arenas.first().unwrap().key,
        "to_owned at src/main.rs:14:32"
    );
    assert_eq!(d.arenas.last().unwrap().key, "arange at src/main.rs:10:13");
}

#[test]
fn check_json_marks_an_unmeasured_figure_null_and_failed() {
    let mut snap = fixtures::pinned_views();
    snap.native = Default::default();
    let r = analyze(&snap, &Options::default());
    let limits = Thresholds {
        max_outside: Some(1),
        max_live: Some(u64::MAX),
        ..Default::default()
    };
    let out = check(&r, &limits);
    let v: serde_json::Value = serde_json::from_str(&out.to_json()).unwrap();
    assert_eq!(v["pass"], false);
    let limits = v["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 2);
    let outside = limits
        .iter()
        .find(|l| l["limit_flag"] == "--max-outside")
        .unwrap();
    assert!(outside["measured"].is_null());
    assert_eq!(outside["pass"], false);
    let live = limits
        .iter()
        .find(|l| l["limit_flag"] == "--max-live")
        .unwrap();
    assert_eq!(live["measured"], snap.total.live_bytes);
    assert_eq!(live["pass"], true);
}

#[test]
fn pprof_carries_the_snapshots_mappings_and_a_bytes_label() {
    let snap = fixtures::pinned_views();
    let p = profile(&snap);
    let st = |i: i64| p.string_table[i as usize].as_str();
    let m = &snap.code.mappings[0];
    assert_eq!(p.mapping.len(), snap.code.mappings.len());
    assert_eq!(
        (p.mapping[0].memory_start, p.mapping[0].memory_limit),
        (m.start, m.limit)
    );
    assert_eq!(p.mapping[0].file_offset, m.file_offset);
    assert_eq!(st(p.mapping[0].filename), m.path);
    assert_eq!(st(p.mapping[0].build_id), m.build_id);
    // Each sample's bytes label is the size of the records it sums (objects
    // are rounded estimates: within one object's bytes).
    for x in &p.sample {
        let b = x.label.iter().find(|l| st(l.key) == "bytes").unwrap();
        assert_eq!(st(b.num_unit), "bytes");
        let objects = x.value[pprof::ALLOC_OBJECTS];
        assert!(objects > 0);
        assert!(
            (x.value[pprof::ALLOC_SPACE] - objects * b.num).abs() <= b.num,
            "{x:?}"
        );
    }
    // Without a code section (a version-2 file): one mapping, the program.
    let mut old = snap.clone();
    old.code = Default::default();
    let p = profile(&old);
    assert_eq!(p.mapping.len(), 1);
    assert_eq!(p.string_table[p.mapping[0].filename as usize], "demo_app");
    assert_eq!(p.mapping[0].build_id, 0);
}
