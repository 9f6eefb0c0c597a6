//! The snapshot data model. Every field is plain data; sizes are bytes, times
//! are nanoseconds since the profiler started, unless the name says otherwise.

use serde::{Deserialize, Serialize};

/// Everything one run recorded, as written to a `.arenaprof` file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Who wrote this snapshot, when, and with which settings.
    pub meta: Meta,
    /// Exact counters per tag, summed over all threads, in tag-id order.
    pub tags: Vec<TagStats>,
    /// Exact counters per thread, each with its per-tag rows.
    pub threads: Vec<ThreadStats>,
    /// Exact counters over all tags and threads.
    pub total: Counters,
    /// Bounded history of live bytes per tag.
    pub timeline: Timeline,
    /// Sampled allocations with their interned stacks.
    pub heap: HeapProfile,
    /// The process as the OS and the inner allocator see it.
    pub process: ProcessStats,
    /// What the profiler itself costs.
    pub overhead: Overhead,
    /// The array registry: arenas, views, copy-on-write events.
    pub registry: Registry,
    /// Free-form sections written by other components (GEMM pool, demo phases).
    pub sections: Vec<Section>,
    /// Memory outside the allocator, by mapping; BLAS runtimes (format
    /// version 2; not measured in version-1 files).
    pub native: crate::NativeMemory,
    /// Executable mappings with build IDs (format version 3; empty in
    /// older files).
    pub code: crate::CodeMap,
    /// Retention over the run: the registry's picture at the moment wasted
    /// bytes were highest, and a wasted-bytes series (format version 4;
    /// empty in older files).
    pub retention: RetentionHistory,
}

/// Retention over the run, recorded by the array registry while it runs
/// (the [`Registry`] above is the picture at snapshot time only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionHistory {
    /// Whether the writer tracked retention over the run (false in files
    /// of format versions 1 to 3, and when no array was ever made).
    pub tracked: bool,
    /// The picture at the highest wasted bytes seen, if any arena was ever
    /// wasted.
    pub worst: Option<RetentionWorst>,
    /// Total wasted bytes over time, oldest first (bounded; points are
    /// merged pairwise when the buffer fills).
    pub wasted: Vec<WastedPoint>,
    /// How a capture is triggered, in words (hysteresis and bounds), for
    /// the report's notes.
    pub policy: String,
}

/// The registry's picture at the moment its wasted bytes were highest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionWorst {
    /// When it was captured (the profiler's clock, like the timeline).
    pub t_ns: u64,
    /// Exact wasted bytes over all arenas at that moment.
    pub wasted_bytes: u64,
    /// Arenas with wasted bytes at that moment, their live views and the
    /// dropped ancestors those need (the same records as [`Registry`]).
    pub registry: Registry,
}

/// One point of the wasted-bytes series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedPoint {
    /// Time (the profiler's clock).
    pub t_ns: u64,
    /// Wasted bytes over all arenas: capacity minus what live views reach,
    /// with each view's reach counted separately (a lower bound of the
    /// exact union; equal to it when live views do not overlap).
    pub wasted_bytes: u64,
}

/// Snapshot header data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The program's name (argv\[0\] file name).
    pub program: String,
    /// Process id of the writer.
    pub pid: u32,
    /// Wall-clock time of the snapshot, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Time since the profiler's clock started.
    pub elapsed_ns: u64,
    /// The inner allocator: `"jemalloc"`, `"system"` or another name.
    pub allocator: String,
    /// How backtraces were sampled.
    pub sampling: SamplingConfig,
    /// Version of the arenaprof crate that wrote this.
    pub writer_version: String,
}

/// Backtrace sampling settings in force during the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplingConfig {
    /// `Off`, `Bytes` (Poisson by bytes), `Threshold` or `All`.
    pub mode: SamplingMode,
    /// Mean bytes between samples in `Bytes` mode.
    pub mean_bytes: u64,
    /// Allocations at or above this size are always recorded (`Threshold` mode).
    pub threshold_bytes: u64,
}

/// How allocations are chosen for backtraces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SamplingMode {
    /// No backtraces.
    #[default]
    Off,
    /// Poisson sampling by bytes, like jemalloc's `lg_prof_sample` and Go.
    Bytes,
    /// Every allocation at or above `threshold_bytes`.
    Threshold,
    /// Every allocation (for tests and small programs).
    All,
}

/// Exact allocation counters for one (tag, thread) cell or any sum of cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Bytes allocated and not yet freed.
    pub live_bytes: u64,
    /// Highest `live_bytes` seen.
    pub peak_bytes: u64,
    /// Time of `peak_bytes` (ns since start).
    pub peak_at_ns: u64,
    /// Cumulative bytes allocated (realloc counts its new size).
    pub allocated_bytes: u64,
    /// Cumulative bytes freed (realloc counts its old size).
    pub freed_bytes: u64,
    /// Blocks handed out: `alloc`, `alloc_zeroed`, and the new block of each
    /// `realloc` (a realloc counts as a free of the old block in its own cell
    /// and an allocation of the new one, so `alloc_count - free_count` is the
    /// exact number of live blocks of every cell).
    pub alloc_count: u64,
    /// Blocks given back: `dealloc`, and the old block of each `realloc`.
    pub free_count: u64,
    /// How many of `alloc_count` were reallocations.
    pub realloc_count: u64,
    /// Allocation requests the inner allocator refused (returned null).
    pub failed_count: u64,
}

impl Counters {
    /// Live allocations: allocations not yet freed.
    pub fn live_count(&self) -> u64 {
        self.alloc_count.saturating_sub(self.free_count)
    }

    /// Adds another cell's counters (saturating); peaks take the larger value.
    pub fn merge(&mut self, o: &Counters) {
        self.live_bytes = self.live_bytes.saturating_add(o.live_bytes);
        if o.peak_bytes > self.peak_bytes {
            self.peak_bytes = o.peak_bytes;
            self.peak_at_ns = o.peak_at_ns;
        }
        self.allocated_bytes = self.allocated_bytes.saturating_add(o.allocated_bytes);
        self.freed_bytes = self.freed_bytes.saturating_add(o.freed_bytes);
        self.alloc_count = self.alloc_count.saturating_add(o.alloc_count);
        self.free_count = self.free_count.saturating_add(o.free_count);
        self.realloc_count = self.realloc_count.saturating_add(o.realloc_count);
        self.failed_count = self.failed_count.saturating_add(o.failed_count);
    }
}

/// One tag's exact totals over all threads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TagStats {
    /// Tag id (0 = untagged, 1 = array-base, 2 = gemm-workspace, ...).
    pub id: u16,
    /// Tag name, e.g. `"gemm-workspace"`.
    pub name: String,
    /// Counters summed over threads; `peak_bytes` is the tag's own peak.
    pub counters: Counters,
    /// Allocation sizes.
    pub sizes: Histogram,
    /// Lifetimes of freed sampled allocations, in nanoseconds.
    pub lifetimes_ns: Histogram,
}

/// A log-bucketed histogram: `buckets[i] = (lower_bound, count)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Non-empty buckets, ascending by lower bound.
    pub buckets: Vec<(u64, u64)>,
    /// Selected percentiles as `(percentile, value)`, e.g. `(50.0, 64)`.
    pub percentiles: Vec<(f64, u64)>,
}

/// One thread's counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadStats {
    /// Tracker slot (0-based, in order of first allocation).
    pub slot: u32,
    /// Thread name, if it had one.
    pub name: String,
    /// OS thread id.
    pub os_tid: u64,
    /// Whether the thread was still running at snapshot time.
    pub alive: bool,
    /// Counters summed over tags.
    pub counters: Counters,
    /// Per-tag rows with activity.
    pub tags: Vec<ThreadTagStats>,
}

/// One (thread, tag) cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadTagStats {
    /// Tag id.
    pub tag: u16,
    /// Exact counters of this cell.
    pub counters: Counters,
}

/// The former name of [`ThreadTagStats`] (beside [`TagStats`] and
/// [`ThreadStats`]; the report's `ThreadTagRow` is its JSON row).
#[deprecated(since = "0.3.0", note = "renamed to `ThreadTagStats`")]
pub type ThreadTagRow = ThreadTagStats;

/// Live bytes per tag over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Tag ids, one per column of `points[].live_bytes`.
    pub tags: Vec<u16>,
    /// Points in time order (oldest points may have been dropped or merged).
    pub points: Vec<TimelinePoint>,
    /// Points merged away because the ring buffer was full.
    pub dropped_points: u64,
    /// Labelled moments (`arenaprof::mark`).
    pub marks: Vec<Mark>,
}

/// A labelled moment on the timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Time since start.
    pub t_ns: u64,
    /// What happened, e.g. `"first matmul"`.
    pub label: String,
}

/// One timeline sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Time since start.
    pub t_ns: u64,
    /// Live bytes per tag, in `Timeline::tags` order.
    pub live_bytes: Vec<u64>,
    /// Why this point was taken.
    pub reason: PointReason,
}

/// Why a timeline point exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PointReason {
    /// The periodic interval elapsed.
    #[default]
    Interval,
    /// Enough bytes were allocated or freed since the last point.
    Churn,
    /// A user or component marked a moment (`arenaprof::mark`).
    Mark,
    /// The final point at snapshot time.
    Final,
}

/// Sampled allocations and the stacks they came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeapProfile {
    /// Interned frames.
    pub frames: Vec<Frame>,
    /// Interned stacks; `stacks[i].frames` index `frames`, innermost first.
    pub stacks: Vec<Stack>,
    /// One record per sampled allocation (live or freed).
    pub samples: Vec<Sample>,
    /// Live bytes (unbiased estimate) per stack at the moment of the global peak.
    pub at_peak: Vec<StackBytes>,
}

/// A symbolised frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Frame {
    /// Demangled function name, or the address in hex when unresolved.
    pub function: String,
    /// Source file, if known.
    pub file: String,
    /// Source line, 0 if unknown.
    pub line: u32,
}

/// An interned call stack.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    /// Frame indices, innermost first, allocator frames removed.
    pub frames: Vec<u32>,
}

/// Estimated bytes and objects for one stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StackBytes {
    /// Stack index.
    pub stack: u32,
    /// Estimated bytes.
    pub bytes: f64,
    /// Estimated objects.
    pub objects: f64,
}

/// One sampled allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Stack index in `HeapProfile::stacks`.
    pub stack: u32,
    /// Tag the allocation was made under.
    pub tag: u16,
    /// Thread slot that made it.
    pub thread: u32,
    /// Requested size.
    pub size: u64,
    /// Unbiased weight: this sample stands for `weight` allocations like it
    /// (1.0 when every allocation is recorded; `1/(1-exp(-size/mean))` when
    /// sampled by bytes).
    pub weight: f64,
    /// Allocation time.
    pub alloc_ns: u64,
    /// Free time, if it was freed before the snapshot.
    pub free_ns: Option<u64>,
}

/// The process as the OS and the inner allocator see it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessStats {
    /// Resident set size now (`/proc/self/statm`).
    pub rss_bytes: u64,
    /// Peak resident set size (`VmHWM`).
    pub peak_rss_bytes: u64,
    /// jemalloc's own statistics, when jemalloc is the inner allocator.
    pub jemalloc: Option<JemallocStats>,
}

/// jemalloc's `stats.*` figures (see `man jemalloc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JemallocStats {
    /// `stats.allocated`: bytes in live allocations (size classes).
    pub allocated: u64,
    /// `stats.active`: bytes in active pages.
    pub active: u64,
    /// `stats.resident`: bytes in physically resident data pages.
    pub resident: u64,
    /// `stats.metadata`: bytes of jemalloc metadata.
    pub metadata: u64,
    /// `stats.retained`: virtual memory retained, not returned to the OS.
    pub retained: u64,
    /// `stats.mapped`: bytes in active extents mapped.
    pub mapped: u64,
}

/// The profiler's own cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Overhead {
    /// Header bytes added to each allocation (8 at any alignment: a prefix up
    /// to alignment 8, a trailer above it).
    pub header_bytes_per_alloc: u64,
    /// Header bytes held by live tracked allocations now.
    pub live_header_bytes: u64,
    /// Bytes of the profiler's own tables (thread rows, histograms, timeline).
    pub table_bytes: u64,
    /// Bytes the profiler's own data structures hold through the inner allocator
    /// (interned stacks, sample records, registry), live now.
    pub internal_live_bytes: u64,
    /// Sampled backtraces captured.
    pub backtraces_captured: u64,
    /// Nanoseconds spent capturing backtraces.
    pub backtrace_ns: u64,
    /// Nanoseconds spent building this snapshot (symbolising included).
    pub snapshot_ns: u64,
}

/// The array registry: arenas (base buffers) and the views that pin them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// Arenas still allocated at snapshot time.
    pub arenas: Vec<ArenaRecord>,
    /// Views that are alive, plus the dropped ancestors still needed to explain them.
    pub views: Vec<ViewRecord>,
    /// Copy-on-write events.
    pub cow: Vec<CowRecord>,
    /// Arenas created over the whole run.
    pub arenas_created: u64,
    /// Views created over the whole run.
    pub views_created: u64,
}

/// A source location from `#[track_caller]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Site {
    /// Source file as the compiler saw it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// One base buffer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArenaRecord {
    /// Arena id, unique per run.
    pub id: u64,
    /// Capacity of the buffer.
    pub capacity_bytes: u64,
    /// Element type name, e.g. `"f64"`.
    pub elem_type: String,
    /// Element size in bytes.
    pub elem_size: u64,
    /// Shape of the owning array when created.
    pub shape: Vec<usize>,
    /// Where it was created.
    pub site: Site,
    /// Constructor, e.g. `"arange"`, `"zeros"`, `"to_owned"`.
    pub op: String,
    /// Thread slot that created it.
    pub thread: u32,
    /// Creation time.
    pub created_ns: u64,
    /// Whether the original owning handle is still alive.
    pub owner_alive: bool,
}

/// One view: a window (offset, shape, strides) onto an arena.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ViewRecord {
    /// View id, unique per run.
    pub id: u64,
    /// The arena it shares.
    pub arena: u64,
    /// The view it was derived from (`None` for the arena's owning array).
    pub parent: Option<u64>,
    /// Operation that made it, e.g. `"slice[..10]"`, `"t()"`, `"reshape"`.
    pub op: String,
    /// Where it was made.
    pub site: Site,
    /// Whether a handle to it is alive (dropped ancestors are kept as records).
    pub alive: bool,
    /// Whether this is the arena's owning array.
    pub is_owner: bool,
    /// Footprint on the arena.
    pub layout: Layout,
    /// Creation time.
    pub created_ns: u64,
    /// Thread slot that made it.
    pub thread: u32,
}

/// A strided window in elements: element `i` is at `offset + sum(idx[k] * strides[k])`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Offset of the first element, in elements.
    pub offset: i64,
    /// Shape.
    pub shape: Vec<usize>,
    /// Strides in elements (may be negative or zero).
    pub strides: Vec<isize>,
    /// Element size in bytes.
    pub elem_size: u64,
}

/// A copy made because a shared arena was written to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CowRecord {
    /// Arena that was shared.
    pub from_arena: u64,
    /// New arena holding the copy.
    pub to_arena: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Where the write happened.
    pub site: Site,
    /// When.
    pub t_ns: u64,
}

/// A named bag of key/value figures written by another component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Section name, e.g. `"gemm"` or `"demo"`.
    pub name: String,
    /// Ordered key/value entries.
    pub entries: Vec<(String, String)>,
}

impl HeapProfile {
    /// Estimated live bytes and objects per stack at time `t_ns` (samples
    /// allocated at or before `t_ns` and not freed by then), largest first.
    /// The writer stores this for the moment of the global peak as `at_peak`.
    ///
    /// ```
    /// use arenaprof_snapshot::{HeapProfile, Sample};
    /// let s = |stack, alloc_ns, free_ns| Sample { stack, size: 10, weight: 2.0, alloc_ns, free_ns, ..Default::default() };
    /// let heap = HeapProfile { samples: vec![s(0, 1, None), s(1, 1, Some(5)), s(1, 9, None)], ..Default::default() };
    /// let live = heap.live_at(6);
    /// assert_eq!(live.len(), 1);
    /// assert_eq!((live[0].stack, live[0].bytes, live[0].objects), (0, 20.0, 2.0));
    /// ```
    pub fn live_at(&self, t_ns: u64) -> Vec<StackBytes> {
        let mut by: std::collections::BTreeMap<u32, (f64, f64)> = Default::default();
        for s in &self.samples {
            if s.alloc_ns <= t_ns && !matches!(s.free_ns, Some(f) if f <= t_ns) {
                let e = by.entry(s.stack).or_default();
                e.0 += s.weight * s.size as f64;
                e.1 += s.weight;
            }
        }
        let mut out: Vec<StackBytes> = by
            .into_iter()
            .map(|(stack, (bytes, objects))| StackBytes {
                stack,
                bytes,
                objects,
            })
            .collect();
        out.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
        out
    }
}
