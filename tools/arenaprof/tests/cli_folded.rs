//! `arenaprof flame --folded` and the differential outputs of `diff`, on the
//! demo's snapshots: the folded lines, read by inferno's own parser, draw
//! the same totals as the SVG `arenaprof flame` writes, for every kind.

mod common;
use common::{arenaprof, demo_snapshots, outcome, s};
use std::path::Path;

/// The root total an inferno SVG shows: `<title>all (1,234 bytes, 100%)`.
fn svg_total(svg: &str) -> u64 {
    let at = svg.find("<title>all (").expect("a root frame") + "<title>all (".len();
    let n: String = svg[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    n.parse().unwrap()
}

fn stdout_of(args: &[&str]) -> Vec<u8> {
    let o = arenaprof(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

#[test]
fn folded_stacks_reproduce_the_svg_totals_for_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (pinned, _) = demo_snapshots(dir.path());
    for kind in ["--live", "--peak", "--alloc", "--leaks"] {
        let folded = stdout_of(&["flame", s(&pinned), kind, "--folded", "-o", "-"]);
        let svg = String::from_utf8(stdout_of(&["flame", s(&pinned), kind, "-o", "-"])).unwrap();
        // inferno parses the folded lines and draws them: same root total.
        let mut redrawn = Vec::new();
        let mut opts = inferno::flamegraph::Options::default();
        opts.count_name = "bytes".into();
        inferno::flamegraph::from_reader(&mut opts, folded.as_slice(), &mut redrawn).unwrap();
        let redrawn = String::from_utf8(redrawn).unwrap();
        let total = svg_total(&svg);
        assert!(total > 0, "{kind}");
        assert_eq!(svg_total(&redrawn), total, "{kind}");
        // And the counts themselves sum to it.
        let text = String::from_utf8(folded).unwrap();
        let sum: u64 = text
            .lines()
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, total, "{kind}");
        if kind != "--leaks" {
            // Trimmed as the site tables are: the tag, then user code.
            for l in text.lines() {
                let (stack, _) = l.rsplit_once(' ').unwrap();
                let frames: Vec<&str> = stack.split(';').collect();
                assert!(frames[0].starts_with("[tag "), "{l}");
                let leaf = frames.last().unwrap();
                for f in [
                    "alloc::",
                    "__rust",
                    "_rjem",
                    "arenaprof_alloc::",
                    "core::",
                    "std::",
                ] {
                    assert!(!leaf.starts_with(f), "leaf {leaf} in {l}");
                }
                assert!(
                    !frames
                        .iter()
                        .any(|f| *f == "main" || f.starts_with("std::rt::")),
                    "runtime frames at the root: {l}"
                );
            }
        }
    }
}

#[test]
fn diff_draws_a_differential_flame_graph_and_writes_its_folded_stacks() {
    let dir = tempfile::tempdir().unwrap();
    let (pinned, fixed) = demo_snapshots(dir.path());
    let sum = |text: &str, col: usize| -> u64 {
        text.lines()
            .map(|l| {
                let v: Vec<&str> = l.rsplitn(3, ' ').collect();
                v[col].parse::<u64>().unwrap()
            })
            .sum()
    };
    let one = |p: &Path| {
        String::from_utf8(stdout_of(&[
            "flame",
            s(p),
            "--alloc",
            "--folded",
            "-o",
            "-",
        ]))
        .unwrap()
    };
    let d = String::from_utf8(stdout_of(&[
        "diff",
        s(&pinned),
        s(&fixed),
        "--kind",
        "alloc",
        "--folded",
        "-",
    ]))
    .unwrap();
    // `stack BEFORE AFTER`: each column sums to its snapshot's folded total.
    assert!(!d.is_empty());
    assert_eq!(sum(&d, 1), sum(&one(&pinned), 0));
    assert_eq!(sum(&d, 0), sum(&one(&fixed), 0));
    // The SVG and the text diff in one run: the diff still on stdout.
    let svg = dir.path().join("diff.svg");
    let (code, out, err) = outcome(&arenaprof(&[
        "diff",
        s(&pinned),
        s(&fixed),
        "--flame",
        s(&svg),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("retention.wasted_bytes"), "{out}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("Differential"));
    // JSON reports have no stacks: one line, exit 2.
    let json = dir.path().join("r.json");
    let (code, _, err) = outcome(&arenaprof(&[
        "report",
        s(&pinned),
        "--format",
        "json",
        "-o",
        s(&json),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = outcome(&arenaprof(&[
        "diff",
        s(&json),
        s(&fixed),
        "--flame",
        s(&dir.path().join("x.svg")),
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("need snapshots") && err.lines().count() == 1,
        "{err}"
    );
}
