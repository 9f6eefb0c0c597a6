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
//! let text = render::text::render(&report, Default::default()).unwrap();
//! assert!(text.contains("arenaprof report"));
//! ```

//!
//! # Public API
//!
//! | item | what it is |
//! |---|---|
//! | [`analyze`], [`analyze_within`], [`Options`] | a snapshot to a [`Report`] (bounded by a [`Budget`]) |
//! | [`Report`] and its row types ([`TagRow`], [`ArenaRow`], [`OutsideRow`], [`BlasRow`], ...) | the report, as JSON has it (`docs/JSON.md`) |
//! | [`passes`] | the analysis passes, one module each; [`passes::stacks`] folds sampled stacks into [`Folded`] and [`TrimmedStacks`] |
//! | [`render`], [`render::Options`] | one entry point per output: text, JSON, HTML, flame graphs, folded stacks, pprof, traces, diffs |
//! | [`diff`], [`check`] | comparing two reports; gating one against limits |
//! | [`input`] | reading snapshots and JSON reports safely (regular files, capped) |
//! | [`symbols`] | symbolising sampled stacks from the binaries (build IDs checked), as pprof does |
//! | [`budget`], [`Budget`], [`BudgetError`] | the work and output budget of hostile inputs |
//! | [`sanitize`], [`units`] | escaping names for terminals and SVG; byte and time formats |
//! | `fixtures` (feature `fixtures`) | synthetic snapshots for tests and examples |
//!
//! # Layers
//!
//! Modules import only from their own layer or the ones listed before it,
//! without cycles (`tests/layers.rs` checks it):
//!
//! 1. support: `units`, `sanitize`, `budget`, `symbols`
//! 2. model (the report's data, row types included): `model`, `model::outside`, `model::stacks`
//! 3. analysis (every pass, stack folding included): `analysis`, `analysis::counters`, `analysis::estimate`, `analysis::trim`, `analysis::memory`, `analysis::outside`, `analysis::retention`, `analysis::sites`, `analysis::stacks`, `analysis::timeline`
//! 4. what reads inputs and reports: `input`, `check`, `diff`
//! 5. render (never imports analysis): `render`, `render::sink`, `render::table`, `render::fit`, `render::cells`, `render::spark`, `render::chart`, `render::chart::marks`, `render::outside`, `render::text`, `render::json`, `render::html`, `render::html::flamegraph`, `render::flame`, `render::folded`, `render::pprof`, `render::proto`, `render::trace`, `render::diff`
//! 6. `fixtures`, and the crate root

#![deny(missing_docs)]

mod analysis;
pub mod budget;
pub mod check;
pub mod diff;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod input;
mod model;
pub mod render;
pub mod sanitize;
pub mod symbols;
pub mod units;

pub use analysis::{analyze, analyze_within, Options};

/// The analysis passes [`analyze`] runs, one module each, and the stack
/// folding the flame graph, folded and pprof outputs draw from
/// ([`passes::stacks`]).
pub mod passes {
    pub use crate::analysis::{
        counters, estimate, memory, outside, retention, sites, stacks, timeline, trim,
    };
}
pub use budget::{Budget, BudgetError};
pub use model::{
    ArenaRow, BlasChangeRow, BlasRow, ChainStep, CounterRow, CowRow, Fix, Folded, GapRow,
    HookedObjectRow, JemallocRow, Jump, KeyValue, Kind, MarkRow, MemoryAccount, MetaInfo,
    OutsideRow, OverheadInfo, Percentile, Report, Retainer, RetentionSummary, RetentionWorst,
    SectionRow, SiteRow, SiteTables, TagRow, ThreadRow, ThreadTagRow, TimelineInfo,
    TimelinePointRow, TrimmedStacks, WastedRow, ALLOCATION_FRAMES, SCHEMA, SCHEMA_VERSION,
};
