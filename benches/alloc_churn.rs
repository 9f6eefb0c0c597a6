//! Allocator overhead: bare jemalloc vs `TrackingAlloc` (default and sampled
//! backtraces) vs dhat-rs, 1 and 2 threads, on four workloads: small-allocation
//! churn (filled, and raw), a growth phase (every allocation a new peak), and
//! a tight alloc-and-drop loop.
//!
//! Run: `cargo bench -p arenaprof-benches --bench alloc_churn`
//!
//! A global allocator is fixed at compile time, so this binary's global
//! allocator dispatches on a mode chosen before `main` runs (an `.init_array`
//! constructor reads `ARENAPROF_BENCH_ALLOC`), and never changes afterwards.
//! Every variant pays the same predictable branch. Run without that variable,
//! the binary re-runs itself once per variant, each a criterion run, then
//! prints the ratios of the means.

use criterion::{BenchmarkId, Criterion, Throughput};
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const JEMALLOC: u8 = 0;
const TRACKING: u8 = 1;
const SAMPLED: u8 = 2;
const DHAT: u8 = 3;
const VARIANTS: [(&str, u8); 4] = [
    ("jemalloc", JEMALLOC),
    ("tracking", TRACKING),
    ("tracking-sampled", SAMPLED),
    ("dhat", DHAT),
];

static MODE: AtomicU8 = AtomicU8::new(JEMALLOC);

extern "C" fn pick_mode() {
    // SAFETY: getenv with a NUL-terminated name; it runs before main, when no
    // other thread exists to modify the environment.
    let v = unsafe { libc::getenv(c"ARENAPROF_BENCH_ALLOC".as_ptr()) };
    if v.is_null() {
        return;
    }
    // SAFETY: getenv returned a valid NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(v) }.to_bytes();
    for (name, m) in VARIANTS {
        if v == name.as_bytes() {
            MODE.store(m, Relaxed);
        }
    }
}

#[used]
#[link_section = ".init_array"]
static PICK_MODE: extern "C" fn() = pick_mode;

struct Switch;
static BARE: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
static TRACK: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();
static DHAT_ALLOC: dhat::Alloc = dhat::Alloc;

// SAFETY: the mode is fixed before main and never changes, so every block is
// freed by the allocator that made it; each arm forwards the contract.
unsafe impl GlobalAlloc for Switch {
    #[inline]
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            match MODE.load(Relaxed) {
                JEMALLOC => BARE.alloc(l),
                DHAT => DHAT_ALLOC.alloc(l),
                _ => TRACK.alloc(l),
            }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded.
        unsafe {
            match MODE.load(Relaxed) {
                JEMALLOC => BARE.dealloc(p, l),
                DHAT => DHAT_ALLOC.dealloc(p, l),
                _ => TRACK.dealloc(p, l),
            }
        }
    }
    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            match MODE.load(Relaxed) {
                JEMALLOC => BARE.realloc(p, l, n),
                DHAT => DHAT_ALLOC.realloc(p, l, n),
                _ => TRACK.realloc(p, l, n),
            }
        }
    }
}

#[global_allocator]
static GLOBAL: Switch = Switch;

/// Allocations per thread per iteration.
const OPS: usize = 4096;
/// Live window: each allocation lives for this many further allocations.
const WINDOW: usize = 256;

/// One step of the xorshift64 generator the workloads draw sizes from.
#[inline(always)]
fn xorshift(x: &mut u64) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
}

/// One thread's churn: allocate a 16..=512-byte buffer, initialise it (all of
/// it when `fill`, else only its first and last 8 bytes, the allocator's worst
/// case), keep it for `WINDOW` steps, read its first word as a last use, free it.
fn churn(seed: u64, iters: u64, fill: bool) -> u64 {
    let mut ring: Vec<Option<Vec<u8>>> = (0..WINDOW).map(|_| None).collect();
    let mut x = seed | 1;
    let mut used = 0u64;
    for _ in 0..iters {
        for i in 0..OPS {
            xorshift(&mut x);
            let size = 16 + (x % 497) as usize;
            let mut v: Vec<u8> = Vec::with_capacity(size);
            if fill {
                v.resize(size, i as u8);
            } else {
                // First and last words only; the rest stays uninitialised.
                v.extend_from_slice(&[i as u8; 8]);
                let tail = &mut v.spare_capacity_mut()[size - 16..size - 8];
                tail.fill(std::mem::MaybeUninit::new(i as u8));
            }
            if let Some(old) = ring[i % WINDOW].replace(black_box(v)) {
                used = used.wrapping_add(old[0] as u64);
            }
        }
    }
    drop(black_box(ring));
    used
}

fn run_threads<F>(threads: usize, iters: u64, f: F) -> Duration
where
    F: Fn(u64, u64) -> u64 + Copy + Send + 'static,
{
    if threads == 1 {
        let t = Instant::now();
        black_box(f(1, iters));
        return t.elapsed();
    }
    let start = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let t = Instant::now();
                black_box(f(i as u64 + 1, iters));
                t.elapsed()
            })
        })
        .collect();
    start.wait();
    handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .max()
        .unwrap_or_default()
}

/// Live blocks per thread in one iteration of a growth workload.
const GROWTH_BLOCKS: usize = 1 << 17;

/// One thread's growth phase: fills `GROWTH_BLOCKS` live blocks (of the
/// churn's 16..=512-byte sizes, or all of 16 bytes when `small`), each
/// allocation a new high-water mark of the thread (it runs on a fresh thread,
/// whose counters start at zero), into a vector allocated beforehand; only
/// the filling is timed. Pages are pre-faulted: every iteration after the
/// warm-up reuses the pages the previous one freed (jemalloc keeps them dirty
/// for seconds).
fn growth(small: bool) -> Duration {
    let mut v: Vec<Vec<u8>> = Vec::with_capacity(GROWTH_BLOCKS);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let t = Instant::now();
    for i in 0..GROWTH_BLOCKS {
        xorshift(&mut x);
        let size = if small { 16 } else { 16 + (x % 497) as usize };
        let mut b = Vec::with_capacity(size);
        b.extend_from_slice(&(i as u64).to_le_bytes());
        v.push(b);
    }
    let d = t.elapsed();
    black_box(&v);
    d
}

/// The tight alloc-and-drop loop: `Vec::with_capacity(8..135)`, touched once
/// and dropped at once, `OPS` times.
fn tight(seed: u64, iters: u64) -> u64 {
    let mut x = seed | 1;
    let mut used = 0u64;
    for _ in 0..iters {
        for _ in 0..OPS {
            xorshift(&mut x);
            let mut v: Vec<u8> = Vec::with_capacity(8 + (x % 128) as usize);
            v.push(x as u8);
            used = used.wrapping_add(black_box(&v)[0] as u64);
        }
    }
    used
}

/// The workloads: `alloc_churn` initialises each buffer like real code does;
/// `alloc_churn_raw` touches only two words of it, so the allocator is nearly
/// all the work; `alloc_growth` makes every allocation a new peak (and
/// `alloc_growth_16b` does so with 16-byte blocks, which the 8-byte header
/// moves to jemalloc's 32-byte class); `alloc_tight` frees each block right
/// after allocating it.
#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Churn { fill: bool },
    Growth { small: bool },
    Tight,
}

const GROUPS: [(&str, Workload); 5] = [
    ("alloc_churn", Workload::Churn { fill: true }),
    ("alloc_churn_raw", Workload::Churn { fill: false }),
    ("alloc_growth", Workload::Growth { small: false }),
    ("alloc_growth_16b", Workload::Growth { small: true }),
    ("alloc_tight", Workload::Tight),
];

/// Allocations per thread in one iteration.
fn ops(w: Workload) -> usize {
    match w {
        Workload::Growth { .. } => GROWTH_BLOCKS,
        _ => OPS,
    }
}

/// Runs `iters` iterations of `w` on `threads` threads; the slowest thread's time.
fn run_workload(w: Workload, threads: usize, iters: u64) -> Duration {
    match w {
        Workload::Churn { fill } => run_threads(threads, iters, move |i, n| churn(i, n, fill)),
        Workload::Tight => run_threads(threads, iters, tight),
        Workload::Growth { small } => (0..iters)
            .map(|_| {
                let start = Arc::new(Barrier::new(threads));
                let hs: Vec<_> = (0..threads)
                    .map(|t| {
                        let start = start.clone();
                        std::thread::spawn(move || {
                            // The same jemalloc arena for the n-th thread of
                            // every iteration, so its pages are pre-faulted.
                            // SAFETY: `thread.arena` takes an unsigned
                            // arena index, which `u32` is.
                            let _ = unsafe {
                                tikv_jemalloc_ctl::raw::write(b"thread.arena\0", t as u32)
                            };
                            start.wait();
                            growth(small)
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap())
                    .max()
                    .unwrap_or_default()
            })
            .sum(),
    }
}

fn bench_variant(c: &mut Criterion, name: &str) {
    for (group, w) in GROUPS {
        let mut g = c.benchmark_group(group);
        g.sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for threads in [1usize, 2] {
            g.throughput(Throughput::Elements((ops(w) * threads) as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("{threads}t"), name),
                &threads,
                |b, &t| b.iter_custom(|iters| run_workload(w, t, iters)),
            );
        }
        g.finish();
    }
}

/// Starts what the variant needs: dhat's profiler, or sampled backtraces.
fn start_variant() -> Option<dhat::Profiler> {
    let mode = MODE.load(Relaxed);
    if mode == SAMPLED {
        arenaprof::set_sampling(arenaprof::Sampling::Bytes {
            mean: arenaprof::Sampling::DEFAULT_MEAN,
        });
    }
    (mode == DHAT).then(|| {
        dhat::Profiler::builder()
            .file_name(std::env::temp_dir().join("arenaprof-bench-dhat.json"))
            .build()
    })
}

fn child(name: &str) {
    let _dhat = start_variant();
    let mut c = Criterion::default().configure_from_args();
    bench_variant(&mut c, name);
    c.final_summary();
}

fn mean_ns(group: &str, threads: usize, name: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            // The workspace's target directory (this package is `benches/`).
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
        });
    let path = dir
        .join("criterion")
        .join(group)
        .join(format!("{threads}t"))
        .join(name)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// One timed measurement per (group, threads) in a child: prints
/// `group threads ns_per_op` lines for the parent to collect.
fn child_round() {
    let mode = MODE.load(Relaxed);
    let _dhat = start_variant();
    // dhat is two orders of magnitude slower: fewer iterations, same ops/iter.
    let iters = if mode == DHAT { 4 } else { 400 };
    for (group, w) in GROUPS {
        // A growth iteration is 32 churn iterations' worth of allocations.
        let iters = if matches!(w, Workload::Growth { .. }) {
            (iters / 32).max(2)
        } else {
            iters
        };
        for threads in [1usize, 2] {
            run_workload(w, threads, (iters / 4).max(1)); // warm-up (and pre-faulting)
            let t = run_workload(w, threads, iters);
            let per_op = t.as_nanos() as f64 / (iters as f64 * ops(w) as f64);
            println!("ROUND {group} {threads} {per_op}");
        }
    }
}

/// Boxes in the footprint measurement.
const FOOTPRINT_BOXES: usize = 10_000_000;
/// Box sizes of the footprint measurement.
const FOOTPRINT_SIZES: [usize; 6] = [8, 16, 24, 32, 48, 64];

/// In a child: RSS growth from `FOOTPRINT_BOXES` live blocks of `size`
/// bytes (alignment 8, first byte written), the holder of their pointers
/// allocated and touched beforehand; prints `FOOTPRINT size bytes`.
fn child_footprint(size: usize) {
    let mut ptrs: Vec<*mut u8> = vec![std::ptr::null_mut(); FOOTPRINT_BOXES];
    let layout = Layout::from_size_align(size, 8).unwrap();
    let before = arenaprof::process::rss_bytes();
    for (i, p) in ptrs.iter_mut().enumerate() {
        // SAFETY: a non-zero size; the block is written within its size.
        unsafe {
            *p = GLOBAL.alloc(layout);
            p.write(i as u8);
        }
    }
    let grew = arenaprof::process::rss_bytes().saturating_sub(before);
    println!("FOOTPRINT {size} {grew}");
    black_box(&ptrs);
}

/// RSS per live box, tracker against bare jemalloc, one child per (variant, size).
fn footprint(exe: &std::path::Path) {
    println!("\nfootprint: RSS growth for {FOOTPRINT_BOXES} live boxes (one child process each)");
    println!(
        "{:>6} {:>16} {:>16} {:>7}",
        "size", "jemalloc", "tracking", "ratio"
    );
    for size in FOOTPRINT_SIZES {
        let run = |variant: &str| -> Option<u64> {
            let out = std::process::Command::new(exe)
                .env("ARENAPROF_BENCH_ALLOC", variant)
                .env("ARENAPROF_BENCH_FOOTPRINT", size.to_string())
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
                l.strip_prefix("FOOTPRINT ")?
                    .split(' ')
                    .nth(1)?
                    .parse()
                    .ok()
            })
        };
        let (Some(bare), Some(tracked)) = (run("jemalloc"), run("tracking")) else {
            println!("{size:>6} (a child failed)");
            continue;
        };
        let per = |b: u64| b as f64 / FOOTPRINT_BOXES as f64;
        println!(
            "{:>6} {:>13.1} B {:>13.1} B {:>6.2}x",
            format!("{size} B"),
            per(bare),
            per(tracked),
            tracked as f64 / bare.max(1) as f64
        );
    }
}

/// Runs every variant once per round, `rounds` times, interleaved, so load
/// changes on a shared machine hit every variant alike; returns the median
/// ns/op per (group, threads, variant).
fn interleaved(exe: &std::path::Path, rounds: usize) -> Vec<((String, usize, String), f64)> {
    let mut samples: std::collections::BTreeMap<(String, usize, String), Vec<f64>> =
        Default::default();
    // `ARENAPROF_BENCH_VARIANTS=jemalloc,tracking` limits the rounds to some variants.
    let only = std::env::var("ARENAPROF_BENCH_VARIANTS").ok();
    let chosen = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|v| v == name))
    };
    for _ in 0..rounds {
        for (name, _) in VARIANTS.into_iter().filter(|(n, _)| chosen(n)) {
            let out = std::process::Command::new(exe)
                .env("ARENAPROF_BENCH_ALLOC", name)
                .env("ARENAPROF_BENCH_ROUND", "1")
                .output()
                .expect("run variant");
            assert!(out.status.success(), "variant {name} failed");
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                if let ["ROUND", g, t, ns] = f[..] {
                    samples
                        .entry((g.to_owned(), t.parse().unwrap_or(0), name.to_owned()))
                        .or_default()
                        .push(ns.parse().unwrap_or(f64::NAN));
                }
            }
        }
    }
    samples
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(f64::total_cmp);
            (k, v[v.len() / 2])
        })
        .collect()
}

fn main() {
    if let Ok(name) = std::env::var("ARENAPROF_BENCH_ALLOC") {
        if let Some(size) = std::env::var("ARENAPROF_BENCH_FOOTPRINT")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            child_footprint(size);
        } else if std::env::var_os("ARENAPROF_BENCH_ROUND").is_some() {
            child_round();
        } else {
            child(&name);
        }
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exe = std::env::current_exe().expect("current exe");
    let skip_criterion = std::env::var_os("ARENAPROF_BENCH_SKIP_CRITERION").is_some();
    for (name, _) in VARIANTS {
        if skip_criterion {
            break;
        }
        let status = std::process::Command::new(&exe)
            .args(&args)
            .env("ARENAPROF_BENCH_ALLOC", name)
            .status()
            .expect("run variant");
        assert!(status.success(), "variant {name} failed");
    }
    if args.iter().any(|a| a == "--test" || a == "--list") {
        return;
    }
    for (group, _) in GROUPS {
        println!("\n{group}: criterion mean time relative to bare jemalloc (lower is better)");
        println!("{:<18} {:>10} {:>10}", "variant", "1 thread", "2 threads");
        for (name, _) in VARIANTS {
            let r = |t| match (mean_ns(group, t, name), mean_ns(group, t, "jemalloc")) {
                (Some(v), Some(base)) if base > 0.0 => format!("{:.2}x", v / base),
                _ => "n/a".into(),
            };
            println!("{:<18} {:>10} {:>10}", name, r(1), r(2));
        }
    }
    let rounds = std::env::var("ARENAPROF_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let med = interleaved(&exe, rounds);
    let get = |g: &str, t: usize, n: &str| {
        med.iter()
            .find(|((mg, mt, mn), _)| mg == g && *mt == t && mn == n)
            .map(|(_, v)| *v)
    };
    for (group, _) in GROUPS {
        println!(
            "\n{group}: median of {rounds} interleaved rounds, ns per allocation (with its free, but in the growth workloads) and ratio to bare jemalloc"
        );
        println!("{:<18} {:>18} {:>18}", "variant", "1 thread", "2 threads");
        for (name, _) in VARIANTS {
            let cell = |t| match (get(group, t, name), get(group, t, "jemalloc")) {
                (Some(v), Some(b)) if b > 0.0 => format!("{v:.1} ns {:.2}x", v / b),
                _ => "n/a".into(),
            };
            println!("{:<18} {:>18} {:>18}", name, cell(1), cell(2));
        }
    }
    println!("\nsummary: ratio to bare jemalloc, 1 thread / 2 threads (medians above)");
    println!(
        "{:<18} {:>13} {:>13} {:>15} {:>15}",
        "workload", "tracking", "sampled", "dhat", "dhat/tracking"
    );
    for (group, _) in GROUPS {
        let r = |n: &str, d: &str, digits: usize| {
            let one = |t| match (get(group, t, n), get(group, t, d)) {
                (Some(v), Some(b)) if b > 0.0 => format!("{:.*}", digits, v / b),
                _ => "n/a".into(),
            };
            format!("{}/{}", one(1), one(2))
        };
        println!(
            "{:<18} {:>13} {:>13} {:>15} {:>15}",
            group,
            r("tracking", "jemalloc", 2),
            r("tracking-sampled", "jemalloc", 2),
            r("dhat", "jemalloc", 0),
            r("dhat", "tracking", 0)
        );
    }
    if std::env::var_os("ARENAPROF_BENCH_SKIP_FOOTPRINT").is_none() {
        footprint(&exe);
    }
}
