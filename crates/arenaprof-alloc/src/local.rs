//! Per-thread tracker state.
//!
//! One `const`-initialised thread local without a destructor, so it is a plain
//! TLS access, never registers anything, and stays usable during and after the
//! thread's TLS destructors run. A second thread local, with a destructor, only
//! marks the thread's row as exited.

use crate::bins::{self, Bins};
use crate::capacity::MAX_TAGS;
use crate::region::Region;
use crate::rows::{self, Row};
use crate::window;
use std::cell::Cell;
use std::sync::atomic::Ordering::Relaxed;

pub(crate) use window::HEADERLESS;

/// A `tcache` entry: this thread has no explicit thread cache for the tag
/// (jemalloc refused one, or the thread is exiting): `MALLOCX_TCACHE_NONE`.
const NO_TCACHE: u16 = u16::MAX;

/// Nested tag guards tracked per thread; deeper ones restore in LIFO order only.
pub(crate) const TAG_STACK: usize = 32;

pub(crate) struct Local {
    /// The current tag's cell in this thread's row while the hot path may use
    /// it: registered, its own row (not the shared overflow row), not busy, no
    /// workspace. Else [`CLOSED`](rows::CLOSED), which sends every
    /// allocation to the slow path. Kept in step by [`Local::set_busy`],
    /// [`Local::set_ws`], [`Local::set_tag`] and registration.
    pub cell: Cell<&'static rows::Cell>,
    /// The header word of a block allocated now: the current tag and `key`.
    pub word: Cell<u64>,
    /// `slot << 16` for a thread with its own row, else `u64::MAX`. A block's
    /// header word shifted right by 16 equals this exactly when the block was
    /// allocated on this thread with no flags, so one compare picks the fast free.
    pub key: Cell<u64>,
    /// This thread's counter row, `None` until its first allocation.
    pub row: Cell<Option<&'static Row>>,
    /// `row` when it is the thread's own (not the shared row): what the
    /// free's hot path reads, with no second load of the row's flag.
    pub own_row: Cell<Option<&'static Row>>,
    /// Current tag id.
    pub tag: Cell<u16>,
    /// Tag guards alive on this thread that are tracked in `tag_prev`.
    pub tag_depth: Cell<u32>,
    /// Bit `i`: the guard at depth `i` was dropped while inner ones lived.
    pub tag_dropped: Cell<u32>,
    /// The tag that was current before the guard at each depth.
    pub tag_prev: [Cell<u16>; TAG_STACK],
    /// Set while the tracker itself runs on this thread: allocations made then
    /// go straight to the inner allocator and count as profiler overhead.
    pub busy: Cell<bool>,
    /// Active scoped workspace, or null.
    pub ws: Cell<*const Region>,
    /// Nesting depth of profiler operations inside the fork gate.
    pub gate_depth: Cell<u32>,
    /// Bytes left until the next backtrace sample.
    pub countdown: Cell<i64>,
    /// Sampling epoch the countdown was drawn for.
    pub epoch: Cell<u32>,
    /// xorshift state for sampling intervals.
    pub rng: Cell<u64>,
    /// Header-free tracker: the `mallocx` flags of an allocation under the
    /// current tag (its arena and this thread's cache for it), or 0 for
    /// untagged memory (plain `malloc`).
    pub mflags: Cell<i32>,
    /// Header-free tracker: the tag allocations are counted under, which is
    /// the tag whose window they land in: the current tag, or 0 if jemalloc
    /// refused the tag an arena.
    pub htag: Cell<u16>,
    /// Header-free tracker: this thread's explicit jemalloc thread cache per
    /// tag, as its id plus 1 (0: none yet, [`NO_TCACHE`]: none to use). A
    /// cache is used only with its tag's arena, so it holds that tag's
    /// blocks only.
    pub tcache: [Cell<u16>; MAX_TAGS],
    /// The thread's exit handler ran: its caches are gone.
    pub exited: Cell<bool>,
    /// Header-free tracker: this thread's cache of small freed blocks per
    /// tag (see [`bins`](crate::bins)), null until the first free of one.
    pub bins: [Cell<*const Bins>; MAX_TAGS],
    /// The bins table had no slot for this thread: it goes without.
    pub bins_refused: Cell<bool>,
    /// `bins[htag]`: the bins an allocation is served from, kept so that
    /// the allocation's hot path finds them with one load, not two.
    pub cur_bins: Cell<*const Bins>,
}

thread_local! {
    pub(crate) static LOCAL: Local = const {
        Local {
            cell: Cell::new(&rows::CLOSED),
            word: Cell::new(0),
            key: Cell::new(u64::MAX),
            row: Cell::new(None),
            own_row: Cell::new(None),
            tag: Cell::new(0),
            tag_depth: Cell::new(0),
            tag_dropped: Cell::new(0),
            tag_prev: [const { Cell::new(0) }; TAG_STACK],
            busy: Cell::new(false),
            ws: Cell::new(std::ptr::null()),
            gate_depth: Cell::new(0),
            countdown: Cell::new(i64::MAX),
            epoch: Cell::new(0),
            rng: Cell::new(0),
            mflags: Cell::new(0),
            htag: Cell::new(0),
            tcache: [const { Cell::new(0) }; MAX_TAGS],
            exited: Cell::new(false),
            bins: [const { Cell::new(std::ptr::null()) }; MAX_TAGS],
            bins_refused: Cell::new(false),
            cur_bins: Cell::new(std::ptr::null()),
        }
    };
}

impl Local {
    /// Sets `busy`, returning the previous value.
    #[inline]
    pub(crate) fn set_busy(&self, busy: bool) -> bool {
        let prev = self.busy.replace(busy);
        self.refresh();
        prev
    }

    /// Sets the active workspace, returning the previous one.
    pub(crate) fn set_ws(&self, ws: *const Region) -> *const Region {
        let prev = self.ws.replace(ws);
        self.refresh();
        prev
    }

    /// Sets the current tag, returning the previous one.
    #[inline]
    pub(crate) fn set_tag(&self, tag: u16) -> u16 {
        let prev = self.tag.replace(tag);
        self.refresh();
        prev
    }

    /// Whether the hot path may count in `cell`.
    #[inline(always)]
    pub(crate) fn is_open(&self) -> bool {
        !std::ptr::eq(self.cell.get(), &rows::CLOSED)
    }

    /// Recomputes `cell` and `word` (and, header-free, `mflags` and `htag`)
    /// from `row`, `tag`, `busy` and `ws`.
    #[inline]
    fn refresh(&self) {
        let key = self.key.get();
        let mut tag = self.tag.get();
        self.word.set(tag as u64 | key << 16);
        if HEADERLESS.load(Relaxed) {
            tag = self.refresh_arena(tag);
        }
        let fast = !self.busy.get() && self.ws.get().is_null() && key != u64::MAX;
        let cell = match self.row.get() {
            Some(row) if fast => row.cell(tag),
            _ => &rows::CLOSED,
        };
        self.cell.set(cell);
    }

    /// Header-free: sets `mflags` and `htag` for `tag` (creating the tag's
    /// arena, and this thread's cache for it, on first use) and returns
    /// `htag`.
    #[inline(never)]
    fn refresh_arena(&self, tag: u16) -> u16 {
        let (flags, htag) = match (tag != 0).then(|| window::arena(tag as u8)).flatten() {
            Some(a) => (window::flags::arena(a) | self.tcache_flags(tag), tag),
            None => (0, 0),
        };
        self.mflags.set(flags);
        self.htag.set(htag);
        self.cur_bins
            .set(self.bins[htag as usize & (MAX_TAGS - 1)].get());
        htag
    }

    /// The `MALLOCX_TCACHE` flag of this thread's cache for `tag` (creating
    /// it on first use), or `MALLOCX_TCACHE_NONE` when there is none: the
    /// thread has no row of its own yet, is exiting, or jemalloc refused.
    pub(crate) fn tcache_flags(&self, tag: u16) -> i32 {
        let own = self.key.get() != u64::MAX && !self.exited.get();
        let Some(c) = self.tcache.get(tag as usize).filter(|_| own && tag != 0) else {
            return window::flags::TCACHE_NONE;
        };
        let mut id = c.get();
        if id == 0 {
            id = window::tcache_create().map_or(NO_TCACHE, |i| i as u16 + 1);
            c.set(id);
        }
        if id == NO_TCACHE {
            window::flags::TCACHE_NONE
        } else {
            window::flags::tcache(id as u32 - 1)
        }
    }

    /// This thread's bins for `tag`, mapping them on first use; null when
    /// the thread has no row of its own, is exiting, or the OS refused.
    #[cold]
    #[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
    pub(crate) fn bins_or_map(&self, tag: u16) -> *const Bins {
        let Some(c) = self.bins.get(tag as usize) else {
            return std::ptr::null();
        };
        if c.get().is_null()
            && self.key.get() != u64::MAX
            && !self.exited.get()
            && !self.bins_refused.get()
        {
            c.set(Bins::map());
            // The table is full: the thread goes without bins rather than
            // searching all its slots again on every free. (A null while
            // another thread maps the table is tried again next time.)
            self.bins_refused.set(c.get().is_null() && bins::full());
            if tag == self.htag.get() {
                self.cur_bins.set(c.get());
            }
        }
        c.get()
    }

    /// Gives every block in this thread's bins back to jemalloc, each tag's
    /// into this thread's cache for the tag (`free(block, size, tcache flag)`).
    pub(crate) fn flush_bins(&self, mut free: impl FnMut(*mut u8, usize, i32)) {
        for (tag, c) in self.bins.iter().enumerate() {
            // SAFETY: a non-null entry is this thread's own mapping, used only
            // on this thread.
            if let Some(b) = unsafe { c.get().as_ref() } {
                let f = self.tcache_flags(tag as u16);
                b.drain(|p, size| free(p, size, f));
            }
        }
    }

    /// At thread exit: gives every cache's blocks back to their arenas and
    /// uses none from now on (frees in later TLS destructors go uncached).
    fn drop_tcaches(&self) {
        // SAFETY: bins hold live jemalloc blocks of their class (alignment at
        // most 8) that the program freed, with this thread's cache flags.
        self.flush_bins(|p, size, f| unsafe { window::free_block(p, size, f) });
        for c in &self.bins {
            let b = c.replace(std::ptr::null());
            if !b.is_null() {
                // SAFETY: handed out by `bins_or_map`, drained just above,
                // and taken out of the thread's state (never used again).
                unsafe { Bins::release(b) };
            }
        }
        self.cur_bins.set(std::ptr::null());
        self.exited.set(true);
        for c in &self.tcache {
            let id = c.replace(NO_TCACHE);
            if id != 0 && id != NO_TCACHE {
                window::tcache_destroy(id as u32 - 1);
            }
        }
        self.refresh();
    }
}

struct ExitMarker(&'static Row);

impl Drop for ExitMarker {
    fn drop(&mut self) {
        let _ = LOCAL.try_with(|l| l.drop_tcaches());
        self.0.mark_exited();
    }
}

thread_local! {
    static EXIT: Cell<Option<ExitMarker>> = const { Cell::new(None) };
}

/// This thread's state; `None` only if thread-local storage is gone (never
/// for this `const` thread local without a destructor).
///
/// The hot paths use the reference directly rather than through
/// `LocalKey::try_with(|l| ...)`: with the allocation path inside that
/// closure, a user's release build (16 codegen units, no LTO) kept
/// `try_with`, or the closure, out of line (29% of a tight loop's cycles in
/// `perf record`, the arguments spilled to the stack on every call). Here
/// the closure only takes the address, and `try_with` folds to one
/// `%fs`-relative address computation.
#[inline(always)]
pub(crate) fn current() -> Option<&'static Local> {
    let p: *const Local = LOCAL.try_with(|l| l as *const Local).ok()?;
    // SAFETY: `p` is the address of this thread's `LOCAL`, taken just now.
    // A `const` thread local without a destructor sits in the thread's static
    // TLS block, which lives until the thread ends, and no code runs on a
    // thread after it ends. `Local` is `!Sync`, so `&Local` is `!Send`: the
    // reference cannot reach another thread (nor a `static`, which needs
    // `Sync`), so it is only ever used on this thread while it lives.
    Some(unsafe { &*p })
}

/// A token for the calling thread, non-zero and unique among live threads
/// (the address of its thread-local state).
pub(crate) fn token() -> usize {
    LOCAL
        .try_with(|l| l as *const Local as usize)
        .unwrap_or(usize::MAX)
}

/// Runs `f` with the thread marked busy: allocations inside bypass tracking.
pub(crate) fn with_busy<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = LOCAL.try_with(|l| l.set_busy(self.0));
        }
    }
    let prev = LOCAL.try_with(|l| l.set_busy(true)).unwrap_or(true);
    let _reset = Reset(prev);
    f()
}

/// Makes `tag` current; returns the guard's depth and the tag it replaced.
pub(crate) fn push_tag(tag: u16) -> (u32, u16) {
    LOCAL
        .try_with(|l| {
            let d = l.tag_depth.get();
            let prev = l.set_tag(tag);
            if (d as usize) < TAG_STACK {
                l.tag_prev[d as usize].set(prev);
                l.tag_depth.set(d + 1);
            }
            (d, prev)
        })
        .unwrap_or((u32::MAX, 0))
}

/// Ends the guard made by [`push_tag`] at depth `d` (which replaced `prev`).
/// Guards may end in any order: the current tag is always the one of the
/// innermost guard still alive.
pub(crate) fn pop_tag(d: u32, prev: u16) {
    let _ = LOCAL.try_with(|l| {
        if d as usize >= TAG_STACK {
            l.set_tag(prev);
            return;
        }
        let mut dropped = l.tag_dropped.get() | 1 << d;
        let mut depth = l.tag_depth.get();
        let mut restore = None;
        while depth > 0 && dropped & (1 << (depth - 1)) != 0 {
            depth -= 1;
            dropped &= !(1 << depth);
            restore = Some(l.tag_prev[depth as usize].get());
        }
        l.tag_dropped.set(dropped);
        l.tag_depth.set(depth);
        if let Some(t) = restore {
            l.set_tag(t);
        }
    });
}

/// The current tag.
pub(crate) fn tag() -> u16 {
    LOCAL.try_with(|l| l.tag.get()).unwrap_or(0)
}

/// This thread's row, registering it on first use. `None` only when the OS
/// refused memory for the row.
#[inline(always)]
pub(crate) fn row(l: &Local) -> Option<&'static Row> {
    match l.row.get() {
        Some(r) => Some(r),
        None => register(l),
    }
}

#[cold]
fn register(l: &Local) -> Option<&'static Row> {
    let prev = l.set_busy(true);
    let r = Row::register();
    l.row.set(r);
    if let Some(row) = r {
        if !row.shared {
            l.key.set((row.slot() as u64) << 16);
            l.own_row.set(Some(row));
        }
        // Registering a TLS destructor may allocate; we are busy, so that
        // allocation goes straight to the inner allocator.
        let _ = EXIT.try_with(|e| e.set(Some(ExitMarker(row))));
    }
    l.set_busy(prev);
    r
}

/// Publishes the calling thread's pending batches, so global figures include
/// everything this thread did.
pub(crate) fn flush_current_thread() {
    let _ = LOCAL.try_with(|l| {
        if let Some(r) = l.row.get() {
            r.flush();
        }
    });
}

/// This thread's row slot, registering the row if needed.
pub(crate) fn current_slot() -> Option<u32> {
    LOCAL.try_with(|l| row(l).map(|r| r.slot())).ok().flatten()
}
