//! [`GemmPool`]: the workers, their workspaces, and the GEMM entry points.
//!
//! The calling thread is worker 0 and uses the pool's own workspace; workers
//! 1.. are pool threads, each with its workspace. One GEMM at a time runs on a
//! pool (calls from several threads queue on its lock).
//!
//! Workspaces are allocated when the pool starts (and when `set_threads` or
//! `set_workspace_cap` adds or resizes them), never per call; `free_buffers`
//! releases them all, and the next call allocates them again.

use crate::config::{resolve_threads, GemmConfig};
use crate::error::{GemmError, Operand};
use crate::figures::{self, MemStat};
use crate::kernel::{scale_c, Blocks, GemmScalar, Mat};
use crate::mat::{MatMut, MatRef};
use crate::operand::{check_bounds, check_no_overlap, Strides};
use crate::partition::Grid;
use crate::sizing;
use crate::state::{PoolInner, State};
use crate::worker::{resize, run_tiles, Counters, Job, RawMat, Shared, CMD_QUIT, CMD_RUN};
use arenaprof_alloc::Tag;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Name of the tag that allocations made inside kernel calls are counted
/// under; only workspace overflows ever reach it.
pub const OVERFLOW_TAG: &str = "gemm-overflow";

pub(crate) fn overflow_tag() -> Tag {
    static T: OnceLock<Tag> = OnceLock::new();
    *T.get_or_init(|| Tag::new(OVERFLOW_TAG))
}

thread_local! {
    /// Most workers this thread's GEMM calls may use (0: no limit).
    static THREAD_LIMIT: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` with this thread's GEMM calls (on any pool) limited to at most
/// `threads` workers; the previous limit is restored afterwards, also on
/// panic. Workspaces stay allocated (use `set_threads` to free them).
pub(crate) fn with_thread_limit<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = THREAD_LIMIT.try_with(|l| l.set(self.0));
        }
    }
    let prev = THREAD_LIMIT
        .try_with(|l| l.replace(threads.max(1)))
        .unwrap_or(0);
    let _restore = Restore(prev);
    f()
}

fn thread_limit() -> usize {
    THREAD_LIMIT.try_with(|l| l.get()).unwrap_or(0)
}

/// A pool of GEMM workers with capped, pre-allocated workspaces.
///
/// ```
/// use arenaprof_gemm::{GemmConfig, GemmPool, MatMut, MatRef};
/// let pool = GemmPool::new(GemmConfig { threads: 2, workspace_cap: 16 << 20, ..Default::default() });
/// let (m, k, n) = (2, 3, 2);
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3, row-major
/// let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3 x 2, row-major
/// let mut c = [f64::NAN; 4];               // β = 0 overwrites NaN
/// pool.gemm(1.0, MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n), 0.0, MatMut::row_major(&mut c, m, n))?;
/// assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
/// # Ok::<(), arenaprof_gemm::GemmError>(())
/// ```
pub struct GemmPool {
    pub(crate) inner: Arc<PoolInner>,
}

impl GemmPool {
    /// Starts a pool: `config.threads - 1` pool threads (the caller is the
    /// first worker) and every workspace, under the cap.
    ///
    /// ```
    /// use arenaprof_gemm::{GemmConfig, GemmPool};
    /// let pool = GemmPool::new(GemmConfig { threads: 4, workspace_cap: 4 << 20, ..Default::default() });
    /// let s = pool.mem_stat();
    /// assert!(s.workspace_bytes + 4 * 128 <= 4 << 20);
    /// ```
    pub fn new(config: GemmConfig) -> GemmPool {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Relaxed);
        GemmPool::named(config, format!("pool{id}"))
    }

    pub(crate) fn named(config: GemmConfig, name: String) -> GemmPool {
        let threads = resolve_threads(config.threads);
        let mut state = State {
            config,
            plan: sizing::plan(1, 0),
            shared: Arc::new(Shared::new(overflow_tag())),
            ws0: None,
            counters0: Counters::default(),
            workers: Vec::new(),
            released: true,
            spawn_failures: 0,
            calls: 0,
        };
        state.apply(threads, config.workspace_cap);
        let inner = Arc::new(PoolInner {
            name,
            state: Mutex::new(state),
        });
        figures::register(&inner);
        GemmPool { inner }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `C ← α A B + β C`, for f32 or f64, in the style of ndarray's
    /// `general_mat_mul`. `A` is `m x k`, `B` is `k x n`, `C` is `m x n`;
    /// each is a [`MatRef`]/[`MatMut`] made from a slice (with any
    /// [`Strides`], of either sign) or from an ndarray 2-D view. With
    /// `β = 0`, C is overwritten (NaN in C does not survive); with `α = 0`
    /// or `k = 0`, A and B are not read.
    ///
    /// Errors, before anything is written, when the shapes do not agree, a
    /// slice is too short for its shape and strides, a negative stride
    /// reaches before the slice, or C's strides overlap.
    ///
    /// ```
    /// use arenaprof_gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};
    /// let pool = GemmPool::new(GemmConfig { threads: 1, ..Default::default() });
    /// // A given column-major, B transposed (stored as n x k row-major), C bottom-up.
    /// let a = [1.0, 3.0, 2.0, 4.0];            // [[1, 2], [3, 4]]
    /// let bt = [1.0, 1.0, 0.0, 1.0];           // B = [[1, 0], [1, 1]]
    /// let mut c = [0.0; 4];
    /// let c_up = Strides::row_major(2).flip_rows(2);
    /// pool.gemm(
    ///     1.0,
    ///     MatRef::col_major(&a, 2, 2),
    ///     MatRef::row_major(&bt, 2, 2).t(),
    ///     0.0,
    ///     MatMut::new(&mut c, 2, 2, c_up),
    /// )?;
    /// assert_eq!(c, [7.0, 4.0, 3.0, 2.0]);     // rows [3, 2] and [7, 4], stored bottom-up
    ///
    /// // ndarray views convert without a copy:
    /// let x = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
    /// let mut y = ndarray::Array2::<f32>::zeros((2, 2));
    /// pool.gemm(1.0, x.view().into(), x.t().into(), 0.0, y.view_mut().into())?;
    /// assert_eq!(y, ndarray::array![[5.0, 11.0], [11.0, 25.0]]);
    /// # Ok::<(), arenaprof_gemm::GemmError>(())
    /// ```
    pub fn gemm<T: GemmScalar>(
        &self,
        alpha: T,
        a: MatRef<'_, T>,
        b: MatRef<'_, T>,
        beta: T,
        mut c: MatMut<'_, T>,
    ) -> Result<(), GemmError> {
        let ((m, k), (k2, n)) = (a.shape(), b.shape());
        if k2 != k || c.shape() != (m, n) {
            return Err(GemmError::ShapeMismatch {
                a: a.shape(),
                b: b.shape(),
                c: c.shape(),
            });
        }
        let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
        let ((a, a_len), (b, b_len), (c, c_len)) = (a.raw(), b.raw(), c.raw());
        check_bounds(Operand::A, m, k, sa, a_len)?;
        check_bounds(Operand::B, k, n, sb, b_len)?;
        check_bounds(Operand::C, m, n, sc, c_len)?;
        check_no_overlap(m, n, sc)?;
        if m == 0 || n == 0 {
            return Ok(());
        }
        let cm = Mat {
            // SAFETY: C is non-empty and validated, so its element (0, 0)
            // is inside its buffer.
            ptr: unsafe { c.add(sc.offset) } as *const T,
            rs: sc.row,
            cs: sc.col,
        };
        if k == 0 || alpha == T::AP_ZERO {
            // SAFETY: C is validated and exclusively borrowed.
            unsafe { scale_c(m, n, beta, cm) };
            return Ok(());
        }
        let raw = |p: *const T, s: Strides| RawMat {
            ptr: p.cast(),
            rs: s.row,
            cs: s.col,
        };
        // SAFETY: A and B are non-empty (m, k, n > 0) and validated, so
        // element (0, 0) lies inside each buffer (both offsets).
        let (pa, pb) = unsafe { (a.add(sa.offset), b.add(sb.offset)) };
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.released {
            let (t, cap) = (st.plan.threads, st.plan.cap);
            st.apply(t, cap);
        }
        let mut p = st.workers.len() + 1;
        let limit = thread_limit();
        if limit > 0 {
            p = p.min(limit);
        }
        let work = m.saturating_mul(k).saturating_mul(n);
        p = p.min((work / st.config.min_work_per_worker.max(1)).max(1));
        let grid = match st.config.tiles_per_worker {
            0 => Grid::auto(m, k, n, p),
            per => Grid::new(m, k, n, p * per),
        };
        p = p.min(grid.count());
        let job = Job {
            dtype: T::AP_DTYPE,
            k,
            alpha: alpha.ap_to_f64(),
            beta: beta.ap_to_f64(),
            a: raw(pa, sa),
            b: raw(pb, sb),
            c: raw(cm.ptr, sc),
            grid,
            blocks: Blocks::for_region(std::mem::size_of::<T>(), st.plan.region),
            region: st.plan.region,
        };
        let tiles = job.grid.count();
        // SAFETY: pool lock held, nothing in flight. The job's pointers stay
        // valid until `wait_done` below returns: this function borrows the
        // matrices until it returns, and it does not return (nor unwind: tile
        // panics are caught) before every worker counted out.
        unsafe { st.shared.prepare(Some(job), p - 1) };
        for w in &st.workers[..p - 1] {
            w.send(CMD_RUN, 0);
        }
        // SAFETY: this thread dispatched the job and takes part in it with
        // the pool's worker-0 workspace, which the lock gives it alone.
        let mine_ok = unsafe { run_tiles(&st.shared, &mut st.ws0, &st.counters0) };
        st.shared.wait_done();
        st.calls += 1;
        let theirs_ok = !st.shared.panicked.swap(false, AcqRel);
        if !(mine_ok && theirs_ok) {
            return Err(GemmError::WorkerPanicked);
        }
        if st.shared.next_tile.load(Acquire) < tiles {
            // Every worker lacked its workspace; nothing was computed.
            return Err(GemmError::WorkspaceUnavailable {
                bytes: st.plan.region,
            });
        }
        Ok(())
    }

    /// Changes the number of threads: threads above `threads` stop and their
    /// workspaces are freed before this returns; new threads start with
    /// their workspaces. The cap still holds (it may mean fewer workers).
    ///
    /// ```
    /// use arenaprof_gemm::{GemmConfig, GemmPool};
    /// let pool = GemmPool::new(GemmConfig { threads: 4, workspace_cap: 64 << 20, ..Default::default() });
    /// pool.set_threads(1);
    /// assert_eq!(pool.mem_stat().per_worker.len(), 1);
    /// ```
    pub fn set_threads(&self, threads: usize) {
        let mut st = self.lock();
        let cap = st.plan.cap;
        st.config.threads = threads;
        st.apply(resolve_threads(threads), cap);
    }

    /// Changes the cap on the sum of workspaces. Workspaces are resized
    /// (freed first, then allocated), so the cap holds throughout.
    ///
    /// ```
    /// use arenaprof_gemm::{GemmConfig, GemmPool};
    /// let pool = GemmPool::new(GemmConfig { threads: 2, ..Default::default() });
    /// pool.set_workspace_cap(1 << 20);
    /// assert!(pool.mem_stat().workspace_bytes <= 1 << 20);
    /// ```
    pub fn set_workspace_cap(&self, bytes: usize) {
        let mut st = self.lock();
        let threads = st.plan.threads;
        st.config.workspace_cap = bytes;
        st.apply(threads, bytes);
    }

    /// Releases every workspace now (like MKL's `mkl_free_buffers`); threads
    /// stay. The next GEMM call allocates them again.
    ///
    /// ```
    /// use arenaprof_gemm::{GemmConfig, GemmPool};
    /// let pool = GemmPool::new(GemmConfig { threads: 2, ..Default::default() });
    /// pool.free_buffers();
    /// assert_eq!(pool.mem_stat().workspace_bytes, 0);
    /// ```
    pub fn free_buffers(&self) {
        self.lock().release();
    }

    /// Per-worker figures (like MKL's `mkl_mem_stat`): workspace bytes, peak
    /// use, calls, overflows, and what the cap cost.
    ///
    /// ```
    /// use arenaprof_gemm::{GemmConfig, GemmPool};
    /// let pool = GemmPool::new(GemmConfig { threads: 2, workspace_cap: 64 << 20, ..Default::default() });
    /// let s = pool.mem_stat();
    /// assert_eq!(s.per_worker.len(), 2);
    /// assert_eq!(s.workspace_bytes, 2 * arenaprof_gemm::sizing::FULL_WORKSPACE);
    /// println!("{s}");
    /// ```
    pub fn mem_stat(&self) -> MemStat {
        MemStat::of(&self.inner.name, &self.lock())
    }

    /// The settings in force (`threads` as last set; `0` means all CPUs).
    ///
    /// ```
    /// let pool = arenaprof_gemm::GemmPool::new(arenaprof_gemm::GemmConfig { threads: 3, ..Default::default() });
    /// assert_eq!(pool.config().threads, 3);
    /// ```
    pub fn config(&self) -> GemmConfig {
        self.lock().config
    }
}

impl Drop for GemmPool {
    fn drop(&mut self) {
        let mut st = self.lock();
        let n = st.workers.len();
        st.command(0, n, CMD_QUIT, 0);
        for w in &mut st.workers {
            w.join();
        }
        st.workers.clear();
        let st = &mut *st;
        resize(&mut st.ws0, 0, &st.counters0);
        st.released = true;
    }
}

impl std::fmt::Debug for GemmPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("GemmPool")
            .field("name", &self.inner.name)
            .field("plan", &st.plan)
            .field("threads_running", &(st.workers.len() + 1))
            .finish()
    }
}
