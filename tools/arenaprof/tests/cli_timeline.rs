//! `arenaprof timeline`: the demo's timeline as Chrome trace events (every
//! event has `ph`, `ts`, `pid`, `name`; counters carry their values in
//! `args`; timestamps in microseconds, non-decreasing per track) whose
//! counter values are the snapshot's timeline points; and as CSV.

mod common;
use arenaprof_snapshot::Snapshot;
use common::{arenaprof, demo_snapshots, s};
use serde_json::Value;
use std::collections::HashMap;

#[test]
fn the_trace_export_is_valid_chrome_trace_json_with_the_snapshots_points() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_snapshots(dir.path()).0;
    let snap = Snapshot::read(&path).unwrap();
    let o = arenaprof(&["timeline", s(&path), "--format", "perfetto", "-o", "-"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["displayTimeUnit"], "ms");
    let events = v["traceEvents"].as_array().unwrap();
    let mut tracks: HashMap<String, Vec<(f64, u64)>> = HashMap::new();
    let mut instants = Vec::new();
    for e in events {
        for key in ["ph", "ts", "pid", "name"] {
            assert!(!e[key].is_null(), "{key} missing in {e}");
        }
        assert!(e["ts"].is_number() && e["pid"].is_u64(), "{e}");
        match e["ph"].as_str().unwrap() {
            "C" => {
                let args = e["args"].as_object().expect("counter args");
                assert!(!args.is_empty() && args.values().all(Value::is_u64), "{e}");
                tracks
                    .entry(e["name"].as_str().unwrap().to_owned())
                    .or_default()
                    .push((
                        e["ts"].as_f64().unwrap(),
                        e["args"]["bytes"].as_u64().unwrap(),
                    ));
            }
            "i" => {
                assert_eq!(e["s"], "g", "{e}");
                instants.push(e.clone());
            }
            "M" => assert!(e["args"]["name"].is_string(), "{e}"),
            ph => panic!("unexpected phase {ph}"),
        }
    }
    // Timestamps in microseconds, non-decreasing on every track.
    for (name, pts) in &tracks {
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0), "{name}");
    }
    // One counter track per tag, its values the snapshot's points.
    let points = &snap.timeline.points;
    assert!(points.len() >= 2, "the demo records a timeline");
    assert!(points.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
    for (col, id) in snap.timeline.tags.iter().enumerate() {
        let name = &snap.tags.iter().find(|t| t.id == *id).unwrap().name;
        let track = &tracks[&format!("live bytes: {name}")];
        let expect: Vec<(f64, u64)> = points
            .iter()
            .map(|p| (p.t_ns as f64 / 1000.0, p.live_bytes[col]))
            .collect();
        assert_eq!(track, &expect, "{name}");
    }
    let total = &tracks["live bytes: total"];
    for (p, (_, v)) in points.iter().zip(total) {
        assert_eq!(*v, p.live_bytes.iter().sum::<u64>());
    }
    // Marks as global instant events, at their times.
    assert_eq!(instants.len(), snap.timeline.marks.len());
    for (m, e) in snap.timeline.marks.iter().zip(&instants) {
        assert_eq!(e["name"], m.label.as_str());
        assert_eq!(e["ts"].as_f64().unwrap(), m.t_ns as f64 / 1000.0);
    }
    // CSV: a header, then one row per point.
    let csv =
        String::from_utf8(arenaprof(&["timeline", s(&path), "--format", "csv"]).stdout).unwrap();
    let mut lines = csv.lines();
    let head = lines.next().unwrap();
    assert!(
        head.starts_with("t_ns,") && head.ends_with(",total"),
        "{head}"
    );
    assert_eq!(lines.count(), points.len());
}
