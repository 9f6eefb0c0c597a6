//! The demo end to end, in its quick mode: every phase runs, its figures are
//! the tracker's, and the files it names exist and read back.

use std::process::Command;

#[test]
fn quick_demo_reproduces_explains_and_fixes_both_failures() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(["demo", "--quick", "--threads", "4", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for phase in ["[1/3]", "[2/3]", "[3/3]"] {
        assert!(
            stdout.contains(&format!("{phase} ")),
            "progress line {phase}"
        );
    }
    // Phase 1: 4 eager buffers of 32 MiB, exactly, against a capped pool.
    assert!(
        stdout.contains("4 x 32.0 MiB buffers = 128.0 MiB under tag openblas-sim-buffer"),
        "{stdout}"
    );
    assert!(stdout.contains("overflows 0"), "{stdout}");
    // Phase 2: the chain with the demo's own sites, the waste, the fix.
    assert!(stdout.contains("registry: arena #"), "{stdout}");
    assert!(stdout.contains("wasted 76.3 MiB"), "{stdout}");
    for op in [
        "arange@",
        "reshape([10000, 1000])@",
        "t()@",
        "slice[..4, ..8]@",
    ] {
        assert!(stdout.contains(op), "chain step {op}: {stdout}");
    }
    assert!(stdout.contains("src/demo/views.rs:"), "{stdout}");
    assert!(
        stdout.contains("array-base live 76.3 MiB -> 0.0 MiB"),
        "{stdout}"
    );
    // The report printed at the end names the fix.
    assert!(
        stdout.contains("fix: `to_owned()` at tools/arenaprof/src/demo/views.rs:"),
        "{stdout}"
    );
    // The files exist, and the two snapshots disagree exactly on the arena.
    for f in ["pinned.arenaprof", "fixed.arenaprof", "report.html"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let check = |f: &str| {
        Command::new(env!("CARGO_BIN_EXE_arenaprof"))
            .args(["check"])
            .arg(dir.path().join(f))
            .args(["--max-wasted", "10MiB"])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(check("pinned.arenaprof"), Some(1));
    assert_eq!(check("fixed.arenaprof"), Some(0));
}

#[test]
fn demo_rejects_zero_threads() {
    let out = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(["demo", "--threads", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads must be at least 1"));
}
