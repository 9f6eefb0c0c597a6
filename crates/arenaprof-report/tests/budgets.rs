//! Budgets and bounds, in process: what does not fit is refused with one
//! line naming it, real snapshots use a small part of their budget and come
//! out unchanged, the bounded algorithms agree with the unbounded ones, and
//! text and SVG output hold no control character however the names look.
//! (The CLI runs the generated hostile inputs in `tools/arenaprof/tests/cli_hostile.rs`.)

use arenaprof_report::budget::{Budget, MAX_STACK_DEPTH};
use arenaprof_report::passes::stacks;
use arenaprof_report::passes::timeline;
use arenaprof_report::render::{self, flame, html, json, pprof, text};
use arenaprof_report::sanitize::{is_unsafe, MAX_NAME_CHARS};
use arenaprof_report::{analyze, analyze_within, diff, fixtures, Options};
use arenaprof_report::{Kind, TimelinePointRow};
use arenaprof_snapshot::*;
use proptest::prelude::*;
use std::collections::HashMap;

/// Render options charging `b`.
fn within(b: &mut Budget) -> render::Options<'_> {
    render::Options {
        budget: Some(b),
        ..Default::default()
    }
}

fn budget_of(s: &Snapshot) -> Budget {
    Budget::for_input(s.encoded_len() as u64)
}

#[test]
fn a_padded_timeline_over_the_budget_is_refused_by_name() {
    let mut s = Snapshot::default();
    s.timeline.tags = vec![0; 2_000];
    s.timeline.points = vec![TimelinePoint::default(); 50_000];
    let e = analyze_within(&s, &Options::default(), &mut budget_of(&s)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("over budget: the timeline (2,000 tags × 50,000 points)"),
        "{msg}"
    );
    assert!(msg.contains("64 × input + 64.0 MiB"), "{msg}");
    assert_eq!(msg.lines().count(), 1);
    // The infallible analysis keeps the header and says why it stopped.
    let r = analyze(&s, &Options::default());
    assert!(r.timeline.points.is_empty());
    assert!(r.warnings[0].starts_with("analysis stopped: over budget"));
}

#[test]
fn a_long_name_repeated_per_reference_is_refused() {
    let s = Snapshot {
        tags: vec![TagStats {
            id: 3,
            name: "n".repeat(1 << 20),
            ..Default::default()
        }],
        threads: (0..200)
            .map(|slot| ThreadStats {
                slot,
                tags: vec![ThreadTagStats {
                    tag: 3,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let e = analyze_within(&s, &Options::default(), &mut budget_of(&s)).unwrap_err();
    assert!(e.what.contains("per-tag rows"), "{e}");
    // With room for it, the same snapshot is analysed whole (one row per
    // thread: these 200 exited, unnamed threads would fold into one).
    let all = Options {
        all_threads: true,
        ..Default::default()
    };
    let r = analyze_within(&s, &all, &mut Budget::unlimited()).unwrap();
    assert_eq!(r.threads.len(), 200);
    let folded = analyze_within(&s, &Options::default(), &mut Budget::unlimited()).unwrap();
    assert_eq!(folded.threads.len(), 1);
    assert_eq!(folded.threads[0].exited_folded, 200);
    assert_eq!(r.threads[7].tags[0].tag.len(), 1 << 20);
}

#[test]
fn flame_and_pprof_charge_their_stacks() {
    let mut s = Snapshot::default();
    s.heap.frames = vec![Frame {
        function: "f".repeat(200),
        ..Default::default()
    }];
    s.heap.stacks = vec![Stack {
        frames: vec![0; 100_000],
    }];
    s.heap.samples = (0..5_000u32)
        .map(|i| Sample {
            stack: 0,
            tag: i as u16,
            thread: i,
            size: 8,
            weight: 1.0,
            ..Default::default()
        })
        .collect();
    let mut b = Budget::with_limit(10 << 20);
    let e = stacks::fold(&s, None, Kind::Live, &mut b).unwrap_err();
    assert!(e.what.contains("folded stacks"), "{e}");
    let trimmed = stacks::trim(&s, &mut Budget::unlimited()).unwrap();
    let mut b = Budget::with_limit(1 << 20);
    let e = pprof::render(&s, &trimmed, within(&mut b)).unwrap_err();
    assert!(e.what.contains("pprof"), "{e}");
    // Within the budget: the deep stack keeps its innermost frames.
    let p = pprof::render(&s, &trimmed, Default::default()).unwrap();
    assert!(p
        .sample
        .iter()
        .all(|x| x.location_id.len() == MAX_STACK_DEPTH));
    s.heap.samples.truncate(1);
    let folded = stacks::fold(&s, None, Kind::Live, &mut Budget::unlimited())
        .unwrap()
        .lines;
    assert_eq!(folded.len(), 1);
    let frames: Vec<&str> = folded[0].split(';').collect();
    assert_eq!(frames.len(), 2 + MAX_STACK_DEPTH);
    assert_eq!(
        frames[1],
        format!("[{} outer frames]", 100_000 - MAX_STACK_DEPTH)
    );
}

#[test]
fn real_snapshots_are_unchanged_and_use_little_of_their_budget() {
    let snap = fixtures::pinned_views();
    let mut b = budget_of(&snap);
    let r = analyze_within(&snap, &Options::default(), &mut b).unwrap();
    assert_eq!(r, analyze(&snap, &Options::default()));
    for render in [text::render, html::render, json::render] {
        assert_eq!(
            render(&r, within(&mut b)).unwrap(),
            render(&r, Default::default()).unwrap()
        );
    }
    let leaks = stacks::fold(&snap, Some(&r.arenas), Kind::Leaks, &mut b).unwrap();
    let mut svg = Vec::new();
    flame::render(&leaks, within(&mut b), &mut svg).unwrap();
    let trimmed = stacks::trim(&snap, &mut b).unwrap();
    assert_eq!(
        pprof::render(&snap, &trimmed, within(&mut b)).unwrap(),
        pprof::render(&snap, &trimmed, Default::default()).unwrap()
    );
    assert!(b.used() < b.limit() / 20, "{} of {}", b.used(), b.limit());
}

/// The jumps as the analysis listed them before it kept only the top ones:
/// every rise of every tag, sorted, truncated.
fn jumps_by_full_sort(
    points: &[TimelinePointRow],
    ncol: usize,
    k: usize,
) -> Vec<(u64, u64, u64, usize)> {
    let origin =
        matches!(points.first(), Some(p) if p.t_ns > 0 && p.live_bytes.iter().any(|&b| b > 0));
    let mut pts: Vec<(u64, Vec<u64>)> = Vec::new();
    if origin {
        pts.push((0, vec![0; ncol]));
    }
    pts.extend(points.iter().map(|p| (p.t_ns, p.live_bytes.clone())));
    let mut all = Vec::new();
    for col in 0..ncol {
        let v = |i: usize| pts[i].1.get(col).copied().unwrap_or(0);
        let mut i = 0;
        while i + 1 < pts.len() {
            if v(i + 1) <= v(i) {
                i += 1;
                continue;
            }
            let start = i;
            let mut top = i + 1;
            while top + 1 < pts.len() && v(top + 1) >= v(top) {
                top += 1;
            }
            while top > start + 1 && v(top - 1) == v(top) {
                top -= 1;
            }
            all.push((v(top) - v(start), pts[start].0, pts[top].0, col));
            i = top;
        }
    }
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    all.truncate(k);
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn top_jumps_equal_the_full_sort(
        rows in prop::collection::vec((0u64..50, prop::collection::vec(0u64..6, 0..4)), 0..40),
        k in 0usize..8,
    ) {
        let ncol = 3;
        let mut t = 0;
        let tl = Timeline {
            tags: vec![1, 2, 3],
            points: rows
                .iter()
                .map(|(dt, v)| {
                    t += dt;
                    TimelinePoint { t_ns: t, live_bytes: v.clone(), reason: PointReason::Churn }
                })
                .collect(),
            ..Default::default()
        };
        let info = timeline::analyze(&tl, &HashMap::new(), k, &mut vec![]);
        let got: Vec<(u64, u64, u64, usize)> = info
            .jumps
            .iter()
            .map(|j| (j.delta_bytes, j.from_ns, j.to_ns, info.tags.iter().position(|x| *x == j.tag).unwrap()))
            .collect();
        prop_assert_eq!(got, jumps_by_full_sort(&info.points, ncol, k));
    }
}

const EVIL: &str = "\x1b]0;title\x07\x1b[2J\u{9b}\u{202e}\r\n\t\0\u{fffe}";

#[test]
fn names_are_escaped_and_cut_in_text_and_svg() {
    let mut s = fixtures::pinned_views();
    let long = |p: &str| format!("{p}{EVIL}{}", "z".repeat(1 << 16));
    s.meta.program = long("prog");
    for t in &mut s.tags {
        t.name = long(&t.name);
    }
    for f in &mut s.heap.frames {
        f.function = long(&f.function);
        f.file = long(&f.file);
    }
    for v in &mut s.registry.views {
        v.op = long(&v.op);
        v.site.file = long(&v.site.file);
    }
    for a in &mut s.registry.arenas {
        a.op = long(&a.op);
        a.site.file = long(&a.site.file);
    }
    for m in &mut s.timeline.marks {
        m.label = long(&m.label);
    }
    let r = analyze(&s, &Options::default());
    let t = text::render(&r, Default::default()).unwrap();
    assert_eq!(t.chars().find(|&c| c != '\n' && is_unsafe(c)), None);
    assert!(t.contains("\\x1b]0;title\\x07\\x1b[2J\\u{9b}\\u{202e}\\x0d\\x0a\\x09\\x00\\u{fffe}"));
    // No line holds a whole 64 KiB name: names are cut at MAX_NAME_CHARS.
    let longest = t.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 12 * MAX_NAME_CHARS, "{longest}");
    let d = render::diff::text(&diff::diff(&r, &r), Default::default()).unwrap();
    assert_eq!(d.chars().find(|&c| c != '\n' && is_unsafe(c)), None);
    // JSON keeps every name whole.
    let j = json::render(&r, Default::default()).unwrap();
    assert!(j.contains(&"z".repeat(1 << 16)));
    // SVG: no character outside XML's Char production.
    let xml_ok = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    for kind in [Kind::Live, Kind::Leaks] {
        let folded = stacks::fold(&s, Some(&r.arenas), kind, &mut Budget::unlimited()).unwrap();
        let mut svg = Vec::new();
        flame::render(&folded, Default::default(), &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert_eq!(svg.chars().find(|&c| !xml_ok(c)), None);
        assert!(!svg.contains(&"z".repeat(MAX_NAME_CHARS)), "names are cut");
    }
    let page = html::render(&r, Default::default()).unwrap();
    assert_eq!(page.chars().find(|&c| !xml_ok(c)), None);
}
