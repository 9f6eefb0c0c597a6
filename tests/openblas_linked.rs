//! OpenBLAS as Rust programs get it: linked at build time, so its
//! constructor starts the workers and maps their buffers before `main` and
//! before `Profiler::from_env()`. Builds `examples/openblas_linked.rs`
//! (feature `link-openblas`), runs it, and asserts from the JSON report of
//! the snapshot it wrote:
//!
//! - under an `LD_PRELOAD` shim that reports 64 CPUs, with
//!   `OPENBLAS_NUM_THREADS=64`: at least 62 of 64 buffers (bytes / buffer
//!   size) attributed to libopenblas and `blas[].buffers_mapped` >= 62, in
//!   20 consecutive runs;
//! - on the real CPU count with `openblas_set_num_threads(16)`: 16 of 16,
//!   in 50 consecutive runs.
//!
//! Without libopenblas-dev (and a C compiler for the shim) the test skips;
//! with `CI=true` it fails (tools/test.sh installs libopenblas-dev).

mod common;
use common::{build_example, have_openblas_dev, root, skip};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles the CPU-count shim into `dir`.
fn build_shim(dir: &Path) -> Option<PathBuf> {
    let so = dir.join("fake_cpus.so");
    let ok = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&so)
        .arg(root().join("tests/data/fake_cpus.c"))
        .arg("-ldl")
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(so)
    } else {
        skip("cc could not build the CPU-count shim");
        None
    }
}

/// What the report of one run says about OpenBLAS.
#[derive(Debug)]
struct Seen {
    threads: u64,
    buffer_size: u64,
    buffers_mapped: u64,
    attributed_bytes: u64,
}

fn run_once(exe: &Path, dir: &Path, i: usize, env: &[(&str, &str)]) -> Seen {
    let snap = dir.join(format!("run{i}.arenaprof"));
    let out = Command::new(exe)
        .envs(env.iter().copied())
        .env("ARENAPROF_OUT", &snap)
        .env_remove("ARENAPROF_NATIVE")
        .env_remove("ARENAPROF_SAMPLE")
        .output()
        .expect("the example runs");
    assert!(
        out.status.success(),
        "run {i}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = arenaprof::snapshot::Snapshot::read(&snap).expect("snapshot");
    std::fs::remove_file(&snap).ok();
    let r = arenaprof_report::analyze(&s, &arenaprof_report::Options::default());
    let v: serde_json::Value = serde_json::from_str(
        &arenaprof_report::render::json::render(&r, Default::default()).unwrap(),
    )
    .unwrap();
    let ob = v["blas"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["api"] == "openblas"))
        .unwrap_or_else(|| panic!("run {i}: no OpenBLAS in blas[]: {}", v["blas"]));
    let attributed_bytes = v["memory"]["outside_allocator"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["kind"] == "mapped_by" && o["object"].as_str().unwrap_or("").contains("openblas")
        })
        .map(|o| o["virtual_bytes"].as_u64().unwrap())
        .sum();
    Seen {
        threads: ob["threads"].as_u64().unwrap(),
        buffer_size: ob["buffer_size_bytes"].as_u64().unwrap(),
        buffers_mapped: ob["buffers_mapped"].as_u64().unwrap(),
        attributed_bytes,
    }
}

fn check_runs(exe: &Path, dir: &Path, runs: usize, want: u64, min: u64, env: &[(&str, &str)]) {
    for i in 0..runs {
        let s = run_once(exe, dir, i, env);
        assert_eq!(s.threads, want, "run {i}: {s:?}");
        assert_eq!(s.buffer_size, 128 << 20, "run {i}: {s:?}");
        let by_bytes = s.attributed_bytes / s.buffer_size;
        assert!(
            by_bytes >= min && s.buffers_mapped >= min,
            "run {i} of {runs}: {by_bytes} buffers by bytes, {} in blas[], want >= {min} of {want}: {s:?}",
            s.buffers_mapped
        );
        if i == 0 {
            println!(
                "{want} threads: {by_bytes} buffers by bytes, blas[].buffers_mapped {} ({s:?})",
                s.buffers_mapped
            );
        }
    }
}

#[test]
fn buffers_mapped_before_main_are_attributed() {
    if !have_openblas_dev() {
        return skip("libopenblas.so (libopenblas-dev) is not installed");
    }
    let Some(exe) = build_example("openblas_linked", "link-openblas") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(shim) = build_shim(dir.path()) else {
        return;
    };
    let shim = shim.to_str().unwrap().to_owned();
    // 64 CPUs as the library sees them: 63 workers map their buffers in
    // the constructor, the caller's at the first dgemm.
    check_runs(
        &exe,
        dir.path(),
        20,
        64,
        62,
        &[("LD_PRELOAD", &shim), ("OPENBLAS_NUM_THREADS", "64")],
    );
    // The real CPU count, 16 threads set in `main`.
    check_runs(
        &exe,
        dir.path(),
        50,
        16,
        16,
        &[
            ("ARENAPROF_SET_THREADS", "16"),
            ("OPENBLAS_NUM_THREADS", ""),
        ],
    );
}
