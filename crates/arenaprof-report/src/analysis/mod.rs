//! Turns a [`Snapshot`] into a [`Report`].
//!
//! Each submodule computes one part; [`analyze`] runs them all. The analysis
//! never panics on a decodable snapshot, however inconsistent: dangling ids,
//! cycles and impossible layouts become entries in `Report::warnings`. Its
//! work is bounded: linear (or `n log n`) in the snapshot's size, and what the
//! report repeats from the snapshot is charged to a [`Budget`]
//! ([`analyze_within`]; see [`crate::budget`]).
//!
//! ```
//! use arenaprof_report::{analyze, Options};
//! let report = analyze(&arenaprof_snapshot::Snapshot::default(), &Options::default());
//! assert!(report.arenas.is_empty());
//! ```

pub mod counters;
pub mod estimate;
pub mod memory;
pub mod outside;
pub mod retention;
pub mod sites;
pub mod stacks;
pub mod timeline;
pub mod trim;

use crate::budget::{Budget, BudgetError};
use crate::model::{Report, RetentionWorst, WastedRow, SCHEMA, SCHEMA_VERSION};
use arenaprof_snapshot::Snapshot;

/// Knobs for [`analyze`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Rows kept in each site table.
    pub top_sites: usize,
    /// Longest derivation chain kept per retainer (longer ones keep the root
    /// and the steps nearest the view).
    pub max_chain: usize,
    /// Timeline jumps reported.
    pub max_jumps: usize,
    /// Runs of overlapping strided views merged exactly over the whole
    /// analysis before reachable bytes fall back to span bounds (see
    /// [`retention::MAX_TOTAL_RUNS`]).
    pub max_merge_runs: u128,
    /// One thread row per thread; by default exited threads that share a
    /// name fold into one row (`exited_folded` says how many).
    pub all_threads: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top_sites: 20,
            max_chain: 32,
            max_jumps: 5,
            max_merge_runs: retention::MAX_TOTAL_RUNS,
            all_threads: false,
        }
    }
}

/// Analyses a snapshot, within the budget of its encoded size
/// ([`Budget::for_input`]).
///
/// Over the budget (only a hostile snapshot gets there), the report holds
/// the header, the totals and one warning naming what did not fit;
/// [`analyze_within`] returns the error instead. Sampled stacks that wait
/// for the report tool (a snapshot taken in this process) are symbolised
/// on a copy first ([`crate::symbols`]).
///
/// ```
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// assert_eq!(r.retention.wasted_bytes, 0);
/// ```
pub fn analyze(snap: &Snapshot, opts: &Options) -> Report {
    let mut budget = Budget::for_input(snap.encoded_len() as u64);
    analyze_within(snap, opts, &mut budget).unwrap_or_else(|e| Report {
        schema: SCHEMA.to_owned(),
        schema_version: SCHEMA_VERSION,
        meta: counters::meta(snap),
        totals: counters::row(&snap.total),
        warnings: vec![format!("analysis stopped: {e}")],
        ..Default::default()
    })
}

/// Analyses a snapshot, charging to `budget` everything the report holds
/// beyond the snapshot's own records (names repeated per reference, chains,
/// padded timeline rows); see [`crate::budget`].
///
/// ```
/// use arenaprof_report::{analyze_within, Budget, Options};
/// let snap = arenaprof_snapshot::Snapshot::default();
/// let r = analyze_within(&snap, &Options::default(), &mut Budget::for_input(28)).unwrap();
/// assert!(r.warnings.is_empty());
/// ```
pub fn analyze_within(
    snap: &Snapshot,
    opts: &Options,
    budget: &mut Budget,
) -> Result<Report, BudgetError> {
    // A snapshot of this process whose stacks wait for the report tool
    // (not read back through `input`, which resolves them): its copy is.
    let resolved;
    let snap = if crate::symbols::pending(snap) {
        let mut copy = snap.clone();
        crate::symbols::resolve(&mut copy);
        resolved = copy;
        &resolved
    } else {
        snap
    };
    let mut warnings = Vec::new();
    let tag_names = counters::tag_names(snap);
    counters::tag_warnings(snap, &mut warnings);
    let (arenas, retention) = retention::analyze_within(
        &snap.registry,
        opts.max_chain,
        opts.max_merge_runs,
        budget,
        &mut warnings,
    )?;
    let mut sites = sites::analyze_within(
        &snap.heap,
        &tag_names,
        opts.top_sites,
        budget,
        &mut warnings,
    )?;
    sites.peak_at_ns = snap.total.peak_at_ns;
    let threads = counters::threads_within(snap, &tag_names, !opts.all_threads, budget)?;
    let timeline = timeline::analyze_within(
        &snap.timeline,
        &tag_names,
        opts.max_jumps,
        budget,
        &mut warnings,
    )?;
    let retention_worst = match &snap.retention.worst {
        Some(w) => {
            let mut notes = Vec::new();
            let (arenas, summary) = retention::analyze_within(
                &w.registry,
                opts.max_chain,
                opts.max_merge_runs,
                budget,
                &mut notes,
            )?;
            warnings.extend(
                notes
                    .into_iter()
                    .map(|n| format!("retention at worst: {n}")),
            );
            Some(RetentionWorst {
                t_ns: w.t_ns,
                nearest_mark: timeline::nearest_mark(&snap.timeline, w.t_ns),
                summary,
                arena_rows: arenas,
            })
        }
        None => None,
    };
    let mut timeline = timeline;
    timeline.wasted = snap
        .retention
        .wasted
        .iter()
        .map(|p| WastedRow {
            t_ns: p.t_ns,
            wasted_bytes: p.wasted_bytes,
        })
        .collect();
    let (vm_size_bytes, rss_bytes) =
        timeline::process_series(&timeline.points, &snap.native.series);
    timeline.vm_size_bytes = vm_size_bytes;
    timeline.rss_bytes = rss_bytes;
    let memory = memory::account(snap, &mut warnings);
    Ok(Report {
        schema: SCHEMA.to_owned(),
        schema_version: SCHEMA_VERSION,
        meta: counters::meta(snap),
        totals: counters::row(&snap.total),
        tags: counters::tags(snap),
        threads,
        memory,
        overhead: memory::overhead(snap),
        timeline,
        retention,
        arenas,
        retention_worst,
        sites,
        cow: counters::cow(snap),
        sections: counters::sections(snap),
        blas: outside::blas_rows(&snap.native),
        blas_notes: snap.native.blas_notes.clone(),
        warnings,
    })
}
