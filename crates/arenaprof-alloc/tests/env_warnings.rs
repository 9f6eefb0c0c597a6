//! Mistyped environment values are not silently ignored: `Profiler::from_env`
//! writes one line per value on stderr naming the accepted forms, once per
//! process, and leaves the setting at its default.

use arenaprof_alloc::{sampling, Profiler, Sampling, TrackingAlloc};
use std::process::Command;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

const CHILD: &str = "ARENAPROF_ENV_WARNINGS_CHILD";
const TEST: &str = "mistyped_environment_values_warn_once_naming_the_accepted_forms";

#[test]
fn mistyped_environment_values_warn_once_naming_the_accepted_forms() {
    if std::env::var_os(CHILD).is_some() {
        // In the child: read the environment twice; the second call is quiet.
        let _a = Profiler::from_env();
        let b = Profiler::from_env();
        assert_eq!(sampling(), Sampling::Off);
        assert_eq!(b.out(), None);
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("ARENAPROF_SAMPLE", "byte")
        .env("ARENAPROF_TIMELINE_MS", "10ms")
        .env("ARENAPROF_NATIVE", "of")
        .env("ARENAPROF_OUT", "")
        .env("ARENAPROF_SYMBOLS", "inprocess")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{err}{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("arenaprof: "))
        .collect();
    let one = |var: &str| {
        let found: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with(&format!("arenaprof: {var}")))
            .collect();
        assert_eq!(found.len(), 1, "{var} once in:\n{err}");
        found[0].to_string()
    };
    let sample = one("ARENAPROF_SAMPLE");
    assert!(sample.contains("\"byte\""), "{sample}");
    for form in ["off", "all", "bytes:SIZE", "min:SIZE"] {
        assert!(sample.contains(form), "{form} in {sample}");
    }
    let ms = one("ARENAPROF_TIMELINE_MS");
    assert!(ms.contains("\"10ms\"") && ms.contains("e.g. 10"), "{ms}");
    let native = one("ARENAPROF_NATIVE");
    assert!(
        native.contains("\"of\"") && native.contains("off, 0, false or no"),
        "{native}"
    );
    let out_line = one("ARENAPROF_OUT");
    assert!(out_line.contains("expected a file path"), "{out_line}");
    let symbols = one("ARENAPROF_SYMBOLS");
    assert!(
        symbols.contains("\"inprocess\"") && symbols.contains("report or program"),
        "{symbols}"
    );
    assert_eq!(lines.len(), 5, "{err}");
}
