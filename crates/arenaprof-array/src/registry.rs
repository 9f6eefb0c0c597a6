//! Reading the registry: per arena, its capacity, the bytes live views can
//! reach, the wasted rest, and every retaining view with the chain of
//! operations (and sites) that made it.
//!
//! ```
//! use arenaprof_array::{registry, s, Array};
//! let a = Array::<f64>::arange(1000);
//! let v = a.slice(s![..10]);
//! let id = a.arena_id().unwrap();
//! drop(a);
//! let info = registry::arena(id).unwrap();
//! assert_eq!(info.capacity_bytes, 8000);
//! assert_eq!(info.reachable_bytes, 80);
//! assert_eq!(info.wasted_bytes, 7920);
//! assert!(!info.owner_alive);
//! assert_eq!(info.retainers.len(), 1);
//! assert_eq!(info.retainers[0].view.op, "slice[..10]");
//! assert_eq!(info.retainers[0].chain.len(), 2); // the dropped owner, then the view
//! # drop(v);
//! ```

use crate::site::site_of;
pub use crate::store::MAX_COW_EVENTS;
use crate::store::{self, ArenaRec, ViewRec, NONE, SHARDS};
use crate::worst;
use arenaprof_snapshot::{footprint, Registry, Site, Snapshot, ViewRecord};
use std::collections::HashMap;
use std::fmt;

/// A live view that keeps an arena allocated, and how it came to be.
#[derive(Clone, Debug, PartialEq)]
pub struct Retainer {
    /// The live view.
    pub view: ViewRecord,
    /// Its derivation, root first: the owning array's record, then each
    /// derived view down to `view` itself (dropped links included).
    pub chain: Vec<ViewRecord>,
    /// Bytes of the arena this view can reach.
    pub reachable_bytes: u64,
    /// Bytes a `to_owned()` copy of this view would allocate.
    pub copy_bytes: u64,
}

impl fmt::Display for Retainer {
    /// `arena <- arange@a.rs:3:9 <- slice[..10]@a.rs:4:9 <- t()@a.rs:5:9`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("arena")?;
        for v in &self.chain {
            write!(f, " <- {}@{}", v.op, v.site)?;
        }
        Ok(())
    }
}

/// One live arena with its figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ArenaInfo {
    /// Arena id (unique per run).
    pub id: u64,
    /// Bytes of its buffer.
    pub capacity_bytes: u64,
    /// Bytes live views can reach (union of their strided footprints).
    pub reachable_bytes: u64,
    /// `capacity_bytes - reachable_bytes`.
    pub wasted_bytes: u64,
    /// Element type, e.g. `"f64"`.
    pub elem_type: String,
    /// Element size in bytes.
    pub elem_size: u64,
    /// Shape of the owning array when it was made.
    pub shape: Vec<usize>,
    /// Constructor, e.g. `"arange"`, `"to_owned"`, `"cow"`.
    pub op: String,
    /// Where it was made.
    pub site: Site,
    /// Tracker thread slot that made it.
    pub thread: u32,
    /// Creation time (ns since the registry's clock started).
    pub created_ns: u64,
    /// Whether the owning array's handle is still alive.
    pub owner_alive: bool,
    /// Every live handle on the arena (the owner included while alive),
    /// largest reach first.
    pub retainers: Vec<Retainer>,
}

impl ArenaInfo {
    /// Bytes freed if every retainer were replaced by its `to_owned()` copy:
    /// the capacity minus the copies' bytes (0 while the owner is alive).
    ///
    /// ```
    /// use arenaprof_array::{registry, s, Array};
    /// let a = Array::<f64>::arange(100);
    /// let v = a.slice(s![..10]);
    /// let id = a.arena_id().unwrap();
    /// assert_eq!(registry::arena(id).unwrap().to_owned_frees(), 0);
    /// drop(a);
    /// assert_eq!(registry::arena(id).unwrap().to_owned_frees(), 720);
    /// # drop(v);
    /// ```
    pub fn to_owned_frees(&self) -> u64 {
        if self.owner_alive {
            return 0;
        }
        let copies: u64 = self.retainers.iter().map(|r| r.copy_bytes).sum();
        self.capacity_bytes.saturating_sub(copies)
    }
}

/// Registry totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// Arenas allocated now.
    pub live_arenas: u64,
    /// View handles alive now (owners included).
    pub live_views: u64,
    /// View records kept (live views plus dropped ancestors they need).
    pub view_records: u64,
    /// Arenas created since the start.
    pub arenas_created: u64,
    /// Views created since the start (owners included).
    pub views_created: u64,
    /// Copy-on-write copies made since the start.
    pub cow_events: u64,
    /// Views made without a record because the allocator refused the
    /// registry room for one (they work, but no query sees them).
    pub unrecorded_views: u64,
}

impl RegistryStats {
    /// No arena and no view record is left.
    ///
    /// ```
    /// assert!(arenaprof_array::registry::RegistryStats::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.live_arenas == 0 && self.view_records == 0
    }
}

struct Raw {
    arenas: Vec<(usize, u32, ArenaRec)>,
    views: Vec<(usize, u32, ViewRec)>,
}

fn collect(only: Option<u64>) -> Raw {
    arenaprof_alloc::untracked(|| {
        let mut raw = Raw {
            arenas: Vec::new(),
            views: Vec::new(),
        };
        for i in 0..SHARDS {
            let sh = store::lock(i);
            let mut slots = Vec::new();
            for (slot, a) in sh.arenas.iter() {
                if only.is_none_or(|id| id == a.id) {
                    raw.arenas.push((i, slot, a.clone()));
                    slots.push(slot);
                }
            }
            if slots.is_empty() {
                continue;
            }
            for (slot, v) in sh.views.iter() {
                if only.is_none() || slots.contains(&v.arena) {
                    raw.views.push((i, slot, v.clone()));
                }
            }
        }
        raw
    })
}

/// The snapshot's record of a view (the same type the report reads).
fn view_info(v: &ViewRec, arena: u64, parent: Option<u64>, elem_size: u64) -> ViewRecord {
    v.record(arena, parent, elem_size)
}

fn build(raw: Raw) -> Vec<ArenaInfo> {
    let by_slot: HashMap<(usize, u32), &ViewRec> = raw
        .views
        .iter()
        .map(|(s, slot, v)| ((*s, *slot), v))
        .collect();
    let mut out = Vec::with_capacity(raw.arenas.len());
    for (shard, aslot, a) in &raw.arenas {
        let es = a.elem_size;
        let parent_id = |v: &ViewRec| {
            (v.parent != NONE)
                .then(|| by_slot.get(&(*shard, v.parent)).map(|p| p.id))
                .flatten()
        };
        let mut retainers = Vec::new();
        let mut layouts = Vec::new();
        for (s, _, v) in &raw.views {
            if s != shard || v.arena != *aslot || !v.alive {
                continue;
            }
            let info = view_info(v, a.id, parent_id(v), es);
            let mut chain = vec![info.clone()];
            let mut cur = v.parent;
            while let Some(p) = (cur != NONE).then(|| by_slot.get(&(*shard, cur))).flatten() {
                chain.push(view_info(p, a.id, parent_id(p), es));
                cur = p.parent;
            }
            chain.reverse();
            let reachable_bytes = footprint::layout_bytes(&info.layout);
            let copy_bytes = info.layout.shape.iter().product::<usize>() as u64 * es;
            layouts.push(info.layout.clone());
            retainers.push(Retainer {
                view: info,
                chain,
                reachable_bytes,
                copy_bytes,
            });
        }
        retainers.sort_by(|x, y| {
            y.reachable_bytes
                .cmp(&x.reachable_bytes)
                .then(x.view.id.cmp(&y.view.id))
        });
        let reachable = footprint::reachable_bytes(&layouts).min(a.capacity_bytes);
        out.push(ArenaInfo {
            id: a.id,
            capacity_bytes: a.capacity_bytes,
            reachable_bytes: reachable,
            wasted_bytes: a.capacity_bytes - reachable,
            elem_type: a.elem_type.to_owned(),
            elem_size: es,
            shape: a.shape.as_slice().to_vec(),
            op: a.op.to_owned(),
            site: site_of(a.site),
            thread: a.thread,
            created_ns: a.created_ns,
            owner_alive: a.owner_alive,
            retainers,
        });
    }
    out.sort_by_key(|a| a.id);
    out
}

/// Every live arena with its figures and retainers, by id.
///
/// Cost: one pass over the registry under each shard's lock, then the
/// footprint union per arena outside the locks.
///
/// ```
/// let a = arenaprof_array::Array::<u8>::zeros(&[16]);
/// let all = arenaprof_array::registry::arenas();
/// assert!(all.iter().any(|x| Some(x.id) == a.arena_id() && x.capacity_bytes == 16));
/// ```
pub fn arenas() -> Vec<ArenaInfo> {
    build(collect(None))
}

/// One live arena by id (`None` once its buffer is freed).
///
/// ```
/// let a = arenaprof_array::Array::<f32>::zeros(&[4, 4]);
/// let info = arenaprof_array::registry::arena(a.arena_id().unwrap()).unwrap();
/// assert_eq!((info.capacity_bytes, info.wasted_bytes), (64, 0));
/// assert_eq!(info.elem_type, "f32");
/// ```
pub fn arena(id: u64) -> Option<ArenaInfo> {
    build(collect(Some(id))).pop()
}

/// Registry totals.
///
/// ```
/// let s = arenaprof_array::registry::stats();
/// assert!(s.views_created >= s.live_views);
/// ```
pub fn stats() -> RegistryStats {
    let mut s = RegistryStats {
        arenas_created: store::arenas_created(),
        ..RegistryStats::default()
    };
    for i in 0..SHARDS {
        let sh = store::lock(i);
        s.live_arenas += sh.arenas.len() as u64;
        s.view_records += sh.views.len() as u64;
        s.live_views += sh.views.iter().filter(|(_, v)| v.alive).count() as u64;
    }
    s.views_created = store::views_created();
    s.unrecorded_views = store::unrecorded_views();
    s.cow_events = store::COW.lock().total;
    s
}

/// Copy-on-write events, oldest first (the first
/// [`MAX_COW_EVENTS`]; [`stats`] counts all).
///
/// ```
/// let a = arenaprof_array::Array::<f64>::zeros(&[8]);
/// let mut b = a.clone();
/// b.set(&[0], 1.0).unwrap();
/// let ev = arenaprof_array::registry::cow_events();
/// assert!(ev.iter().any(|e| Some(e.from_arena) == a.arena_id() && e.bytes == 64));
/// ```
pub fn cow_events() -> Vec<arenaprof_snapshot::CowRecord> {
    // Copied untracked: nothing under a registry lock may be sampled (a
    // sampled allocation enters the allocator's fork gate, which must
    // never wait while a registry lock is held).
    arenaprof_alloc::untracked(|| store::COW.lock().events.clone())
}

/// The registry as snapshot records: live arenas, live views and the dropped
/// ancestors they need, and copy-on-write events.
///
/// ```
/// let a = arenaprof_array::Array::<f64>::zeros(&[8]);
/// let reg = arenaprof_array::registry::to_snapshot();
/// let rec = reg.arenas.iter().find(|r| Some(r.id) == a.arena_id()).unwrap();
/// assert_eq!((rec.capacity_bytes, rec.op.as_str()), (64, "zeros"));
/// ```
pub fn to_snapshot() -> Registry {
    let raw = collect(None);
    let by_slot: HashMap<(usize, u32), u64> = raw
        .views
        .iter()
        .map(|(s, slot, v)| ((*s, *slot), v.id))
        .collect();
    let arena_of: HashMap<(usize, u32), (u64, u64)> = raw
        .arenas
        .iter()
        .map(|(s, slot, a)| ((*s, *slot), (a.id, a.elem_size)))
        .collect();
    let mut reg = Registry {
        arenas_created: store::arenas_created(),
        views_created: store::views_created(),
        cow: cow_events(),
        ..Registry::default()
    };
    for (s, _, v) in &raw.views {
        let Some(&(arena, es)) = arena_of.get(&(*s, v.arena)) else {
            continue;
        };
        reg.views.push(view_info(
            v,
            arena,
            by_slot.get(&(*s, v.parent)).copied(),
            es,
        ));
    }
    reg.views.sort_by_key(|v| v.id);
    for (_, _, a) in &raw.arenas {
        reg.arenas.push(a.record());
    }
    reg.arenas.sort_by_key(|a| a.id);
    reg
}

/// Registers [`contribute`] with the allocator's snapshot (once).
pub(crate) fn ensure_contributor() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        arenaprof_alloc::register_contributor(contribute);
        // The high-water mark's lock first: a picture is built holding it
        // and taking the shard locks.
        arenaprof_alloc::register_fork_handlers(worst::fork_prepare, worst::fork_release);
        arenaprof_alloc::register_fork_handlers(store::fork_prepare, store::fork_release);
    });
}

/// The snapshot contributor registered with `arenaprof_alloc`. Every time
/// in the registry already comes from the profiler's one clock
/// ([`arenaprof_alloc::clock`]), like the snapshot's own.
pub(crate) fn contribute(snap: &mut Snapshot) {
    snap.registry = to_snapshot();
    snap.retention = worst::history();
}

pub use crate::worst::{MAX_POINTS, MIN_WORST_BYTES, STEP_DIVISOR};

/// Retention at its worst moment so far: the registry's records of every
/// arena that had wasted bytes when the run's total was highest, the views
/// on them (live ones and the dropped ancestors they need), the exact total
/// and the time ([`arenaprof_alloc::clock`]). `None` until some moment had
/// at least [`MIN_WORST_BYTES`] wasted. Snapshots carry it as
/// `retention.worst`; see `docs/array.md` for when it is rebuilt and what
/// that costs.
///
/// ```
/// use arenaprof_array::{registry, s, Array};
/// let a = Array::<f64>::arange(1 << 20);
/// let v = a.slice(s![..10]).t();
/// drop(a);
/// drop(v); // gone now, but the worst moment remembers it
/// let w = registry::retention_worst().unwrap();
/// let arena = &w.registry.arenas[0];
/// assert_eq!(arena.op, "arange");
/// let live: Vec<_> = w.registry.views.iter().filter(|v| v.alive).collect();
/// assert_eq!(live[0].op, "t()");
/// ```
pub fn retention_worst() -> Option<arenaprof_snapshot::RetentionWorst> {
    worst::worst()
}

/// Wasted bytes now, as the registry keeps them incrementally: capacity
/// minus the sum of each live view's reach, over all arenas. A lower bound
/// of the exact figure ([`arenas`]' `wasted_bytes` summed), equal to it when
/// live views of an arena do not overlap.
///
/// ```
/// use arenaprof_array::{registry, s, Array};
/// let before = registry::wasted_bytes_now();
/// let a = Array::<f64>::arange(1000);
/// let v = a.slice(s![..10]);
/// drop(a);
/// assert_eq!(registry::wasted_bytes_now() - before, 7920);
/// drop(v);
/// assert_eq!(registry::wasted_bytes_now(), before);
/// ```
pub fn wasted_bytes_now() -> u64 {
    worst::wasted_now()
}
