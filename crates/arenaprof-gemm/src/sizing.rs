//! How much workspace a worker needs, and how a cap is shared among workers.
//!
//! matrixmultiply 0.3.11 allocates, on every call, one packing buffer of
//! `sizeof(T) * kc * (round_up(mc, MR) + round_up(nc, NR))` elements' bytes,
//! where `mc = min(m, 64)`, `kc = min(k, 256)` and `nc = min(n, 1024)`
//! (`make_packing_buffer` in its `gemm.rs`), aligned to the kernel's
//! `ALIGNMENT` (32 or 64 bytes). At full blocks that is 2,228,224 B for f64 and
//! 1,114,112 B for f32. A workspace serves it from offset
//! `round_up(24, align) = 64` (the workspace's block head, then alignment)
//! and the tracker puts an 8-byte trailer header behind blocks aligned above
//! 8, so one region of `need + 72` bytes (rounded up to 64) holds it
//! ([`Workspace::block_slack`](arenaprof_alloc::Workspace::block_slack)).
//!
//! ```
//! use arenaprof_gemm::sizing::{plan, Limit, FULL_WORKSPACE};
//! let p = plan(8, 64 << 20);
//! assert_eq!((p.workers, p.region, p.limit), (8, FULL_WORKSPACE, Limit::None));
//! let p = plan(8, 1 << 20); // 1 MiB cannot hold even one full f64 block set
//! assert_eq!(p.workers, 1);
//! assert!(p.total_charge() <= 1 << 20);
//! ```

/// matrixmultiply's `kc`: depth of one packed block.
pub const KC: usize = 256;
/// matrixmultiply's `mc`: rows of packed A per block.
pub const MC: usize = 64;
/// matrixmultiply's `nc`: columns of packed B per block.
pub const NC: usize = 1024;
/// Largest `MR`/`NR` of any matrixmultiply kernel (AVX-512 f32: 16); panel
/// sizes are rounded up to this, so the estimate covers every kernel.
pub const PANEL: usize = 16;
/// Bytes a workspace needs besides the packing buffer: the workspace's
/// 24-byte block head rounded up to the kernels' largest alignment (64),
/// plus the 8-byte trailer header of a block aligned above 8: 72.
pub const ALIGN_SLACK: usize = arenaprof_alloc::Workspace::block_slack(64);
/// Margin reserved per workspace besides its region. arenaprof-alloc counts a
/// workspace's own record as profiler overhead, so the tag holds exactly the
/// regions; the margin keeps budgets valid should a future allocator charge
/// the record to the tag. `tests/exact.rs` checks the real figure is not
/// larger.
pub const WORKSPACE_RECORD: usize = 128;
/// Smallest region a worker is given; below it the pool runs with no
/// workspace at all (every packing buffer is an overflow).
pub const MIN_WORKSPACE: usize = 4096;

/// Bytes of matrixmultiply's packing buffer for an `m x k` by `k x n` call,
/// rounded up for every kernel (not counting [`ALIGN_SLACK`]).
///
/// ```
/// use arenaprof_gemm::sizing::packing_bytes;
/// assert_eq!(packing_bytes(8, 4096, 4096, 4096), 2_228_224);
/// assert_eq!(packing_bytes(4, 4096, 4096, 4096), 1_114_112);
/// assert_eq!(packing_bytes(8, 1, 1, 1), 8 * 32);
/// ```
pub const fn packing_bytes(elem_size: usize, m: usize, k: usize, n: usize) -> usize {
    let m = if m < MC { m } else { MC };
    let k = if k < KC { k } else { KC };
    let n = if n < NC { n } else { NC };
    elem_size * k * (round_up(m, PANEL) + round_up(n, PANEL))
}

/// Region bytes that hold a full-size f64 packing buffer (and so an f32 one),
/// rounded up to 64 like every region: 2,228,352.
pub const FULL_WORKSPACE: usize = round_up(packing_bytes(8, MC, KC, NC) + ALIGN_SLACK, 64);

/// Smallest region that still runs f64 with `kc = 256` and `nc = 256`; below
/// it the pool prefers fewer workers with bigger blocks: 655,488.
pub const EFFICIENT_WORKSPACE: usize = round_up(packing_bytes(8, MC, KC, 256) + ALIGN_SLACK, 64);

pub(crate) const fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

const fn round_down(x: usize, to: usize) -> usize {
    x / to * to
}

/// Why a pool runs with less than `threads` full-size workspaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Every requested thread has a full-size workspace.
    None,
    /// Every requested thread works, with smaller blocks than matrixmultiply's
    /// defaults (the GEMM is tiled so the packing buffer fits).
    SmallerBlocks,
    /// Fewer workers than requested threads, so each keeps efficient blocks.
    FewerWorkers,
    /// The cap is below [`MIN_WORKSPACE`]: one worker, no workspace; every
    /// packing buffer is an overflow to the inner allocator.
    NoWorkspace,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::None => "none",
            Limit::SmallerBlocks => "smaller blocks (cap < threads x full workspace)",
            Limit::FewerWorkers => "fewer workers (cap < threads x efficient workspace)",
            Limit::NoWorkspace => "no workspace (cap below the minimum)",
        })
    }
}

/// How a cap is spent: workers and region bytes per worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Threads requested.
    pub threads: usize,
    /// The cap in bytes.
    pub cap: usize,
    /// Workers that get a workspace and compute (the caller is worker 0).
    pub workers: usize,
    /// Region bytes of each worker's workspace (0 with [`Limit::NoWorkspace`]).
    pub region: usize,
    /// What the cap cost.
    pub limit: Limit,
}

impl Plan {
    /// Bytes charged to `Tag::GEMM_WORKSPACE` when every workspace is
    /// allocated: regions plus [`WORKSPACE_RECORD`] each.
    pub fn total_charge(&self) -> usize {
        if self.region == 0 {
            0
        } else {
            self.workers * (self.region + WORKSPACE_RECORD)
        }
    }
}

/// Shares `cap` among `threads` workers:
///
/// 1. if each gets a full workspace ([`FULL_WORKSPACE`]), all work with full
///    blocks;
/// 2. else if each gets at least [`EFFICIENT_WORKSPACE`], all work with
///    smaller blocks ([`Limit::SmallerBlocks`]);
/// 3. else as many workers as the cap gives efficient workspaces, at least one
///    ([`Limit::FewerWorkers`]); a single worker below that runs smaller
///    blocks in whatever the cap holds;
/// 4. below [`MIN_WORKSPACE`], one worker and no workspace.
///
/// The sum of regions and records never exceeds `cap`.
pub fn plan(threads: usize, cap: usize) -> Plan {
    let threads = threads.max(1);
    let charge = |workers: usize| -> usize {
        let share = cap / workers;
        round_down(share.saturating_sub(WORKSPACE_RECORD), 64).min(FULL_WORKSPACE)
    };
    let mut p = Plan {
        threads,
        cap,
        workers: threads,
        region: charge(threads),
        limit: Limit::None,
    };
    if p.region >= FULL_WORKSPACE {
        return p;
    }
    if p.region >= EFFICIENT_WORKSPACE {
        p.limit = Limit::SmallerBlocks;
        return p;
    }
    p.workers = (cap / (EFFICIENT_WORKSPACE + WORKSPACE_RECORD)).clamp(1, threads);
    p.region = charge(p.workers);
    p.limit = if p.workers < threads {
        Limit::FewerWorkers
    } else {
        Limit::SmallerBlocks
    };
    if p.region < MIN_WORKSPACE {
        p.workers = 1;
        p.region = 0;
        p.limit = Limit::NoWorkspace;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sizes_match_matrixmultiply() {
        assert_eq!(packing_bytes(8, MC, KC, NC), 2_228_224);
        assert_eq!(packing_bytes(4, MC, KC, NC), 1_114_112);
        assert_eq!(FULL_WORKSPACE, 2_228_352);
        assert_eq!(EFFICIENT_WORKSPACE, 655_488);
    }

    #[test]
    fn plans_never_exceed_the_cap() {
        for threads in 1..=64 {
            for cap in (0..200).map(|i| i * 37_813 + i * i * 9_001) {
                let p = plan(threads, cap);
                assert!(p.total_charge() <= cap, "{threads} {cap} {p:?}");
                assert!(p.workers >= 1 && p.workers <= threads);
                assert!(p.region == 0 || p.region >= MIN_WORKSPACE);
                assert_eq!(p.region % 64, 0);
            }
        }
    }

    #[test]
    fn plan_prefers_smaller_blocks_then_fewer_workers() {
        assert_eq!(plan(2, 64 << 20).limit, Limit::None);
        let p = plan(2, 4 << 20);
        assert_eq!((p.workers, p.limit), (2, Limit::SmallerBlocks));
        let p = plan(16, 4 << 20);
        assert_eq!((p.workers, p.limit), (6, Limit::FewerWorkers));
        let p = plan(16, 1 << 20);
        assert_eq!((p.workers, p.limit), (1, Limit::FewerWorkers));
        assert_eq!(p.region, (1 << 20) - WORKSPACE_RECORD);
        let p = plan(4, 1000);
        assert_eq!((p.workers, p.region, p.limit), (1, 0, Limit::NoWorkspace));
    }
}
