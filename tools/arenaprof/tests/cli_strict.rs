//! The scriptable CLI: misspelt tag limits are errors naming the tags there
//! are, `check --format json` is a machine-readable verdict, `-` reads
//! standard input and writes standard output, `diff -o` writes a file, the
//! text report fits its width, and every `--help` has examples.

mod common;
use arenaprof_report::fixtures;
use common::{arenaprof, outcome, s, write};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the binary with `stdin` on standard input (and `env` set).
fn with_stdin(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(args)
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails early may close its end first.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_misspelt_tag_limit_exits_2_naming_the_tags_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.arenaprof", &fixtures::pinned_views());
    let (code, out, err) = outcome(&arenaprof(&[
        "check",
        s(&p),
        "--max-tag",
        "gemm-worksapce=16MiB",
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown tag \"gemm-worksapce\""), "{err}");
    for known in ["untagged", "array-base", "gemm-workspace"] {
        assert!(err.contains(known), "{known} in {err}");
    }
    // Spelt right, the same limit is checked.
    let (code, out, err) = outcome(&arenaprof(&[
        "check",
        s(&p),
        "--max-tag",
        "gemm-workspace=16MiB",
    ]));
    assert!(code == 0 || code == 1, "{err}");
    assert!(out.contains("tags[gemm-workspace]"), "{out}");
}

#[test]
fn check_json_gives_each_limit_its_measured_value_and_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixtures::pinned_views();
    let p = write(dir.path(), "p.arenaprof", &snap);
    let o = arenaprof(&[
        "check",
        s(&p),
        "--format",
        "json",
        "--max-wasted",
        "1KiB",
        "--max-live",
        "1TiB",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "arenaprof-check");
    assert_eq!(v["pass"], false);
    let limits = v["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 2);
    // --max-wasted gates on the run's worst moment by default.
    assert_eq!(limits[0]["field"], "retention_worst.wasted_bytes");
    assert_eq!(limits[0]["limit"], 1024);
    assert_eq!(limits[0]["pass"], false);
    assert!(limits[0]["measured"].as_u64().unwrap() > 1024);
    assert_eq!(limits[1]["field"], "totals.live_bytes");
    assert_eq!(limits[1]["measured"], snap.total.live_bytes);
    assert_eq!(limits[1]["limit"], 1u64 << 40);
    assert_eq!(limits[1]["pass"], true);
}

#[test]
fn dash_reads_standard_input_and_writes_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixtures::pinned_views();
    let p = write(dir.path(), "p.arenaprof", &snap);
    let bytes = std::fs::read(&p).unwrap();
    // report - equals report FILE.
    let from_file = arenaprof(&["report", s(&p), "--width", "0"]);
    let from_stdin = with_stdin(&["report", "-", "--width", "0"], &bytes, &[]);
    assert_eq!(from_stdin.status.code(), Some(0));
    assert_eq!(from_stdin.stdout, from_file.stdout);
    // check - and -o - for pprof and flame.
    let o = with_stdin(&["check", "-", "--max-live", "1TiB"], &bytes, &[]);
    assert_eq!(o.status.code(), Some(0));
    let o = with_stdin(&["pprof", "-", "-o", "-"], &bytes, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let prof = arenaprof_report::render::pprof::decode_gzip(&o.stdout).unwrap();
    assert!(!prof.sample.is_empty());
    assert!(!dir.path().join("-").exists(), "no file named -");
    let o = arenaprof(&["flame", s(&p), "-o", "-"]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("<?xml"));
    // Garbage on stdin: one line, exit 2.
    let o = with_stdin(&["report", "-"], b"not a snapshot", &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    // diff cannot read standard input twice.
    let o = with_stdin(&["diff", "-", "-"], &bytes, &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_writes_its_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.arenaprof", &fixtures::pinned_views());
    let b = write(dir.path(), "b.arenaprof", &fixtures::fixed_views());
    let out = dir.path().join("d.json");
    let (code, stdout, err) = outcome(&arenaprof(&[
        "diff",
        s(&a),
        s(&b),
        "--format",
        "json",
        "-o",
        s(&out),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(v.is_object());
    // Never over an input.
    let (code, _, err) = outcome(&arenaprof(&["diff", s(&a), s(&b), "-o", s(&a)]));
    assert_eq!(code, 2, "{err}");
    assert!(fixtures::pinned_views() == arenaprof_snapshot::Snapshot::read(&a).unwrap());
}

#[test]
fn the_text_report_fits_its_width_and_sites_keep_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.arenaprof", &fixtures::pinned_views());
    let wide = String::from_utf8(arenaprof(&["report", s(&p), "--width", "0"]).stdout).unwrap();
    let widest = wide.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 80, "the fixture has long lines ({widest})");
    for (args, env, width) in [
        (vec!["--width", "80"], vec![], 80),
        (vec![], vec![("COLUMNS", "72")], 72),
        (vec![], vec![], 100),
    ] {
        let mut all = vec!["report", s(&p)];
        all.extend(args);
        let o = with_stdin(&all, b"", &env);
        assert_eq!(o.status.code(), Some(0));
        let text = String::from_utf8(o.stdout).unwrap();
        for l in text.lines() {
            assert!(
                l.chars().count() <= width,
                "{} > {width}: {l}",
                l.chars().count()
            );
        }
        // Site rows still end in file:line.
        let sites: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("TOP SITES BY LIVE BYTES"))
            .skip(2)
            .take_while(|l| !l.is_empty())
            .filter(|l| !l.trim_start().starts_with("(not shown:"))
            .collect();
        assert!(!sites.is_empty(), "{text}");
        for l in sites {
            // The site cell ends in `file.rs:LINE)`; interval columns may follow.
            let at = l
                .rfind(".rs:")
                .unwrap_or_else(|| panic!("no file:line in {l}"));
            let line: String = l[at + 4..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            assert!(line.parse::<u32>().is_ok(), "{l}");
        }
    }
}

#[test]
fn every_help_has_examples_and_says_the_defaults() {
    for cmd in [
        "report", "flame", "pprof", "timeline", "diff", "check", "demo",
    ] {
        let (code, out, _) = outcome(&arenaprof(&[cmd, "--help"]));
        assert_eq!(code, 0);
        assert!(out.contains("Examples:"), "{cmd}:\n{out}");
    }
    let (_, flame, _) = outcome(&arenaprof(&["flame", "--help"]));
    assert!(flame.contains("By default the flame graph draws the bytes still live"));
    let (_, check, _) = outcome(&arenaprof(&["check", "--help"]));
    for size in ["16MiB", "1.5GB", "KiB", "powers of 1000"] {
        assert!(check.contains(size), "{size} in {check}");
    }
}
