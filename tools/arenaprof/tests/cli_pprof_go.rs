//! pprof from the demo's snapshot, as `go tool pprof` shows it: user code
//! first (no allocator, tracker or `alloc::raw_vec` frame among the first
//! five `-top` entries), real mappings with build IDs, a `bytes` label on
//! every sample, and no location with a made-up line.

mod common;
use arenaprof_report::passes::trim::is_plumbing;
use arenaprof_report::render::pprof;
use arenaprof_snapshot::Frame;
use common::{arenaprof, demo_snapshots, outcome, s};
use std::process::Command;

/// Frames no user wants at the top: the allocator, the tracker's internals,
/// the standard library's allocation plumbing.
fn is_allocation_frame(name: &str) -> bool {
    [
        "alloc::raw_vec",
        "alloc::alloc",
        "RawVec",
        "finish_grow",
        "__rust_alloc",
        "__rust_realloc",
        "__rdl",
        "__rg_",
        "_rjem",
        "jemalloc",
        "GlobalAlloc",
        "TrackingAlloc",
        "arenaprof_alloc::tracking",
        "arenaprof_alloc::sampling",
        "arenaprof_alloc::unwind",
        "arenaprof_alloc::local",
        "arenaprof_alloc::header",
    ]
    .iter()
    .any(|p| name.contains(p))
}

#[test]
fn the_demo_profile_decodes_with_mappings_build_ids_and_byte_labels() {
    let dir = tempfile::tempdir().unwrap();
    let snap = demo_snapshots(dir.path()).0;
    let out = arenaprof(&["pprof", s(&snap), "-o", "-"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = pprof::decode_gzip(&out.stdout).unwrap();
    let st = |i: i64| p.string_table[i as usize].as_str();
    // Mappings: address ranges and build IDs; the executable first.
    assert!(!p.mapping.is_empty());
    let exe = &p.mapping[0];
    assert!(exe.memory_start < exe.memory_limit);
    assert!(
        st(exe.filename).ends_with("arenaprof-demo"),
        "{}",
        st(exe.filename)
    );
    let id = st(exe.build_id);
    assert!(
        id.len() >= 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(p
        .location
        .iter()
        .all(|l| p.mapping.iter().any(|m| m.id == l.mapping_id)));
    // Locations carry the address they were resolved from, inside their
    // mapping (most of them: every frame of a symbolized return address).
    let inside = p
        .location
        .iter()
        .filter(|l| {
            p.mapping.iter().any(|m| {
                m.id == l.mapping_id && m.memory_start <= l.address && l.address < m.memory_limit
            })
        })
        .count();
    assert!(
        inside * 10 >= p.location.len() * 9,
        "{inside} of {} locations have an address in their mapping",
        p.location.len()
    );
    // A `bytes` label, in bytes, on every sample: the allocation's size.
    assert!(!p.sample.is_empty());
    for x in &p.sample {
        let b = x
            .label
            .iter()
            .find(|l| st(l.key) == "bytes")
            .expect("every sample has a bytes label");
        assert_eq!(st(b.num_unit), "bytes");
        assert!(b.num > 0);
    }
    // No location claims line 0 of a file.
    for l in &p.location {
        for line in &l.line {
            let f = p
                .function
                .iter()
                .find(|f| f.id == line.function_id)
                .unwrap();
            assert!(
                line.line > 0 || st(f.filename).is_empty(),
                "{}:0",
                st(f.filename)
            );
        }
    }
    // Every stack starts (at the leaf) with a user frame.
    let name_of = |loc: u64| {
        let l = p.location.iter().find(|l| l.id == loc).unwrap();
        let f = p
            .function
            .iter()
            .find(|f| f.id == l.line[0].function_id)
            .unwrap();
        st(f.name).to_owned()
    };
    for x in &p.sample {
        let leaf = name_of(x.location_id[0]);
        let frame = Frame {
            function: leaf.clone(),
            ..Default::default()
        };
        assert!(!is_plumbing(&frame), "leaf {leaf}");
    }
    assert!(st(p.drop_frames).contains("finish_grow"));
}

#[test]
fn go_tool_pprof_top_starts_at_user_code() {
    let go = Command::new("go").arg("version").output();
    if !go.is_ok_and(|o| o.status.success()) {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("`go` is not installed (apt-get install golang-go); CI must run this test");
        }
        eprintln!("skipped: `go` is not installed (apt-get install golang-go)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let snap = demo_snapshots(dir.path()).0;
    let pb = dir.path().join("heap.pb.gz");
    let (code, _, err) = outcome(&arenaprof(&["pprof", s(&snap), "-o", s(&pb)]));
    assert_eq!(code, 0, "{err}");
    let out = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .arg(&pb)
        .env("PPROF_TMPDIR", dir.path())
        .env("HOME", dir.path())
        .env("GOFLAGS", "-mod=mod")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .skip(1)
        .take(5)
        .collect();
    assert_eq!(entries.len(), 5, "{text}");
    for e in &entries {
        // `flat flat% sum% cum cum% NAME`: the name is everything after the
        // fifth column.
        let name = e.split_whitespace().skip(5).collect::<Vec<_>>().join(" ");
        assert!(!name.is_empty(), "{e}");
        assert!(
            !is_allocation_frame(&name),
            "{name} among the first five:\n{text}"
        );
    }
    assert!(
        entries.iter().any(|e| e.contains("arenaprof_demo::demo::")),
        "the demo's own functions lead:\n{text}"
    );
}
