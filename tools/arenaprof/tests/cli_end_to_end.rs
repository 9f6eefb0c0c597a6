//! Acceptance 1, end to end with the real array crate and tracking
//! allocator: a program pins an 80 MB `arange` through a chain of three views
//! (slice → t() → slice); `arenaprof report --format json` names the arena,
//! its bytes, the chain and the sites; `arenaprof check --max-wasted` fails
//! on it, and passes once the last view is replaced by `to_owned()`.

mod common;
use arenaprof::array::{s, Array};
use common::{arenaprof, outcome, s as path};
use serde_json::Value;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

const N: usize = 10_000_000;
const CAPACITY: u64 = N as u64 * 8;

fn report(p: &str) -> Value {
    let (code, out, err) = outcome(&arenaprof(&["report", p, "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// `file:line:` of a site string `file:line:col`.
fn file_line(site: &str) -> (String, u32) {
    let mut it = site.rsplitn(3, ':');
    let _col = it.next();
    let line = it.next().unwrap().parse().unwrap();
    (it.next().unwrap().to_owned(), line)
}

#[test]
fn views_pin_arenas_found_reported_checked_and_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let l0 = line!() + 1;
    let arr = Array::<f64>::arange(N);
    let v1 = arr.slice(s![1000..]);
    let v2 = v1.t();
    let v3 = v2.slice(s![..10]);
    drop((arr, v1, v2));

    let pinned = dir.path().join("pinned.arenaprof");
    arenaprof::snapshot().write(&pinned).unwrap();
    let r = report(path(&pinned));
    let a = r["arenas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["capacity_bytes"] == CAPACITY)
        .expect("the arange arena is reported");
    assert_eq!(r["arenas"][0]["id"], a["id"], "largest wasted first");
    assert_eq!(a["reachable_bytes"], 80);
    assert_eq!(a["wasted_bytes"], CAPACITY - 80);
    assert_eq!(a["owner_alive"], false);
    assert_eq!(a["live_views"], 1);
    let (file, line) = file_line(a["site"].as_str().unwrap());
    assert!(file.ends_with("cli_end_to_end.rs"), "{file}");
    assert_eq!(line, l0);
    let rt = &a["retainers"][0];
    assert_eq!(rt["exclusive_retained_bytes"], CAPACITY);
    assert_eq!(rt["footprint_bytes"], 80);
    assert_eq!(file_line(rt["site"].as_str().unwrap()).1, l0 + 3);
    let chain = rt["chain"].as_array().unwrap();
    let steps: Vec<(String, u32, bool)> = chain
        .iter()
        .map(|c| {
            (
                c["op"].as_str().unwrap().to_owned(),
                file_line(c["site"].as_str().unwrap()).1,
                c["alive"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert_eq!(steps[0].0, "arange");
    assert!(steps[1].0.starts_with("slice"), "{steps:?}");
    assert_eq!(steps[2].0, "t()");
    assert!(steps[3].0.starts_with("slice"), "{steps:?}");
    let lines: Vec<u32> = steps.iter().map(|s| s.1).collect();
    assert_eq!(lines, [l0, l0 + 1, l0 + 2, l0 + 3]);
    let alive: Vec<bool> = steps.iter().map(|s| s.2).collect();
    assert_eq!(alive, [false, false, false, true]);
    let fix = rt["fix"]["text"].as_str().unwrap();
    assert!(
        fix.starts_with("`to_owned()` at ")
            && fix.contains(&format!("cli_end_to_end.rs:{} frees 76.3 MiB", l0 + 3)),
        "{fix}"
    );
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        path(&pinned),
        "--max-wasted",
        "10MiB",
    ]));
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.lines().count(), 1);
    // By default, check gates on the run's worst moment (here the same).
    assert!(
        out.starts_with(
            "FAIL: retention_worst.wasted_bytes = 76.3 MiB exceeds --max-wasted 10.0 MiB at "
        ),
        "{out}"
    );

    // The fix: copy the ten elements and drop the view.
    let owned = v3.to_owned();
    drop(v3);
    let fixed = dir.path().join("fixed.arenaprof");
    arenaprof::snapshot().write(&fixed).unwrap();
    let r = report(path(&fixed));
    assert!(r["arenas"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["capacity_bytes"] != CAPACITY));
    // This process still had its worst moment earlier: the end state is
    // what the fix changed.
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        path(&fixed),
        "--max-wasted",
        "10MiB",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAIL: retention_worst.wasted_bytes = 76.3 MiB"),
        "{out}"
    );
    let (code, out, _) = outcome(&arenaprof(&[
        "check",
        path(&fixed),
        "--max-wasted",
        "10MiB",
        "--at-end",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: retention.wasted_bytes = 0 B"), "{out}");
    assert_eq!(
        owned.to_vec(),
        (1000..1010).map(|x| x as f64).collect::<Vec<_>>()
    );
}
