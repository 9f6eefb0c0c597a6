//! Building a [`Snapshot`] of the whole process.
//!
//! Components that keep their own records (the array registry, the GEMM pool)
//! add them through [`register_contributor`], so [`snapshot`] is complete no
//! matter which crate calls it.
//!
//! ```no_run
//! arenaprof_alloc::snapshot().write("run.arenaprof").unwrap();
//! ```

use crate::capacity::{BUCKETS, MAX_TAGS};
use crate::clock::now_ns;
use crate::rows;
use crate::stats::stats;
use crate::tag::Tag;
use crate::{arena, local, native, process, sampling, timeline, tracking};
use arenaprof_snapshot::{
    Histogram, Meta, Overhead, SamplingConfig, SamplingMode, Snapshot, TagStats, ThreadStats,
    ThreadTagStats,
};
use std::collections::HashMap;
use std::sync::Mutex;

/// A function that adds a component's records to a snapshot.
pub type Contributor = fn(&mut Snapshot);

static CONTRIBUTORS: Mutex<Vec<Contributor>> = Mutex::new(Vec::new());

/// Registers `f` to run on every snapshot (idempotent per function).
pub fn register_contributor(f: Contributor) {
    crate::local::with_busy(|| {
        let _gate = crate::fork::enter();
        let mut c = CONTRIBUTORS.lock().unwrap_or_else(|e| e.into_inner());
        if !c.iter().any(|g| std::ptr::fn_addr_eq(*g, f)) {
            c.push(f);
        }
    })
}

const PERCENTILES: [f64; 6] = [50.0, 75.0, 90.0, 99.0, 99.9, 100.0];

/// Percentiles of `(bucket lower bound, count)` buckets, each count at its
/// bucket's lower bound, except that when the exact largest value `max` is
/// known and lies in the top bucket, one count sits there instead (and no
/// percentile exceeds it).
fn histogram_with_max(buckets: &[(u64, u64)], max: Option<u64>) -> Histogram {
    let mut h = hdrhistogram::Histogram::<u64>::new(2).expect("2 significant digits is valid");
    let top = buckets.last().map(|&(lo, _)| lo);
    let max = max.filter(|&m| {
        top.is_some_and(|t| m >= t && rows::bucket(m as usize) == rows::bucket(t as usize))
    });
    for &(lo, n) in buckets {
        match max {
            Some(m) if Some(lo) == top => {
                let _ = h.record_n(lo.max(1), n - 1);
                let _ = h.record(m);
            }
            _ => {
                let _ = h.record_n(lo.max(1), n);
            }
        }
    }
    let percentiles = if h.is_empty() {
        Vec::new()
    } else {
        PERCENTILES
            .iter()
            .map(|&p| {
                let v = h.value_at_percentile(p);
                (p, max.map_or(v, |m| v.min(m)))
            })
            .collect()
    };
    Histogram {
        buckets: buckets.to_vec(),
        percentiles,
    }
}

fn histogram(buckets: &[(u64, u64)]) -> Histogram {
    histogram_with_max(buckets, None)
}

fn lifetimes(samples: &[arenaprof_snapshot::Sample], tag: u16) -> Histogram {
    let mut counts: HashMap<usize, f64> = HashMap::new();
    for s in samples.iter().filter(|s| s.tag == tag) {
        if let Some(f) = s.free_ns {
            let life = f.saturating_sub(s.alloc_ns) as usize;
            *counts.entry(rows::bucket(life)).or_default() += s.weight;
        }
    }
    let mut b: Vec<(u64, u64)> = counts
        .into_iter()
        .map(|(k, w)| (rows::bucket_lower(k), w.round() as u64))
        .collect();
    b.sort_unstable();
    histogram(&b)
}

/// The largest edge-path allocation of `tag` over all threads, if any.
fn max_size(tag: u16) -> Option<u64> {
    rows::all()
        .map(|r| {
            r.cell(tag)
                .max_size
                .load(std::sync::atomic::Ordering::Relaxed)
        })
        .max()
        .filter(|&m| m > 0)
}

/// The executable mappings with their build IDs (for pprof's mappings), or
/// none with `ARENAPROF_NATIVE=off`.
fn code_map() -> arenaprof_snapshot::CodeMap {
    if native::disabled() {
        return Default::default();
    }
    arenaprof_snapshot::CodeMap {
        mappings: arenaprof_native::code::segments()
            .into_iter()
            .map(|s| arenaprof_snapshot::CodeMapping {
                start: s.start,
                limit: s.limit,
                file_offset: s.file_offset,
                path: s.path,
                build_id: s.build_id,
            })
            .collect(),
        frame_addresses: Vec::new(),
    }
}

/// Who symbolises each sampled address: the report tool, from the object's
/// file, when the object is on disk as it was loaded (same build ID); the
/// program, through the `backtrace` crate, when it is not (deleted,
/// rebuilt, no build ID), when no code map was taken
/// (`ARENAPROF_NATIVE=off`) or when `ARENAPROF_SYMBOLS=program` asks.
struct Symbolisers<'a> {
    code: &'a arenaprof_snapshot::CodeMap,
    all: bool,
    /// Per mapping, once looked at: whether its object is on disk.
    on_disk: std::cell::RefCell<Vec<Option<bool>>>,
}

impl<'a> Symbolisers<'a> {
    fn new(code: &'a arenaprof_snapshot::CodeMap) -> Self {
        Symbolisers {
            code,
            all: sampling::symbols_in_program() || code.mappings.is_empty(),
            on_disk: std::cell::RefCell::new(vec![None; code.mappings.len()]),
        }
    }

    /// Whether `ip` is symbolised in the program.
    fn in_program(&self, ip: usize) -> bool {
        if self.all {
            return true;
        }
        let ip = ip as u64;
        let Some(i) = self
            .code
            .mappings
            .iter()
            .position(|m| m.start <= ip && ip < m.limit)
        else {
            // In no object (a JIT, the vDSO): nothing has its symbols.
            return false;
        };
        let mut known = self.on_disk.borrow_mut();
        let m = &self.code.mappings[i];
        !*known[i].get_or_insert_with(|| arenaprof_native::code::on_disk(&m.path, &m.build_id))
    }

    /// The snapshot's `symbols` section: who resolves the frames, and the
    /// objects symbolised here because their files are not as loaded.
    fn section(&self) -> arenaprof_snapshot::Section {
        let by = if sampling::symbols_in_program() {
            "program (ARENAPROF_SYMBOLS=program)"
        } else if self.all {
            "program (no code map was taken: ARENAPROF_NATIVE=off)"
        } else {
            arenaprof_snapshot::RESOLVED_BY_REPORT
        };
        let mut entries = vec![("resolved_by".to_owned(), by.to_owned())];
        let mut seen = std::collections::HashSet::new();
        for (m, d) in self.code.mappings.iter().zip(self.on_disk.borrow().iter()) {
            if *d == Some(false) && seen.insert(&m.path) {
                entries.push((
                    "in_program".to_owned(),
                    format!(
                        "{}: not on disk as loaded (missing, rebuilt or no build ID)",
                        m.path
                    ),
                ));
            }
        }
        arenaprof_snapshot::Section {
            name: arenaprof_snapshot::SYMBOLS_SECTION.to_owned(),
            entries,
        }
    }
}

/// Takes a snapshot of everything the profiler knows now.
///
/// What takes a lock of the profiler's is read inside the fork gate (the
/// process's mappings and jemalloc's figures are read before it, any
/// symbolising after it), so a `fork()` on another thread waits for a few
/// milliseconds of reading at most. Sampled stacks are
/// stored as return addresses with the code map (build IDs), and the report
/// tool symbolises them from the binaries, as pprof does; the program parses
/// debug information only for objects no longer on disk as loaded (see the
/// `symbols` section of the snapshot).
pub fn snapshot() -> Snapshot {
    crate::local::with_busy(|| {
        // The process first, outside the gate (a `fork()` waits at the
        // gate, and reading `smaps` is most of a snapshot's time).
        let outside = Outside::read();
        let (mut snap, raw) = {
            let _gate = crate::fork::enter();
            build(outside)
        };
        let t0 = now_ns();
        let who = Symbolisers::new(&snap.code);
        let (heap, frame_addresses, resolved) = sampling::symbolise(raw, &|ip| who.in_program(ip));
        let mut symbols = who.section();
        drop(who);
        snap.heap.stacks = heap.stacks;
        snap.heap.frames = heap.frames;
        if !snap.code.mappings.is_empty() {
            snap.code.frame_addresses = frame_addresses;
        }
        if !resolved {
            symbols.entries.push((
                "unresolved".into(),
                "this process was forked while its parent symbolised a snapshot; frames are addresses".into(),
            ));
        }
        // Without sampled stacks there is nothing to say.
        if !snap.heap.stacks.is_empty() || !resolved {
            snap.sections.push(symbols);
        }
        snap.overhead.snapshot_ns = snap
            .overhead
            .snapshot_ns
            .saturating_add(now_ns().saturating_sub(t0));
        snap
    })
}

/// What a snapshot reads before it enters the fork gate: the process's
/// mappings (`/proc/self/smaps`), its RSS and jemalloc's figures, none of
/// which takes a lock of the profiler's (jemalloc's own locks are taken by
/// its own fork handlers).
struct Outside {
    t0: u64,
    mappings: Option<std::io::Result<arenaprof_native::Mappings>>,
    process: arenaprof_snapshot::ProcessStats,
    arena: Option<arena::Figures>,
    /// Bytes in the threads' bins (freed blocks the tracker keeps).
    cached: u64,
}

impl Outside {
    fn read() -> Outside {
        let t0 = now_ns();
        // The mappings, then RSS and jemalloc (the profiler's arena in the
        // same jemalloc epoch), read together so they agree, before the
        // snapshot's own work dirties pages of its own; allocations here
        // are the profiler's (it runs busy).
        let mappings = native::read_mappings();
        if tracking::inner_is_jemalloc() {
            process::flush_thread_cache();
        }
        let process = process::read();
        Outside {
            t0,
            mappings,
            process,
            arena: arena::figures(),
            cached: crate::bins::cached_bytes(),
        }
    }
}

fn build(outside: Outside) -> (Snapshot, sampling::RawHeap) {
    let Outside {
        t0,
        mappings,
        process,
        arena,
        cached,
    } = outside;
    local::flush_current_thread();
    let st = stats();
    let mut snap = Snapshot {
        process,
        ..Default::default()
    };
    // jemalloc may be linked without being the inner allocator
    // (`TrackingAlloc::wrap(System)`): its figures are then not the
    // program's allocator's.
    if !tracking::inner_is_jemalloc() {
        snap.process.jemalloc = None;
    }
    // The profiler's arena: the report takes it out of the program's
    // jemalloc figures.
    if let Some(a) = arena {
        snap.sections.push(arenaprof_snapshot::Section {
            name: "profiler_arena".into(),
            entries: [
                ("index", a.index as u64),
                ("allocated", a.allocated),
                ("active", a.active),
                ("resident", a.resident),
                ("metadata", a.metadata),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_string()))
            .collect(),
        });
    }
    // Blocks the tracker's bins keep: freed in the counters, allocated in
    // jemalloc's figures; the report shows them as the profiler's.
    if crate::window::HEADERLESS.load(std::sync::atomic::Ordering::Relaxed) {
        snap.sections.push(arenaprof_snapshot::Section {
            name: "profiler_caches".into(),
            entries: vec![("bins_bytes".into(), cached.to_string())],
        });
        snap.sections.push(arenaprof_snapshot::Section {
            name: "address_windows".into(),
            entries: vec![(
                "reserved_bytes".into(),
                crate::window::reserved_bytes().to_string(),
            )],
        });
    }
    snap.native = native::measure(
        mappings,
        st.total().live_bytes,
        snap.process.jemalloc.map(|j| j.resident),
    );
    // The timeline's final point too (its RSS reading would otherwise
    // include what symbolising below allocates and frees).
    let tag_ids: Vec<u16> = st.tags().map(|(t, _)| t.id()).collect();
    let (tl, series) = timeline::export(&tag_ids);
    snap.timeline = tl;
    snap.native.series = series;
    let (mode, mean, threshold) = match sampling::sampling() {
        sampling::Sampling::Off => (SamplingMode::Off, 0, 0),
        sampling::Sampling::Bytes { mean } => (SamplingMode::Bytes, mean, 0),
        sampling::Sampling::Threshold { min_size } => (SamplingMode::Threshold, 0, min_size),
        sampling::Sampling::All => (SamplingMode::All, 0, 0),
    };
    snap.meta = Meta {
        program: std::env::args()
            .next()
            .map(|a| {
                std::path::Path::new(&a)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or(a)
            })
            .unwrap_or_default(),
        pid: std::process::id(),
        unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        elapsed_ns: t0,
        allocator: tracking::inner_name().to_owned(),
        sampling: SamplingConfig {
            mode,
            mean_bytes: mean,
            threshold_bytes: threshold,
        },
        writer_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut raw = sampling::export_raw();
    let (captured, capture_ns) = (raw.captured, raw.capture_ns);
    let heap = arenaprof_snapshot::HeapProfile {
        samples: std::mem::take(&mut raw.samples),
        ..Default::default()
    };
    snap.code = code_map();
    snap.sections.push(arenaprof_snapshot::Section {
        name: "sampling".into(),
        entries: vec![
            (
                "freed_samples_kept_max".into(),
                sampling::MAX_FREED.to_string(),
            ),
            (
                "freed_samples_dropped".into(),
                sampling::dropped_freed().to_string(),
            ),
        ],
    });
    // Size histograms, summed over rows.
    let mut hist = vec![[0u64; BUCKETS]; MAX_TAGS];
    for r in rows::all() {
        for (t, cell) in r.cells.iter().enumerate() {
            for (b, c) in cell.hist().iter().enumerate() {
                hist[t][b] += c.load(std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let active: Vec<(Tag, arenaprof_snapshot::Counters)> = st.tags().collect();
    for (tag, c) in &active {
        let buckets: Vec<(u64, u64)> = hist[tag.id() as usize]
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(b, &n)| (rows::bucket_lower(b), n))
            .collect();
        snap.tags.push(TagStats {
            id: tag.id(),
            name: tag.name().to_owned(),
            counters: *c,
            sizes: histogram_with_max(&buckets, max_size(tag.id())),
            lifetimes_ns: lifetimes(&heap.samples, tag.id()),
        });
    }
    for th in st.threads() {
        let tags = active
            .iter()
            .filter_map(|(t, _)| {
                let c = th.tag(*t);
                (c.alloc_count + c.realloc_count + c.free_count > 0).then_some(ThreadTagStats {
                    tag: t.id(),
                    counters: c,
                })
            })
            .collect();
        snap.threads.push(ThreadStats {
            slot: th.slot,
            name: th.name.clone(),
            os_tid: th.os_tid,
            alive: th.alive,
            counters: th.total,
            tags,
        });
    }
    snap.total = st.total();
    snap.heap = heap;
    snap.heap.at_peak = snap.heap.live_at(snap.total.peak_at_ns);
    snap.overhead = Overhead {
        header_bytes_per_alloc: tracking::header_bytes_per_alloc(),
        live_header_bytes: tracking::live_header_bytes(snap.total.live_count()),
        table_bytes: rows::table_bytes() + timeline::table_bytes(),
        internal_live_bytes: tracking::internal_live_bytes(),
        backtraces_captured: captured,
        backtrace_ns: capture_ns,
        snapshot_ns: 0,
    };
    let contributors: Vec<Contributor> = CONTRIBUTORS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for f in contributors {
        f(&mut snap);
    }
    snap.overhead.snapshot_ns = now_ns().saturating_sub(t0);
    (snap, raw)
}
