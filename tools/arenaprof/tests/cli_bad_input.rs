//! Bad input: a clear message and exit status 2, never a panic.

mod common;
use arenaprof_report::fixtures;
use common::{arenaprof, outcome, s};
use std::path::Path;

const HEADER_LEN: usize = 28;

/// Runs every reading command on `path`; each must exit 2 with `expect` in
/// its message and no panic.
fn all_commands_refuse(path: &Path, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let p = s(path);
    let o = s(&out);
    let runs: Vec<Vec<&str>> = vec![
        vec!["report", p],
        vec!["report", p, "--format", "json"],
        vec!["report", p, "--format", "html", "-o", o],
        vec!["flame", p, "-o", o],
        vec!["pprof", p, "-o", o],
        vec!["check", p, "--max-wasted", "1MiB"],
        vec!["diff", p, p],
    ];
    for args in runs {
        let (code, stdout, stderr) = outcome(&arenaprof(&args));
        assert_eq!(code, 2, "{args:?}: stdout {stdout:?} stderr {stderr:?}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.starts_with("arenaprof: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expect),
            "{args:?}: expected {expect:?} in {stderr:?}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    }
}

fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn good() -> Vec<u8> {
    fixtures::pinned_views().to_bytes().unwrap()
}

#[test]
fn missing_file() {
    all_commands_refuse(Path::new("/nonexistent/run.arenaprof"), "No such file");
}

#[test]
fn empty_file() {
    let d = tempfile::tempdir().unwrap();
    all_commands_refuse(&file(d.path(), "e", b""), "empty file");
}

#[test]
fn truncated_file() {
    let d = tempfile::tempdir().unwrap();
    let g = good();
    all_commands_refuse(
        &file(d.path(), "t1", &g[..g.len() / 2]),
        "truncated snapshot",
    );
    all_commands_refuse(&file(d.path(), "t2", &g[..12]), "truncated snapshot");
    all_commands_refuse(&file(d.path(), "t3", &g[..4]), "truncated snapshot");
}

#[test]
fn corrupt_payload() {
    let d = tempfile::tempdir().unwrap();
    let mut g = good();
    let mid = HEADER_LEN + (g.len() - HEADER_LEN) / 2;
    g[mid] ^= 0x5a;
    all_commands_refuse(&file(d.path(), "c", &g), "checksum mismatch");
}

#[test]
fn wrong_magic_and_wrong_version() {
    let d = tempfile::tempdir().unwrap();
    all_commands_refuse(
        &file(d.path(), "m", b"PK\x03\x04 a zip file, not a snapshot"),
        "not an arenaprof snapshot",
    );
    let mut g = good();
    g[8..12].copy_from_slice(&99u32.to_le_bytes());
    all_commands_refuse(
        &file(d.path(), "v", &g),
        "unsupported snapshot format version 99",
    );
}

#[test]
fn huge_counts_in_a_well_formed_file() {
    // A payload whose first vector length claims u64::MAX entries, with a valid
    // header and checksum: the decoder must refuse it without allocating.
    let d = tempfile::tempdir().unwrap();
    let mut payload = vec![0u8]; // program name: empty string
    payload.extend_from_slice(&[0xff; 9]);
    payload.push(0x01);
    let mut g = Vec::new();
    g.extend_from_slice(b"ARENAPRF");
    g.extend_from_slice(&1u32.to_le_bytes());
    g.extend_from_slice(&0u32.to_le_bytes());
    g.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    g.extend_from_slice(&crc(&payload).to_le_bytes());
    g.extend_from_slice(&payload);
    all_commands_refuse(&file(d.path(), "h", &g), "payload does not decode");
    // A header promising an exabyte of payload.
    let mut h = good();
    h[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    all_commands_refuse(&file(d.path(), "h2", &h), "truncated snapshot");
}

#[test]
fn json_that_is_not_a_report() {
    let d = tempfile::tempdir().unwrap();
    let p = file(
        d.path(),
        "j.json",
        br#"{"schema": "something-else", "schema_version": 1}"#,
    );
    let (code, _, err) = outcome(&arenaprof(&["check", s(&p), "--max-live", "1"]));
    assert_eq!(code, 2);
    assert!(err.contains("expected \"arenaprof-report\""), "{err}");
    let p = file(
        d.path(),
        "k.json",
        br#"{"schema": "arenaprof-report", "schema_version": 7}"#,
    );
    let (code, _, err) = outcome(&arenaprof(&["diff", s(&p), s(&p)]));
    assert_eq!(code, 2);
    assert!(
        err.contains("schema_version Some(7) is not supported"),
        "{err}"
    );
    let p = file(d.path(), "l.json", b"{ not json");
    let (code, _, err) = outcome(&arenaprof(&["check", s(&p), "--max-live", "1"]));
    assert_eq!(code, 2);
    assert!(err.contains("not a usable JSON report"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = outcome(&arenaprof(&["report"]));
    assert_eq!(code, 2);
    assert!(err.contains("Usage"), "{err}");
    let (code, _, _) = outcome(&arenaprof(&["flame", "x", "-o", "y", "--leaks", "--peak"]));
    assert_eq!(code, 2);
    let (code, _, _) = outcome(&arenaprof(&["report", "x", "--format", "pdf"]));
    assert_eq!(code, 2);
}

/// CRC-32 (IEEE), bitwise, so the test does not depend on the format crate's choice of library.
fn crc(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}
