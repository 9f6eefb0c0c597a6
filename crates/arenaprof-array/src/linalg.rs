//! Matrix products, through the process-wide GEMM pool
//! ([`arenaprof_gemm::global`]): capped, pre-allocated per-worker workspaces
//! counted under [`Tag::GEMM_WORKSPACE`](arenaprof_alloc::Tag::GEMM_WORKSPACE).

use crate::array::Array;
use crate::element::Numeric;
use crate::error::ArrayError;
use arenaprof_gemm::{GemmScalar, MatMut, MatRef, Strides};
use std::panic::Location;

/// Element types with a GEMM kernel (`f32`, `f64`).
pub trait Gemm: Numeric + GemmScalar {}
impl Gemm for f64 {}
impl Gemm for f32 {}

/// The smallest slice holding every element of a `rows x cols` window at
/// `ptr` with strides `(rs, cs)`, and the strides of the window in it.
///
/// # Safety
/// Every element of the window must lie in one live allocation, and nothing
/// may write to it while the slice is used.
unsafe fn window<'a, T>(
    ptr: *const T,
    (rows, cols): (usize, usize),
    (rs, cs): (isize, isize),
) -> (&'a [T], Strides) {
    let reach = |n: usize, s: isize| s * (n as isize - 1);
    let (r, c) = (reach(rows, rs), reach(cols, cs));
    let lo = r.min(0) + c.min(0);
    let hi = r.max(0) + c.max(0);
    // SAFETY: `lo` is the offset of the window's lowest element, which lies
    // in the same allocation as `ptr`; every element up to `hi` does too
    // (the caller's contract), so the slice covers allocated, initialised
    // elements only.
    let slice = unsafe { std::slice::from_raw_parts(ptr.offset(lo), (hi - lo + 1) as usize) };
    (slice, Strides::new(rs, cs).with_offset((-lo) as usize))
}

impl<T: Gemm> Array<T> {
    /// The matrix product of two 2-D arrays (any strides: views, transposes
    /// and broadcasts are read in place), into a new `m x n` array.
    ///
    /// **Panics** on non-2-D operands or mismatched inner dimensions; see
    /// [`try_matmul`](Array::try_matmul).
    ///
    /// ```
    /// use arenaprof_array::Array;
    /// let a = Array::<f64>::arange(6).reshape(&[2, 3]);
    /// let c = a.matmul(&a.t());
    /// assert_eq!(c.to_vec(), vec![5.0, 14.0, 14.0, 50.0]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Array<T>) -> Array<T> {
        match self.try_matmul(other) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`matmul`](Array::matmul) returning an error naming both shapes.
    ///
    /// ```
    /// use arenaprof_array::Array;
    /// let a = Array::<f32>::zeros(&[2, 3]);
    /// assert!(a.try_matmul(&a).is_err());
    /// ```
    #[track_caller]
    pub fn try_matmul(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        let mismatch = || ArrayError::ShapeMismatch {
            op: "matmul",
            from: self.shape().to_vec(),
            to: other.shape().to_vec(),
        };
        let (&[m, k], &[k2, n]) = (self.shape(), other.shape()) else {
            return Err(mismatch());
        };
        if k != k2 {
            return Err(mismatch());
        }
        let mut out = Array::<T>::zeros_at(&[m, n], "matmul", site)?;
        if m == 0 || n == 0 || k == 0 {
            return Ok(out);
        }
        let (sa, sb) = (self.strides(), other.strides());
        // SAFETY: A and B are live m x k and k x n windows of their arenas;
        // arenas shared by several handles are never written in place
        // (copy-on-write), so nothing writes them during the product.
        let (a, a_strides) = unsafe { window(self.ptr.as_ptr(), (m, k), (sa[0], sa[1])) };
        // SAFETY: as above.
        let (b, b_strides) = unsafe { window(other.ptr.as_ptr(), (k, n), (sb[0], sb[1])) };
        {
            let mut c = out.view_mut()?;
            let c = c
                .as_slice_mut()
                .expect("a fresh matmul result is contiguous");
            arenaprof_gemm::global()
                .gemm(
                    T::one(),
                    MatRef::new(a, m, k, a_strides),
                    MatRef::new(b, k, n, b_strides),
                    T::default(),
                    MatMut::new(c, m, n, Strides::row_major(n)),
                )
                .map_err(ArrayError::Gemm)?;
        }
        Ok(out)
    }
}
