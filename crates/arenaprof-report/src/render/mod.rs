//! Renderers: text, JSON and HTML reports from a [`Report`](crate::Report);
//! flame graphs and pprof profiles from a snapshot's sampled stacks.
//!
//! ```
//! let r = arenaprof_report::analyze(&Default::default(), &Default::default());
//! let json = arenaprof_report::render::json::render(&r);
//! assert!(json.contains("\"schema_version\": 1"));
//! ```

mod cells;
pub mod chart;
pub mod fit;
pub mod flame;
pub mod folded;
pub mod html;
pub mod json;
pub mod native;
pub mod pprof;
pub mod proto;
pub(crate) mod sink;
pub mod table;
pub mod text;
pub mod trace;
