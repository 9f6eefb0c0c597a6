//! The live-bytes timeline for trace viewers: Chrome's trace event format
//! (JSON, read by ui.perfetto.dev and chrome://tracing), and CSV.
//!
//! One counter track (`"ph": "C"`) per tag and one for the total, named
//! `live bytes: TAG` and `live bytes: total`, each value in `args.bytes`;
//! `process: RSS` and `process: VmSize` when the snapshot measured them;
//! marks as global instant events (`"ph": "i"`, `"s": "g"`); process and
//! thread names as metadata events (`"ph": "M"`). Timestamps `ts` are
//! microseconds since the profiler started, non-decreasing on every track
//! (points are written in time order). See `docs/trace.md`.
//!
//! ```
//! use arenaprof_snapshot::{Snapshot, TimelinePoint};
//! let mut s = Snapshot::default();
//! s.timeline.tags = vec![0];
//! s.timeline.points = vec![TimelinePoint { t_ns: 1500, live_bytes: vec![64], ..Default::default() }];
//! let json = arenaprof_report::render::trace::chrome_json(&s, Default::default()).unwrap();
//! let v: serde_json::Value = serde_json::from_str(&json).unwrap();
//! let counter = v["traceEvents"].as_array().unwrap().iter().find(|e| e["ph"] == "C").unwrap();
//! assert_eq!((counter["ts"].as_f64(), counter["args"]["bytes"].as_u64()), (Some(1.5), Some(64)));
//! ```

use super::Options;
use crate::budget::{Budget, BudgetError};
use crate::sanitize;
use arenaprof_snapshot::{Snapshot, TimelinePoint};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Bytes charged per event on top of its name.
const PER_EVENT: u64 = 160;
const TRACE: &str = "the trace export";

/// The thread the counters and marks are drawn on.
const TID: u32 = 1;

#[derive(Serialize)]
struct Event<'a> {
    name: &'a str,
    cat: &'static str,
    ph: &'static str,
    ts: f64,
    pid: u32,
    tid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Value::is_null")]
    args: Value,
}

fn us(t_ns: u64) -> f64 {
    t_ns as f64 / 1000.0
}

/// The tag column names, in `Timeline::tags` order (escaped and cut).
fn columns(snap: &Snapshot) -> Vec<String> {
    let names: HashMap<u16, &str> = snap.tags.iter().map(|t| (t.id, t.name.as_str())).collect();
    snap.timeline
        .tags
        .iter()
        .map(|id| {
            names
                .get(id)
                .map_or_else(|| format!("tag#{id}"), |n| sanitize::name(n).into_owned())
        })
        .collect()
}

/// The timeline's points in time order (a stable sort: equal times keep
/// their recorded order).
fn points(snap: &Snapshot) -> Vec<&TimelinePoint> {
    let mut p: Vec<&TimelinePoint> = snap.timeline.points.iter().collect();
    p.sort_by_key(|p| p.t_ns);
    p
}

/// The Chrome trace JSON (`{"traceEvents": [...], "displayTimeUnit": "ms"}`),
/// every event charged to `opts.budget` before it is made.
pub fn chrome_json(snap: &Snapshot, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let cols = columns(snap);
    let pts = points(snap);
    let series = &snap.native.series;
    let events = (pts.len() as u64)
        .saturating_mul(cols.len() as u64 + 1)
        .saturating_add(2 * series.len() as u64)
        .saturating_add(snap.timeline.marks.len() as u64 + 2);
    let names: u64 = cols.iter().map(|c| c.len() as u64).sum::<u64>() * pts.len() as u64
        + snap
            .timeline
            .marks
            .iter()
            .map(|m| m.label.len() as u64)
            .sum::<u64>();
    budget.charge_with(
        events.saturating_mul(PER_EVENT).saturating_add(names),
        || format!("{TRACE} ({events} events)"),
    )?;
    let pid = snap.meta.pid.max(1);
    let program = if snap.meta.program.is_empty() {
        "?".to_owned()
    } else {
        sanitize::name(&snap.meta.program).into_owned()
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |e: Event<'_>| {
        out.push(serde_json::to_string(&e).unwrap_or_default());
    };
    let meta = |name: &'static str, value: &str| Event {
        name,
        cat: "__metadata",
        ph: "M",
        ts: 0.0,
        pid,
        tid: TID,
        s: None,
        args: json!({ "name": value }),
    };
    push(meta(
        "process_name",
        &format!("{program} (pid {})", snap.meta.pid),
    ));
    push(meta("thread_name", "arenaprof timeline"));
    let counter_names: Vec<String> = cols.iter().map(|c| format!("live bytes: {c}")).collect();
    for p in &pts {
        let mut total = 0u64;
        for (col, name) in counter_names.iter().enumerate() {
            let v = p.live_bytes.get(col).copied().unwrap_or(0);
            total = total.saturating_add(v);
            push(counter(name, p.t_ns, pid, v));
        }
        push(counter("live bytes: total", p.t_ns, pid, total));
    }
    let mut series: Vec<_> = series.iter().collect();
    series.sort_by_key(|p| p.t_ns);
    for p in &series {
        push(counter("process: RSS", p.t_ns, pid, p.rss_bytes));
        push(counter("process: VmSize", p.t_ns, pid, p.vm_size_bytes));
    }
    let mut marks: Vec<_> = snap.timeline.marks.iter().collect();
    marks.sort_by_key(|m| m.t_ns);
    for m in marks {
        let label = sanitize::name(&m.label);
        push(Event {
            name: &label,
            cat: "mark",
            ph: "i",
            ts: us(m.t_ns),
            pid,
            tid: TID,
            s: Some("g"),
            args: Value::Null,
        });
    }
    let other = json!({
        "program": program,
        "pid": snap.meta.pid,
        "unix_ms": snap.meta.unix_ms,
        "writer": "arenaprof timeline --format perfetto",
        "ts_unit": "microseconds since the profiler started",
    });
    let mut s = String::from("{\"traceEvents\":[\n");
    s.push_str(&out.join(",\n"));
    s.push_str("\n],\"displayTimeUnit\":\"ms\",\"otherData\":");
    s.push_str(&other.to_string());
    s.push_str("}\n");
    Ok(s)
}

fn counter(name: &str, t_ns: u64, pid: u32, bytes: u64) -> Event<'_> {
    Event {
        name,
        cat: "live",
        ph: "C",
        ts: us(t_ns),
        pid,
        tid: TID,
        s: None,
        args: json!({ "bytes": bytes }),
    }
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The timeline as CSV: a header `t_ns,TAG,...,total`, then one row per
/// point in time order, live bytes per tag and their sum; charged to
/// `opts.budget` before it is made.
pub fn csv(snap: &Snapshot, opts: Options<'_>) -> Result<String, BudgetError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let cols = columns(snap);
    let pts = points(snap);
    let cost = (pts.len() as u64 + 1).saturating_mul(24 * (cols.len() as u64 + 2))
        + cols.iter().map(|c| c.len() as u64 + 3).sum::<u64>();
    budget.charge_with(cost, || format!("{TRACE} ({} rows)", pts.len()))?;
    let mut s = String::from("t_ns");
    for c in &cols {
        s.push(',');
        s.push_str(&csv_cell(c));
    }
    s.push_str(",total\n");
    for p in pts {
        s.push_str(&p.t_ns.to_string());
        let mut total = 0u64;
        for col in 0..cols.len() {
            let v = p.live_bytes.get(col).copied().unwrap_or(0);
            total = total.saturating_add(v);
            s.push(',');
            s.push_str(&v.to_string());
        }
        s.push(',');
        s.push_str(&total.to_string());
        s.push('\n');
    }
    Ok(s)
}
