//! The registry's store: one record per live arena and per view that is
//! alive or still needed to explain a live descendant. Written by arrays and
//! views; read by [`registry`](crate::registry), the layer above.
//!
//! Storage is 16 shards, each a spin lock around two slabs (arenas, views).
//! An arena is placed on its creating thread's home shard and all its views
//! live on the same shard, so creating or dropping a view takes exactly one
//! uncontended lock and touches no global atomic. Every allocation made here
//! runs inside [`arenaprof_alloc::untracked`]: registry memory is counted as
//! profiler overhead, never as `ARRAY_BASE` or user bytes.
//!
//! Wasted bytes are kept incrementally for the retention high-water mark
//! ([`worst`](crate::worst)): each live view has a *reach* (the
//! bytes its window spans, `min(elements, span) * elem_size`, at least its
//! exact footprint; kept in 4 bytes of its record, in elements), each arena the sum of its live views' reaches, and
//! its *estimated waste* `capacity - sum` (0 once no live view is left: the
//! buffer is being freed). Each shard keeps the total of its arenas'
//! estimates, mirrored in an atomic beside its lock for readers of the
//! global total. Creating a view adds to a sum; dropping one subtracts:
//! O(dimensions) and no global atomic. The estimate is a lower bound of
//! the exact waste (overlapping live views are counted twice) and equals
//! it when live views do not overlap, e.g. once the owner is dropped and
//! one view is left.
use crate::dims::{Shape, Small, Strides};
use crate::op::Op;
use crate::site;
use crate::spin::{SpinGuard, SpinLock};
use arenaprof_snapshot::{ArenaRecord, CowRecord, Layout, ViewRecord};
use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Number of shards.
pub(crate) const SHARDS: usize = 16;
/// Marks "no parent" in a view record.
pub(crate) const NONE: u32 = u32::MAX;

/// A slab entry: records are reused in place, so a new record is written
/// field by field into a vacant entry instead of being moved in whole.
pub(crate) trait Entry {
    /// A vacant entry.
    fn vacant() -> Self;
    /// Whether the entry holds a record.
    fn is_used(&self) -> bool;
    /// Marks the entry vacant (freeing any heap parts).
    fn vacate(&mut self);
}

/// A slab: stable `u32` slots with a free list.
pub(crate) struct Slab<T> {
    entries: Vec<T>,
    free: Vec<u32>,
    len: usize,
}

impl<T: Entry> Slab<T> {
    const fn new() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Whether [`Slab::claim`] would allocate.
    #[inline]
    fn insert_allocates(&self) -> bool {
        self.free.is_empty() && self.entries.len() == self.entries.capacity()
    }

    /// A vacant entry to fill; the caller must make it used. Allocates only
    /// when [`Slab::insert_allocates`] says so; the free list always has
    /// room for every slot, so [`Slab::remove`] never allocates.
    /// `None` when the table had to grow and the allocator refused (the
    /// registry never aborts the process).
    #[inline(always)]
    fn claim(&mut self) -> Option<(u32, &mut T)> {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                if self.entries.len() == self.entries.capacity() {
                    self.entries.try_reserve(1).ok()?;
                }
                let cap = self.entries.capacity();
                self.free.try_reserve_exact(cap).ok()?;
                self.entries.push(T::vacant());
                (self.entries.len() - 1) as u32
            }
        };
        self.len += 1;
        Some((i, &mut self.entries[i as usize]))
    }

    fn insert(&mut self, v: T) -> Option<u32> {
        let (i, e) = self.claim()?;
        *e = v;
        Some(i)
    }

    /// Vacates the entry in place; whether it was used.
    #[inline]
    fn remove(&mut self, i: u32) -> bool {
        let Some(e) = self.entries.get_mut(i as usize) else {
            return false;
        };
        if !e.is_used() {
            return false;
        }
        e.vacate();
        self.len -= 1;
        self.free.push(i);
        if self.len == 0 {
            // Give the memory back once a burst of views is over.
            self.entries = Vec::new();
            self.free = Vec::new();
        }
        true
    }

    #[inline]
    pub(crate) fn get(&self, i: u32) -> Option<&T> {
        self.entries.get(i as usize).filter(|e| e.is_used())
    }

    #[inline]
    fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.entries.get_mut(i as usize).filter(|e| e.is_used())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_used())
            .map(|(i, e)| (i as u32, e))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// A placeholder site for vacant entries.
fn nowhere() -> &'static Location<'static> {
    Location::caller()
}

/// One arena as the registry keeps it.
#[derive(Clone, Debug)]
pub(crate) struct ArenaRec {
    pub used: bool,
    pub id: u64,
    pub capacity_bytes: u64,
    pub elem_type: &'static str,
    pub elem_size: u64,
    pub shape: Shape,
    pub site: &'static Location<'static>,
    pub op: &'static str,
    pub thread: u32,
    pub created_ns: u64,
    pub owner_alive: bool,
    /// A pinned-bytes warning was printed for this arena.
    pub warned: bool,
    /// Handles on it (recorded views or not): its reference count; the
    /// handle that takes it to 0 frees the arena.
    pub refs: u32,
    /// Live view records on it (the owner included).
    pub live: u32,
    /// Sum of its live views' reaches.
    pub reach_sum: u64,
    /// Its estimated waste, as last added to the shard's total.
    pub est_wasted: u64,
}

impl ArenaRec {
    /// Estimated wasted bytes: capacity no live view's reach covers (0
    /// without live views).
    #[inline]
    fn estimate(&self) -> u64 {
        if self.live == 0 {
            0
        } else {
            self.capacity_bytes.saturating_sub(self.reach_sum)
        }
    }
}

impl ArenaRec {
    /// The snapshot's record of this arena.
    pub(crate) fn record(&self) -> ArenaRecord {
        ArenaRecord {
            id: self.id,
            capacity_bytes: self.capacity_bytes,
            elem_type: self.elem_type.to_owned(),
            elem_size: self.elem_size,
            shape: self.shape.as_slice().to_vec(),
            site: site::site_of(self.site),
            op: self.op.to_owned(),
            thread: self.thread,
            created_ns: self.created_ns,
            owner_alive: self.owner_alive,
        }
    }
}

/// One view as the registry keeps it (all inline for up to 4 axes).
#[derive(Clone, Debug)]
pub(crate) struct ViewRec {
    pub used: bool,
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
    pub dim: Shape,
    /// Strides in elements.
    pub strides: Strides,
    pub created_ns: u64,
    pub thread: u32,
    /// Its reach in elements (see the module docs), `u32::MAX` when it
    /// does not fit (then computed again from the shape when dropped).
    pub reach_elems: u32,
}

/// A window's reach: `min(elements, span) * elem_size`, at least the bytes
/// it can touch and exact for dense, strided-without-overlap and broadcast
/// windows.
#[inline]
pub(crate) fn reach_elems(dim: &[usize], strides: &[isize]) -> u64 {
    let (mut count, mut span) = (1u64, 1u64);
    for (&d, &st) in dim.iter().zip(strides) {
        count = count.saturating_mul(d as u64);
        span = span.saturating_add(
            (d as u64)
                .saturating_sub(1)
                .saturating_mul(st.unsigned_abs() as u64),
        );
    }
    count.min(span)
}

impl Entry for ArenaRec {
    fn vacant() -> Self {
        ArenaRec {
            used: false,
            id: 0,
            capacity_bytes: 0,
            elem_type: "",
            elem_size: 0,
            shape: Small::zeros(0),
            site: nowhere(),
            op: "",
            thread: 0,
            created_ns: 0,
            owner_alive: false,
            warned: false,
            refs: 0,
            live: 0,
            reach_sum: 0,
            est_wasted: 0,
        }
    }
    fn is_used(&self) -> bool {
        self.used
    }
    fn vacate(&mut self) {
        *self = ArenaRec::vacant();
    }
}

impl Entry for ViewRec {
    fn vacant() -> Self {
        ViewRec {
            used: false,
            id: 0,
            arena: 0,
            parent: NONE,
            children: 0,
            alive: false,
            is_owner: false,
            op: Op::Clone,
            site: nowhere(),
            offset: 0,
            dim: Small::zeros(0),
            strides: Small::zeros(0),
            created_ns: 0,
            thread: 0,
            reach_elems: 0,
        }
    }
    #[inline]
    fn is_used(&self) -> bool {
        self.used
    }
    #[inline]
    fn vacate(&mut self) {
        self.used = false;
        if matches!(self.dim, Small::Heap(_)) || matches!(self.strides, Small::Heap(_)) {
            self.dim = Small::zeros(0);
            self.strides = Small::zeros(0);
        }
    }
}

impl ViewRec {
    /// The snapshot's record of this view (the same type the report reads).
    pub(crate) fn record(&self, arena: u64, parent: Option<u64>, elem_size: u64) -> ViewRecord {
        let op = match self.op.owner_name() {
            Some(n) => n.to_owned(),
            None => self.op.render(self.dim.as_slice()),
        };
        ViewRecord {
            id: self.id,
            arena,
            parent,
            op,
            site: site::site_of(self.site),
            alive: self.alive,
            is_owner: self.is_owner,
            layout: self.layout(elem_size),
            created_ns: self.created_ns,
            thread: self.thread,
        }
    }

    pub(crate) fn layout(&self, elem_size: u64) -> Layout {
        Layout {
            offset: self.offset as i64,
            shape: self.dim.as_slice().to_vec(),
            strides: self.strides.as_slice().to_vec(),
            elem_size,
        }
    }
}

/// One shard of the registry.
pub(crate) struct Shard {
    pub arenas: Slab<ArenaRec>,
    pub views: Slab<ViewRec>,
    view_seq: u64,
    /// Sum of its arenas' `est_wasted`.
    est_wasted: u64,
    /// `est_wasted` when a change was last reported to the high-water mark.
    reported: u64,
}

impl Shard {
    pub(crate) fn arena_mut(&mut self, slot: u32) -> Option<&mut ArenaRec> {
        self.arenas.get_mut(slot)
    }

    /// Brings arena `slot`'s estimate and the shard's total up to date;
    /// `Some(grew)` when the estimate changed.
    #[inline]
    fn settle(&mut self, slot: u32) -> Option<bool> {
        let a = self.arenas.get_mut(slot)?;
        let (old, new) = (a.est_wasted, a.estimate());
        if old == new {
            return None;
        }
        a.est_wasted = new;
        self.est_wasted = self.est_wasted - old + new;
        Some(new > old)
    }

    /// Publishes the shard's total (shard `idx`) and says whether the
    /// high-water mark should look: once the total moved by
    /// [`REPORT_STEP`] since the last report (a large change at once, or
    /// small ones adding up), so views made and dropped one by one on an
    /// orphaned arena cost no more than the store itself.
    #[inline]
    fn report(&mut self, idx: usize) -> Waste {
        SHARD[idx].1.store(self.est_wasted, Relaxed);
        let (now, last) = (self.est_wasted, self.reported);
        if now.abs_diff(last) < REPORT_STEP {
            return Waste::Same;
        }
        self.reported = now;
        if now > last {
            Waste::Grew
        } else {
            Waste::Fell
        }
    }
}

/// How far a shard's estimated waste moves before it is reported to the
/// high-water mark (also the smallest step between its pictures).
pub(crate) const REPORT_STEP: u64 = 64 << 10;

#[repr(align(128))]
struct Padded(SpinLock<Shard>, AtomicU64);

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Padded = Padded(
    SpinLock::new(Shard {
        arenas: Slab::new(),
        views: Slab::new(),
        view_seq: 0,
        est_wasted: 0,
        reported: 0,
    }),
    AtomicU64::new(0),
);

/// Estimated wasted bytes over all arenas now (see the module docs): the
/// sum of the shards' totals, each read without its lock.
pub(crate) fn wasted_estimate() -> u64 {
    SHARD.iter().map(|s| s.1.load(Relaxed)).sum()
}

/// How a registry change moved the estimated waste.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waste {
    /// Unchanged (the common case: a view made or dropped under a live owner).
    Same,
    /// Lower.
    Fell,
    /// Higher: a new high-water mark may have been reached.
    Grew,
}

static SHARD: [Padded; SHARDS] = [EMPTY; SHARDS];
static ARENAS_CREATED: AtomicU64 = AtomicU64::new(0);
static NEXT_HOME: AtomicUsize = AtomicUsize::new(0);
/// Views made while the registry could not grow its table.
static UNRECORDED: AtomicU64 = AtomicU64::new(0);

/// Views made without a record because the allocator refused the registry
/// room for it (the views work; they just do not show up).
pub(crate) fn unrecorded_views() -> u64 {
    UNRECORDED.load(Relaxed)
}

/// Most copy-on-write events kept; later ones are counted, not stored.
pub const MAX_COW_EVENTS: usize = 65_536;

pub(crate) struct CowLog {
    pub events: Vec<CowRecord>,
    pub total: u64,
}

pub(crate) static COW: SpinLock<CowLog> = SpinLock::new(CowLog {
    events: Vec::new(),
    total: 0,
});

/// `fork()` prepare handler (registered with the allocator): takes every
/// shard lock and the copy-on-write log, in index order, so a child finds
/// them free after [`fork_release`].
pub(crate) fn fork_prepare() {
    for sh in &SHARD {
        sh.0.force_lock();
    }
    COW.force_lock();
}

/// `fork()` parent and child handler: frees what [`fork_prepare`] took.
pub(crate) fn fork_release() {
    // SAFETY: runs right after `fork_prepare` on the thread that took these
    // locks (in the child, its copy), which holds no guard of them.
    unsafe {
        COW.force_unlock();
        for sh in SHARD.iter().rev() {
            sh.0.force_unlock();
        }
    }
}

thread_local! {
    static HOME: Cell<u16> = const { Cell::new(u16::MAX) };
}

/// Locks shard `i`.
#[inline]
pub(crate) fn lock(i: usize) -> SpinGuard<'static, Shard> {
    SHARD[i].0.lock()
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

thread_local! {
    static SLOT: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// The tracker's slot for this thread, cached (a slot never changes).
#[inline]
fn thread_slot() -> u32 {
    SLOT.try_with(|c| {
        let v = c.get();
        if v != u32::MAX {
            return v;
        }
        let v = arenaprof_alloc::current_thread_slot().unwrap_or(u32::MAX);
        c.set(v);
        v
    })
    .unwrap_or(u32::MAX)
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
    shape: &[usize],
    op: &'static str,
    site: &'static Location<'static>,
) -> Option<ArenaKey> {
    let shard = home_shard();
    let id = ARENAS_CREATED.fetch_add(1, Relaxed) + 1;
    let rec = ArenaRec {
        used: true,
        id,
        capacity_bytes,
        elem_type,
        elem_size,
        shape: Small::from_slice(shape),
        site,
        op,
        thread: thread_slot(),
        created_ns: site::now_ns(),
        owner_alive: true,
        warned: false,
        refs: 0,
        live: 0,
        reach_sum: 0,
        est_wasted: 0,
    };
    arenaprof_alloc::untracked(|| {
        let slot = lock(shard as usize).arenas.insert(rec)?;
        Some(ArenaKey { shard, slot, id })
    })
}

/// Removes an arena's record (its buffer is being freed).
pub(crate) fn remove_arena(key: ArenaKey) -> Waste {
    arenaprof_alloc::untracked(|| {
        let mut sh = lock(key.shard as usize);
        let est = sh.arenas.get(key.slot).map_or(0, |a| a.est_wasted);
        sh.arenas.remove(key.slot);
        if est == 0 {
            return Waste::Same;
        }
        sh.est_wasted -= est;
        sh.report(key.shard as usize)
    })
}

/// Where a view's elements lie in its arena: shape, strides and offset
/// (in elements of `elem_size` bytes).
pub(crate) struct Geometry<'a> {
    pub dim: &'a Shape,
    pub strides: &'a Strides,
    pub offset: isize,
    pub elem_size: u64,
}

/// Registers a view (or an arena's owning array, `parent == NONE`), and
/// counts its handle in the arena's `refs` (even when no record could be
/// made: the handle still holds the arena). Inlined into each view
/// constructor: the operation and the geometry are written into the record
/// without being copied into an argument frame first.
#[inline(always)]
pub(crate) fn register_view(
    arena: ArenaKey,
    parent: u32,
    op: Op,
    site: &'static Location<'static>,
    is_owner: bool,
    g: Geometry<'_>,
) -> Option<ViewKey> {
    let Geometry {
        dim,
        strides,
        offset,
        elem_size,
    } = g;
    let created_ns = site::coarse_now_ns();
    let thread = thread_slot();
    let reach_elems = reach_elems(dim.as_slice(), strides.as_slice());
    let reach = reach_elems.saturating_mul(elem_size);
    let mut sh = lock(arena.shard as usize);
    let v = NewView {
        arena,
        parent,
        op,
        site,
        is_owner,
        dim,
        strides,
        offset,
        created_ns,
        thread,
        reach_elems,
        reach,
    };
    // Allocations must bypass the counters; skip the thread-local switch
    // when none can happen (the common case).
    if sh.views.insert_allocates() || matches!(dim, Small::Heap(_)) {
        arenaprof_alloc::untracked(|| write_view(&mut sh, v))
    } else {
        write_view(&mut sh, v)
    }
}

/// A view record's fields, as [`register_view`] passes them to [`write_view`].
struct NewView<'a> {
    arena: ArenaKey,
    parent: u32,
    op: Op,
    site: &'static Location<'static>,
    is_owner: bool,
    dim: &'a Shape,
    strides: &'a Strides,
    offset: isize,
    created_ns: u64,
    thread: u32,
    reach_elems: u64,
    reach: u64,
}

/// Writes a new view record in place, under the shard's lock (inlined on
/// the hot path: a closure called from two branches was not).
#[inline(always)]
fn write_view(sh: &mut Shard, v: NewView<'_>) -> Option<ViewKey> {
    let arena = v.arena;
    let id = (sh.view_seq + 1) * SHARDS as u64 + arena.shard as u64 - (SHARDS as u64 - 1);
    let Shard { arenas, views, .. } = sh;
    let a = arenas.get_mut(arena.slot);
    // Written field by field into a vacant entry (no copy of the record).
    let Some((slot, r)) = views.claim() else {
        // The handle still holds the arena: counted, not recorded.
        if let Some(a) = a {
            a.refs += 1;
        }
        UNRECORDED.fetch_add(1, Relaxed);
        return None;
    };
    r.used = true;
    r.id = id;
    r.arena = arena.slot;
    r.parent = v.parent;
    r.children = 0;
    r.alive = true;
    r.is_owner = v.is_owner;
    r.op = v.op;
    r.site = v.site;
    r.offset = v.offset;
    r.dim.clone_from(v.dim);
    r.strides.clone_from(v.strides);
    r.created_ns = v.created_ns;
    r.thread = v.thread;
    r.reach_elems = v.reach_elems.min(u32::MAX as u64) as u32;
    let mut settle = false;
    if let Some(a) = a {
        a.refs += 1;
        a.live += 1;
        a.reach_sum = a.reach_sum.saturating_add(v.reach);
        // A new view reaches a part of its parent's window: the estimate
        // can only fall (or stay).
        settle = a.est_wasted != 0;
    }
    if settle && sh.settle(arena.slot).is_some() {
        // Falling: published, reported with the next drop or arena freed.
        SHARD[arena.shard as usize].1.store(sh.est_wasted, Relaxed);
    }
    sh.view_seq += 1;
    if let Some(p) = sh.views.get_mut(v.parent) {
        p.children += 1;
    }
    Some(ViewKey { slot, id })
}

/// Releases a handle on `arena`: its count, and its view record if it has
/// one (see [`drop_view_locked`]), under one lock. Returns how the estimated waste
/// moved and the handles left (0: the caller frees the arena).
#[inline]
pub(crate) fn release(arena: ArenaKey, view: Option<ViewKey>) -> (Waste, u32) {
    let mut sh = lock(arena.shard as usize);
    let left = match sh.arenas.get_mut(arena.slot) {
        Some(a) => {
            a.refs -= 1;
            a.refs
        }
        None => 0,
    };
    let waste = match view {
        Some(v) => drop_view_locked(&mut sh, arena, v),
        None => Waste::Same,
    };
    (waste, left)
}

/// Handles on `arena` now (its reference count).
pub(crate) fn refs(arena: ArenaKey) -> u32 {
    lock(arena.shard as usize)
        .arenas
        .get(arena.slot)
        .map_or(0, |a| a.refs)
}

/// Marks a view's handle dropped and removes every record no live view
/// needs any more (the view itself, then ancestors whose last descendant it
/// was). Never allocates (frees of registry blocks are attributed to the
/// profiler by their headers wherever they happen). Says how the estimated
/// waste moved.
#[inline]
fn drop_view_locked(sh: &mut Shard, arena: ArenaKey, view: ViewKey) -> Waste {
    {
        let mut slot = view.slot;
        let Some(v) = sh.views.get_mut(slot) else {
            return Waste::Same;
        };
        v.alive = false;
        let is_owner = v.is_owner;
        let mut waste = Waste::Same;
        if let Some(a) = sh.arenas.get_mut(arena.slot) {
            // The reach added when the view was made.
            let elems = match v.reach_elems {
                u32::MAX => reach_elems(v.dim.as_slice(), v.strides.as_slice()),
                n => n as u64,
            };
            let reach = elems.saturating_mul(a.elem_size);
            a.live -= 1;
            a.reach_sum -= reach;
            if is_owner {
                a.owner_alive = false;
            }
            // Under a live owner that covers the buffer the estimate stays 0.
            if (a.reach_sum < a.capacity_bytes || a.est_wasted != 0)
                && sh.settle(arena.slot).is_some()
            {
                waste = sh.report(arena.shard as usize);
            }
        }
        loop {
            let Some(v) = sh.views.get(slot) else {
                return waste;
            };
            if v.alive || v.children > 0 {
                return waste;
            }
            let parent = v.parent;
            sh.views.remove(slot);
            match sh.views.get_mut(parent) {
                Some(p) => {
                    p.children -= 1;
                    slot = parent;
                }
                None => return waste,
            }
        }
    }
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
        let mut log = COW.lock();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stay_small() {
        // Documented in docs/array.md: one view record is at most 192 bytes.
        assert!(
            std::mem::size_of::<ViewRec>() <= 192,
            "{}",
            std::mem::size_of::<ViewRec>()
        );
        println!(
            "ViewRec {} B, ArenaRec {} B",
            std::mem::size_of::<ViewRec>(),
            std::mem::size_of::<ArenaRec>()
        );
    }
}
