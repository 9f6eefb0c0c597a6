//! Matrix products. The kernels are matrixmultiply's, called through
//! `gemm_f64` and `gemm_f32` (the one place to switch to
//! `arenaprof-gemm` later); their packing buffers are counted under
//! [`Tag::GEMM_WORKSPACE`](arenaprof_alloc::Tag::GEMM_WORKSPACE).

use crate::array::Array;
use crate::element::Numeric;
use crate::error::ArrayError;
use arenaprof_alloc::Tag;
use std::panic::Location;

/// `C = A B` for `m x k` A and `k x n` B, strides in elements, C fully
/// overwritten.
///
/// # Safety
/// Every element reached from `a`, `b` and `c` by the given dims and strides
/// must be valid (reads for A and B, writes for C), and C's strides must not
/// alias two elements.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_f64(
    m: usize,
    k: usize,
    n: usize,
    a: *const f64,
    (rsa, csa): (isize, isize),
    b: *const f64,
    (rsb, csb): (isize, isize),
    c: *mut f64,
    (rsc, csc): (isize, isize),
) {
    let _tag = Tag::GEMM_WORKSPACE.enter();
    // SAFETY: forwarded from this function's contract.
    unsafe { matrixmultiply::dgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, csc) }
}

/// The `f32` twin of [`gemm_f64`].
///
/// # Safety
/// As [`gemm_f64`].
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_f32(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    (rsa, csa): (isize, isize),
    b: *const f32,
    (rsb, csb): (isize, isize),
    c: *mut f32,
    (rsc, csc): (isize, isize),
) {
    let _tag = Tag::GEMM_WORKSPACE.enter();
    // SAFETY: forwarded from this function's contract.
    unsafe { matrixmultiply::sgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, csc) }
}

/// Element types with a GEMM kernel (`f32`, `f64`).
pub trait Gemm: Numeric {
    /// `C = A B`, see the module docs.
    ///
    /// # Safety
    /// Every element reached from `a`, `b` and `c` by the dims and strides
    /// must be valid, and C's strides must not alias two elements.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const Self,
        sa: (isize, isize),
        b: *const Self,
        sb: (isize, isize),
        c: *mut Self,
        sc: (isize, isize),
    );
}

impl Gemm for f64 {
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const f64,
        sa: (isize, isize),
        b: *const f64,
        sb: (isize, isize),
        c: *mut f64,
        sc: (isize, isize),
    ) {
        // SAFETY: forwarded from the trait's contract.
        unsafe { gemm_f64(m, k, n, a, sa, b, sb, c, sc) }
    }
}

impl Gemm for f32 {
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        sa: (isize, isize),
        b: *const f32,
        sb: (isize, isize),
        c: *mut f32,
        sc: (isize, isize),
    ) {
        // SAFETY: forwarded from the trait's contract.
        unsafe { gemm_f32(m, k, n, a, sa, b, sb, c, sc) }
    }
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
        {
            let mut c = out.view_mut()?;
            let cp = c.as_mut_ptr();
            // SAFETY: A and B are live windows of m x k and k x n elements
            // with these strides; C is a fresh, unshared C-ordered m x n buffer.
            unsafe {
                T::gemm(
                    m,
                    k,
                    n,
                    self.ptr.as_ptr(),
                    (sa[0], sa[1]),
                    other.ptr.as_ptr(),
                    (sb[0], sb[1]),
                    cp,
                    (n as isize, 1),
                )
            };
        }
        Ok(out)
    }
}
