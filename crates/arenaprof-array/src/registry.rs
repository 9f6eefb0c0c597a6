//! The arena registry: one record per live arena and per view that is alive
//! or still needed to explain a live descendant.
//!
//! Storage is 16 shards, each a `Mutex` around two slabs (arenas, views).
//! An arena is placed on its creating thread's home shard and all its views
//! live on the same shard, so creating or dropping a view takes exactly one
//! uncontended lock and touches no global atomic. Every allocation made here
//! runs inside [`arenaprof_alloc::untracked`]: registry memory is counted as
//! profiler overhead, never as `ARRAY_BASE` or user bytes.
//!
//! Public reads are re-exported here from [`crate::provenance`].
//!
//! Read it through [`arenas`](crate::registry::arenas),
//! [`arena`](crate::registry::arena), [`stats`](crate::registry::stats),
//! [`cow_events`](crate::registry::cow_events) and
//! [`to_snapshot`](crate::registry::to_snapshot) (see [`crate::provenance`]).

pub use crate::provenance::{
    arena, arenas, cow_events, stats, to_snapshot, ArenaInfo, RegistryStats, Retainer, ViewInfo,
};

use crate::op::Op;
use crate::site;
use arenaprof_snapshot::{CowRecord, Layout};
use ndarray::{Dimension, IxDyn};
use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, Once};

/// Number of shards.
pub(crate) const SHARDS: usize = 16;
/// Marks "no parent" in a view record.
pub(crate) const NONE: u32 = u32::MAX;

/// A slab: stable `u32` slots with a free list.
pub(crate) struct Slab<T> {
    entries: Vec<Option<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slab<T> {
    const fn new() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    fn insert(&mut self, v: T) -> u32 {
        self.len += 1;
        match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = Some(v);
                i
            }
            None => {
                self.entries.push(Some(v));
                (self.entries.len() - 1) as u32
            }
        }
    }

    fn remove(&mut self, i: u32) -> Option<T> {
        let v = self.entries.get_mut(i as usize)?.take();
        if v.is_some() {
            self.len -= 1;
            self.free.push(i);
            if self.len == 0 {
                // Give the memory back once a burst of views is over.
                self.entries = Vec::new();
                self.free = Vec::new();
            }
        }
        v
    }

    pub(crate) fn get(&self, i: u32) -> Option<&T> {
        self.entries.get(i as usize)?.as_ref()
    }

    fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.entries.get_mut(i as usize)?.as_mut()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|v| (i as u32, v)))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// One arena as the registry keeps it.
#[derive(Clone, Debug)]
pub(crate) struct ArenaRec {
    pub id: u64,
    pub capacity_bytes: u64,
    pub elem_type: &'static str,
    pub elem_size: u64,
    pub shape: IxDyn,
    pub site: &'static Location<'static>,
    pub op: &'static str,
    pub thread: u32,
    pub created_ns: u64,
    pub owner_alive: bool,
    /// A pinned-bytes warning was printed for this arena.
    pub warned: bool,
}

/// One view as the registry keeps it (all inline for up to 4 axes).
#[derive(Clone, Debug)]
pub(crate) struct ViewRec {
    pub id: u64,
    pub arena: u32,
    pub parent: u32,
    /// View records (alive or kept) whose parent this is.
    pub children: u32,
    pub alive: bool,
    pub is_owner: bool,
    pub op: Op,
    pub site: &'static Location<'static>,
    pub offset: isize,
    pub dim: IxDyn,
    /// Strides in elements, stored as ndarray does (`isize` bits in `usize`).
    pub strides: IxDyn,
    pub created_ns: u64,
    pub thread: u32,
}

impl ViewRec {
    pub(crate) fn layout(&self, elem_size: u64) -> Layout {
        Layout {
            offset: self.offset as i64,
            shape: self.dim.slice().to_vec(),
            strides: self.strides.slice().iter().map(|&s| s as isize).collect(),
            elem_size,
        }
    }
}

/// One shard of the registry.
pub(crate) struct Shard {
    pub arenas: Slab<ArenaRec>,
    pub views: Slab<ViewRec>,
    view_seq: u64,
}

impl Shard {
    pub(crate) fn arena_mut(&mut self, slot: u32) -> Option<&mut ArenaRec> {
        self.arenas.get_mut(slot)
    }
}

#[repr(align(128))]
struct Padded(Mutex<Shard>);

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Padded = Padded(Mutex::new(Shard {
    arenas: Slab::new(),
    views: Slab::new(),
    view_seq: 0,
}));

static SHARD: [Padded; SHARDS] = [EMPTY; SHARDS];
static ARENAS_CREATED: AtomicU64 = AtomicU64::new(0);
static NEXT_HOME: AtomicUsize = AtomicUsize::new(0);
static CONTRIBUTOR: Once = Once::new();

/// Most copy-on-write events kept; later ones are counted, not stored.
pub const MAX_COW_EVENTS: usize = 65_536;

pub(crate) struct CowLog {
    pub events: Vec<CowRecord>,
    pub total: u64,
}

pub(crate) static COW: Mutex<CowLog> = Mutex::new(CowLog {
    events: Vec::new(),
    total: 0,
});

thread_local! {
    static HOME: Cell<u16> = const { Cell::new(u16::MAX) };
}

/// Locks shard `i`, ignoring poison (records stay consistent: every update
/// is completed before anything that can panic).
pub(crate) fn lock(i: usize) -> MutexGuard<'static, Shard> {
    SHARD[i].0.lock().unwrap_or_else(|e| e.into_inner())
}

fn home_shard() -> u16 {
    HOME.try_with(|h| {
        let v = h.get();
        if v != u16::MAX {
            return v;
        }
        let v = (NEXT_HOME.fetch_add(1, Relaxed) % SHARDS) as u16;
        h.set(v);
        v
    })
    .unwrap_or(0)
}

fn thread_slot() -> u32 {
    arenaprof_alloc::stats::current_thread_slot().unwrap_or(u32::MAX)
}

/// Where an arena's records live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ArenaKey {
    pub shard: u16,
    pub slot: u32,
    pub id: u64,
}

/// Where a view's record lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ViewKey {
    pub slot: u32,
    pub id: u64,
}

/// Registers a new arena.
pub(crate) fn register_arena(
    capacity_bytes: u64,
    elem_type: &'static str,
    elem_size: u64,
    shape: &IxDyn,
    op: &'static str,
    site: &'static Location<'static>,
) -> ArenaKey {
    CONTRIBUTOR.call_once(|| arenaprof_alloc::register_contributor(crate::provenance::contribute));
    let shard = home_shard();
    let id = ARENAS_CREATED.fetch_add(1, Relaxed) + 1;
    let rec = ArenaRec {
        id,
        capacity_bytes,
        elem_type,
        elem_size,
        shape: shape.clone(),
        site,
        op,
        thread: thread_slot(),
        created_ns: site::now_ns(),
        owner_alive: true,
        warned: false,
    };
    arenaprof_alloc::untracked(|| {
        let slot = lock(shard as usize).arenas.insert(rec);
        ArenaKey { shard, slot, id }
    })
}

/// Removes an arena's record (its buffer is being freed).
pub(crate) fn remove_arena(key: ArenaKey) {
    arenaprof_alloc::untracked(|| {
        let rec = lock(key.shard as usize).arenas.remove(key.slot);
        drop(rec);
    })
}

/// Registers a view (or an arena's owning array, `parent == NONE`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn register_view(
    arena: ArenaKey,
    parent: u32,
    op: Op,
    site: &'static Location<'static>,
    is_owner: bool,
    offset: isize,
    dim: &IxDyn,
    strides: &IxDyn,
) -> ViewKey {
    let thread = thread_slot();
    let created_ns = site::coarse_now_ns();
    arenaprof_alloc::untracked(|| {
        let mut sh = lock(arena.shard as usize);
        sh.view_seq += 1;
        let id = sh.view_seq * SHARDS as u64 + arena.shard as u64 - (SHARDS as u64 - 1);
        if let Some(p) = sh.views.get_mut(parent) {
            p.children += 1;
        }
        let slot = sh.views.insert(ViewRec {
            id,
            arena: arena.slot,
            parent,
            children: 0,
            alive: true,
            is_owner,
            op,
            site,
            offset,
            dim: dim.clone(),
            strides: strides.clone(),
            created_ns,
            thread,
        });
        ViewKey { slot, id }
    })
}

/// Marks a view's handle dropped and removes every record no live view
/// needs any more (the view itself, then ancestors whose last descendant it
/// was).
pub(crate) fn drop_view(arena: ArenaKey, view: ViewKey) {
    arenaprof_alloc::untracked(|| {
        let mut sh = lock(arena.shard as usize);
        let mut slot = view.slot;
        let Some(v) = sh.views.get_mut(slot) else {
            return;
        };
        v.alive = false;
        if v.is_owner {
            if let Some(a) = sh.arenas.get_mut(arena.slot) {
                a.owner_alive = false;
            }
        }
        loop {
            let Some(v) = sh.views.get(slot) else { return };
            if v.alive || v.children > 0 {
                return;
            }
            let parent = v.parent;
            sh.views.remove(slot);
            match sh.views.get_mut(parent) {
                Some(p) => {
                    p.children -= 1;
                    slot = parent;
                }
                None => return,
            }
        }
    })
}

/// Records a copy-on-write event.
pub(crate) fn record_cow(
    from_arena: u64,
    to_arena: u64,
    bytes: u64,
    at: &'static Location<'static>,
) {
    let rec = CowRecord {
        from_arena,
        to_arena,
        bytes,
        site: site::site_of(at),
        t_ns: site::now_ns(),
    };
    arenaprof_alloc::untracked(|| {
        let mut log = COW.lock().unwrap_or_else(|e| e.into_inner());
        log.total += 1;
        if log.events.len() < MAX_COW_EVENTS {
            log.events.push(rec);
        }
    })
}

/// Arenas created since the process started.
pub(crate) fn arenas_created() -> u64 {
    ARENAS_CREATED.load(Relaxed)
}

/// Views created since the process started (owners included).
pub(crate) fn views_created() -> u64 {
    (0..SHARDS).map(|i| lock(i).view_seq).sum()
}
