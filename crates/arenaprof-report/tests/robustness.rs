//! Decodable but inconsistent snapshots (dangling indices, cycles, absurd
//! layouts and counts, NaN weights, ragged timelines) go through the analysis,
//! every renderer, `check` and `diff` without a panic. 300 random snapshots.

use arenaprof_report::check::{check, Thresholds};
use arenaprof_report::render::{self, flame, html, json, pprof, text};
use arenaprof_report::{analyze, diff, Kind, Options, Report};
use arenaprof_snapshot::*;
use common::{fold, profile};
use proptest::prelude::*;

mod common;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Mostly small values, sometimes extreme ones.
    fn wild(&mut self) -> u64 {
        match self.below(8) {
            0 => u64::MAX - self.below(3),
            1 => 0,
            2 => 1 << self.below(64),
            _ => self.below(5000),
        }
    }
    fn float(&mut self) -> f64 {
        match self.below(10) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -1.0,
            3 => 1e300,
            _ => 1.0 + self.below(100) as f64 / 7.0,
        }
    }
}

fn random_snapshot(seed: u64) -> Snapshot {
    let mut r = Rng(seed | 1);
    let mut s = Snapshot::default();
    let ntags = r.below(5);
    for id in 0..ntags {
        let mut c = Counters {
            live_bytes: r.wild(),
            peak_bytes: r.wild(),
            peak_at_ns: r.wild(),
            allocated_bytes: r.wild(),
            freed_bytes: r.wild(),
            alloc_count: r.wild(),
            free_count: r.wild(),
            ..Default::default()
        };
        c.realloc_count = r.wild();
        s.tags.push(TagStats {
            id: id as u16 * (1 + r.below(3) as u16),
            name: if r.below(4) == 0 {
                "a;b\n<c>&\"".into()
            } else {
                format!("tag{id}")
            },
            counters: c,
            sizes: Histogram {
                buckets: vec![(r.wild(), r.wild())],
                percentiles: vec![(50.0, r.wild()), (f64::NAN, 1), (100.0, r.wild())],
            },
            lifetimes_ns: Histogram::default(),
        });
        s.threads.push(ThreadStats {
            slot: r.below(4) as u32,
            counters: c,
            tags: vec![ThreadTagStats {
                tag: r.below(70) as u16,
                counters: c,
            }],
            ..Default::default()
        });
        // Saturating sum (Counters::merge assumes sane values).
        s.total.live_bytes = s.total.live_bytes.saturating_add(c.live_bytes);
        s.total.alloc_count = s.total.alloc_count.saturating_add(c.alloc_count);
        s.total.peak_bytes = s.total.peak_bytes.max(c.peak_bytes);
    }
    s.timeline.tags = (0..r.below(4)).map(|t| t as u16).collect();
    for _ in 0..r.below(30) {
        s.timeline.points.push(TimelinePoint {
            t_ns: r.wild(),
            live_bytes: (0..r.below(5)).map(|_| r.wild()).collect(),
            reason: PointReason::Churn,
        });
    }
    s.timeline.marks.push(Mark {
        t_ns: r.wild(),
        label: "m<>".into(),
    });
    let nframes = r.below(6);
    s.heap.frames = (0..nframes)
        .map(|i| Frame {
            function: format!("f{i};x"),
            file: "/rustc/x/library/alloc/y.rs".into(),
            line: i as u32,
        })
        .collect();
    s.heap.stacks = (0..r.below(5))
        .map(|_| Stack {
            frames: (0..r.below(5))
                .map(|_| r.below(nframes + 3) as u32)
                .collect(),
        })
        .collect();
    for _ in 0..r.below(40) {
        s.heap.samples.push(Sample {
            stack: r.below(8) as u32,
            tag: r.below(6) as u16,
            thread: r.below(4) as u32,
            size: r.wild(),
            weight: r.float(),
            alloc_ns: r.wild(),
            free_ns: (r.below(2) == 0).then(|| r.wild()),
        });
    }
    s.heap.at_peak.push(StackBytes {
        stack: r.below(9) as u32,
        bytes: r.float(),
        objects: r.float(),
    });
    s.process.rss_bytes = r.wild();
    if r.below(2) == 0 {
        s.process.jemalloc = Some(JemallocStats {
            allocated: r.wild(),
            active: r.wild(),
            resident: r.wild(),
            metadata: r.wild(),
            retained: r.wild(),
            mapped: r.wild(),
        });
    }
    s.overhead.live_header_bytes = r.wild();
    s.overhead.table_bytes = r.wild();
    s.overhead.internal_live_bytes = r.wild();
    let narenas = r.below(5);
    for id in 0..narenas {
        s.registry.arenas.push(ArenaRecord {
            id: r.below(narenas + 1),
            capacity_bytes: r.wild(),
            elem_size: r.below(17),
            owner_alive: r.below(2) == 0,
            op: format!("op{id}"),
            ..Default::default()
        });
    }
    let nviews = r.below(12);
    for _ in 0..nviews {
        let ndim = r.below(4) as usize;
        s.registry.views.push(ViewRecord {
            id: r.below(nviews + 2),
            arena: r.below(narenas + 2),
            parent: (r.below(3) != 0).then(|| r.below(nviews + 2)),
            alive: r.below(3) != 0,
            is_owner: r.below(3) == 0,
            layout: Layout {
                offset: (r.wild() as i64).wrapping_sub(100),
                shape: (0..ndim).map(|_| r.wild() as usize).collect(),
                strides: (0..ndim + r.below(2) as usize)
                    .map(|_| r.wild() as isize)
                    .collect(),
                elem_size: r.below(17),
            },
            ..Default::default()
        });
    }
    s
}

fn exercise(s: &Snapshot) -> Report {
    // A small merge budget exercises the span fallback quickly.
    let r = analyze(
        s,
        &Options {
            top_sites: 5,
            max_chain: 4,
            max_jumps: 3,
            max_merge_runs: 1 << 14,
            all_threads: false,
        },
    );
    assert!(!text::render(&r, Default::default()).unwrap().is_empty());
    let j = json::render(&r, Default::default()).unwrap();
    let back: Report = serde_json::from_str(&j).expect("the JSON report parses back");
    // Floats may differ in the last digit through JSON; everything else is exact.
    assert!(back.arenas == r.arenas && back.tags == r.tags && back.timeline == r.timeline);
    assert!(html::render(&r, Default::default())
        .unwrap()
        .ends_with("</html>\n"));
    let p = profile(s);
    let gz = pprof::to_gzip(&p).unwrap();
    assert_eq!(pprof::decode_gzip(&gz).unwrap(), p);
    for k in [Kind::Live, Kind::Peak, Kind::Alloc, Kind::Leaks] {
        let mut out = Vec::new();
        match flame::render(&fold(s, Some(&r.arenas), k), Default::default(), &mut out) {
            Ok(()) => assert!(String::from_utf8_lossy(&out).contains("<svg")),
            Err(flame::FlameError::Empty(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let c = check(
        &r,
        &Thresholds {
            max_wasted: Some(0),
            max_tag: vec![("tag1".into(), 0)],
            ..Default::default()
        },
    );
    assert!(c.violations.len() + c.passed.len() == 2);
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_snapshots_never_panic(seed in any::<u64>(), other in any::<u64>()) {
        let a = exercise(&random_snapshot(seed));
        let b = exercise(&random_snapshot(other));
        let d = diff::diff(&a, &b);
        assert_eq!(d.totals.len(), 6);
        assert!(!render::diff::text(&d, Default::default()).unwrap().is_empty());
    }
}
