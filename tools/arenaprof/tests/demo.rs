//! The demo end to end, in its quick mode: every phase runs, its figures are
//! the tracker's, and the files it names exist and read back.

use std::process::Command;

fn demo(dir: &std::path::Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
        .args(["demo", "--quick", "--threads", "4", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The number in `s` right before `unit` (`"... 4 buffers"` -> 4).
fn number_before(s: &str, unit: &str) -> f64 {
    let i = s.find(unit).unwrap_or_else(|| panic!("{unit:?} in {s}"));
    s[..i]
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("number before {unit:?}: {e} in {s}"))
}

#[test]
fn quick_demo_reproduces_explains_and_fixes_both_failures() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(dir.path(), &["--no-openblas"]);
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "arenaprof demo: where memory goes and why it stays (quick mode; OpenBLAS not loaded: --no-openblas; phase 1 simulates it)"
    );
    for phase in ["[1/3]", "[2/3]", "[3/3]"] {
        assert!(
            stdout.contains(&format!("{phase} ")),
            "progress line {phase}"
        );
    }
    // Phase 1, simulated: 4 mapped buffers of 32 MiB, what packing touched
    // resident, all of it committed; labelled as a simulation throughout.
    let sim = stdout
        .lines()
        .find(|l| l.starts_with("  simulated OpenBLAS (4 threads): "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        sim.contains("4 buffers of 32.0 MiB: virtual 128.0 MiB, resident "),
        "{sim}"
    );
    assert!(sim.contains("commit 128.0 MiB (Windows commits"), "{sim}");
    assert!(sim.ends_with("GFLOP/s (simulated)"), "{sim}");
    // 256 rows and columns over 4 threads: each packs 64 x 256 of A and
    // 256 x 64 of B, 128 KiB each: 256 KiB per buffer, measured by mincore.
    assert!(sim.contains("(256.0 KiB per buffer)"), "{sim}");
    assert!(
        !stdout.contains("OpenBLAS 0."),
        "no library figure in a simulation"
    );
    assert!(stdout.contains("overflows 0"), "{stdout}");
    assert!(
        stdout.contains("lowering to 1 thread: the simulation keeps its 4 buffers mapped"),
        "{stdout}"
    );
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
    let check = |f: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_arenaprof"))
            .args(["check"])
            .arg(dir.path().join(f))
            .args(["--max-wasted", "10MiB"])
            .args(extra)
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(check("pinned.arenaprof", &[]), Some(1));
    // The fixed snapshot's end state is clean; the process's worst moment
    // (the pinned phase) is still in it.
    assert_eq!(check("fixed.arenaprof", &["--at-end"]), Some(0));
    assert_eq!(check("fixed.arenaprof", &[]), Some(1));

    // THREADS: exited threads that share a name are one row, unless
    // `--all-threads` asks for each.
    let report = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_arenaprof"))
            .args(["report", "--width", "0"])
            .arg(dir.path().join("pinned.arenaprof"))
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let exited_rows = |text: &str| -> Vec<String> {
        let t = &text[text.find("THREADS").expect("THREADS")..];
        let t = &t[..t.find("\n\n").unwrap_or(t.len())];
        t.lines()
            .filter(|l| l.contains("[exited]"))
            .map(|l| l.split("[exited]").next().unwrap().trim().to_owned())
            .collect()
    };
    let folded = exited_rows(&report(&[]));
    let names: Vec<String> = folded
        .iter()
        .map(|l| l.rsplit_once(" x").map_or(l.clone(), |(n, _)| n.to_owned()))
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "one row per exited name: {folded:?}"
    );
    let all = exited_rows(&report(&["--all-threads"]));
    assert!(
        all.len() > folded.len(),
        "{} rows with --all-threads, {} folded",
        all.len(),
        folded.len()
    );
}

/// The commands that read (possibly hostile) snapshots run on the system
/// allocator and do not link the profiler's runtime; the demo program does.
#[test]
fn only_the_demo_program_links_the_tracker() {
    // Rust's legacy mangling prefixes each path part with its length.
    let linked = |exe: &str| {
        let bytes = std::fs::read(exe).unwrap();
        bytes.windows(17).any(|w| w == b"15arenaprof_alloc")
    };
    assert!(!linked(env!("CARGO_BIN_EXE_arenaprof")));
    assert!(linked(env!("CARGO_BIN_EXE_arenaprof-demo")));
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

/// With the machine's OpenBLAS: the first line names it, its buffers are
/// measured as the hooks attributed them, and lowering its thread count is
/// measured to free nothing. Skips without the library (fails with CI=true).
#[test]
fn quick_demo_on_the_real_openblas() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(dir.path(), &[]);
    let first = stdout.lines().next().unwrap();
    if first.contains("OpenBLAS not loaded") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and the demo found no libopenblas: {first}"
        );
        println!("SKIPPED: {first}");
        return;
    }
    assert!(
        first.starts_with(
            "arenaprof demo: where memory goes and why it stays (quick mode; OpenBLAS 0."
        ) && first.contains(" loaded from /")
            && first.contains("libopenblas"),
        "{first}"
    );
    assert!(
        !stdout.contains("simulat"),
        "no simulation with the library: {stdout}"
    );
    assert!(
        stdout.contains("openblas_set_num_threads(4): ") && stdout.contains(" -> 4 threads"),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("(4 threads): ") && l.contains(" buffers of "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let buffers = number_before(line, "buffers of");
    assert!((1.0..=4.0).contains(&buffers), "{line}");
    assert!(line.contains("mapped by libopenblas"), "{line}");
    for what in ["virtual ", "resident ", "commit ", "GFLOP/s"] {
        assert!(line.contains(what), "{what} in {line}");
    }
    assert!(
        stdout.contains("lowering to 1 thread: openblas_set_num_threads(1) (4 -> 1) freed 0 B"),
        "{stdout}"
    );
    // The report printed at the end has the BLAS section and the library's
    // mappings outside the allocator.
    assert!(
        stdout.contains("BLAS (runtimes loaded in the process)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("anonymous memory mapped by libopenblas"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lowering the thread count freed nothing: 4 -> 1 threads"),
        "{stdout}"
    );
}
