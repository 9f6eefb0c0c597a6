//! A generator of hostile inputs: well-formed snapshots and JSON reports of
//! at most 4 MiB whose cross-references, if expanded without bound, ask the
//! analysis or a renderer for gigabytes or for hours (see "Budgets" in
//! `docs/report.md`). Each case names the shape and what every command must
//! do with it.
#![allow(dead_code)]
// Cases are built field by field from an empty snapshot, which reads better here.
#![allow(clippy::field_reassign_with_default)]

use arenaprof_report::{
    KeyValue, Report, SectionRow, TagRow, ThreadRow, TimelineInfo, TimelinePointRow,
};
use arenaprof_snapshot::*;

/// The largest input the suite makes (the acceptance bound).
pub const MAX_INPUT: usize = 4 << 20;

/// What a command must do with a case, beyond the universal rules (exit 0, 1
/// or 2 within the time and memory limits, never a signal or a panic, and
/// an exit 2 is one line on stderr).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Succeeds: exit 0 (`check` may exit 1: a limit is exceeded).
    Ok,
    /// Exits 2 with a line naming the budget that was exceeded.
    OverBudget,
    /// Exits 2 with a line containing this text.
    Refused(&'static str),
    /// Exit 0, 1 or 2; nothing more is promised.
    Any,
}

/// A generated input.
pub struct Case {
    /// Short name, used for the file.
    pub name: &'static str,
    /// The shape, in a few words.
    pub shape: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Whether it is a JSON report (else a snapshot).
    pub json: bool,
    /// The outcome expected of each command (by its first argument and
    /// options, e.g. `"report"`, `"report --format json"`, `"flame --leaks"`).
    pub expect: fn(&str) -> Expect,
}

fn snap_case(
    name: &'static str,
    shape: &'static str,
    s: Snapshot,
    expect: fn(&str) -> Expect,
) -> Case {
    let bytes = s.to_bytes().expect("encodes");
    assert!(
        bytes.len() <= MAX_INPUT,
        "{name}: {} bytes is over the suite's 4 MiB",
        bytes.len()
    );
    Case {
        name,
        shape,
        bytes,
        json: false,
        expect,
    }
}

fn json_case(
    name: &'static str,
    shape: &'static str,
    bytes: Vec<u8>,
    expect: fn(&str) -> Expect,
) -> Case {
    assert!(
        bytes.len() <= MAX_INPUT,
        "{name}: {} bytes is over the suite's 4 MiB",
        bytes.len()
    );
    Case {
        name,
        shape,
        bytes,
        json: true,
        expect,
    }
}

fn json_report(r: &Report) -> Vec<u8> {
    serde_json::to_vec(r).expect("serialises")
}

fn base_report() -> Report {
    Report {
        schema: "arenaprof-report".into(),
        schema_version: 1,
        ..Default::default()
    }
}

/// For a snapshot without samples: the sampled-stack flame graphs have
/// nothing to draw, pprof writes an empty profile, and every other command
/// (the leaks flame graph included) does `rest`.
fn no_samples(cmd: &str, rest: Expect) -> Expect {
    match cmd {
        "flame" | "flame --peak" | "flame --alloc" => Expect::Refused("nothing to draw"),
        "pprof" => Expect::Ok,
        _ => rest,
    }
}

fn tag(id: u16, name: String) -> TagStats {
    TagStats {
        id,
        name,
        ..Default::default()
    }
}

fn site(file: &str) -> Site {
    Site {
        file: file.into(),
        line: 1,
        col: 1,
    }
}

fn view(id: u64, arena: u64, parent: Option<u64>, op: &str, file: &str) -> ViewRecord {
    ViewRecord {
        id,
        arena,
        parent,
        op: op.into(),
        site: site(file),
        alive: true,
        is_owner: false,
        layout: Layout {
            offset: 0,
            shape: vec![1],
            strides: vec![1],
            elem_size: 1,
        },
        ..Default::default()
    }
}

fn arena(id: u64, op: &str, file: &str) -> ArenaRecord {
    ArenaRecord {
        id,
        capacity_bytes: 1 << 30,
        elem_size: 1,
        op: op.into(),
        site: site(file),
        owner_alive: false,
        ..Default::default()
    }
}

/// A timeline of 20,000 tag columns and 50,000 points with empty rows:
/// padded, 10^9 values.
pub fn timeline_columns() -> Case {
    let mut s = Snapshot::default();
    s.tags = vec![tag(0, "t".into())];
    s.timeline.tags = vec![0; 20_000];
    s.timeline.points = (0..50_000)
        .map(|i| TimelinePoint {
            t_ns: i,
            ..Default::default()
        })
        .collect();
    snap_case(
        "timeline_columns",
        "20,000 tag columns x 50,000 empty points",
        s,
        |cmd| {
            if cmd == "flame --leaks" {
                Expect::OverBudget
            } else {
                no_samples(cmd, Expect::OverBudget)
            }
        },
    )
}

/// A 1 MiB tag name repeated in 20,000 thread rows.
pub fn tag_name_threads() -> Case {
    let mut s = Snapshot::default();
    s.tags = vec![tag(7, "n".repeat(1 << 20))];
    s.threads = (0..20_000)
        .map(|i| ThreadStats {
            slot: i,
            tags: vec![ThreadTagStats {
                tag: 7,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    snap_case(
        "tag_name_threads",
        "a 1 MiB tag name in 20,000 thread rows",
        s,
        |cmd| {
            if cmd == "flame --leaks" {
                Expect::OverBudget
            } else {
                no_samples(cmd, Expect::OverBudget)
            }
        },
    )
}

/// A 1M-frame stack referenced by 20,000 samples of distinct (tag, thread)
/// and by 20,000 `at_peak` entries.
pub fn deep_stack() -> Case {
    let mut s = Snapshot::default();
    s.heap.frames = vec![Frame {
        function: "my_app::recurse".into(),
        file: "src/lib.rs".into(),
        line: 3,
    }];
    s.heap.stacks = vec![Stack {
        frames: vec![0; 1_000_000],
    }];
    s.heap.samples = (0..20_000u32)
        .map(|i| Sample {
            stack: 0,
            tag: i as u16,
            thread: i,
            size: 8,
            weight: 1.0,
            ..Default::default()
        })
        .collect();
    s.heap.at_peak = (0..20_000)
        .map(|_| StackBytes {
            stack: 0,
            bytes: 8.0,
            objects: 1.0,
        })
        .collect();
    snap_case(
        "deep_stack",
        "a 1,000,000-frame stack under 20,000 samples and 20,000 peak entries",
        s,
        |cmd| match cmd {
            // 20,000 folded paths of 256 frames: over the budget. The peak
            // entries carry no tag: one path.
            "flame" | "flame --alloc" => Expect::OverBudget,
            "flame --leaks" => Expect::Refused("nothing to draw"),
            _ => Expect::Ok,
        },
    )
}

/// A plumbing frame with a 256 KiB name, a million times in one stack, under
/// 4,000 samples of distinct tags: classifying the frame per stack
/// reference would scan terabytes.
pub fn plumbing_frame() -> Case {
    let mut s = Snapshot::default();
    s.heap.frames = vec![Frame {
        function: format!("alloc::{}", "x".repeat(256 << 10)),
        file: String::new(),
        line: 0,
    }];
    s.heap.stacks = vec![Stack {
        frames: vec![0; 1_000_000],
    }];
    s.heap.samples = (0..4_000u32)
        .map(|i| Sample {
            stack: 0,
            tag: i as u16,
            size: 8,
            weight: 1.0,
            ..Default::default()
        })
        .collect();
    snap_case(
        "plumbing_frame",
        "a 256 KiB plumbing frame 1,000,000 times in a stack under 4,000 samples",
        s,
        |cmd| match cmd {
            // One site (its row repeats the frame 16 times: 4 MiB); the
            // flame graphs trim the plumbing from the leaf as the site
            // table does, down to the one innermost frame: 4,000 one-frame
            // paths.
            "flame --peak" | "flame --leaks" => Expect::Refused("nothing to draw"),
            _ => Expect::Ok,
        },
    )
}

/// 120,000 live views in one derivation chain: each retainer lists up to 32
/// steps.
pub fn live_chain() -> Case {
    let mut s = Snapshot::default();
    s.registry.arenas = vec![arena(1, "arange", "src/a.rs")];
    s.registry.views = (0..120_000u64)
        .map(|i| view(i, 1, i.checked_sub(1), "v", "s"))
        .collect();
    snap_case("live_chain", "120,000 live views in one chain", s, |cmd| {
        no_samples(cmd, Expect::OverBudget)
    })
}

/// One arena with a 512 KiB op and site, pinned by 60,000 live views: each
/// retainer's chain starts with the arena's step.
pub fn arena_names() -> Case {
    let mut s = Snapshot::default();
    let big = "o".repeat(512 << 10);
    s.registry.arenas = vec![arena(1, &big, &big)];
    s.registry.views = (0..60_000u64)
        .map(|i| view(i + 2, 1, None, "", ""))
        .collect();
    snap_case(
        "arena_names",
        "an arena with a 512 KiB op and site under 60,000 live views",
        s,
        |cmd| no_samples(cmd, Expect::OverBudget),
    )
}

/// 30,000 views in 15,000 two-view cycles, all alive: one warning per
/// cycle would be a warning per view.
pub fn view_cycles() -> Case {
    let mut s = Snapshot::default();
    s.registry.arenas = vec![arena(1, "arange", "src/a.rs")];
    s.registry.views = (0..30_000u64)
        .map(|i| view(i, 1, Some(i ^ 1), "", ""))
        .collect();
    snap_case(
        "view_cycles",
        "15,000 derivation cycles of two live views",
        s,
        |cmd| no_samples(cmd, Expect::Ok),
    )
}

/// 200,000 marks, and a tag with a 1 MiB name over 100,000 alternating
/// points (50,000 rises).
pub fn marks_and_rises() -> Case {
    let mut s = Snapshot::default();
    s.tags = vec![tag(1, "r".repeat(1 << 20))];
    s.timeline.tags = vec![1];
    s.timeline.points = (0..100_000u64)
        .map(|i| TimelinePoint {
            t_ns: i,
            live_bytes: vec![i % 2],
            reason: PointReason::Churn,
        })
        .collect();
    s.timeline.marks = (0..200_000)
        .map(|_| Mark {
            t_ns: 5,
            label: String::new(),
        })
        .collect();
    snap_case(
        "marks_and_rises",
        "200,000 marks; 50,000 rises of a tag with a 1 MiB name",
        s,
        |cmd| {
            if cmd == "flame --leaks" {
                Expect::Refused("nothing to draw")
            } else {
                no_samples(cmd, Expect::Ok)
            }
        },
    )
}

/// 20,000 thread rows sharing one slot, and 100,000 samples on that slot:
/// the size percentiles must be computed once, not once per row.
pub fn shared_slot() -> Case {
    let mut s = Snapshot::default();
    s.threads = (0..20_000).map(|_| ThreadStats::default()).collect();
    s.heap.frames = vec![Frame::default()];
    s.heap.stacks = vec![Stack { frames: vec![0] }];
    s.heap.samples = (0..100_000u64)
        .map(|i| Sample {
            size: i,
            weight: 1.0,
            ..Default::default()
        })
        .collect();
    snap_case(
        "shared_slot",
        "20,000 thread rows on one slot with 100,000 samples",
        s,
        |cmd| match cmd {
            "flame --leaks" | "flame --peak" => Expect::Refused("nothing to draw"),
            _ => Expect::Ok,
        },
    )
}

/// Overlapping strided views at the footprint merge limits: 12 arenas, each
/// pinned by one self-overlapping view of 2,000,000 runs in 1,000,000 sorted
/// streams.
pub fn strided_overlap() -> Case {
    let mut s = Snapshot::default();
    for a in 0..12u64 {
        s.registry.arenas.push(arena(a, "zeros", "src/z.rs"));
        let mut v = view(100 + a, a, None, "window", "src/w.rs");
        v.layout = Layout {
            offset: 0,
            shape: vec![2, 1 << 20],
            strides: vec![2, 2],
            elem_size: 1,
        };
        s.registry.views.push(v);
    }
    snap_case(
        "strided_overlap",
        "12 self-overlapping views of 2,000,000 runs each",
        s,
        |cmd| no_samples(cmd, Expect::Ok),
    )
}

/// One arena pinned by 15,000 overlapping contiguous views and 15,000
/// strided ones interleaved with them, none covering the others: deciding
/// for each strided view whether a contiguous one contains it must not
/// compare every pair.
pub fn solid_and_strided() -> Case {
    let mut s = Snapshot::default();
    s.registry.arenas = vec![arena(1, "zeros", "src/z.rs")];
    for i in 0..15_000u64 {
        let mut solid = view(2 * i + 10, 1, None, "", "");
        solid.layout = Layout {
            offset: 4 * i as i64,
            shape: vec![5],
            strides: vec![1],
            elem_size: 1,
        };
        let mut strided = view(2 * i + 11, 1, None, "", "");
        strided.layout = Layout {
            offset: 4 * i as i64 + 2,
            shape: vec![4],
            strides: vec![2],
            elem_size: 1,
        };
        s.registry.views.push(solid);
        s.registry.views.push(strided);
    }
    snap_case(
        "solid_and_strided",
        "15,000 contiguous and 15,000 strided views overlapping in one arena",
        s,
        |cmd| no_samples(cmd, Expect::Ok),
    )
}

/// A layout with 200,000 dimensions.
pub fn many_dims() -> Case {
    let mut s = Snapshot::default();
    s.registry.arenas = vec![arena(1, "zeros", "src/z.rs")];
    let mut v = view(2, 1, None, "reshape", "src/r.rs");
    let n = 200_000;
    v.layout = Layout {
        offset: 0,
        shape: vec![2; n],
        strides: (0..n).map(|k| 1isize << (k % 62)).collect(),
        elem_size: 1,
    };
    s.registry.views = vec![v];
    snap_case(
        "many_dims",
        "a view layout of 200,000 dimensions",
        s,
        // The layout is invalid (over 64 dimensions): it reaches nothing,
        // and the whole arena is wasted.
        |cmd| no_samples(cmd, Expect::Ok),
    )
}

/// A million empty section entries (2 bytes each): the largest decoded
/// and rendered expansion per input byte (a 24-byte string per byte in
/// memory, a table row per entry in the output).
pub fn wide_sections() -> Case {
    let mut s = Snapshot::default();
    s.sections = vec![Section {
        name: "many".into(),
        entries: vec![(String::new(), String::new()); 1_000_000],
    }];
    snap_case(
        "wide_sections",
        "1,000,000 empty section entries",
        s,
        |cmd| {
            if cmd == "flame --leaks" {
                Expect::Refused("nothing to draw")
            } else {
                no_samples(cmd, Expect::Ok)
            }
        },
    )
}

/// Terminal escapes, bidi overrides and XML-illegal characters in every
/// name, with samples so that every command has something to draw.
pub const EVIL: &str = "x\x1b]0;pwned\x07\x1b[2J\x1b[31m\u{9b}31m\u{202e}\r\x08\0\u{fffe}y";

pub fn escapes() -> Case {
    let mut s = Snapshot::default();
    let e = |p: &str| format!("{p}{EVIL}");
    s.meta.program = e("prog");
    s.meta.allocator = e("alloc");
    s.tags = vec![tag(1, e("tag")), tag(2, e("tag2"))];
    s.tags[0].counters.live_bytes = 100;
    s.threads = vec![ThreadStats {
        slot: 0,
        name: e("thread"),
        tags: vec![ThreadTagStats {
            tag: 1,
            ..Default::default()
        }],
        ..Default::default()
    }];
    s.heap.frames = vec![
        Frame {
            function: e("my_app::inner"),
            file: e("src/f.rs"),
            line: 1,
        },
        Frame {
            function: e("main"),
            file: String::new(),
            line: 0,
        },
    ];
    s.heap.stacks = vec![Stack { frames: vec![0, 1] }];
    s.heap.samples = vec![Sample {
        stack: 0,
        tag: 1,
        size: 4096,
        weight: 1.0,
        ..Default::default()
    }];
    s.heap.at_peak = vec![StackBytes {
        stack: 0,
        bytes: 4096.0,
        objects: 1.0,
    }];
    s.timeline.tags = vec![1, 2];
    s.timeline.points = vec![
        TimelinePoint {
            t_ns: 0,
            live_bytes: vec![0, 0],
            reason: PointReason::Interval,
        },
        TimelinePoint {
            t_ns: 10,
            live_bytes: vec![100, 5],
            reason: PointReason::Mark,
        },
    ];
    s.timeline.marks = vec![Mark {
        t_ns: 5,
        label: e("mark"),
    }];
    s.registry.arenas = vec![arena(1, &e("arange"), &e("src/a.rs"))];
    s.registry.arenas[0].elem_type = e("f64");
    s.registry.views = vec![
        view(1, 1, None, &e("arange"), &e("src/a.rs")),
        view(2, 1, Some(1), &e("slice"), &e("src/b.rs")),
    ];
    s.registry.views[0].alive = false;
    s.registry.views[0].is_owner = true;
    s.sections = vec![Section {
        name: e("section"),
        entries: vec![(e("key"), e("value"))],
    }];
    snap_case(
        "escapes",
        "terminal escapes and control characters in every name",
        s,
        |_| Expect::Ok,
    )
}

/// A user tag named `other-tags` beside the allocator's overflow row.
pub fn other_tags() -> Case {
    let mut s = Snapshot::default();
    s.tags = vec![tag(4, "other-tags".into()), tag(63, "other-tags".into())];
    s.tags[0].counters.live_bytes = 10;
    s.tags[1].counters.live_bytes = 5000;
    snap_case("other_tags", "two tags named other-tags", s, |cmd| {
        if cmd == "flame --leaks" {
            Expect::Refused("nothing to draw")
        } else {
            no_samples(cmd, Expect::Ok)
        }
    })
}

/// A JSON report of 200,000 tag columns and 20,000 points with empty rows:
/// drawing every column would be 4 * 10^9 steps.
pub fn json_timeline() -> Case {
    let mut r = base_report();
    r.timeline = TimelineInfo {
        tags: vec![String::new(); 200_000],
        points: (0..20_000)
            .map(|i| TimelinePointRow {
                t_ns: i,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    json_case(
        "json_timeline",
        "JSON: 200,000 tag columns x 20,000 empty points",
        json_report(&r),
        json_expect,
    )
}

/// A JSON report of 30,000 jumps over 30,000 tags.
pub fn json_jumps() -> Case {
    let mut r = base_report();
    r.timeline.tags = (0..30_000).map(|i| format!("{i}")).collect();
    r.timeline.points = vec![TimelinePointRow::default(), TimelinePointRow::default()];
    r.timeline.jumps = (0..30_000)
        .map(|_| arenaprof_report::Jump {
            tag: "nope".into(),
            ..Default::default()
        })
        .collect();
    json_case(
        "json_jumps",
        "JSON: 30,000 jumps over 30,000 tags",
        json_report(&r),
        json_expect,
    )
}

/// A JSON report with a 1 MiB tag and thread name among 3,000 rows each:
/// padding every table row to the longest name would be 6 GB.
pub fn json_long_names() -> Case {
    let mut r = base_report();
    r.tags = (0..3_000)
        .map(|i| TagRow {
            id: i as u16,
            name: if i == 0 {
                "w".repeat(1 << 20)
            } else {
                String::new()
            },
            ..Default::default()
        })
        .collect();
    r.threads = (0..3_000)
        .map(|i| ThreadRow {
            slot: i,
            name: if i == 0 {
                "t".repeat(1 << 20)
            } else {
                String::new()
            },
            ..Default::default()
        })
        .collect();
    r.sections = vec![SectionRow {
        name: "s".repeat(1 << 10),
        entries: (0..1000).map(|_| KeyValue::default()).collect(),
    }];
    json_case(
        "json_long_names",
        "JSON: a 1 MiB tag and thread name among 3,000 rows each",
        json_report(&r),
        json_expect,
    )
}

/// JSON nested 100,000 levels deep.
pub fn json_deep() -> Case {
    let mut b = br#"{"schema":"arenaprof-report","schema_version":1,"x":"#.to_vec();
    b.extend(std::iter::repeat_n(b'[', 100_000));
    b.extend(std::iter::repeat_n(b']', 100_000));
    b.push(b'}');
    json_case("json_deep", "JSON nested 100,000 deep", b, |_| {
        Expect::Refused("")
    })
}

fn json_expect(cmd: &str) -> Expect {
    if cmd.starts_with("flame") || cmd.starts_with("pprof") {
        Expect::Refused("not an arenaprof snapshot")
    } else {
        Expect::Ok
    }
}

/// Every case.
pub fn cases() -> Vec<Case> {
    vec![
        timeline_columns(),
        tag_name_threads(),
        deep_stack(),
        plumbing_frame(),
        live_chain(),
        arena_names(),
        view_cycles(),
        marks_and_rises(),
        shared_slot(),
        strided_overlap(),
        solid_and_strided(),
        many_dims(),
        wide_sections(),
        escapes(),
        other_tags(),
        json_timeline(),
        json_jumps(),
        json_long_names(),
        json_deep(),
    ]
}
