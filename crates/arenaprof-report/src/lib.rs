//! Analysis and renderers for arenaprof snapshots.
//!
//! [`analyze`] turns a [`Snapshot`](arenaprof_snapshot::Snapshot) into a
//! [`Report`]: per-tag and per-thread counters, the memory account (tracked
//! bytes beside jemalloc and RSS), the timeline with its biggest jumps,
//! retention (which live views pin which arenas, through which derivation
//! chain, and the fix), and the top allocation sites. The renderers in
//! [`render`] print it as text, JSON (schema in `docs/JSON.md`) or a
//! self-contained HTML page, and draw flame graphs and pprof profiles from the
//! snapshot's sampled stacks. [`diff`] compares two reports and [`check`]
//! gates a report against limits.
//!
//! Inputs may be hostile. [`input`] reads regular files of bounded size
//! only; everything the analysis and the renderers expand from a snapshot's
//! references is charged to a [`Budget`] of 64 × the input's size + 64 MiB
//! ([`budget`]), with a one-line [`BudgetError`] past it; names are escaped
//! and cut in text and SVG ([`sanitize`]).
//!
//! ```
//! use arenaprof_report::{analyze, render, Options};
//! let snap = arenaprof_snapshot::Snapshot::default();
//! let report = analyze(&snap, &Options::default());
//! let text = render::text::render(&report);
//! assert!(text.contains("arenaprof report"));
//! ```

//!
//! # Public API
//!
//! | item | what it is |
//! |---|---|
//! | [`analyze`], [`analyze_within`], [`Options`] | a snapshot to a [`Report`] (bounded by a [`Budget`]) |
//! | [`Report`] and its row types ([`TagRow`], [`ArenaRow`], [`OutsideRow`], [`BlasRow`], ...) | the report, as JSON has it (`docs/JSON.md`) |
//! | [`render`] | text, JSON, HTML, flame graphs, pprof |
//! | [`diff`], [`check`] | comparing two reports; gating one against limits |
//! | [`input`] | reading snapshots and JSON reports safely (regular files, capped) |
//! | [`budget`], [`Budget`], [`BudgetError`] | the work and output budget of hostile inputs |
//! | [`passes`] | the analysis passes, one module each |
//! | [`sanitize`], [`units`] | escaping names for terminals and SVG; byte and time formats |
//! | `fixtures` (feature `fixtures`) | synthetic snapshots for tests and examples |

#![deny(missing_docs)]

mod analysis;
pub mod budget;
pub mod check;
pub mod diff;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod input;
mod native;
pub mod render;
mod report;
pub mod sanitize;
pub mod units;

pub use analysis::{analyze, analyze_within, Options};

/// The analysis passes [`analyze`] runs, one module each.
pub mod passes {
    pub use crate::analysis::{
        counters, estimate, memory, native, retention, sites, timeline, trim,
    };
}
pub use budget::{Budget, BudgetError};
pub use native::{BlasChangeRow, BlasRow, HookedObjectRow, OutsideRow};
pub use report::*;
