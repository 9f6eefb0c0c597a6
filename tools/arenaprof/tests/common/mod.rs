//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use arenaprof_snapshot::Snapshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `arenaprof` binary built for these tests.
pub fn arenaprof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(args)
        .output()
        .expect("the arenaprof binary runs")
}

/// Exit code, stdout and stderr as strings.
pub fn outcome(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Writes `snap` as `name` in `dir`.
pub fn write(dir: &Path, name: &str, snap: &Snapshot) -> PathBuf {
    let p = dir.join(name);
    snap.write(&p).expect("snapshot written");
    p
}

/// A path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Runs the quick demo (no OpenBLAS, 2 threads) into `dir` and returns its
/// two snapshots: a view pinning its arena, and after the fix.
pub fn demo_snapshots(dir: &Path) -> (PathBuf, PathBuf) {
    let (code, out, err) = outcome(&arenaprof(&[
        "demo",
        "--quick",
        "--no-openblas",
        "--threads",
        "2",
        "--out",
        s(dir),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    (dir.join("pinned.arenaprof"), dir.join("fixed.arenaprof"))
}
