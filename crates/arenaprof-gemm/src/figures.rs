//! [`MemStat`]: what each worker holds and did (like MKL's `mkl_mem_stat`),
//! and the `gemm` section every arenaprof snapshot gets.

use crate::kernel::Blocks;
use crate::sizing::{Limit, WORKSPACE_RECORD};
use crate::state::{PoolInner, State};
use crate::worker::Counters;
use arenaprof_snapshot::{Section, Snapshot};
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, Weak};

/// One worker's figures. Worker 0 is the calling thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStat {
    /// Worker index (0: the calling thread).
    pub worker: usize,
    /// Bytes of its workspace region now (0: none).
    pub workspace_bytes: usize,
    /// Highest number of region bytes a packing buffer reached.
    pub peak_used: usize,
    /// GEMM calls it computed at least one tile of.
    pub calls: u64,
    /// Tiles of C it computed.
    pub tiles: u64,
    /// matrixmultiply calls it made (more than tiles when blocks are tiled).
    pub kernel_calls: u64,
    /// Allocations served from its workspace.
    pub served: u64,
    /// Allocations that did not fit (or found no workspace) and went to the
    /// inner allocator, counted under the `gemm-overflow` tag.
    pub overflows: u64,
    /// Bytes of those allocations.
    pub overflow_bytes: u64,
    /// Workspaces the allocator refused.
    pub alloc_failures: u64,
}

impl WorkerStat {
    fn of(worker: usize, c: &Counters) -> WorkerStat {
        WorkerStat {
            worker,
            workspace_bytes: c.ws_bytes.load(Relaxed),
            peak_used: c.peak_used.load(Relaxed),
            calls: c.calls.load(Relaxed),
            tiles: c.tiles.load(Relaxed),
            kernel_calls: c.kernel_calls.load(Relaxed),
            served: c.served.load(Relaxed),
            overflows: c.overflows.load(Relaxed),
            overflow_bytes: c.overflow_bytes.load(Relaxed),
            alloc_failures: c.alloc_failures.load(Relaxed),
        }
    }
}

/// A pool's memory figures.
///
/// ```
/// let s = arenaprof_gemm::mem_stat();
/// assert_eq!(s.per_worker.len(), s.workers);
/// assert!(s.workspace_bytes <= s.workspace_cap);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemStat {
    /// `"global"` or `"pool<N>"`.
    pub pool: String,
    /// Threads requested.
    pub threads: usize,
    /// Workers running (the caller and the pool threads).
    pub workers: usize,
    /// Cap on the sum of workspaces.
    pub workspace_cap: usize,
    /// Planned region bytes per worker.
    pub region: usize,
    /// What the cap cost, if anything.
    pub limit: Limit,
    /// Blocks an f64 GEMM runs with (`None`: no workspace).
    pub blocks_f64: Option<Blocks>,
    /// Blocks an f32 GEMM runs with.
    pub blocks_f32: Option<Blocks>,
    /// Workspaces were released by `free_buffers` (the next call reallocates).
    pub released: bool,
    /// Sum of live workspace regions.
    pub workspace_bytes: usize,
    /// Bytes charged to `Tag::GEMM_WORKSPACE` at most: regions plus
    /// [`WORKSPACE_RECORD`] per live workspace.
    pub charged_bytes_max: usize,
    /// Pool threads the OS refused to start.
    pub spawn_failures: u64,
    /// GEMM calls that ran kernels (calls with an empty C, `k = 0` or
    /// `α = 0` only scale C and are not counted).
    pub calls: u64,
    /// One entry per worker, worker 0 first.
    pub per_worker: Vec<WorkerStat>,
}

impl MemStat {
    pub(crate) fn of(name: &str, st: &State) -> MemStat {
        let mut per_worker = Vec::with_capacity(st.workers.len() + 1);
        per_worker.push(WorkerStat::of(0, &st.counters0));
        for (i, w) in st.workers.iter().enumerate() {
            per_worker.push(WorkerStat::of(i + 1, &w.slot.counters));
        }
        let workspace_bytes = per_worker.iter().map(|w| w.workspace_bytes).sum();
        let live = per_worker.iter().filter(|w| w.workspace_bytes > 0).count();
        MemStat {
            pool: name.to_owned(),
            threads: st.plan.threads,
            workers: per_worker.len(),
            workspace_cap: st.plan.cap,
            region: st.plan.region,
            limit: st.plan.limit,
            blocks_f64: Blocks::for_region(8, st.plan.region),
            blocks_f32: Blocks::for_region(4, st.plan.region),
            released: st.released,
            workspace_bytes,
            charged_bytes_max: workspace_bytes + live * WORKSPACE_RECORD,
            spawn_failures: st.spawn_failures,
            calls: st.calls,
            per_worker,
        }
    }

    /// Overflows summed over workers.
    ///
    /// ```
    /// assert_eq!(arenaprof_gemm::mem_stat().overflows(), 0);
    /// ```
    pub fn overflows(&self) -> u64 {
        self.per_worker.iter().map(|w| w.overflows).sum()
    }
}

fn blocks_text(b: Option<Blocks>) -> String {
    match b {
        Some(b) if b.full => "kc=256 mc=64 nc=1024 (matrixmultiply's own)".to_owned(),
        Some(b) => format!("kc={} mc={} nc={} (tiled)", b.kc, b.mc, b.nc),
        None => "no workspace".to_owned(),
    }
}

impl fmt::Display for MemStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gemm pool {}: {} calls, {} of {} threads working, {} B of workspace (cap {} B), limit: {}{}",
            self.pool,
            self.calls,
            self.workers,
            self.threads,
            self.workspace_bytes,
            self.workspace_cap,
            self.limit,
            if self.released { ", released" } else { "" }
        )?;
        writeln!(f, "  f64 blocks: {}", blocks_text(self.blocks_f64))?;
        writeln!(f, "  f32 blocks: {}", blocks_text(self.blocks_f32))?;
        writeln!(
            f,
            "  {:>6} {:>10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>14}",
            "worker",
            "workspace",
            "peak",
            "calls",
            "tiles",
            "served",
            "overflows",
            "overflow_bytes"
        )?;
        for w in &self.per_worker {
            writeln!(
                f,
                "  {:>6} {:>10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>14}",
                w.worker,
                w.workspace_bytes,
                w.peak_used,
                w.calls,
                w.tiles,
                w.served,
                w.overflows,
                w.overflow_bytes
            )?;
        }
        Ok(())
    }
}

static POOLS: Mutex<Vec<Weak<PoolInner>>> = Mutex::new(Vec::new());

/// Remembers a pool for the snapshot section and registers the contributor.
pub(crate) fn register(pool: &Arc<PoolInner>) {
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    pools.retain(|p| p.strong_count() > 0);
    pools.push(Arc::downgrade(pool));
    drop(pools);
    arenaprof_alloc::register_contributor(contribute);
}

/// Figures of every live pool.
///
/// ```
/// let _ = arenaprof_gemm::global();
/// assert!(arenaprof_gemm::all_pools().iter().any(|s| s.pool == "global"));
/// ```
pub fn all_pools() -> Vec<MemStat> {
    let pools: Vec<Arc<PoolInner>> = POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    pools
        .iter()
        .map(|p| {
            let st = p.state.lock().unwrap_or_else(|e| e.into_inner());
            MemStat::of(&p.name, &st)
        })
        .collect()
}

/// Entries of the snapshot's `gemm` section for these pools.
pub(crate) fn section(stats: &[MemStat]) -> Section {
    let mut e: Vec<(String, String)> = vec![("pools".into(), stats.len().to_string())];
    for s in stats {
        let p = &s.pool;
        e.push((format!("{p}.calls"), s.calls.to_string()));
        e.push((format!("{p}.threads"), s.threads.to_string()));
        e.push((format!("{p}.workers"), s.workers.to_string()));
        e.push((format!("{p}.workspace_cap"), s.workspace_cap.to_string()));
        e.push((
            format!("{p}.workspace_bytes"),
            s.workspace_bytes.to_string(),
        ));
        e.push((format!("{p}.region"), s.region.to_string()));
        e.push((format!("{p}.limit"), s.limit.to_string()));
        e.push((format!("{p}.blocks_f64"), blocks_text(s.blocks_f64)));
        e.push((format!("{p}.blocks_f32"), blocks_text(s.blocks_f32)));
        e.push((format!("{p}.released"), s.released.to_string()));
        for w in &s.per_worker {
            e.push((
                format!("{p}.worker{}", w.worker),
                format!(
                    "workspace={} peak={} calls={} tiles={} kernel_calls={} served={} \
                     overflows={} overflow_bytes={}",
                    w.workspace_bytes,
                    w.peak_used,
                    w.calls,
                    w.tiles,
                    w.kernel_calls,
                    w.served,
                    w.overflows,
                    w.overflow_bytes
                ),
            ));
        }
    }
    Section {
        name: "gemm".into(),
        entries: e,
    }
}

/// The snapshot contributor: adds (or replaces) the `gemm` section.
fn contribute(snap: &mut Snapshot) {
    let s = section(&all_pools());
    snap.sections.retain(|x| x.name != "gemm");
    snap.sections.push(s);
}

#[cfg(test)]
mod tests {
    #[test]
    fn section_names_every_worker_of_the_global_pool() {
        let sec = super::section(&[crate::mem_stat()]);
        assert_eq!(sec.name, "gemm");
        assert!(sec.entries.iter().any(|(k, _)| k == "global.worker0"));
    }
}
