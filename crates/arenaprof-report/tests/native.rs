//! Memory outside the allocator and the BLAS runtimes in every output: the
//! measured ladder (never negative, summing to the mappings' RSS), the
//! JSON fields `memory.outside_allocator[]` and `blas[]`, the text and HTML
//! sections, `check --max-outside/--max-virtual`, and snapshots without
//! measurements (format version 1).

use arenaprof_report::check::{check, Thresholds};
use arenaprof_report::render::{html, json, text};
use arenaprof_report::{analyze, fixtures, Options};
use arenaprof_snapshot::Snapshot;

const MIB: u64 = 1 << 20;

#[test]
fn measured_ladder_is_never_negative_and_sums_to_the_mappings_rss() {
    let snap = fixtures::pinned_views();
    let r = analyze(&snap, &Options::default());
    let m = &r.memory;
    assert!(m.measured);
    assert_eq!(m.gap_source, "mappings");
    assert!(m.gap.iter().all(|g| g.bytes >= 0), "{:?}", m.gap);
    let sum: i64 = m.gap.iter().map(|g| g.bytes).sum();
    assert_eq!(sum as u64, m.mappings_rss_bytes);
    assert_eq!(m.mappings_rss_bytes, snap.process.rss_bytes);
    let rung = |k: &str| m.gap.iter().find(|g| g.name == k).unwrap().bytes as u64;
    assert_eq!(rung("tracked"), snap.total.live_bytes);
    assert_eq!(rung("native_mapped"), 4 * MIB);
    // jemalloc's split of the allocator's part: each clamped, summing to it.
    let j = snap.process.jemalloc.unwrap();
    let alloc_part: u64 = [
        "profiler_headers",
        "profiler_internal",
        "size_class_rounding",
        "page_fragmentation",
        "allocator_metadata",
        "dirty_unpurged",
    ]
    .iter()
    .map(|k| rung(k))
    .sum();
    assert_eq!(alloc_part, j.resident - snap.total.live_bytes);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn outside_allocator_rows_by_object_and_blas_rows() {
    let r = analyze(&fixtures::pinned_views(), &Options::default());
    let rows = &r.memory.outside_allocator;
    assert!(rows
        .windows(2)
        .all(|w| w[0].resident_bytes >= w[1].resident_bytes));
    let ob = rows
        .iter()
        .find(|o| o.kind == "mapped_by")
        .expect("OpenBLAS's buffers");
    assert!(ob.object.ends_with("libopenblas.so.0"));
    assert_eq!(
        (
            ob.mappings,
            ob.virtual_bytes,
            ob.resident_bytes,
            ob.commit_bytes
        ),
        (16, 2048 * MIB, 4 * MIB, 2048 * MIB)
    );
    assert!(rows.iter().all(|o| o.kind != "allocator"));
    let total: u64 = rows.iter().map(|o| o.resident_bytes).sum();
    assert_eq!(total, r.memory.outside_allocator_resident_bytes);
    // The allocator's resident bytes are not counted outside it.
    let tracked_and_alloc: i64 = r.memory.gap[..7].iter().map(|g| g.bytes).sum();
    assert_eq!(
        total + tracked_and_alloc as u64,
        r.memory.mappings_rss_bytes
    );
    let b = &r.blas[0];
    assert_eq!(b.api, "openblas");
    assert_eq!(b.version.as_deref(), Some("0.3.21"));
    assert_eq!(b.threads, 1);
    assert_eq!(b.lowering_freed_bytes, Some(0));
    assert!(
        b.lowering
            .starts_with("freed nothing: 16 -> 1 threads left 2.0 GiB mapped (OpenBLAS keeps"),
        "{}",
        b.lowering
    );
    assert!(b.advice.contains("OPENBLAS_NUM_THREADS") && b.advice.contains("arenaprof::gemm"));
    assert!(r.blas_notes[0].starts_with("skipped "));
    // VmSize and RSS per timeline point.
    assert_eq!(r.timeline.vm_size_bytes.len(), r.timeline.points.len());
    assert_eq!(r.timeline.rss_bytes.len(), r.timeline.points.len());
    let jump = r.timeline.vm_size_bytes.last().unwrap() - r.timeline.vm_size_bytes[0];
    assert!(jump >= 2048 * MIB);
}

#[test]
fn json_has_the_documented_fields() {
    let r = analyze(&fixtures::pinned_views(), &Options::default());
    let v: serde_json::Value =
        serde_json::from_str(&json::render(&r, Default::default()).unwrap()).unwrap();
    let rows = v["memory"]["outside_allocator"].as_array().unwrap();
    for row in rows {
        assert!(row["object"].is_string());
        for k in [
            "mappings",
            "virtual_bytes",
            "resident_bytes",
            "commit_bytes",
        ] {
            assert!(row[k].is_u64(), "{k} in {row}");
        }
    }
    let b = &v["blas"][0];
    assert!(b["library"].as_str().unwrap().contains("libopenblas"));
    assert_eq!(b["version"], "0.3.21");
    assert_eq!(b["threads"], 1);
    assert!(v["memory"]["virtual_bytes"].as_u64().unwrap() > 2 << 30);
    assert!(v["memory"]["outside_allocator_resident_bytes"].is_u64());
    assert_eq!(v["memory"]["gap_source"], "mappings");
    assert!(v["timeline"]["vm_size_bytes"].is_array());
    // A JSON report read back is the same report (check and diff read it).
    let back: arenaprof_report::Report = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

#[test]
fn text_and_html_show_outside_memory_and_blas() {
    let r = analyze(&fixtures::pinned_views(), &Options::default());
    let t = text::render(&r, Default::default()).unwrap();
    println!("{t}");
    assert!(t.contains("MEMORY OUTSIDE THE ALLOCATOR ("), "{t}");
    assert!(t.contains("libopenblas.so.0"));
    assert!(t.contains("anonymous memory mapped by libopenblas.so.0"));
    assert!(t.contains("BLAS (runtimes loaded in the process)"));
    assert!(t.contains("openblas 0.3.21 libopenblas.so.0 (pthreads, Haswell): 1 thread; 16 buffers of 128.0 MiB mapped: 2.0 GiB virtual, 4.0 MiB resident"), "{t}");
    assert!(
        t.contains("lowering the thread count freed nothing: 16 -> 1 threads left 2.0 GiB mapped")
    );
    assert!(t.contains("[VmSize]") && t.contains("[RSS]"));
    assert!(t.contains("note: skipped /usr/lib/x86_64-linux-gnu/libblas.so.3"));
    let h = html::render(&r, Default::default()).unwrap();
    assert!(h.contains(r#"<table id="outside-allocator">"#));
    assert!(h.contains(r#"id="process-chart""#));
    assert!(h.contains("<h2>BLAS runtimes</h2>"));
    assert!(h.contains("anonymous memory mapped by libopenblas.so.0"));
}

#[test]
fn check_limits_outside_and_virtual() {
    let r = analyze(&fixtures::pinned_views(), &Options::default());
    let lim = |o: Option<u64>, v: Option<u64>| Thresholds {
        max_outside: o,
        max_virtual: v,
        ..Default::default()
    };
    let out = check(&r, &lim(Some(1 << 30), Some(8 << 30)));
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    assert_eq!(out.passed.len(), 2);
    let out = check(&r, &lim(Some(MIB), Some(MIB)));
    assert_eq!(out.violations.len(), 2);
    assert!(out.violations[0]
        .message
        .starts_with("memory.outside_allocator_resident_bytes = "));
    assert!(out.violations[0]
        .message
        .contains("exceeds --max-outside 1.0 MiB: largest is"));
    assert!(
        out.violations[1].message.contains(
            "exceeds --max-virtual 1.0 MiB: largest is /usr/lib/x86_64-linux-gnu/libopenblas.so.0"
        ),
        "{}",
        out.violations[1].message
    );
}

#[test]
fn version_1_snapshots_read_and_say_they_were_not_measured() {
    let bytes = arenaprof_snapshot::to_bytes_v1(&fixtures::pinned_views()).unwrap();
    let snap = Snapshot::from_bytes(&bytes).unwrap();
    let r = analyze(&snap, &Options::default());
    assert!(!r.memory.measured);
    assert_eq!(r.meta.format_version, 1);
    assert_eq!(r.memory.gap_source, "allocator");
    assert!(r.memory.outside_allocator.is_empty() && r.blas.is_empty());
    let t = text::render(&r, Default::default()).unwrap();
    assert!(
        t.contains("MEMORY OUTSIDE THE ALLOCATOR: not measured (snapshot format version 1"),
        "{t}"
    );
    let out = check(
        &r,
        &Thresholds {
            max_outside: Some(MIB),
            ..Default::default()
        },
    );
    assert_eq!(out.violations.len(), 1);
    assert!(out.violations[0].message.contains(
        "was not measured, so --max-outside 1.0 MiB cannot be checked (snapshot format version 1"
    ));
}

#[test]
fn crafted_native_sections_never_panic_and_stay_bounded() {
    use arenaprof_snapshot::{
        BlasRuntime, BlasThreadChange, GroupKind, LadderRung, MappingGroup, ProcessPoint,
    };
    let mut s = fixtures::pinned_views();
    let n = &mut s.native;
    let kinds = [
        GroupKind::Allocator,
        GroupKind::MappedBy,
        GroupKind::OtherAnonymous,
        GroupKind::Library,
        GroupKind::Kernel,
    ];
    n.groups = (0..5_000)
        .map(|i| MappingGroup {
            kind: kinds[i % kinds.len()],
            object: format!("/lib/<b>lib{i}.so"),
            mappings: u64::MAX,
            virtual_bytes: u64::MAX - i as u64,
            resident_bytes: u64::MAX,
            commit_bytes: u64::MAX,
            ..Default::default()
        })
        .collect();
    n.ladder = (0..100)
        .map(|i| LadderRung {
            key: if i % 2 == 0 {
                "tracked".into()
            } else {
                format!("new{i}")
            },
            name: "x".into(),
            bytes: u64::MAX,
        })
        .collect();
    n.mappings_rss_bytes = 7;
    n.series = vec![ProcessPoint::default(); 3];
    n.blas = (0..2_000)
        .map(|i| BlasRuntime {
            api: "openblas".into(),
            library: format!("/lib/libopenblas{}.so", i % 3),
            threads: -5,
            buffers_known: true,
            buffers_mapped: u64::MAX,
            ..Default::default()
        })
        .collect();
    n.blas_changes = (0..2_000)
        .map(|i| BlasThreadChange {
            library: format!("/lib/libopenblas{}.so", i % 3),
            previous: i64::MAX,
            now: i64::MIN,
            mapped_before: Some(0),
            mapped_after: Some(u64::MAX),
            ..Default::default()
        })
        .collect();
    n.blas_notes = vec!["<script>".into(); 10_000];
    let t0 = std::time::Instant::now();
    let r = analyze(&s, &Options::default());
    assert!(r.memory.gap.iter().all(|g| g.bytes >= 0));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("measured ladder sums to")));
    let t = text::render(&r, Default::default()).unwrap();
    let h = html::render(&r, Default::default()).unwrap();
    let j = json::render(&r, Default::default()).unwrap();
    assert!(j.len() < 64 << 20, "{} bytes of JSON", j.len());
    assert!(r.blas.iter().all(|b| b.changes.len() <= 64));
    assert!(t.lines().count() < 1_000, "{} lines", t.lines().count());
    assert!(!h.contains("<script>\"") && !h.contains("<b>lib"));
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
}
