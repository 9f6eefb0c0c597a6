//! Turns a [`Snapshot`] into a [`Report`].
//!
//! Each submodule computes one part; [`analyze`] runs them all. The analysis
//! never panics on a decodable snapshot, however inconsistent: dangling ids,
//! cycles and impossible layouts become entries in `Report::warnings`.
//!
//! ```
//! use arenaprof_report::{analyze, Options};
//! let report = analyze(&arenaprof_snapshot::Snapshot::default(), &Options::default());
//! assert!(report.arenas.is_empty());
//! ```

pub mod counters;
pub mod memory;
pub mod native;
pub mod retention;
pub mod sites;
pub mod timeline;

use crate::report::{Report, SCHEMA, SCHEMA_VERSION};
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top_sites: 20,
            max_chain: 32,
            max_jumps: 5,
            max_merge_runs: retention::MAX_TOTAL_RUNS,
        }
    }
}

/// Analyses a snapshot.
///
/// ```
/// let r = arenaprof_report::analyze(&Default::default(), &Default::default());
/// assert_eq!(r.retention.wasted_bytes, 0);
/// ```
pub fn analyze(snap: &Snapshot, opts: &Options) -> Report {
    let mut warnings = Vec::new();
    let tag_names = counters::tag_names(snap);
    let (arenas, retention) = retention::analyze(
        &snap.registry,
        opts.max_chain,
        opts.max_merge_runs,
        &mut warnings,
    );
    let mut sites = sites::analyze(&snap.heap, &tag_names, opts.top_sites, &mut warnings);
    sites.peak_at_ns = snap.total.peak_at_ns;
    let mut report = Report {
        schema: SCHEMA.to_owned(),
        schema_version: SCHEMA_VERSION,
        meta: counters::meta(snap),
        totals: counters::row(&snap.total),
        tags: counters::tags(snap),
        threads: counters::threads(snap, &tag_names),
        memory: memory::account(snap),
        overhead: memory::overhead(snap),
        timeline: timeline::analyze(&snap.timeline, &tag_names, opts.max_jumps, &mut warnings),
        retention,
        arenas,
        sites,
        cow: counters::cow(snap),
        sections: counters::sections(snap),
        warnings,
        ..Default::default()
    };
    native::apply(snap, &mut report);
    report
}
