//! Retention: which live views keep which arenas allocated, through which
//! chain of derivations, and what to change.
//!
//! For each arena: `reachable` is the union of the live views' strided
//! footprints ([`arenaprof_snapshot::footprint::reachable_bytes`]), `wasted`
//! is the capacity that no live view can reach. Each live view is a
//! *retainer*. Its *exclusive retained bytes* follow Eclipse MAT's retained
//! size: what dropping that view alone would free, i.e. the whole capacity
//! when it is the arena's only live handle, else 0. Its *chain* follows
//! `ViewRecord::parent` back to the arena through dropped ancestors (the
//! registry keeps their records), root first.
//!
//! Cost: views are indexed by id and grouped by arena once; each view's depth
//! and topmost ancestor are memoised, so chains cost O(views + output) even
//! for long linear derivations, and cycles or dangling parents in a corrupt
//! snapshot end the walk with a warning (one per kind, with a count). The
//! output is what a hostile registry can blow up (a million live views in
//! one chain list up to `max_chain` steps each), so every retainer, chain
//! step and fix is charged to a [`Budget`] before it is made
//! ([`analyze_within`]). Layouts of more than [`MAX_DIMS`] dimensions are
//! invalid (their canonical form would cost quadratic time).
//!
//! ```
//! use arenaprof_snapshot::{ArenaRecord, Layout, Registry, ViewRecord};
//! let lay = |off: i64, n: usize| Layout { offset: off, shape: vec![n], strides: vec![1], elem_size: 8 };
//! let reg = Registry {
//!     arenas: vec![ArenaRecord { id: 1, capacity_bytes: 800, elem_size: 8, op: "arange".into(), ..Default::default() }],
//!     views: vec![
//!         ViewRecord { id: 10, arena: 1, is_owner: true, op: "arange".into(), layout: lay(0, 100), ..Default::default() },
//!         ViewRecord { id: 11, arena: 1, parent: Some(10), alive: true, op: "slice".into(), layout: lay(0, 10), ..Default::default() },
//!     ],
//!     ..Default::default()
//! };
//! let (arenas, total) = arenaprof_report::passes::retention::analyze(&reg, 32, 1 << 20, &mut vec![]);
//! assert_eq!((arenas[0].reachable_bytes, arenas[0].wasted_bytes), (80, 720));
//! assert_eq!(arenas[0].retainers[0].exclusive_retained_bytes, 800);
//! assert_eq!(total.wasted_bytes, 720);
//! ```

use crate::budget::{Budget, BudgetError, MAX_DIMS};
use crate::model::{ArenaRow, ChainStep, Fix, Retainer, RetentionSummary};
use crate::units::format_bytes;
use arenaprof_snapshot::footprint::{reachable_bytes, Runs};
use arenaprof_snapshot::{ArenaRecord, Layout, Registry, Site, ViewRecord};
use std::collections::HashMap;

/// Most runs (contiguous pieces, see [`Runs`]) of *overlapping* strided
/// views that one arena's union may merge before it is bounded by the views'
/// spans instead of computed exactly. A lone strided view, however many runs
/// it has, is counted exactly by formula; real arrays stay far below this.
pub(crate) const MAX_STRIDED_RUNS: u128 = 1 << 22;
/// Default for the runs merged over a whole analysis before further unions
/// fall back to spans ([`Options::max_merge_runs`](crate::Options)): keeps a corrupt snapshot with many such arenas within seconds.
pub const MAX_TOTAL_RUNS: u128 = 1 << 24;

/// Budget bytes that allow one run of overlapping strided views to be
/// merged exactly: a 4 MiB snapshot (320 MiB of budget) may merge 1.3
/// million runs, a 27 MiB one 7.2 million, none more than
/// [`MAX_TOTAL_RUNS`]. Past it, reachable bytes are bounded by spans.
pub(crate) const BYTES_PER_RUN: u128 = 256;

/// What one layout covers, classified without enumerating elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Footprint {
    /// No elements.
    Empty,
    /// One contiguous byte range `[start, end)`.
    Run(u64, u64),
    /// Non-contiguous: `runs` contiguous pieces within the byte span `[start, end)`.
    Strided {
        /// Contiguous pieces of the canonical form.
        runs: u128,
        /// Whether some elements are reached twice (overlapping windows);
        /// such a layout's runs must be merged even when it is alone.
        self_overlapping: bool,
        /// First byte of the span.
        start: u64,
        /// One past the last byte of the span.
        end: u64,
    },
    /// Not a valid window on an arena of this capacity.
    Invalid(String),
}

/// Classifies `l` on an arena of `capacity` bytes.
pub(crate) fn classify(l: &Layout, capacity: u64) -> Footprint {
    if l.shape.len() > MAX_DIMS {
        return Footprint::Invalid(format!(
            "{} dimensions, more than {MAX_DIMS}",
            l.shape.len()
        ));
    }
    if l.shape.len() != l.strides.len() {
        return Footprint::Invalid(format!(
            "{} dimensions but {} strides",
            l.shape.len(),
            l.strides.len()
        ));
    }
    if l.elem_size == 0 {
        return Footprint::Invalid("element size 0".to_owned());
    }
    if l.shape.contains(&0) {
        return Footprint::Empty;
    }
    let mut n: u128 = 1;
    let (mut lo, mut hi) = (l.offset as i128, l.offset as i128);
    for (&d, &s) in l.shape.iter().zip(&l.strides) {
        let Some(m) = n.checked_mul(d as u128) else {
            return Footprint::Invalid("element count overflows".to_owned());
        };
        n = m;
        let ext = (d as i128 - 1) * s as i128;
        let (a, b) = if ext < 0 { (ext, 0) } else { (0, ext) };
        match (lo.checked_add(a), hi.checked_add(b)) {
            (Some(x), Some(y)) => (lo, hi) = (x, y),
            _ => return Footprint::Invalid("offsets overflow".to_owned()),
        }
    }
    let es = l.elem_size as i128;
    let end = (hi + 1).checked_mul(es);
    if lo < 0 || !matches!(end, Some(e) if e <= capacity as i128) {
        return Footprint::Invalid(format!(
            "elements {lo}..={hi} of {} bytes lie outside the arena's {capacity} bytes",
            l.elem_size
        ));
    }
    let (start, end) = ((lo * es) as u64, end.unwrap_or(0) as u64);
    // Dense when the strides, sorted by magnitude, pack the shape exactly.
    let mut dims: Vec<(u128, usize)> = l
        .strides
        .iter()
        .zip(&l.shape)
        .filter(|(_, &d)| d > 1)
        .map(|(&s, &d)| (s.unsigned_abs() as u128, d))
        .collect();
    dims.sort_unstable();
    let mut expected: u128 = 1;
    let dense = dims.iter().all(|&(s, d)| {
        let ok = s == expected;
        expected = expected.saturating_mul(d as u128);
        ok
    });
    if dense {
        Footprint::Run(start, end)
    } else {
        let Some(r) = Runs::of(l) else {
            return Footprint::Empty;
        };
        let runs = r.count();
        if runs <= 1 {
            return Footprint::Run(start, end);
        }
        // Runs placed along axes sorted by stride never overlap when each
        // stride clears everything the inner axes span.
        let mut extent = r.run;
        let self_overlapping = r.axes.iter().any(|&(d, st)| {
            let overlaps = st < extent;
            extent = extent.saturating_add((d - 1).saturating_mul(st));
            overlaps
        });
        Footprint::Strided {
            runs,
            self_overlapping,
            start,
            end,
        }
    }
}

fn merge_runs(mut v: Vec<(u64, u64)>) -> u64 {
    v.sort_unstable();
    let mut total = 0u64;
    let mut cur: Option<(u64, u64)> = None;
    for (s, e) in v {
        match cur.as_mut() {
            Some(c) if s <= c.1 => c.1 = c.1.max(e),
            _ => {
                if let Some((a, b)) = cur {
                    total += b - a;
                }
                cur = Some((s, e));
            }
        }
    }
    total + cur.map_or(0, |(a, b)| b - a)
}

/// Runs that a k-way merge would visit: those of strided layouts whose span
/// overlaps another layout's span, or that overlap themselves (a lone
/// non-overlapping strided layout is counted by a formula, and contiguous
/// ones are single runs).
fn merge_cost(items: &[(&Layout, &Footprint)]) -> u128 {
    // (start, end, runs, self-overlapping)
    let mut spans: Vec<(u64, u64, u128, bool)> = items
        .iter()
        .filter_map(|(_, f)| match f {
            Footprint::Run(a, b) => Some((*a, *b, 0, false)),
            Footprint::Strided {
                runs,
                self_overlapping,
                start,
                end,
            } => Some((*start, *end, *runs, *self_overlapping)),
            _ => None,
        })
        .collect();
    spans.sort_unstable();
    let mut cost = 0u128;
    let mut i = 0;
    while i < spans.len() {
        let (mut end, mut runs) = (spans[i].1, spans[i].2);
        let mut j = i + 1;
        while j < spans.len() && spans[j].0 < end {
            end = end.max(spans[j].1);
            runs = runs.saturating_add(spans[j].2);
            j += 1;
        }
        if j - i > 1 || spans[i].3 {
            cost = cost.saturating_add(runs);
        }
        i = j;
    }
    cost
}

/// Bytes reachable by `layouts` (already classified), and whether the figure
/// is an upper bound (overlapping strided footprints too large to merge
/// within `budget` runs, which shrinks by what is spent).
fn union(items: &[(&Layout, &Footprint)], budget: &mut u128) -> (u64, bool) {
    let strided = items
        .iter()
        .any(|(_, f)| matches!(f, Footprint::Strided { .. }));
    if !strided {
        let runs = items
            .iter()
            .filter_map(|(_, f)| match f {
                Footprint::Run(a, b) => Some((*a, *b)),
                _ => None,
            })
            .collect();
        return (merge_runs(runs), false);
    }
    let cost = merge_cost(items);
    if cost <= MAX_STRIDED_RUNS && cost <= *budget {
        *budget -= cost;
        let layouts = items.iter().filter_map(|(l, f)| match f {
            Footprint::Run(..) | Footprint::Strided { .. } => Some(*l),
            _ => None,
        });
        return (reachable_bytes(layouts), false);
    }
    let spans = items
        .iter()
        .filter_map(|(_, f)| match f {
            Footprint::Run(a, b)
            | Footprint::Strided {
                start: a, end: b, ..
            } => Some((*a, *b)),
            _ => None,
        })
        .collect();
    (merge_runs(spans), true)
}

/// Memoised position of each view in its derivation tree.
#[derive(Clone, Copy)]
struct Place {
    /// Index of the topmost ancestor reached in the same arena.
    top: usize,
    /// Number of parent steps from the view to `top`.
    depth: u64,
}

struct Index<'a> {
    views: &'a [ViewRecord],
    by_id: HashMap<u64, usize>,
    parent: Vec<Option<usize>>,
    place: Vec<Option<Place>>,
}

impl<'a> Index<'a> {
    fn new(views: &'a [ViewRecord], warnings: &mut Vec<String>) -> Self {
        let mut by_id = HashMap::with_capacity(views.len());
        let mut dups = 0u64;
        for (i, v) in views.iter().enumerate() {
            if by_id.insert(v.id, i).is_some() {
                dups += 1;
            }
        }
        if dups > 0 {
            warnings.push(format!(
                "registry: {dups} duplicate view ids; the last record of each is used"
            ));
        }
        // Each view's parent in the same arena, looked up once.
        let parent = views
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let p = *by_id.get(&v.parent?)?;
                (views[p].arena == v.arena && p != i).then_some(p)
            })
            .collect();
        Index {
            views,
            by_id,
            parent,
            place: vec![None; views.len()],
        }
    }

    /// The parent of view `i` in the same arena, if its record exists.
    fn parent(&self, i: usize) -> Option<usize> {
        self.parent[i]
    }

    /// Resolves the top and depth of view `i`, memoising every view on the way.
    fn place(&mut self, i: usize, notes: &mut Notes) -> Place {
        if let Some(p) = self.place[i] {
            return p;
        }
        let mut path = vec![i];
        let mut on_path = std::collections::HashSet::new();
        on_path.insert(i);
        let mut base: Option<Place> = None;
        let mut cur = i;
        while let Some(p) = self.parent(cur) {
            if let Some(pl) = self.place[p] {
                base = Some(pl);
                break;
            }
            if !on_path.insert(p) {
                notes.cycles += 1;
                notes.first_cycle.get_or_insert(self.views[p].id);
                break;
            }
            path.push(p);
            cur = p;
        }
        let (top, mut depth) = match base {
            Some(b) => (b.top, b.depth + 1),
            None => (*path.last().unwrap_or(&i), 0),
        };
        for &j in path.iter().rev() {
            self.place[j] = Some(Place { top, depth });
            depth += 1;
        }
        self.place[i].unwrap_or(Place { top: i, depth: 0 })
    }
}

fn site_line(s: &Site) -> String {
    if s.file.is_empty() {
        "an unknown site".to_owned()
    } else {
        format!("{}:{}", s.file, s.line)
    }
}

/// Warnings the analysis counts instead of repeating (a corrupt registry
/// may have one per view).
#[derive(Default)]
struct Notes {
    cycles: u64,
    first_cycle: Option<u64>,
    dangling: u64,
    first_dangling: Option<(u64, u64, u64)>,
    dup_arenas: u64,
    first_dup_arena: Option<u64>,
}

impl Notes {
    fn into_warnings(self, warnings: &mut Vec<String>) {
        if let Some(v) = self.first_cycle {
            warnings.push(format!(
                "registry: views derive from each other in a cycle ({} cycles, first through view #{v}); chains cut",
                self.cycles
            ));
        }
        if let Some((view, parent, arena)) = self.first_dangling {
            warnings.push(format!(
                "registry: {} chains start at a view whose parent is missing (first: view #{view} names parent #{parent}, which is not recorded in arena #{arena})",
                self.dangling
            ));
        }
        if let Some(id) = self.first_dup_arena {
            warnings.push(format!(
                "registry: {} arenas recorded twice (first: arena #{id}); the first record of each is kept",
                self.dup_arenas
            ));
        }
    }
}

/// Bytes a chain step adds to the report.
fn step_cost(op: &str, site: &Site) -> u64 {
    (std::mem::size_of::<ChainStep>() + op.len() + site.file.len() + 24) as u64
}

fn step(v: &ViewRecord) -> ChainStep {
    ChainStep {
        view: v.id,
        op: v.op.clone(),
        site: v.site.to_string(),
        alive: v.alive,
    }
}

const CHAINS: &str = "the retainers' derivation chains";

/// What [`chain`] will add to the report for view `i`, found by walking
/// the same steps without making them (so a registry over the budget is
/// refused before any chain is built).
fn chain_cost(
    idx: &mut Index<'_>,
    i: usize,
    arena: &ArenaRecord,
    owner: Option<&ViewRecord>,
    max_chain: usize,
    notes: &mut Notes,
) -> u64 {
    let place = idx.place(i, notes);
    let views = idx.views;
    let top = &views[place.top];
    let len = place.depth + if top.is_owner { 0 } else { 1 };
    let keep = (max_chain.max(2) - 1) as u64;
    let mut cost = 0u64;
    let mut cur = Some(i);
    let mut steps = 0u64;
    while let Some(c) = cur {
        if steps >= keep.min(len) {
            break;
        }
        cost = cost.saturating_add(step_cost(&views[c].op, &views[c].site));
        steps += 1;
        cur = idx.parent(c);
    }
    let root_view = if top.is_owner { Some(top) } else { owner };
    let root_op = if arena.op.is_empty() {
        root_view.map_or("", |v| v.op.as_str())
    } else {
        arena.op.as_str()
    };
    cost.saturating_add(step_cost(root_op, &arena.site))
}

/// The chain of view `i`: the arena's creation first, then derivations down
/// to `i` (its cost was charged by [`chain_cost`]).
fn chain(
    idx: &mut Index<'_>,
    i: usize,
    arena: &ArenaRecord,
    owner: Option<&ViewRecord>,
    max_chain: usize,
    notes: &mut Notes,
) -> (Vec<ChainStep>, u64) {
    let place = idx.place(i, notes);
    let views = idx.views;
    let top = &views[place.top];
    // Views from `i` up to `top` (inclusive); `top` merges into the arena step when it is the owner.
    let top_is_owner = top.is_owner;
    let len = place.depth + if top_is_owner { 0 } else { 1 };
    let keep = (max_chain.max(2) - 1) as u64;
    let mut tail = Vec::new();
    let mut cur = Some(i);
    while let Some(c) = cur {
        if tail.len() as u64 >= keep.min(len) {
            break;
        }
        tail.push(step(&views[c]));
        cur = idx.parent(c);
    }
    tail.reverse();
    if !top_is_owner {
        if let Some(parent) = top.parent {
            notes.dangling += 1;
            notes
                .first_dangling
                .get_or_insert((top.id, parent, arena.id));
        }
    }
    let root_view = if top_is_owner { Some(top) } else { owner };
    let root_op = if arena.op.is_empty() {
        root_view.map_or("", |v| v.op.as_str())
    } else {
        arena.op.as_str()
    };
    let root = ChainStep {
        view: root_view.map_or(0, |v| v.id),
        op: root_op.to_owned(),
        site: arena.site.to_string(),
        alive: arena.owner_alive || root_view.is_some_and(|v| v.alive),
    };
    let mut out = Vec::with_capacity(tail.len() + 1);
    out.push(root);
    out.extend(tail);
    (out, len.saturating_sub(keep))
}

/// Sites listed in a fix's text; the fix's `sites` field has them all.
const FIX_SITES_SHOWN: usize = 8;

fn site_list(sites: &[String]) -> String {
    let mut s = sites
        .iter()
        .take(FIX_SITES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if sites.len() > FIX_SITES_SHOWN {
        s.push_str(&format!(
            " and {} more sites",
            sites.len() - FIX_SITES_SHOWN
        ));
    }
    s
}

/// Analyses the registry (no budget: for trusted snapshots).
pub fn analyze(
    reg: &Registry,
    max_chain: usize,
    max_merge_runs: u128,
    warnings: &mut Vec<String>,
) -> (Vec<ArenaRow>, RetentionSummary) {
    analyze_within(
        reg,
        max_chain,
        max_merge_runs,
        &mut Budget::unlimited(),
        warnings,
    )
    .unwrap_or_default()
}

/// Analyses the registry: arena rows (largest wasted first) and totals.
/// The chains, fixes and names the rows repeat are charged to `budget`.
pub fn analyze_within(
    reg: &Registry,
    max_chain: usize,
    max_merge_runs: u128,
    budget: &mut Budget,
    warnings: &mut Vec<String>,
) -> Result<(Vec<ArenaRow>, RetentionSummary), BudgetError> {
    let mut notes = Notes::default();
    let mut idx = Index::new(&reg.views, warnings);
    let mut live_by_arena: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut owner_of: HashMap<u64, usize> = HashMap::new();
    for (i, v) in reg.views.iter().enumerate() {
        if idx.by_id.get(&v.id) != Some(&i) {
            continue;
        }
        if v.alive {
            live_by_arena.entry(v.arena).or_default().push(i);
        }
        if v.is_owner {
            owner_of.entry(v.arena).or_insert(i);
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(reg.arenas.len());
    let mut rows = Vec::with_capacity(reg.arenas.len());
    let mut sum = RetentionSummary {
        arenas_created: reg.arenas_created,
        views_created: reg.views_created,
        ..Default::default()
    };
    let mut bad_layouts = 0u64;
    let mut first_bad = None;
    let mut approximated = 0u64;
    // Merging runs is transient work (O(streams) memory, O(runs log
    // streams) time): allowed one run per BYTES_PER_RUN of the budget left.
    let mut runs_left = max_merge_runs
        .min(u128::from(budget.limit().saturating_sub(budget.used())) / BYTES_PER_RUN);
    for a in &reg.arenas {
        if !seen.insert(a.id) {
            notes.dup_arenas += 1;
            notes.first_dup_arena.get_or_insert(a.id);
            continue;
        }
        let live = live_by_arena.remove(&a.id).unwrap_or_default();
        let owner = owner_of.get(&a.id).map(|&i| &reg.views[i]);
        let feet: Vec<Footprint> = live
            .iter()
            .map(|&i| classify(&reg.views[i].layout, a.capacity_bytes))
            .collect();
        for (f, &i) in feet.iter().zip(&live) {
            if let Footprint::Invalid(why) = f {
                bad_layouts += 1;
                first_bad.get_or_insert_with(|| format!("view #{}: {why}", reg.views[i].id));
            }
        }
        let items: Vec<(&Layout, &Footprint)> = live
            .iter()
            .zip(&feet)
            .map(|(&i, f)| (&reg.views[i].layout, f))
            .collect();
        let (reach, approx) = union(&items, &mut runs_left);
        if approx {
            approximated += 1;
        }
        let reachable = reach.min(a.capacity_bytes);
        let wasted = a.capacity_bytes - reachable;
        let owner_view_alive = live.iter().any(|&i| reg.views[i].is_owner);
        let owner_alive = a.owner_alive || owner_view_alive;
        let handles = live.len() as u64 + u64::from(a.owner_alive && !owner_view_alive);
        let foot_bytes: Vec<u64> = if items.len() == 1 {
            vec![reachable]
        } else {
            items
                .iter()
                .map(|it| {
                    union(std::slice::from_ref(it), &mut runs_left)
                        .0
                        .min(a.capacity_bytes)
                })
                .collect()
        };
        let copies: u64 = foot_bytes.iter().fold(0u64, |s, &b| s.saturating_add(b));
        let fix_needed = !owner_alive && wasted > 0 && !live.is_empty();
        let mut sites: Vec<String> = live
            .iter()
            .map(|&i| site_line(&reg.views[i].site))
            .collect();
        sites.sort();
        sites.dedup();
        // Everything the rows of this arena repeat, charged before any is made.
        let mut cost = 0u64;
        for &i in &live {
            let v = &reg.views[i];
            cost = cost
                .saturating_add(
                    (std::mem::size_of::<Retainer>() + v.op.len() + v.site.file.len() + 24) as u64,
                )
                .saturating_add(chain_cost(&mut idx, i, a, owner, max_chain, &mut notes));
        }
        if fix_needed {
            let listed: u64 = sites.iter().map(|s| s.len() as u64 + 2).sum();
            let per_view = live
                .iter()
                .map(|&i| 2 * reg.views[i].site.file.len() as u64 + 320)
                .sum::<u64>();
            cost = cost
                .saturating_add(2 * listed + 256)
                .saturating_add(per_view);
        }
        budget.charge_with(cost, || {
            format!("{CHAINS} (arena #{}, {} live views)", a.id, live.len())
        })?;
        let arena_fix = fix_needed.then(|| Fix {
            action: "to_owned()".to_owned(),
            text: if live.len() == 1 {
                format!(
                    "`to_owned()` at {} frees {} (copies {})",
                    sites[0],
                    format_bytes(a.capacity_bytes),
                    format_bytes(copies)
                )
            } else {
                format!(
                    "`to_owned()` on the {} live views (at {}) frees {} (copies {})",
                    live.len(),
                    site_list(&sites),
                    format_bytes(a.capacity_bytes),
                    format_bytes(copies)
                )
            },
            sites: sites.clone(),
            frees_bytes: a.capacity_bytes,
            copies_bytes: copies,
        });
        let mut retainers: Vec<Retainer> = Vec::with_capacity(live.len());
        for (k, &i) in live.iter().enumerate() {
            let v = &reg.views[i];
            let exclusive = if handles == 1 { a.capacity_bytes } else { 0 };
            let (chain, chain_elided) = chain(&mut idx, i, a, owner, max_chain, &mut notes);
            let fix = fix_needed.then(|| {
                let here = site_line(&v.site);
                let text = if live.len() == 1 {
                    arena_fix.as_ref().map(|f| f.text.clone()).unwrap_or_default()
                } else {
                    format!(
                        "`to_owned()` at {here}, and on the {} other live views of arena #{}, frees {}",
                        live.len() - 1,
                        a.id,
                        format_bytes(a.capacity_bytes)
                    )
                };
                Fix {
                    action: "to_owned()".to_owned(),
                    sites: vec![here],
                    frees_bytes: if live.len() == 1 { a.capacity_bytes } else { 0 },
                    copies_bytes: foot_bytes[k],
                    text,
                }
            });
            retainers.push(Retainer {
                view: v.id,
                op: v.op.clone(),
                site: v.site.to_string(),
                is_owner: v.is_owner,
                footprint_bytes: foot_bytes[k],
                exclusive_retained_bytes: exclusive,
                chain,
                chain_elided,
                fix,
            });
        }
        retainers.sort_by(|x, y| {
            (y.exclusive_retained_bytes, y.footprint_bytes, x.view).cmp(&(
                x.exclusive_retained_bytes,
                x.footprint_bytes,
                y.view,
            ))
        });
        sum.arenas += 1;
        sum.arenas_with_live_views += u64::from(!live.is_empty());
        sum.pinned_arenas += u64::from(!owner_alive && !live.is_empty());
        sum.capacity_bytes = sum.capacity_bytes.saturating_add(a.capacity_bytes);
        sum.reachable_bytes = sum.reachable_bytes.saturating_add(reachable);
        sum.wasted_bytes = sum.wasted_bytes.saturating_add(wasted);
        sum.live_views += live.len() as u64;
        rows.push(ArenaRow {
            id: a.id,
            op: a.op.clone(),
            site: a.site.to_string(),
            elem_type: a.elem_type.clone(),
            elem_size: a.elem_size,
            shape: a.shape.clone(),
            thread: a.thread,
            created_ns: a.created_ns,
            capacity_bytes: a.capacity_bytes,
            reachable_bytes: reachable,
            wasted_bytes: wasted,
            owner_alive,
            live_views: live.len() as u64,
            retainers,
            fix: arena_fix,
        });
    }
    if bad_layouts > 0 {
        warnings.push(format!(
            "registry: {bad_layouts} live views have layouts outside their arena and count as reaching nothing (first: {})",
            first_bad.unwrap_or_default()
        ));
    }
    if approximated > 0 {
        warnings.push(format!(
            "registry: {approximated} arenas have overlapping strided views with too many runs to merge (over {MAX_STRIDED_RUNS} per arena, or past the analysis's allowance: one run per {BYTES_PER_RUN} bytes of budget, at most {MAX_TOTAL_RUNS}); their reachable bytes are bounded by the views' spans"
        ));
    }
    let orphans: usize = live_by_arena.values().map(Vec::len).sum();
    if orphans > 0 {
        warnings.push(format!(
            "registry: {orphans} live views point at arenas that are not recorded"
        ));
    }
    notes.into_warnings(warnings);
    rows.sort_by(|x, y| {
        (y.wasted_bytes, y.capacity_bytes, x.id).cmp(&(x.wasted_bytes, x.capacity_bytes, y.id))
    });
    Ok((rows, sum))
}

#[cfg(test)]
mod tests {
    #[test]
    fn classify_example() {
        use super::{classify, Footprint};
        use arenaprof_snapshot::Layout;
        let t = Layout {
            offset: 0,
            shape: vec![3, 4],
            strides: vec![1, 3],
            elem_size: 8,
        };
        assert_eq!(classify(&t, 96), Footprint::Run(0, 96));
    }
}
