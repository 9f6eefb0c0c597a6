//! The 2-D split of C into tiles, one or a few per worker.
//!
//! Each tile is computed by one worker with its own call of single-threaded
//! matrixmultiply, which packs the tile's rows of A once per 1024 columns and
//! its columns of B once. Among the `rows x cols` grids with the wanted number
//! of tiles, the one that packs the least per tile wins; ties go to more
//! columns. Tile edges fall on multiples of 16 (whole kernel panels) when the
//! matrix is large enough.
//!
//! ```
//! use arenaprof_gemm::partition::Grid;
//! let g = Grid::new(4096, 4096, 4096, 2);
//! assert_eq!((g.rows, g.cols), (1, 2)); // split N: no extra packing of B
//! assert_eq!(g.tile(1), ((0, 4096), (2048, 4096)));
//! ```

use crate::kernel::panel_step;
use crate::sizing::NC;

/// A grid of tiles over an `m x n` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Rows of C.
    pub m: usize,
    /// Columns of C.
    pub n: usize,
    /// Rows per tile (the last tile may have fewer).
    pub row_step: usize,
    /// Columns per tile (the last tile may have fewer).
    pub col_step: usize,
    /// Tiles down.
    pub rows: usize,
    /// Tiles across.
    pub cols: usize,
}

impl Grid {
    /// The grid of at most `tiles` tiles for an `m x k x n` product (at least
    /// one tile; fewer than asked when C is too small to cut that often).
    ///
    /// ```
    /// let g = arenaprof_gemm::partition::Grid::new(3, 10, 2, 8);
    /// assert_eq!((g.rows, g.cols), (3, 2)); // 6 tiles: C has only 6 elements
    /// ```
    pub fn new(m: usize, k: usize, n: usize, tiles: usize) -> Grid {
        let tiles = tiles.max(1);
        let mut best: Option<(usize, u128, Grid)> = None;
        for want in (1..=tiles).rev() {
            for pr in 1..=want {
                if want % pr != 0 {
                    continue;
                }
                let g = Grid::with_parts(m, n, pr, want / pr);
                if g.count() != want {
                    continue;
                }
                let cost = g.packing_cost(k);
                let better = match &best {
                    None => true,
                    Some((_, c, b)) => cost < *c || (cost == *c && g.cols > b.cols),
                };
                if better {
                    best = Some((want, cost, g));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best.map(|(_, _, g)| g)
            .unwrap_or_else(|| Grid::with_parts(m, n, 1, 1))
    }

    /// The grid for `workers` workers: one tile each, or up to four each when
    /// the extra tiles cost at most 2% more packing in total (wide products
    /// whose tiles stay at least 1024 columns wide: matrixmultiply packs A
    /// once per 1024 columns anyway). More tiles let a worker that was
    /// descheduled hand its share to the others.
    ///
    /// ```
    /// use arenaprof_gemm::partition::Grid;
    /// assert_eq!(Grid::auto(1024, 1024, 1024, 2).count(), 2);
    /// assert_eq!(Grid::auto(4096, 4096, 4096, 2).count(), 4);
    /// ```
    pub fn auto(m: usize, k: usize, n: usize, workers: usize) -> Grid {
        let workers = workers.max(1);
        let base = Grid::new(m, k, n, workers);
        if workers == 1 {
            return base;
        }
        let budget = base.total_cost(k) + base.total_cost(k) / 50;
        let mut best = base;
        for per in 2..=4 {
            let g = Grid::new(m, k, n, workers * per);
            if g.count() == workers * per && g.total_cost(k) <= budget {
                best = g;
            }
        }
        best
    }

    fn total_cost(&self, k: usize) -> u128 {
        self.packing_cost(k) * self.count() as u128
    }

    fn with_parts(m: usize, n: usize, pr: usize, pc: usize) -> Grid {
        let row_step = panel_step(m, pr);
        let col_step = panel_step(n, pc);
        Grid {
            m,
            n,
            row_step,
            col_step,
            rows: m.div_ceil(row_step).max(1),
            cols: n.div_ceil(col_step).max(1),
        }
    }

    /// Number of tiles.
    ///
    /// ```
    /// assert_eq!(arenaprof_gemm::partition::Grid::new(64, 64, 64, 4).count(), 4);
    /// ```
    pub fn count(&self) -> usize {
        self.rows * self.cols
    }

    /// Elements packed for the largest tile: its rows of A once per `NC`
    /// columns, its columns of B once.
    fn packing_cost(&self, k: usize) -> u128 {
        let (mt, nt) = (self.row_step.min(self.m), self.col_step.min(self.n));
        k as u128 * (mt as u128 * nt.div_ceil(NC) as u128 + nt as u128)
    }

    /// Row range and column range of tile `t` (`t < count()`); tiles of one
    /// column of the grid are consecutive, so neighbours share B's panel.
    ///
    /// ```
    /// let g = arenaprof_gemm::partition::Grid::new(100, 8, 100, 4);
    /// assert_eq!(g.tile(0), ((0, 64), (0, 64)));
    /// assert_eq!(g.tile(3), ((64, 100), (64, 100)));
    /// ```
    pub fn tile(&self, t: usize) -> ((usize, usize), (usize, usize)) {
        let (r, c) = (t % self.rows, t / self.rows);
        let i0 = r * self.row_step;
        let j0 = c * self.col_step;
        (
            (i0, (i0 + self.row_step).min(self.m)),
            (j0, (j0 + self.col_step).min(self.n)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_exactly(g: &Grid) {
        let mut seen = vec![0u8; g.m * g.n];
        for t in 0..g.count() {
            let ((i0, i1), (j0, j1)) = g.tile(t);
            assert!(i0 < i1 && j0 < j1, "empty tile {t} in {g:?}");
            for i in i0..i1 {
                for j in j0..j1 {
                    seen[i * g.n + j] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1), "{g:?}");
    }

    #[test]
    fn grids_cover_c_once() {
        for m in [1, 2, 3, 7, 16, 17, 33, 64, 100] {
            for n in [1, 2, 5, 16, 31, 65, 128] {
                for t in 1..=9 {
                    let g = Grid::new(m, 50, n, t);
                    assert!(g.count() >= 1 && g.count() <= t);
                    covers_exactly(&g);
                }
            }
        }
    }

    #[test]
    fn shapes() {
        let g = Grid::new(1024, 1024, 1024, 2);
        assert_eq!((g.rows, g.cols), (1, 2));
        let g = Grid::new(4096, 64, 64, 2);
        assert_eq!((g.rows, g.cols), (2, 1));
        let g = Grid::new(1000, 1000, 1000, 4);
        assert_eq!(g.count(), 4);
        assert_eq!(g.row_step % 16, 0);
        let g = Grid::new(3, 10, 2, 8);
        assert_eq!(g.count(), 6);
        let g = Grid::new(1, 10, 1, 8);
        assert_eq!(g.count(), 1);
    }
}
