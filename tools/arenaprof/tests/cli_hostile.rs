//! Hostile inputs through every command, each run under a 2 GiB
//! address-space limit (`ulimit -v`), 60 s of CPU (`ulimit -t`) and a 60 s
//! wall-clock kill (`timeout`): every run exits 0, 1 or 2, never by a signal
//! or a panic; an exit 2 is one line on stderr; text output and flame graphs
//! hold no control character; and each case ends as its shape requires (the
//! amplifying ones "over budget"). The generator is `hostile/mod.rs`.
//!
//! Also here: `/dev/zero` and a FIFO are refused at once, `-o` naming the
//! input is refused, and output errors (a closed pipe, a full disk) never
//! panic.

mod common;
mod hostile;

use common::s;
use hostile::{Case, Expect};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Address space each run may use, in KiB (2 GiB).
const MEMORY_KIB: u64 = 2 << 20;
/// Seconds each run may take.
const SECONDS: u64 = 60;

/// Runs `arenaprof args` under the suite's limits.
fn limited(args: &[&str], stdout: Stdio) -> (Output, Duration) {
    let script = format!(
        "ulimit -v {MEMORY_KIB} && ulimit -t {SECONDS} && exec timeout -s KILL {SECONDS} \"$@\""
    );
    let start = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_arenaprof"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs")
        .wait_with_output()
        .expect("the run ends");
    (out, start.elapsed())
}

/// Whether `s` holds a character a terminal or an XML parser must not see
/// (newlines and, for XML, tabs and carriage returns aside).
fn has_control(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| c != '\n' && arenaprof_report::sanitize::is_unsafe(c))
}

/// Characters outside XML 1.0's `Char` production.
fn xml_illegal(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    })
}

/// Every command, by the name its expectation uses, with the output file
/// it writes (if any).
fn commands<'a>(input: &'a str, out: &'a str) -> Vec<(&'static str, Vec<&'a str>, bool)> {
    vec![
        ("report", vec!["report", input], false),
        (
            "report --format json",
            vec!["report", input, "--format", "json", "-o", out],
            true,
        ),
        (
            "report --format html",
            vec!["report", input, "--format", "html", "-o", out],
            true,
        ),
        ("flame", vec!["flame", input, "-o", out], true),
        (
            "flame --peak",
            vec!["flame", input, "--peak", "-o", out],
            true,
        ),
        (
            "flame --alloc",
            vec!["flame", input, "--alloc", "-o", out],
            true,
        ),
        (
            "flame --leaks",
            vec!["flame", input, "--leaks", "-o", out],
            true,
        ),
        ("pprof", vec!["pprof", input, "-o", out], true),
        (
            "flame --alloc --folded",
            vec!["flame", input, "--alloc", "--folded", "-o", out],
            true,
        ),
        ("timeline", vec!["timeline", input, "-o", out], true),
        (
            "timeline --format csv",
            vec!["timeline", input, "--format", "csv", "-o", out],
            true,
        ),
        (
            "check",
            vec!["check", input, "--max-wasted", "1", "--max-peak", "100"],
            false,
        ),
        ("diff", vec!["diff", input, input], false),
    ]
}

/// Runs every command on `case` and checks the universal rules and the
/// case's expectations. Returns the slowest run's time.
fn run_case(case: &Case) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(format!(
        "{}.{}",
        case.name,
        if case.json { "json" } else { "arenaprof" }
    ));
    std::fs::write(&input, &case.bytes).unwrap();
    let out = dir.path().join("out");
    let mut slowest = Duration::ZERO;
    for (name, args, writes) in commands(s(&input), s(&out)) {
        let _ = std::fs::remove_file(&out);
        let (o, took) = limited(&args, Stdio::piped());
        slowest = slowest.max(took);
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let what = format!(
            "{} ({}), `{name}`: status {:?} in {took:.2?}, stderr {:?}",
            case.name,
            case.shape,
            o.status,
            stderr.chars().take(400).collect::<String>()
        );
        let code = o
            .status
            .code()
            .unwrap_or_else(|| panic!("{what}: killed by a signal (memory or time limit?)"));
        assert!(matches!(code, 0..=2), "{what}");
        assert!(!stderr.contains("panicked"), "{what}");
        assert!(took < Duration::from_secs(SECONDS), "{what}");
        assert_eq!(
            has_control(&stderr),
            None,
            "{what}: control character on stderr"
        );
        if code == 2 {
            assert_eq!(stderr.lines().count(), 1, "{what}: one line");
            assert!(stderr.starts_with("arenaprof: "), "{what}");
        }
        if !args.contains(&"json") {
            assert_eq!(
                has_control(&stdout),
                None,
                "{what}: control character on stdout"
            );
        }
        // The outputs added later (folded stacks, the timeline export) are
        // held to the universal rules above and the output size below.
        let expect = if name.starts_with("timeline") || name.ends_with("--folded") {
            Expect::Any
        } else {
            (case.expect)(name)
        };
        match expect {
            Expect::Ok => assert!(
                code == 0 || (code == 1 && name == "check"),
                "{what}: expected success"
            ),
            Expect::OverBudget => {
                assert_eq!(code, 2, "{what}: expected over budget");
                assert!(stderr.contains("over budget"), "{what}");
            }
            Expect::Refused(msg) => {
                assert_eq!(code, 2, "{what}: expected a refusal");
                assert!(stderr.contains(msg), "{what}: expected {msg:?}");
            }
            Expect::Any => {}
        }
        if writes && code == 0 {
            let bytes = std::fs::read(&out).unwrap_or_else(|e| panic!("{what}: no output: {e}"));
            // Output stays within the budget of its input.
            let budget = arenaprof_report::Budget::for_input(case.bytes.len() as u64);
            assert!(
                bytes.len() as u64 <= budget.limit(),
                "{what}: output too large"
            );
            if name.ends_with("--folded") {
                let text = String::from_utf8(bytes).expect("UTF-8 folded stacks");
                assert_eq!(has_control(&text), None, "{what}: control character");
            } else if name.starts_with("flame") || name.contains("html") {
                let svg = String::from_utf8(bytes).expect("UTF-8 markup");
                assert_eq!(xml_illegal(&svg), None, "{what}: not well-formed XML");
            }
        }
    }
    slowest
}

macro_rules! hostile {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let case = hostile::$name();
            let slowest = run_case(&case);
            eprintln!(
                "{}: {} ({} bytes): slowest command {slowest:.2?}",
                case.name,
                case.shape,
                case.bytes.len()
            );
        }
    )*};
}

hostile!(
    timeline_columns,
    tag_name_threads,
    deep_stack,
    plumbing_frame,
    live_chain,
    arena_names,
    view_cycles,
    marks_and_rises,
    shared_slot,
    strided_overlap,
    solid_and_strided,
    many_dims,
    wide_sections,
    escapes,
    other_tags,
    json_timeline,
    json_jumps,
    json_long_names,
    json_deep,
);

#[test]
fn every_case_is_listed() {
    // The macro above must name every case the generator makes.
    assert_eq!(hostile::cases().len(), 19);
}

#[test]
fn escapes_are_shown_not_obeyed() {
    let case = hostile::escapes();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.arenaprof");
    std::fs::write(&p, &case.bytes).unwrap();
    let (o, _) = limited(&["report", s(&p), "--width", "0"], Stdio::piped());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0));
    for name in [
        "prog", "tag", "thread", "arange", "src/a.rs", "slice", "mark", "section", "value",
    ] {
        let shown = format!("{name}x\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m\\u{{9b}}31m\\u{{202e}}\\x0d\\x08\\x00\\u{{fffe}}y");
        assert!(
            text.contains(&shown),
            "{name} not shown escaped in:\n{text}"
        );
    }
    let svg = dir.path().join("f.svg");
    let (o, _) = limited(&["flame", s(&p), "-o", s(&svg)], Stdio::piped());
    assert_eq!(o.status.code(), Some(0));
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("my_app::innerx\\x1b]0:pwned\\x07"), "{svg}");
    assert_eq!(xml_illegal(&svg), None);
    // check and diff print names escaped too.
    // (An argument cannot hold a NUL byte.)
    let evil_arg = format!("tag{}=1", hostile::EVIL.replace('\0', ""));
    let (o, _) = limited(&["check", s(&p), "--max-wasted", "1"], Stdio::piped());
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("FAIL: retention.wasted_bytes"), "{out}");
    assert!(out.contains("arangex\\x1b]0;pwned"), "{out}");
    assert_eq!(has_control(&out), None);
    // A tag limit that names no tag (the NUL is gone) is refused, naming the
    // tags there are, escaped.
    let (o, _) = limited(&["check", s(&p), "--max-tag", &evil_arg], Stdio::piped());
    assert_eq!(o.status.code(), Some(2));
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("unknown tag \"tagx\\x1b]0;pwned"), "{err}");
    assert!(
        err.contains("tags in the report: tagx\\x1b]0;pwned"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(has_control(&out), None);
    assert_eq!(has_control(&err), None);
    let (o, _) = limited(&["diff", s(&p), s(&p)], Stdio::piped());
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(has_control(&String::from_utf8(o.stdout).unwrap()), None);
}

#[test]
fn a_tag_name_shared_by_two_rows_is_checked_on_both() {
    let case = hostile::other_tags();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("o.arenaprof");
    std::fs::write(&p, &case.bytes).unwrap();
    let (o, _) = limited(
        &["check", s(&p), "--max-tag", "other-tags=100"],
        Stdio::piped(),
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("FAIL: tags[other-tags#63].live_bytes = 4.9 KiB"),
        "{out}"
    );
    assert!(
        !out.contains("other-tags#4].live"),
        "the 10-byte row passes: {out}"
    );
    assert!(
        err.contains("2 tags are named \"other-tags\" (ids 4, 63)"),
        "{err}"
    );
    let (o, _) = limited(&["report", s(&p), "--format", "json"], Stdio::piped());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w = v["warnings"].to_string();
    assert!(w.contains("used by more than one tag id"), "{w}");
}

/// Every command refuses `path` with `why` (a blocking read would be
/// killed by the suite's time limit, and the status would be a signal).
fn refused_at_once(path: &Path, why: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (name, args, _) in commands(s(path), s(&out)) {
        let (o, _) = limited(&args, Stdio::piped());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(why), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn dev_zero_is_refused_at_once() {
    refused_at_once(
        Path::new("/dev/zero"),
        "not a regular file (a character device)",
    );
}

#[test]
fn a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // Nobody opens the FIFO for writing: a blocking open would never return.
    refused_at_once(&fifo, "not a regular file (a FIFO)");
}

#[test]
fn output_over_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = common::write(
        dir.path(),
        "run.arenaprof",
        &arenaprof_report::fixtures::pinned_views(),
    );
    let before = std::fs::read(&p).unwrap();
    let link = dir.path().join("link.arenaprof");
    std::os::unix::fs::symlink(&p, &link).unwrap();
    let dotted = dir.path().join(".").join("run.arenaprof");
    for (input, output) in [(&p, &p), (&p, &dotted), (&link, &p), (&link, &link)] {
        for args in [
            vec!["report", s(input), "--format", "json", "-o", s(output)],
            vec!["flame", s(input), "-o", s(output)],
            vec!["pprof", s(input), "-o", s(output)],
        ] {
            let (o, _) = limited(&args, Stdio::piped());
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("refusing to write the output over the input"),
                "{err}"
            );
            assert_eq!(std::fs::read(&p).unwrap(), before, "{args:?}");
        }
    }
    // A symbolic link *to* the input as output is replaced, not followed:
    // the snapshot survives and the link's name now holds the report.
    let out_link = dir.path().join("report.json");
    std::os::unix::fs::symlink(&p, &out_link).unwrap();
    let (o, _) = limited(
        &["report", s(&p), "--format", "json", "-o", s(&out_link)],
        Stdio::piped(),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read(&p).unwrap(), before);
    assert!(std::fs::symlink_metadata(&out_link).unwrap().is_file());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_link).unwrap()).unwrap();
    assert_eq!(report["schema"], "arenaprof-report");
}

#[test]
fn output_files_replace_planted_symlinks_without_following_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = common::write(
        dir.path(),
        "run.arenaprof",
        &arenaprof_report::fixtures::pinned_views(),
    );
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    for (i, args) in [
        vec!["report", "--format", "html"],
        vec!["flame"],
        vec!["pprof"],
    ]
    .into_iter()
    .enumerate()
    {
        let out = dir.path().join(format!("out{i}"));
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        let mut full = vec![args[0], s(&p)];
        full.extend(&args[1..]);
        full.extend(["-o", s(&out)]);
        let (o, _) = limited(&full, Stdio::piped());
        assert_eq!(o.status.code(), Some(0), "{full:?}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let p = common::write(
        dir.path(),
        "run.arenaprof",
        &arenaprof_report::fixtures::pinned_views(),
    );
    for args in [
        vec!["report", s(&p)],
        vec!["report", s(&p), "--format", "json"],
        vec!["diff", s(&p), s(&p)],
        vec!["check", s(&p), "--max-wasted", "1"],
        vec!["--help"],
    ] {
        // The reading end is closed before the command starts: its first
        // write fails with EPIPE (a socket pair behaves as a pipe here).
        let (reader, writer) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(reader);
        let (o, _) = limited(&args, Stdio::from(std::os::fd::OwnedFd::from(writer)));
        let err = String::from_utf8_lossy(&o.stderr);
        let want = if args[0] == "check" { 1 } else { 0 };
        assert_eq!(o.status.code(), Some(want), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn a_full_disk_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = common::write(
        dir.path(),
        "run.arenaprof",
        &arenaprof_report::fixtures::pinned_views(),
    );
    let full = || std::fs::File::create("/dev/full").expect("/dev/full");
    for args in [
        vec!["report", s(&p)],
        vec!["diff", s(&p), s(&p)],
        vec!["check", s(&p), "--max-wasted", "1"],
        vec!["--help"],
    ] {
        let (o, _) = limited(&args, Stdio::from(full()));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
    }
    // With stderr full too there is nowhere to say it: exit 2, no panic (101).
    let o = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(["report", s(&p)])
        .stdout(full())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(o.code(), Some(2));
    // An unknown tag's refusal cannot be written either: still exit 2.
    let o = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(["check", s(&p), "--max-tag", "nope=1"])
        .stdout(Stdio::null())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(o.code(), Some(2));
}

/// Writes every case to `$ARENAPROF_HOSTILE_DIR` (for measuring them by
/// hand); does nothing without it.
#[test]
fn write_cases_for_inspection() {
    let Some(dir) = std::env::var_os("ARENAPROF_HOSTILE_DIR") else {
        return;
    };
    for c in hostile::cases() {
        let ext = if c.json { "json" } else { "arenaprof" };
        std::fs::write(Path::new(&dir).join(format!("{}.{ext}", c.name)), &c.bytes).unwrap();
    }
}
