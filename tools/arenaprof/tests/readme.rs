//! The README's "Using it in a program" works as written: its snippet is
//! `examples/quickstart.rs` character for character, and the two command
//! lines beside it (run here as written, less `--release`: the debug build
//! the other tests share) print and report what the README says they do.

mod common;
use common::{arenaprof, outcome, s};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README's section starting at heading `title`, up to the next `## `.
fn section(readme: &str, title: &str) -> String {
    let at = readme.find(title).unwrap_or_else(|| panic!("no {title:?}"));
    let rest = &readme[at + title.len()..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
}

/// The fenced blocks of `lang` in `text`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let open = format!("```{lang}\n");
    text.split(&open)
        .skip(1)
        .map(|b| b[..b.find("```").unwrap()].to_owned())
        .collect()
}

#[test]
fn the_snippet_is_the_quickstart_example() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let sec = section(&readme, "## Using it in a program");
    let example = std::fs::read_to_string(root().join("examples/quickstart.rs")).unwrap();
    // The example is the snippet under its `//!` header.
    let body: String = example
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(blocks(&sec, "rust")[0], body);
}

#[test]
fn the_snippet_run_as_the_readme_says_reports_what_it_says() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let sec = section(&readme, "## Using it in a program");
    let sh = &blocks(&sec, "sh")[0];
    let mut lines = sh.lines();
    let run = lines.next().unwrap();
    let report = lines.next().unwrap();
    assert_eq!(
        run,
        "ARENAPROF_OUT=run.arenaprof ARENAPROF_SAMPLE=bytes cargo run --release --example quickstart"
    );
    assert_eq!(report, "arenaprof report run.arenaprof");

    // First line: its environment, then `cargo run` (without `--release`),
    // in a scratch directory so that `run.arenaprof` lands there.
    let dir = tempfile::tempdir().unwrap();
    let words: Vec<&str> = run.split_whitespace().collect();
    let cargo_at = words.iter().position(|w| *w == "cargo").unwrap();
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for kv in &words[..cargo_at] {
        let (k, v) = kv.split_once('=').unwrap();
        cmd.env(k, v);
    }
    let args: Vec<&str> = words[cargo_at + 1..]
        .iter()
        .copied()
        .filter(|w| *w != "--release")
        .collect();
    let out = cmd
        .args(&args)
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .current_dir(dir.path())
        .env_remove("ARENAPROF_NATIVE")
        .output()
        .expect("cargo runs");
    let (code, stdout, stderr) = outcome(&out);
    assert_eq!(code, 0, "{stderr}");
    let printed = "1048576 live under decoder-cache";
    assert!(stdout.contains(printed), "{stdout}");
    assert!(readme.contains(&format!("The program prints `{printed}`")));

    // Second line: the report of the snapshot the first one wrote.
    let snap = dir.path().join("run.arenaprof");
    assert!(snap.is_file(), "no snapshot: {stderr}");
    let (code, text, err) = outcome(&arenaprof(&["report", s(&snap)]));
    assert_eq!(code, 0, "{err}");
    let tags = &text[text.find("TAGS").expect("TAGS table")..];
    let row: Vec<&str> = tags
        .lines()
        .find(|l| l.trim_start().starts_with("decoder-cache "))
        .unwrap_or_else(|| panic!("no decoder-cache row: {text}"))
        .split_whitespace()
        .collect();
    // tag, live (value unit), peak (value unit): 1.0 MiB live, as said.
    assert_eq!(
        row[..5],
        ["decoder-cache", "1.0", "MiB", "1.0", "MiB"],
        "{text}"
    );
    assert!(readme.contains("TAGS table lists `decoder-cache` with `1.0 MiB` live"));
}

#[test]
fn every_example_starts_its_main_with_the_profiler() {
    // `examples/quickstart.rs` is run above; the others allocate too much
    // to run in a test (array_pinned makes an 800 MB array), so this checks
    // that `main` opens with the profiler that writes $ARENAPROF_OUT.
    let mut seen = 0;
    for e in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = e.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        let main = &src[src.find("fn main() {\n").expect("fn main") + 12..];
        let first = main.lines().next().unwrap().trim();
        assert!(
            first.starts_with("let ") && first.contains(" = arenaprof::Profiler::from_env();"),
            "{}: main starts with {first:?}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 2);
}
