//! Sampled stacks as the outputs draw them, made by the analysis
//! ([`crate::passes::stacks`]): folded lines for flame graphs and folded
//! text, and each stack's trimmed frames for pprof.

use std::collections::HashMap;

/// Which bytes a flame graph or folded text shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Live at snapshot time.
    Live,
    /// Live at the global peak.
    Peak,
    /// Cumulative allocated.
    Alloc,
    /// Wasted arena bytes by retaining chain.
    Leaks,
}

impl Kind {
    /// The flame graph's title for this view.
    ///
    /// ```
    /// assert!(arenaprof_report::Kind::Live.title().starts_with("Live bytes"));
    /// ```
    pub fn title(self) -> &'static str {
        match self {
            Kind::Live => "Live bytes by allocation stack",
            Kind::Peak => "Live bytes at the peak by allocation stack",
            Kind::Alloc => "Allocated bytes (cumulative) by allocation stack",
            Kind::Leaks => "Wasted arena bytes by the view chain that pins them",
        }
    }

    /// Why this view can be empty, in one clause.
    ///
    /// ```
    /// assert!(arenaprof_report::Kind::Leaks.why_empty().contains("pinned"));
    /// ```
    pub fn why_empty(self) -> &'static str {
        match self {
            Kind::Leaks => "no arena is pinned by views after its owner was dropped",
            _ => "no sampled stacks for this view (was sampling on? set ARENAPROF_SAMPLE or call set_sampling)",
        }
    }
}

/// Folded stacks of one [`Kind`]: `frame;frame;frame count` lines, sorted,
/// each frame cleaned (no `;`, escaped, cut) and rooted at its tag.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    /// The view these lines show (`None` for an empty default).
    pub kind: Option<Kind>,
    /// The lines, sorted.
    pub lines: Vec<String>,
    /// The divisor applied to every count when their total would not fit
    /// (1 for any real run).
    pub scale: u64,
    /// The program the snapshot was taken of (as recorded; not escaped).
    pub program: String,
    /// Its process id.
    pub pid: u32,
    /// Why the stacks were left out (they did not fit the budget), if they were.
    pub omitted: Option<String>,
}

/// Each sampled stack's frames a person reads ([`crate::passes::trim`]),
/// innermost first, valid indices only, at most
/// [`MAX_STACK_DEPTH`](crate::budget::MAX_STACK_DEPTH) of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrimmedStacks {
    /// Frame indices by stack id.
    pub frames: HashMap<u32, Vec<u32>>,
}

/// A regular expression (RE2, as pprof's `drop_frames` takes it) naming the
/// allocation machinery that never calls back into user code: the global
/// allocator's entry points, `RawVec` growth, the tracker's recording and
/// jemalloc. pprof drops a frame it matches and every frame it called.
pub const ALLOCATION_FRAMES: &str = concat!(
    "(<.* as )?",
    "(alloc::alloc::.*|alloc::raw_vec::.*|.*RawVecInner.*|.*finish_grow.*",
    "|<?alloc::alloc::Global.*|__rust_(alloc|alloc_zeroed|realloc|dealloc).*|__rdl_.*|__rg_.*",
    "|_rjem_.*|tikv_jemalloc.*|.*TrackingAlloc.*|arenaprof_alloc::(tracking|sampling|unwind|header|local)::.*)",
);
