//! Snapshots: what a run leaves behind, checked against what the test did.

use arenaprof_alloc::{set_sampling, snapshot, stats, timeline, with_tag, Sampling, Tag};
use arenaprof_alloc::{TrackingAlloc, Workspace};
use arenaprof_snapshot::{PointReason, SamplingMode, Snapshot};
use std::sync::Mutex;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

/// Sampling mode is process-wide; tests that change it take turns.
static SAMPLING: Mutex<()> = Mutex::new(());

#[inline(never)]
fn distinctive_allocating_function(n: usize) -> Vec<u64> {
    vec![7u64; n]
}

/// The functions of the sampled stack of the live 8,000-byte block of
/// `tag`, innermost first.
fn sampled_functions(snap: &Snapshot, tag: Tag) -> Vec<String> {
    let sample = snap
        .heap
        .samples
        .iter()
        .find(|s| s.tag == tag.id() && s.size == 8000 && s.free_ns.is_none())
        .expect("the live allocation was sampled");
    assert_eq!(sample.weight, 1.0);
    snap.heap.stacks[sample.stack as usize]
        .frames
        .iter()
        .map(|&f| snap.heap.frames[f as usize].function.clone())
        .collect()
}

/// The entries of the snapshot's `symbols` section.
fn symbols(snap: &Snapshot) -> Vec<(String, String)> {
    snap.sections
        .iter()
        .filter(|s| s.name == arenaprof_snapshot::SYMBOLS_SECTION)
        .flat_map(|s| s.entries.clone())
        .collect()
}

/// Sampled stacks are stored as return addresses inside the code map, and
/// the report tool's symboliser names the allocating function from the test
/// binary's DWARF, as the in-program symboliser (the `backtrace` crate)
/// does.
#[test]
fn sampled_all_names_the_allocating_function_and_round_trips() {
    let _s = SAMPLING.lock().unwrap();
    let tag = Tag::new("snap-sampled");
    set_sampling(Sampling::All);
    let v = with_tag(tag, || distinctive_allocating_function(1000));
    set_sampling(Sampling::Off);
    let snap = snapshot();
    assert_eq!(snap.meta.sampling.mode, SamplingMode::Off);
    let t = snap.tags.iter().find(|t| t.name == "snap-sampled").unwrap();
    assert_eq!(t.counters.live_bytes, 8000);
    assert_eq!(t.counters.alloc_count, 1);

    // As stored: addresses only, each inside an executable mapping.
    assert_eq!(
        symbols(&snap)[0],
        (
            "resolved_by".to_owned(),
            arenaprof_snapshot::RESOLVED_BY_REPORT.to_owned()
        )
    );
    let raw = sampled_functions(&snap, tag);
    for (f, addr) in snap.heap.frames.iter().zip(&snap.code.frame_addresses) {
        assert_eq!(f.function, arenaprof_snapshot::address_name(*addr));
        assert!(
            snap.code
                .mappings
                .iter()
                .any(|m| m.start <= *addr && *addr < m.limit),
            "{addr:#x} lies in a code mapping"
        );
    }
    assert!(raw.len() > 2, "{raw:?}");

    // Round trip through a file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.arenaprof");
    snap.write(&path).unwrap();
    let back = Snapshot::read(&path).unwrap();
    assert_eq!(back, snap);

    // The report tool's symbolising, from the test binary on disk.
    let mut resolved = back;
    let done = arenaprof_report::symbols::resolve(&mut resolved);
    assert_eq!(done.addresses, snap.heap.frames.len());
    assert!(done.named > 0 && done.objects > 0, "{done:?}");
    let report = sampled_functions(&resolved, tag);
    assert!(
        report
            .iter()
            .any(|f| f.contains("distinctive_allocating_function")),
        "{report:?}"
    );
    assert!(
        !report[0].starts_with("arenaprof_alloc::") && !report[0].starts_with("__rust"),
        "allocator frames are trimmed: {report:?}"
    );
    assert!(symbols(&resolved)[0].1.starts_with("report: "));

    // The same stack symbolised in the program names the same functions,
    // from the first one outside the allocator on.
    arenaprof_alloc::testing::symbolise_in_program(true);
    let in_program = snapshot();
    arenaprof_alloc::testing::symbolise_in_program(false);
    assert!(symbols(&in_program)[0].1.starts_with("program"));
    let program = sampled_functions(&in_program, tag);
    let user = |fs: &[String]| -> Vec<String> {
        fs.iter()
            .skip_while(|f| !f.contains("distinctive_allocating_function"))
            .take(3)
            .cloned()
            .collect()
    };
    assert_eq!(user(&report), user(&program), "{report:?}\n{program:?}");
    drop(v);
}

#[test]
fn byte_sampling_estimates_are_unbiased() {
    let _s = SAMPLING.lock().unwrap();
    let tag = Tag::new("snap-poisson");
    let mean = 64 << 10;
    set_sampling(Sampling::Bytes { mean });
    // 200,000 allocations of 1 KiB = 200 MiB through the sampler: about 3,200
    // samples, so the estimate's standard error is under 2%.
    const N: usize = 200_000;
    const SIZE: usize = 1024;
    with_tag(tag, || {
        for _ in 0..N {
            std::hint::black_box(vec![0u8; SIZE]);
        }
    });
    set_sampling(Sampling::Off);
    let snap = snapshot();
    let (count, bytes) = snap
        .heap
        .samples
        .iter()
        .filter(|s| s.tag == tag.id())
        .fold((0f64, 0f64), |(c, b), s| {
            (c + s.weight, b + s.weight * s.size as f64)
        });
    let want = (N * SIZE) as f64;
    assert!(
        (bytes - want).abs() / want < 0.10,
        "estimated {bytes} bytes, allocated {want}"
    );
    assert!((count - N as f64).abs() / (N as f64) < 0.10, "{count}");
}

#[test]
fn timeline_shows_a_jump_under_its_tag() {
    let tag = Tag::new("snap-jump");
    timeline::mark("before jump");
    let big = with_tag(tag, || vec![1u8; 8 << 20]);
    timeline::mark("after jump");
    let snap = snapshot();
    drop(big);
    let col = snap
        .timeline
        .tags
        .iter()
        .position(|&t| t == tag.id())
        .expect("tag column");
    let marks: Vec<_> = snap
        .timeline
        .marks
        .iter()
        .map(|m| m.label.as_str())
        .collect();
    assert!(marks.contains(&"before jump") && marks.contains(&"after jump"));
    let after = snap
        .timeline
        .marks
        .iter()
        .find(|m| m.label == "after jump")
        .unwrap()
        .t_ns;
    let point = snap
        .timeline
        .points
        .iter()
        .find(|p| p.reason == PointReason::Mark && p.t_ns == after)
        .expect("a point at the mark");
    assert!(point.live_bytes[col] >= 8 << 20);
    assert_eq!(
        snap.timeline.points.last().unwrap().reason,
        PointReason::Final
    );
}

#[test]
fn snapshot_reports_process_and_overhead() {
    let snap = snapshot();
    assert!(snap.process.rss_bytes > 0);
    assert!(snap.process.peak_rss_bytes >= snap.process.rss_bytes / 2);
    if cfg!(feature = "jemalloc") {
        let je = snap.process.jemalloc.expect("jemalloc figures");
        assert!(je.allocated > 0 && je.resident >= je.active / 2);
        assert!(
            snap.meta.allocator.contains("Jemalloc"),
            "{}",
            snap.meta.allocator
        );
    } else {
        assert!(snap.process.jemalloc.is_none());
        assert!(
            snap.meta.allocator.contains("System"),
            "{}",
            snap.meta.allocator
        );
    }
    // No header with jemalloc inside (unless the `header` feature keeps it).
    let header = if cfg!(feature = "jemalloc") && !cfg!(feature = "header") {
        0
    } else {
        8
    };
    assert_eq!(snap.overhead.header_bytes_per_alloc, header);
    assert!(snap.overhead.table_bytes > 0);
    assert!(!snap.threads.is_empty());
}

#[test]
fn workspace_serves_without_inner_allocations_and_counts_overflow() {
    let tag = Tag::new("snap-workspace");
    let mut ws = with_tag(tag, || Workspace::new(1 << 20).unwrap());
    let region = stats().tag(tag);
    assert_eq!(region.live_bytes, 1 << 20);
    let slot = arenaprof_alloc::current_thread_slot().unwrap();
    let before = stats().thread(slot).unwrap().total;
    {
        let _scope = ws.enter();
        for i in 0..100 {
            let v = vec![i as u8; 300_000];
            std::hint::black_box(&v);
        }
    }
    let after = stats().thread(slot).unwrap().total;
    assert_eq!(
        after.alloc_count, before.alloc_count,
        "no inner allocations"
    );
    let st = ws.stats();
    assert_eq!(st.served_count, 100);
    assert_eq!(st.overflow_count, 0);
    assert_eq!(st.live_blocks, 0);
    {
        let _scope = ws.enter();
        let a = vec![0u8; 700_000];
        let b = vec![0u8; 700_000]; // does not fit beside `a`
        std::hint::black_box((&a, &b));
    }
    let st = ws.stats();
    assert_eq!(st.overflow_count, 1);
    assert_eq!(st.overflow_bytes, 700_000);
    drop(ws);
    assert_eq!(stats().tag(tag).live_bytes, 0);
}

#[test]
fn forgetting_a_workspace_guard_then_dropping_the_workspace_is_safe() {
    let mut ws = Workspace::new(1 << 16).unwrap();
    std::mem::forget(ws.enter());
    drop(ws); // leaked, not freed: this thread still points at it
    let v = vec![1u8; 100]; // served from the leaked region, still valid
    assert_eq!(v.iter().map(|&b| b as u32).sum::<u32>(), 100);
    drop(v);
    // This test's thread ends here; its allocations until then came from the
    // leaked region.
}

#[test]
fn turning_sampling_on_reaches_a_thread_that_is_already_running() {
    use std::sync::{Arc, Barrier};
    let _s = SAMPLING.lock().unwrap();
    let tag = Tag::new("snap-running-thread");
    let registered = Arc::new(Barrier::new(2));
    let switched = Arc::new(Barrier::new(2));
    let (r, s) = (registered.clone(), switched.clone());
    let worker = std::thread::spawn(move || {
        // Registered, hot path open, sampling off.
        let before = with_tag(tag, || vec![1u8; 4242]);
        r.wait();
        s.wait();
        let after = with_tag(tag, || vec![2u8; 4343]);
        let slot = arenaprof_alloc::current_thread_slot().unwrap();
        (before, after, slot)
    });
    registered.wait();
    set_sampling(Sampling::All);
    switched.wait();
    let (before, after, slot) = worker.join().unwrap();
    set_sampling(Sampling::Off);
    let snap = snapshot();
    let ours = |size| {
        snap.heap
            .samples
            .iter()
            .filter(|x| x.tag == tag.id() && x.thread == slot && x.size == size)
            .count()
    };
    assert_eq!(ours(4242), 0, "allocated before sampling was on");
    assert_eq!(ours(4343), 1, "the running thread saw the switch");
    drop((before, after));
}

#[test]
fn size_percentiles_use_the_exact_largest_allocation() {
    // 800,000,000 B lies in the bucket [671,088,640, 805,306,368): the bucket
    // alone would say 671 MB; the tracker knows the exact size.
    let tag = Tag::new("snap-exact-max");
    let big = with_tag(tag, || Vec::<u8>::with_capacity(800_000_000));
    let small: Vec<Vec<u8>> = (0..9)
        .map(|_| with_tag(tag, || Vec::with_capacity(1000)))
        .collect();
    let snap = snapshot();
    let t = snap
        .tags
        .iter()
        .find(|t| t.name == "snap-exact-max")
        .unwrap();
    let pct = |p: f64| {
        t.sizes
            .percentiles
            .iter()
            .find(|x| x.0 == p)
            .map(|x| x.1)
            .unwrap()
    };
    assert_eq!(pct(100.0), 800_000_000);
    assert_eq!(t.sizes.buckets.last(), Some(&(671_088_640, 1)));
    // Nine of ten allocations are 1,000 B, counted at their bucket's lower
    // bound (896 B), within hdrhistogram's 1%.
    let p50 = pct(50.0);
    assert!((896..=905).contains(&p50), "{p50}");
    drop((big, small));
}
