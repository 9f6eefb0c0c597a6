//! Pool threads and the allocation-free hand-off of jobs to them.
//!
//! A job is plain data written into one preallocated slot ([`Shared::job`]);
//! a worker is told to run it by bumping its generation counter and waking it
//! (`Thread::unpark`). Workers claim tiles of C from a shared counter and
//! count themselves out on `pending`; the last one wakes the caller. Nothing
//! here allocates per call: no boxed closures, no channels, no vectors.
//!
//! Each pool thread owns its [`Workspace`] (allocated under
//! `Tag::GEMM_WORKSPACE` on that thread) and enters it around the kernel
//! calls, so matrixmultiply's packing buffer comes from it.

use crate::kernel::{run_tile, Blocks, DType, GemmScalar, Mat, Product, Tile, TileCost};
use crate::partition::Grid;
use arenaprof_alloc::{Tag, Workspace};
use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// A matrix operand without its element type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawMat {
    pub ptr: *const (),
    pub rs: isize,
    pub cs: isize,
}

impl RawMat {
    pub(crate) fn typed<T>(self) -> Mat<T> {
        Mat {
            ptr: self.ptr.cast(),
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// One GEMM, as every participating worker sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job {
    pub dtype: DType,
    pub k: usize,
    /// α and β as f64 (exact for f32 too).
    pub alpha: f64,
    pub beta: f64,
    pub a: RawMat,
    pub b: RawMat,
    pub c: RawMat,
    pub grid: Grid,
    pub blocks: Option<Blocks>,
    /// Workspace bytes the plan gives each worker (0: none by policy).
    pub region: usize,
}

impl Job {
    pub(crate) const EMPTY: Job = Job {
        dtype: DType::F64,
        k: 0,
        alpha: 0.0,
        beta: 0.0,
        a: RawMat {
            ptr: std::ptr::null(),
            rs: 0,
            cs: 0,
        },
        b: RawMat {
            ptr: std::ptr::null(),
            rs: 0,
            cs: 0,
        },
        c: RawMat {
            ptr: std::ptr::null(),
            rs: 0,
            cs: 0,
        },
        grid: Grid {
            m: 0,
            n: 0,
            row_step: 1,
            col_step: 1,
            rows: 0,
            cols: 0,
        },
        blocks: None,
        region: 0,
    };
}

/// State shared by a pool's dispatcher and its threads.
pub(crate) struct Shared {
    /// The current job. Written only by the dispatcher, while no worker runs
    /// (`pending == 0`), before it bumps the participants' generations.
    job: UnsafeCell<Job>,
    /// The thread to wake when `pending` reaches 0; same discipline as `job`.
    caller: UnsafeCell<Option<Thread>>,
    /// Next unclaimed tile of the current job.
    pub next_tile: AtomicUsize,
    /// Workers that have not yet finished the current command.
    pub pending: AtomicUsize,
    /// Set when a worker's job panicked.
    pub panicked: AtomicBool,
    /// Spin time before sleeping, in nanoseconds (0: never spin).
    pub spin_ns: AtomicU64,
    /// Tag that allocations made during kernel calls are counted under (only
    /// overflows of a workspace reach the allocator's counters).
    pub overflow_tag: Tag,
}

// SAFETY: the `UnsafeCell`s are written only by the dispatcher (which holds
// the pool lock) while `pending == 0`, i.e. while no worker reads them, and
// are published to workers through the Release bump of a slot's `gen`, which
// the worker reads with Acquire before reading them. The raw pointers inside
// `Job` point into buffers the dispatching call borrows until every worker
// has counted itself out.
unsafe impl Sync for Shared {}
// SAFETY: as above; nothing in `Shared` is tied to a thread.
unsafe impl Send for Shared {}

impl Shared {
    pub(crate) fn new(overflow_tag: Tag) -> Shared {
        Shared {
            job: UnsafeCell::new(Job::EMPTY),
            caller: UnsafeCell::new(None),
            next_tile: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            spin_ns: AtomicU64::new(0),
            overflow_tag,
        }
    }

    /// Prepares a command for `workers` pool threads: stores the job (if
    /// any) and the caller to wake.
    ///
    /// # Safety
    /// Only the pool-lock holder calls this, and only when `pending == 0`.
    pub(crate) unsafe fn prepare(&self, job: Option<Job>, workers: usize) {
        // SAFETY: per the contract no worker reads these cells now.
        unsafe {
            if let Some(job) = job {
                *self.job.get() = job;
            }
            let caller = &mut *self.caller.get();
            let me = std::thread::current();
            if caller.as_ref().map(|t| t.id()) != Some(me.id()) {
                *caller = Some(me);
            }
        }
        self.next_tile.store(0, Relaxed);
        self.pending.store(workers, Release);
    }

    /// The current job.
    ///
    /// # Safety
    /// Called by a participant of the current command, or by the dispatcher.
    pub(crate) unsafe fn job(&self) -> Job {
        // SAFETY: per the contract the cell is not being written.
        unsafe { *self.job.get() }
    }

    /// Counts one worker out of the current command; the last one wakes the
    /// caller.
    fn ack(&self) {
        // SAFETY: the dispatcher does not rewrite `caller` before `pending`
        // reaches 0, which cannot happen before the `fetch_sub` below.
        let caller = unsafe { (*self.caller.get()).clone() };
        if self.pending.fetch_sub(1, AcqRel) == 1 {
            if let Some(t) = caller {
                t.unpark();
            }
        }
    }

    /// Waits (spinning, then sleeping) until every worker counted out.
    pub(crate) fn wait_done(&self) {
        let spin = Duration::from_nanos(self.spin_ns.load(Relaxed));
        wait_until(spin, || self.pending.load(Acquire) == 0);
    }
}

/// Spins for up to `spin`, then parks, until `done()`.
fn wait_until(spin: Duration, mut done: impl FnMut() -> bool) {
    if done() {
        return;
    }
    if !spin.is_zero() {
        let start = Instant::now();
        let mut i = 0u32;
        loop {
            for _ in 0..64 {
                std::hint::spin_loop();
                if done() {
                    return;
                }
            }
            i += 1;
            if i % 4 == 0 && start.elapsed() >= spin {
                break;
            }
        }
    }
    while !done() {
        std::thread::park();
    }
}

/// Per-worker figures, updated by the worker that owns them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Capacity of the live workspace (0: none).
    pub ws_bytes: AtomicUsize,
    /// Highest bump offset any of its workspaces reached.
    pub peak_used: AtomicUsize,
    /// GEMM calls this worker computed at least one tile of.
    pub calls: AtomicU64,
    /// Tiles computed.
    pub tiles: AtomicU64,
    /// matrixmultiply calls made.
    pub kernel_calls: AtomicU64,
    /// Allocations served from the workspace.
    pub served: AtomicU64,
    /// Allocations that did not fit (or found no workspace) and went to the
    /// inner allocator.
    pub overflows: AtomicU64,
    /// Bytes of those.
    pub overflow_bytes: AtomicU64,
    /// Workspaces the allocator refused.
    pub alloc_failures: AtomicU64,
}

impl Counters {
    fn add(a: &AtomicU64, v: u64) {
        a.store(a.load(Relaxed) + v, Relaxed);
    }
}

/// Replaces `ws` by a workspace of `region` bytes (none for 0), freeing the
/// old one first so the two never coexist.
pub(crate) fn resize(ws: &mut Option<Workspace>, region: usize, c: &Counters) {
    *ws = None;
    c.ws_bytes.store(0, Relaxed);
    if region == 0 {
        return;
    }
    let _tag = Tag::GEMM_WORKSPACE.enter();
    *ws = Workspace::new(region);
    match ws {
        Some(w) => c.ws_bytes.store(w.capacity(), Relaxed),
        None => Counters::add(&c.alloc_failures, 1),
    }
}

/// Runs tiles of the current job until none is left; returns tiles done.
///
/// # Safety
/// The caller participates in the current command (so `job` is stable and
/// its buffers are alive), and `ws` is this thread's workspace.
pub(crate) unsafe fn run_tiles(shared: &Shared, ws: &mut Option<Workspace>, c: &Counters) -> bool {
    // SAFETY: `Shared::job` requires a caller taking part in the current
    // command, which is this function's own contract.
    let job = unsafe { shared.job() };
    if ws.is_none() && job.region > 0 {
        // The allocator refused this worker's workspace earlier: ask again.
        resize(ws, job.region, c);
        if ws.is_none() {
            // Without it matrixmultiply would allocate its packing buffer
            // itself and abort if refused: take no tile; the caller reports
            // any tile left undone as `GemmError::WorkspaceUnavailable`.
            return true;
        }
    }
    let before = ws.as_ref().map(|w| w.stats()).unwrap_or_default();
    let has_ws = ws.is_some();
    let mut tiles = 0u64;
    let mut cost = TileCost::default();
    let result = {
        let _tag = shared.overflow_tag.enter();
        let _scope = ws.as_mut().map(|w| w.enter());
        catch_unwind(AssertUnwindSafe(|| loop {
            let t = shared.next_tile.fetch_add(1, Relaxed);
            if t >= job.grid.count() {
                break;
            }
            let ((i0, i1), (j0, j1)) = job.grid.tile(t);
            // SAFETY: tile `t` was claimed by this thread alone; the operands
            // were validated by the dispatcher and outlive the command.
            let tc = unsafe {
                match job.dtype {
                    DType::F32 => tile::<f32>(&job, (i0, i1), (j0, j1)),
                    DType::F64 => tile::<f64>(&job, (i0, i1), (j0, j1)),
                }
            };
            tiles += 1;
            cost.calls += tc.calls;
            cost.packing_bytes += tc.packing_bytes;
        }))
    };
    if tiles > 0 {
        Counters::add(&c.calls, 1);
        Counters::add(&c.tiles, tiles);
        Counters::add(&c.kernel_calls, cost.calls);
    }
    if let Some(w) = ws.as_ref() {
        let after = w.stats();
        Counters::add(&c.served, after.served_count - before.served_count);
        Counters::add(&c.overflows, after.overflow_count - before.overflow_count);
        Counters::add(
            &c.overflow_bytes,
            after.overflow_bytes - before.overflow_bytes,
        );
        c.peak_used.fetch_max(after.peak_used, Relaxed);
    } else if !has_ws {
        Counters::add(&c.overflows, cost.calls);
        Counters::add(&c.overflow_bytes, cost.packing_bytes);
    }
    if result.is_err() {
        shared.panicked.store(true, Release);
    }
    result.is_ok()
}

/// # Safety
/// As [`run_tile`], for the job's operands of type `T`.
unsafe fn tile<T: GemmScalar>(job: &Job, rows: (usize, usize), cols: (usize, usize)) -> TileCost {
    // SAFETY: `run_tile`'s contract is this function's (see # Safety), which
    // our caller upholds; the job's pointers are to `T` (its dtype).
    unsafe {
        run_tile::<T>(
            job.blocks,
            Tile { rows, cols },
            Product {
                k: job.k,
                alpha: T::ap_from_f64(job.alpha),
                a: job.a.typed(),
                b: job.b.typed(),
                beta: T::ap_from_f64(job.beta),
                c: job.c.typed(),
            },
        )
    }
}

/// What a pool thread is told to do next.
pub(crate) const CMD_RUN: u8 = 0;
/// Replace the workspace by one of `arg` bytes (0: free it).
pub(crate) const CMD_RESIZE: u8 = 1;
/// Free the workspace and exit.
pub(crate) const CMD_QUIT: u8 = 2;

/// A pool thread's mailbox and figures.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// Bumped (Release) by the dispatcher for each command.
    gen: AtomicU64,
    cmd: AtomicU8,
    arg: AtomicUsize,
    /// This worker's figures.
    pub counters: Counters,
}

/// A running pool thread.
pub(crate) struct WorkerHandle {
    pub slot: Arc<Slot>,
    thread: Thread,
    join: Option<std::thread::JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts pool thread `index`, which allocates a workspace of `region`
    /// bytes and then counts itself out on `shared.pending` (the caller set
    /// `pending` and waits).
    pub(crate) fn spawn(
        shared: &Arc<Shared>,
        index: usize,
        region: usize,
    ) -> std::io::Result<WorkerHandle> {
        let slot = Arc::new(Slot::default());
        let (sh, sl) = (Arc::clone(shared), Arc::clone(&slot));
        let join = std::thread::Builder::new()
            .name(format!("arenaprof-gemm-{index}"))
            .spawn(move || worker_main(&sh, &sl, region))?;
        Ok(WorkerHandle {
            slot,
            thread: join.thread().clone(),
            join: Some(join),
        })
    }

    /// Sends a command (the dispatcher has prepared `shared`).
    pub(crate) fn send(&self, cmd: u8, arg: usize) {
        self.slot.cmd.store(cmd, Relaxed);
        self.slot.arg.store(arg, Relaxed);
        self.slot.gen.fetch_add(1, Release);
        self.thread.unpark();
    }

    /// Waits for the thread to exit (after `CMD_QUIT` was acknowledged).
    pub(crate) fn join(&mut self) {
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

fn worker_main(shared: &Shared, slot: &Slot, region: usize) {
    let mut ws = None;
    resize(&mut ws, region, &slot.counters);
    shared.ack();
    let mut seen = 0u64;
    loop {
        let spin = Duration::from_nanos(shared.spin_ns.load(Relaxed));
        wait_until(spin, || slot.gen.load(Acquire) != seen);
        seen = slot.gen.load(Acquire);
        match slot.cmd.load(Relaxed) {
            CMD_RUN => {
                // SAFETY: this thread was sent CMD_RUN for the current job.
                unsafe { run_tiles(shared, &mut ws, &slot.counters) };
            }
            CMD_RESIZE => resize(&mut ws, slot.arg.load(Relaxed), &slot.counters),
            _ => {
                resize(&mut ws, 0, &slot.counters);
                shared.ack();
                return;
            }
        }
        shared.ack();
    }
}
