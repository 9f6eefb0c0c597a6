//! The element types ([`GemmScalar`]: f32 and f64), the block sizes a
//! workspace affords ([`Blocks`]), and the loop that runs one tile of C on
//! single-threaded matrixmultiply, tiled further in K and N when the
//! workspace is smaller than matrixmultiply's full packing buffer.

use crate::sizing::{packing_bytes, round_up, ALIGN_SLACK, KC, MC, NC, PANEL};

pub(crate) use sealed::DType;

mod sealed {
    /// Element type of a GEMM job.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum DType {
        F32,
        F64,
    }

    /// What the pool needs from an element type; implemented for f32 and f64
    /// only. Names carry an `ap_` prefix so they do not collide with users'
    /// own traits in generic code.
    pub trait Sealed: Copy + Send + Sync + PartialEq + 'static {
        const AP_DTYPE: DType;
        const AP_ZERO: Self;
        const AP_ONE: Self;
        fn ap_to_f64(self) -> f64;
        fn ap_from_f64(x: f64) -> Self;
        /// matrixmultiply's entry point for this type.
        ///
        /// # Safety
        /// As `matrixmultiply::dgemm`: every element of A, B and C reachable
        /// through the shape and strides is valid, C's elements do not alias.
        unsafe fn ap_mm(
            dims: (usize, usize, usize),
            alpha: Self,
            a: super::Mat<Self>,
            b: super::Mat<Self>,
            beta: Self,
            c: super::Mat<Self>,
        );
    }
}

/// An element type the pool multiplies: `f32` or `f64` (sealed).
///
/// ```
/// fn square<T: arenaprof_gemm::GemmScalar>(_: T) {}
/// square(1.0f32);
/// square(1.0f64);
/// ```
pub trait GemmScalar: sealed::Sealed {}
impl GemmScalar for f32 {}
impl GemmScalar for f64 {}

impl sealed::Sealed for f32 {
    const AP_DTYPE: DType = DType::F32;
    const AP_ZERO: f32 = 0.0;
    const AP_ONE: f32 = 1.0;
    fn ap_to_f64(self) -> f64 {
        self as f64
    }
    fn ap_from_f64(x: f64) -> f32 {
        x as f32
    }
    unsafe fn ap_mm(
        (m, k, n): (usize, usize, usize),
        alpha: f32,
        a: Mat<f32>,
        b: Mat<f32>,
        beta: f32,
        c: Mat<f32>,
    ) {
        let c_ptr = c.ptr as *mut f32;
        // SAFETY: `ap_mm`'s contract (see the trait) is matrixmultiply's,
        // and our caller upholds it.
        unsafe {
            matrixmultiply::sgemm(
                m, k, n, alpha, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c_ptr, c.rs, c.cs,
            )
        }
    }
}

impl sealed::Sealed for f64 {
    const AP_DTYPE: DType = DType::F64;
    const AP_ZERO: f64 = 0.0;
    const AP_ONE: f64 = 1.0;
    fn ap_to_f64(self) -> f64 {
        self
    }
    fn ap_from_f64(x: f64) -> f64 {
        x
    }
    unsafe fn ap_mm(
        (m, k, n): (usize, usize, usize),
        alpha: f64,
        a: Mat<f64>,
        b: Mat<f64>,
        beta: f64,
        c: Mat<f64>,
    ) {
        let c_ptr = c.ptr as *mut f64;
        // SAFETY: `ap_mm`'s contract (see the trait) is matrixmultiply's,
        // and our caller upholds it.
        unsafe {
            matrixmultiply::dgemm(
                m, k, n, alpha, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c_ptr, c.rs, c.cs,
            )
        }
    }
}

/// Block sizes a workspace affords for one element type. matrixmultiply is
/// called on pieces of at most `kc` deep, `nc` wide and (when `mc < 64`)
/// `mc` tall, so its packing buffer fits the workspace.
///
/// ```
/// use arenaprof_gemm::{sizing::FULL_WORKSPACE, Blocks};
/// let b = Blocks::for_region(8, FULL_WORKSPACE).unwrap();
/// assert_eq!((b.kc, b.mc, b.nc, b.full), (256, 64, 1024, true));
/// let b = Blocks::for_region(8, 1 << 20).unwrap();
/// assert_eq!((b.kc, b.mc, b.nc, b.full), (256, 64, 432, false));
/// assert!(Blocks::for_region(8, 0).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocks {
    /// Depth of a piece (matrixmultiply's `kc` is 256).
    pub kc: usize,
    /// Rows of a piece when below 64; 64 means "not tiled in M".
    pub mc: usize,
    /// Width of a piece (matrixmultiply's `nc` is 1024).
    pub nc: usize,
    /// matrixmultiply's own blocks fit: a tile is one call, not tiled at all.
    pub full: bool,
}

impl Blocks {
    /// The largest blocks whose packing buffer (with [`ALIGN_SLACK`]) fits in
    /// `region` bytes for elements of `elem_size` bytes, preferring depth
    /// (`kc`) over width (`nc`); `None` when not even a 16 x 1 x 16 piece fits.
    pub fn for_region(elem_size: usize, region: usize) -> Option<Blocks> {
        let elems = region.checked_sub(ALIGN_SLACK)? / elem_size.max(1);
        if elems >= KC * (MC + NC) {
            return Some(Blocks {
                kc: KC,
                mc: MC,
                nc: NC,
                full: true,
            });
        }
        let mut kc = KC;
        while kc >= 1 {
            let per_k = elems / kc;
            if per_k >= MC + 64 {
                let nc = ((per_k - MC) / PANEL * PANEL).min(NC);
                return Some(Blocks {
                    kc,
                    mc: MC,
                    nc,
                    full: false,
                });
            }
            kc /= 2;
        }
        let kc = (elems / (2 * PANEL)).min(KC);
        (kc >= 1).then_some(Blocks {
            kc,
            mc: PANEL,
            nc: PANEL,
            full: false,
        })
    }

    /// Packing-buffer bytes of the largest piece (without the slack).
    ///
    /// ```
    /// let b = arenaprof_gemm::Blocks::for_region(8, 1 << 20).unwrap();
    /// assert_eq!(b.packing_bytes(8), 8 * 256 * (64 + 432));
    /// ```
    pub fn packing_bytes(&self, elem_size: usize) -> usize {
        packing_bytes(elem_size, self.mc, self.kc, self.nc)
    }
}

/// One matrix operand as raw parts: element (0, 0) and strides. (`pub` only
/// because the sealed scalar trait names it; this module is private.)
#[derive(Clone, Copy, Debug)]
pub struct Mat<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

impl<T> Mat<T> {
    /// Pointer to element `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` is an element of the validated matrix, so the offset stays in
    /// its slice (and `i * rs`, `j * cs` fit in `isize`).
    #[inline]
    pub unsafe fn at(&self, i: usize, j: usize) -> *const T {
        // SAFETY: per the contract, the element lies in the same slice.
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }
}

/// The rows `i0..i1` and columns `j0..j1` of C that one worker computes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tile {
    pub rows: (usize, usize),
    pub cols: (usize, usize),
}

/// One product `C ← α A B + β C` of depth `k`, as validated operands.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Product<T> {
    pub k: usize,
    pub alpha: T,
    pub a: Mat<T>,
    pub b: Mat<T>,
    pub beta: T,
    pub c: Mat<T>,
}

/// What a tile cost: kernel calls and the packing bytes they asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TileCost {
    pub calls: u64,
    pub packing_bytes: u64,
}

/// Computes `C[i0..i1, j0..j1] ← α A[i0..i1, :] B[:, j0..j1] + β C[..]` with
/// single-threaded matrixmultiply, in pieces that fit `blocks` (one call when
/// `blocks` is full or `None`).
///
/// # Safety
/// `a` (m x k), `b` (k x n) and `c` (m x n) are validated operands of one
/// call whose buffers outlive this function; `i0 < i1 <= m`, `j0 < j1 <= n`,
/// `k > 0`; no other thread writes `C[i0..i1, j0..j1]` meanwhile.
pub(crate) unsafe fn run_tile<T: GemmScalar>(
    blocks: Option<Blocks>,
    tile: Tile,
    product: Product<T>,
) -> TileCost {
    let Tile {
        rows: (i0, i1),
        cols: (j0, j1),
    } = tile;
    let Product {
        k,
        alpha,
        a,
        b,
        beta,
        c,
    } = product;
    let es = std::mem::size_of::<T>();
    let (m, n) = (i1 - i0, j1 - j0);
    let mut cost = TileCost::default();
    let blocks = match blocks {
        Some(bl) if !bl.full => bl,
        _ => {
            cost.calls = 1;
            cost.packing_bytes = packing_bytes(es, m, k, n) as u64;
            if prefer_transposed::<T>(&a, &b) {
                // Cᵀ = Bᵀ Aᵀ: the same products, with B in matrixmultiply's
                // A role. The full-size workspace holds either orientation's
                // packing buffer (its formula is symmetric up to min(·, 64)).
                // SAFETY: as below; the transposed views address exactly the
                // same elements of the same tile.
                unsafe {
                    T::ap_mm(
                        (n, k, m),
                        alpha,
                        Mat {
                            ptr: b.at(0, j0),
                            rs: b.cs,
                            cs: b.rs,
                        },
                        Mat {
                            ptr: a.at(i0, 0),
                            rs: a.cs,
                            cs: a.rs,
                        },
                        beta,
                        Mat {
                            ptr: c.at(i0, j0),
                            rs: c.cs,
                            cs: c.rs,
                        },
                    )
                };
                return cost;
            }
            // SAFETY: the tile's corner elements are inside the validated
            // operands; matrixmultiply reads A and B and writes this tile of C.
            unsafe {
                T::ap_mm(
                    (m, k, n),
                    alpha,
                    Mat {
                        ptr: a.at(i0, 0),
                        rs: a.rs,
                        cs: a.cs,
                    },
                    Mat {
                        ptr: b.at(0, j0),
                        rs: b.rs,
                        cs: b.cs,
                    },
                    beta,
                    Mat {
                        ptr: c.at(i0, j0),
                        rs: c.rs,
                        cs: c.cs,
                    },
                )
            };
            return cost;
        }
    };
    let mstep = if blocks.mc >= MC { m } else { blocks.mc };
    let mut j = j0;
    while j < j1 {
        let nj = blocks.nc.min(j1 - j);
        let mut p = 0;
        while p < k {
            let kp = blocks.kc.min(k - p);
            let beta_p = if p == 0 { beta } else { T::AP_ONE };
            let mut i = i0;
            while i < i1 {
                let mi = mstep.min(i1 - i);
                // SAFETY: (i, p), (p, j) and (i, j) are elements of the
                // validated operands (i < i1 <= m, p < k, j < j1 <= n); the
                // piece lies inside this worker's tile of C.
                unsafe {
                    T::ap_mm(
                        (mi, kp, nj),
                        alpha,
                        Mat {
                            ptr: a.at(i, p),
                            rs: a.rs,
                            cs: a.cs,
                        },
                        Mat {
                            ptr: b.at(p, j),
                            rs: b.rs,
                            cs: b.cs,
                        },
                        beta_p,
                        Mat {
                            ptr: c.at(i, j),
                            rs: c.rs,
                            cs: c.cs,
                        },
                    )
                };
                cost.calls += 1;
                cost.packing_bytes += packing_bytes(es, mi, kp, nj) as u64;
                i += mi;
            }
            p += kp;
        }
        j += nj;
    }
    cost
}

/// Whether to hand matrixmultiply `Cᵀ = Bᵀ Aᵀ` instead of `C = A B`.
///
/// matrixmultiply repacks its A operand for every 64-row block and every
/// 1024 columns, its B operand once; packing reads `MR` rows of A side by side
/// at stride `rs`. With row-major f64 operands (A's rows `k` apart, B's
/// columns adjacent) the transposed problem packs B's contiguous rows
/// repeatedly instead, and measured 10-25% faster for f64 at 2048 and 4096 on
/// the project's AVX-512 machine (f32 showed no difference, so it keeps the
/// direct form). Only used with full blocks: the transposed call's packing
/// buffer fits the full-size workspace, not a tiled one.
fn prefer_transposed<T: GemmScalar>(a: &Mat<T>, b: &Mat<T>) -> bool {
    T::AP_DTYPE == DType::F64 && a.rs.unsigned_abs() != 1 && b.cs.unsigned_abs() == 1
}

/// `C ← β C` (with `β = 0` writing zeros, so NaN in C is overwritten, as BLAS
/// does). Used when `k == 0` or `α == 0`.
///
/// # Safety
/// `c` is a validated `m x n` operand, exclusively borrowed by the caller.
pub(crate) unsafe fn scale_c<T: GemmScalar>(m: usize, n: usize, beta: T, c: Mat<T>) {
    for i in 0..m {
        for j in 0..n {
            // SAFETY: (i, j) is an element of the validated, exclusively
            // borrowed C.
            unsafe {
                let p = c.at(i, j) as *mut T;
                *p = if beta == T::AP_ZERO {
                    T::AP_ZERO
                } else {
                    T::ap_from_f64((*p).ap_to_f64() * beta.ap_to_f64())
                };
            }
        }
    }
}

/// Rows per tile step rounded to whole kernel panels when that keeps tiles.
pub(crate) fn panel_step(len: usize, parts: usize) -> usize {
    let step = len.div_ceil(parts.max(1)).max(1);
    if step >= PANEL {
        round_up(step, PANEL)
    } else {
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::{EFFICIENT_WORKSPACE, FULL_WORKSPACE};

    #[test]
    fn blocks_fit_their_region() {
        for es in [4usize, 8] {
            for region in (0..3000).map(|i| i * 811) {
                if let Some(b) = Blocks::for_region(es, region) {
                    assert!(
                        b.packing_bytes(es) + ALIGN_SLACK <= region,
                        "{es} {region} {b:?}"
                    );
                    assert!(b.kc >= 1 && b.nc >= 1 && b.mc >= 1);
                }
            }
        }
        assert!(Blocks::for_region(8, FULL_WORKSPACE).unwrap().full);
        assert!(Blocks::for_region(4, FULL_WORKSPACE / 2 + 32).unwrap().full);
        let e = Blocks::for_region(8, EFFICIENT_WORKSPACE).unwrap();
        assert_eq!((e.kc, e.nc), (256, 256));
        assert!(!Blocks::for_region(8, FULL_WORKSPACE - 64).unwrap().full);
    }

    #[test]
    fn tiled_pieces_match_one_call() {
        // Every tiling path, including the mc < 64 one that only regions
        // below the pool's minimum would pick, against an exact integer product.
        let (m, k, n) = (37usize, 70usize, 41usize);
        let a: Vec<f64> = (0..m * k).map(|x| (x % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x % 5) as f64 - 2.0).collect();
        let mut want = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                want[i * n + j] =
                    (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f64>() * 2.0 + 1.0;
            }
        }
        let shapes = [
            None,
            Some(Blocks {
                kc: 3,
                mc: 16,
                nc: 16,
                full: false,
            }),
            Some(Blocks {
                kc: 64,
                mc: 64,
                nc: 16,
                full: false,
            }),
            Some(Blocks {
                kc: 1,
                mc: 16,
                nc: 32,
                full: false,
            }),
        ];
        for blocks in shapes {
            let mut c = vec![1.0; m * n];
            let (am, bm) = (
                Mat {
                    ptr: a.as_ptr(),
                    rs: k as isize,
                    cs: 1,
                },
                Mat {
                    ptr: b.as_ptr(),
                    rs: n as isize,
                    cs: 1,
                },
            );
            let cm = Mat {
                ptr: c.as_mut_ptr() as *const f64,
                rs: n as isize,
                cs: 1,
            };
            for (rows, cols) in [
                ((0, 20), (0, 41)),
                ((20, 37), (0, 30)),
                ((20, 37), (30, 41)),
            ] {
                // SAFETY: all three matrices are dense row-major and fully
                // inside their vectors; tiles are disjoint.
                unsafe {
                    run_tile::<f64>(
                        blocks,
                        Tile { rows, cols },
                        Product {
                            k,
                            alpha: 2.0,
                            a: am,
                            b: bm,
                            beta: 1.0,
                            c: cm,
                        },
                    )
                };
            }
            assert_eq!(c, want, "{blocks:?}");
        }
    }

    #[test]
    fn steps() {
        assert_eq!(panel_step(1024, 2), 512);
        assert_eq!(panel_step(1000, 3), 336);
        assert_eq!(panel_step(5, 2), 3);
        assert_eq!(panel_step(0, 2), 1);
    }
}
