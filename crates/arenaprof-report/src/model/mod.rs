//! The report: everything the renderers show, as plain serialisable data.
//!
//! These types *are* the JSON schema (`docs/JSON.md`): field names are the JSON
//! keys. `schema` is always [`SCHEMA`] and `schema_version` is
//! [`SCHEMA_VERSION`]; a reader rejects a report whose major version it does
//! not know. Additive changes (new fields) keep the version; renaming or
//! removing a field, or changing its meaning, bumps it.
//!
//! ```
//! let report = arenaprof_report::analyze(&Default::default(), &Default::default());
//! assert_eq!(report.schema, arenaprof_report::SCHEMA);
//! assert_eq!(report.schema_version, arenaprof_report::SCHEMA_VERSION);
//! ```

mod outside;
mod stacks;

pub use outside::{BlasChangeRow, BlasRow, HookedObjectRow, OutsideRow};
use serde::{Deserialize, Serialize};
pub use stacks::{Folded, Kind, TrimmedStacks, ALLOCATION_FRAMES};

/// Value of `schema` in every JSON report.
pub const SCHEMA: &str = "arenaprof-report";
/// Version of the JSON report schema described in `docs/JSON.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always `"arenaprof-report"`.
    pub schema: String,
    /// Schema version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Who wrote the snapshot and how.
    pub meta: MetaInfo,
    /// Exact counters over all tags and threads.
    pub totals: CounterRow,
    /// Exact counters per tag, largest live first.
    pub tags: Vec<TagRow>,
    /// Exact counters per thread, in slot order.
    pub threads: Vec<ThreadRow>,
    /// Tracked bytes beside jemalloc's figures and RSS, with the gap explained.
    pub memory: MemoryAccount,
    /// BLAS and OpenMP runtimes loaded in the process, with their threads
    /// and buffers (empty when the snapshot did not measure them).
    #[serde(default)]
    pub blas: Vec<BlasRow>,
    /// Libraries skipped while looking for BLAS runtimes (a missing
    /// symbol), and missing optional symbols.
    #[serde(default)]
    pub blas_notes: Vec<String>,
    /// What the profiler itself costs.
    pub overhead: OverheadInfo,
    /// Live bytes per tag over time, and the biggest jumps.
    pub timeline: TimelineInfo,
    /// Totals over all arenas.
    pub retention: RetentionSummary,
    /// Arenas, largest wasted first.
    pub arenas: Vec<ArenaRow>,
    /// Retention at the moment wasted bytes were highest during the run:
    /// the same totals as `retention` plus `t_ns`, the nearest mark and the
    /// arenas wasted then (`null` when the snapshot has no such picture:
    /// written before format version 3, or nothing was ever wasted).
    #[serde(default)]
    pub retention_worst: Option<RetentionWorst>,
    /// Top allocation sites from sampled stacks.
    pub sites: SiteTables,
    /// Copy-on-write events.
    pub cow: Vec<CowRow>,
    /// Free-form sections from other components.
    pub sections: Vec<SectionRow>,
    /// Inconsistencies found in the snapshot (dangling ids, bad layouts).
    pub warnings: Vec<String>,
}

impl Report {
    /// What a thread row counts. Without a header (jemalloc inside,
    /// `overhead.header_bytes_per_alloc == 0`), a free is counted on the
    /// thread that makes it: net flow.
    ///
    /// ```
    /// let r = arenaprof_report::Report::default();
    /// assert!(r.thread_figures().contains("net flow"));
    /// ```
    pub fn thread_figures(&self) -> &'static str {
        if self.overhead.header_bytes_per_alloc == 0 {
            "exact, net flow: a thread's allocations minus its frees, whichever thread allocated the blocks it frees"
        } else {
            "exact; frees counted on the allocating thread"
        }
    }
}

/// Snapshot header data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaInfo {
    /// Program name.
    pub program: String,
    /// Process id.
    pub pid: u32,
    /// Wall-clock time of the snapshot, ms since the Unix epoch.
    pub unix_ms: u64,
    /// Time from profiler start to snapshot.
    pub elapsed_ns: u64,
    /// Inner allocator name.
    pub allocator: String,
    /// `off`, `bytes`, `threshold` or `all`.
    pub sampling_mode: String,
    /// Mean bytes between samples (`bytes` mode).
    pub sampling_mean_bytes: u64,
    /// Smallest recorded size (`threshold` mode).
    pub sampling_threshold_bytes: u64,
    /// Version of the writer.
    pub writer_version: String,
    /// Snapshot file format version.
    pub format_version: u32,
}

/// Exact counters, as in the snapshot, plus `live_count`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterRow {
    /// Bytes allocated and not freed at snapshot time.
    pub live_bytes: u64,
    /// Highest live bytes seen.
    pub peak_bytes: u64,
    /// When the peak was reached (ns since start).
    pub peak_at_ns: u64,
    /// Cumulative bytes allocated.
    pub allocated_bytes: u64,
    /// Cumulative bytes freed.
    pub freed_bytes: u64,
    /// Allocations.
    pub alloc_count: u64,
    /// Frees.
    pub free_count: u64,
    /// Reallocations.
    pub realloc_count: u64,
    /// Refused allocations.
    pub failed_count: u64,
    /// Allocations not yet freed.
    pub live_count: u64,
}

/// A percentile of a histogram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentile {
    /// Percentile, e.g. `99.0`.
    pub p: f64,
    /// Value at that percentile (bytes or ns).
    pub value: u64,
}

/// One tag.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TagRow {
    /// Tag id.
    pub id: u16,
    /// Tag name.
    pub name: String,
    /// Exact counters (flattened into this object in JSON).
    #[serde(flatten)]
    pub counters: CounterRow,
    /// Allocation size percentiles (bytes).
    pub size_percentiles: Vec<Percentile>,
    /// Lifetime percentiles of freed sampled allocations (ns).
    pub lifetime_percentiles_ns: Vec<Percentile>,
}

/// One thread.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadRow {
    /// Tracker slot.
    pub slot: u32,
    /// Thread name (may be empty).
    pub name: String,
    /// OS thread id.
    pub os_tid: u64,
    /// Still running at snapshot time.
    pub alive: bool,
    /// Exact counters over all tags (flattened).
    #[serde(flatten)]
    pub counters: CounterRow,
    /// Per-tag cells of this thread.
    pub tags: Vec<ThreadTagRow>,
    /// Allocation-size percentiles estimated from this thread's sampled
    /// records (weighted; empty without samples). The snapshot keeps exact
    /// size histograms per tag only.
    #[serde(default)]
    pub sampled_size_percentiles: Vec<Percentile>,
    /// Exited threads of this name folded into this row (0: the row is one
    /// thread). Their counters are summed, `peak_bytes` is the largest
    /// thread's peak, `slot` the lowest and `os_tid` 0.
    #[serde(default)]
    pub exited_folded: u64,
}

/// One (thread, tag) cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadTagRow {
    /// Tag name.
    pub tag: String,
    /// Exact counters (flattened).
    #[serde(flatten)]
    pub counters: CounterRow,
}

/// Tracked bytes beside the allocator's and the OS's view.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryAccount {
    /// Bytes the program asked for and still holds (all tags).
    pub tracked_live_bytes: u64,
    /// Resident set size at snapshot time.
    pub rss_bytes: u64,
    /// Peak resident set size.
    pub peak_rss_bytes: u64,
    /// jemalloc's figures, when jemalloc is the inner allocator.
    pub jemalloc: Option<JemallocRow>,
    /// A ladder from tracked bytes up to RSS. With mapping measurements
    /// (`gap_source` `"mappings"`) every rung is ≥ 0 and they sum to
    /// `mappings_rss_bytes`; otherwise (`"allocator"`) they sum to
    /// `rss_bytes` and may be negative where the figures disagree.
    pub gap: Vec<GapRow>,
    /// `"mappings"` (measured from `/proc/self/smaps`) or `"allocator"`
    /// (from the allocator's own figures: an older snapshot).
    #[serde(default)]
    pub gap_source: String,
    /// Whether the process's mappings were measured at snapshot time.
    #[serde(default)]
    pub measured: bool,
    /// VmSize at snapshot time (0 when not measured).
    #[serde(default)]
    pub virtual_bytes: u64,
    /// Sum of `Rss` over all mappings (what a measured `gap` sums to).
    #[serde(default)]
    pub mappings_rss_bytes: u64,
    /// Resident bytes outside the allocator: the sum of
    /// `outside_allocator[].resident_bytes`.
    #[serde(default)]
    pub outside_allocator_resident_bytes: u64,
    /// Memory outside the allocator, one row per owner, largest resident
    /// first.
    #[serde(default)]
    pub outside_allocator: Vec<OutsideRow>,
    /// What the `mmap` hooks counted per shared object.
    #[serde(default)]
    pub hooked_objects: Vec<HookedObjectRow>,
    /// Whether the `mmap` hooks were installed.
    #[serde(default)]
    pub hooks_installed: bool,
    /// What was not measured, or what to keep in mind.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Time the snapshot spent measuring the mappings and BLAS runtimes
    /// (part of `overhead.snapshot_ns`).
    #[serde(default)]
    pub measure_ns: u64,
}

/// jemalloc's `stats.*` figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JemallocRow {
    /// `stats.allocated`.
    pub allocated_bytes: u64,
    /// `stats.active`.
    pub active_bytes: u64,
    /// `stats.resident`.
    pub resident_bytes: u64,
    /// `stats.metadata`.
    pub metadata_bytes: u64,
    /// `stats.retained` (virtual, not resident).
    pub retained_bytes: u64,
    /// `stats.mapped`.
    pub mapped_bytes: u64,
}

/// One rung of the tracked-to-RSS ladder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GapRow {
    /// Short name, e.g. `size_class_rounding`.
    pub name: String,
    /// Bytes this rung adds (negative when the figures disagree).
    pub bytes: i64,
    /// What it is.
    pub explanation: String,
}

/// The profiler's own cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OverheadInfo {
    /// Header bytes per allocation.
    pub header_bytes_per_alloc: u64,
    /// Header bytes held by live allocations.
    pub live_header_bytes: u64,
    /// Bytes of the profiler's fixed tables (reserved; see `tables_resident_bytes`).
    pub table_bytes: u64,
    /// Bytes of the profiler's own heap data (stacks, samples, registry), live.
    pub internal_live_bytes: u64,
    /// Resident bytes of the profiler's fixed tables (from the mappings;
    /// `table_bytes` when they were not measured).
    #[serde(default)]
    pub tables_resident_bytes: u64,
    /// Resident bytes of the profiler's heap: its jemalloc arena's (live
    /// data, rounding, metadata), or `internal_live_bytes` without one.
    #[serde(default)]
    pub heap_resident_bytes: u64,
    /// Bytes of freed blocks the tracker's per-thread bins keep (0 with a
    /// header or before 0.3).
    #[serde(default)]
    pub cached_bytes: u64,
    /// Address space the header-free tracker reserved for its per-tag
    /// windows: in VmSize, not resident, not part of `total_bytes`.
    #[serde(default)]
    pub windows_reserved_bytes: u64,
    /// What the profiler holds resident: headers, heap, caches and tables.
    pub total_bytes: u64,
    /// `total_bytes` as a percentage of tracked live bytes.
    pub percent_of_tracked: f64,
    /// `total_bytes` as a percentage of RSS: meaningful for a tiny program too.
    #[serde(default)]
    pub percent_of_rss: f64,
    /// Backtraces captured.
    pub backtraces_captured: u64,
    /// Time spent capturing backtraces.
    pub backtrace_ns: u64,
    /// Time spent building the snapshot.
    pub snapshot_ns: u64,
}

/// Live bytes per tag over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineInfo {
    /// Tag names, one per column of `points[].live_bytes`.
    pub tags: Vec<String>,
    /// Points in time order.
    pub points: Vec<TimelinePointRow>,
    /// Labelled moments.
    pub marks: Vec<MarkRow>,
    /// Points merged away by the writer's bounded buffer.
    pub dropped_points: u64,
    /// Biggest rises of one tag's live bytes, largest first.
    pub jumps: Vec<Jump>,
    /// VmSize at each point, in `points` order (empty when not recorded).
    #[serde(default)]
    pub vm_size_bytes: Vec<u64>,
    /// RSS at each point, in `points` order (empty when not recorded).
    #[serde(default)]
    pub rss_bytes: Vec<u64>,
    /// Wasted arena bytes over time, recorded by the array registry when
    /// they change by a step (its own times, not `points`'; empty when not
    /// recorded).
    #[serde(default)]
    pub wasted: Vec<WastedRow>,
}

/// One timeline point.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePointRow {
    /// Time since start.
    pub t_ns: u64,
    /// Live bytes per tag, in `timeline.tags` order.
    pub live_bytes: Vec<u64>,
    /// `interval`, `churn`, `mark` or `final`.
    pub reason: String,
}

/// A labelled moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarkRow {
    /// Time since start.
    pub t_ns: u64,
    /// Label.
    pub label: String,
}

/// A rise of one tag's live bytes between two timeline points.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Jump {
    /// Tag name.
    pub tag: String,
    /// Bytes gained.
    pub delta_bytes: u64,
    /// Time of the point before the rise.
    pub from_ns: u64,
    /// Time of the point at the top of the rise.
    pub to_ns: u64,
    /// Live bytes before.
    pub from_bytes: u64,
    /// Live bytes after.
    pub to_bytes: u64,
    /// Label of a mark inside the rise (or the latest mark before it).
    pub mark: Option<String>,
    /// One line, e.g. `gemm-workspace +48.0 MiB at 1.20 s (mark: first matmul)`.
    pub description: String,
}

/// Totals over all arenas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSummary {
    /// Arenas allocated at snapshot time.
    pub arenas: u64,
    /// Arenas with at least one live view.
    pub arenas_with_live_views: u64,
    /// Arenas whose owner was dropped but which views keep alive.
    pub pinned_arenas: u64,
    /// Sum of capacities.
    pub capacity_bytes: u64,
    /// Sum of reachable bytes.
    pub reachable_bytes: u64,
    /// Sum of wasted bytes (capacity that no live view can reach).
    pub wasted_bytes: u64,
    /// Live views.
    pub live_views: u64,
    /// Arenas created over the run.
    pub arenas_created: u64,
    /// Views created over the run.
    pub views_created: u64,
}

/// Retention at its worst moment: [`RetentionSummary`]'s fields plus when,
/// and the arenas wasted then.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionWorst {
    /// When the picture was taken (ns since start, the timeline's clock).
    pub t_ns: u64,
    /// The mark nearest to `t_ns` (before or after), if any.
    pub nearest_mark: Option<MarkRow>,
    /// Totals over the arenas wasted at that moment (flattened in JSON:
    /// `retention_worst.wasted_bytes` beside `retention.wasted_bytes`).
    #[serde(flatten)]
    pub summary: RetentionSummary,
    /// Those arenas, largest wasted first, with their retainers, chains
    /// and fixes, rows as in the report's `arenas` (named apart from the
    /// `arenas` count of the flattened totals).
    pub arena_rows: Vec<ArenaRow>,
}

impl RetentionWorst {
    /// The nearest mark with how far the worst moment lies from it:
    /// `(mark, nanoseconds, "after" or "before")`.
    ///
    /// ```
    /// use arenaprof_report::{MarkRow, RetentionWorst};
    /// let w = RetentionWorst {
    ///     t_ns: 150,
    ///     nearest_mark: Some(MarkRow { t_ns: 100, label: "load".into() }),
    ///     ..Default::default()
    /// };
    /// let (m, d, side) = w.from_mark().unwrap();
    /// assert_eq!((m.label.as_str(), d, side), ("load", 50, "after"));
    /// ```
    pub fn from_mark(&self) -> Option<(&MarkRow, u64, &'static str)> {
        let m = self.nearest_mark.as_ref()?;
        Some(if self.t_ns >= m.t_ns {
            (m, self.t_ns - m.t_ns, "after")
        } else {
            (m, m.t_ns - self.t_ns, "before")
        })
    }
}

/// One point of the wasted-bytes series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedRow {
    /// Time since start.
    pub t_ns: u64,
    /// Wasted arena bytes then (a lower bound where live views overlap).
    pub wasted_bytes: u64,
}

/// One arena (base buffer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArenaRow {
    /// Arena id.
    pub id: u64,
    /// Constructor, e.g. `arange`.
    pub op: String,
    /// Where it was created (`file:line:col`).
    pub site: String,
    /// Element type.
    pub elem_type: String,
    /// Element size.
    pub elem_size: u64,
    /// Shape at creation.
    pub shape: Vec<usize>,
    /// Creating thread slot.
    pub thread: u32,
    /// Creation time.
    pub created_ns: u64,
    /// Buffer size.
    pub capacity_bytes: u64,
    /// Bytes reachable by the union of live views' footprints.
    pub reachable_bytes: u64,
    /// `capacity_bytes - reachable_bytes`.
    pub wasted_bytes: u64,
    /// Whether the owning array is alive.
    pub owner_alive: bool,
    /// Live views (owner included).
    pub live_views: u64,
    /// Every live view, largest exclusive retained first.
    pub retainers: Vec<Retainer>,
    /// What to change to free the wasted bytes, when the owner is gone.
    pub fix: Option<Fix>,
}

/// A live view that keeps its arena allocated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Retainer {
    /// View id.
    pub view: u64,
    /// Operation that made it.
    pub op: String,
    /// Where it was made.
    pub site: String,
    /// Whether it is the arena's owning array.
    pub is_owner: bool,
    /// Bytes its own footprint covers.
    pub footprint_bytes: u64,
    /// Bytes freed if this view alone were dropped (the whole capacity when it
    /// is the only live handle, else 0).
    pub exclusive_retained_bytes: u64,
    /// Derivations from the arena to this view, root first, this view last.
    pub chain: Vec<ChainStep>,
    /// Steps left out of `chain` (after the root) because it was too long.
    pub chain_elided: u64,
    /// The change that frees the arena, when this view is what pins it.
    pub fix: Option<Fix>,
}

/// One derivation step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStep {
    /// View id (the arena's owner for the first step).
    pub view: u64,
    /// Operation, e.g. `arange`, `slice[..10]`, `t()`.
    pub op: String,
    /// Where (`file:line:col`).
    pub site: String,
    /// Whether a handle to this view is alive.
    pub alive: bool,
}

/// A suggested change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// What to call, e.g. `to_owned()`.
    pub action: String,
    /// Where (the retaining views' creation sites).
    pub sites: Vec<String>,
    /// Bytes of the arena freed.
    pub frees_bytes: u64,
    /// Bytes the copies take.
    pub copies_bytes: u64,
    /// One line for a person.
    pub text: String,
}

/// Top allocation sites.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteTables {
    /// Sample records in the snapshot.
    pub sampled_records: u64,
    /// Estimated live bytes over all live samples.
    pub live_estimated_bytes: u64,
    /// Time of the global peak the `at_peak` table describes.
    pub peak_at_ns: u64,
    /// Sites by estimated live bytes at snapshot time.
    pub live: Vec<SiteRow>,
    /// Sites by estimated live bytes at the global peak.
    pub at_peak: Vec<SiteRow>,
    /// Sites by estimated cumulative allocated bytes.
    pub allocated: Vec<SiteRow>,
}

/// One allocation site (the innermost frame outside the standard library
/// and the profiler).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    /// `function (file:line)`.
    pub site: String,
    /// Function name.
    pub function: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Estimated bytes (sum of weight × size).
    pub bytes: u64,
    /// Estimated objects (sum of weights).
    pub objects: u64,
    /// Samples behind the estimates (0: figures that came aggregated, as at
    /// the peak, without an interval).
    #[serde(default)]
    pub samples: u64,
    /// 95% interval of `objects` (see [`crate::passes::estimate`]).
    #[serde(default)]
    pub objects_low: u64,
    /// Upper end of `objects`' 95% interval.
    #[serde(default)]
    pub objects_high: u64,
    /// 95% interval of `bytes`.
    #[serde(default)]
    pub bytes_low: u64,
    /// Upper end of `bytes`' 95% interval.
    #[serde(default)]
    pub bytes_high: u64,
    /// Tag that most of these bytes were allocated under.
    pub tag: String,
    /// The heaviest stack through this site, innermost first (at most 16 frames).
    pub frames: Vec<String>,
}

/// A copy-on-write event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CowRow {
    /// Arena that was shared.
    pub from_arena: u64,
    /// Arena holding the copy.
    pub to_arena: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Where the write happened.
    pub site: String,
    /// When.
    pub t_ns: u64,
}

/// A free-form section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRow {
    /// Section name.
    pub name: String,
    /// Entries in order.
    pub entries: Vec<KeyValue>,
}

/// One entry of a section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

impl Report {
    /// The tag row named `name`, if any.
    pub fn tag(&self, name: &str) -> Option<&TagRow> {
        self.tags.iter().find(|t| t.name == name)
    }
}
