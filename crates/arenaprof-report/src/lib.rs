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

#![deny(missing_docs)]

pub mod analysis;
pub mod budget;
pub mod check;
pub mod diff;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod input;
pub mod native;
pub mod render;
pub mod report;
pub mod sanitize;
pub mod units;

pub use analysis::{analyze, analyze_within, Options};
pub use budget::{Budget, BudgetError};
pub use native::{BlasChangeRow, BlasRow, HookedObjectRow, OutsideRow};
pub use report::*;
