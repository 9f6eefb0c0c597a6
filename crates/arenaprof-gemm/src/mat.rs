//! Matrix references: what a GEMM reads ([`MatRef`]) and writes
//! ([`MatMut`]). Each is a borrowed buffer with a shape and [`Strides`],
//! made from a slice or from an ndarray 2-D view; [`GemmPool::gemm`]
//! validates each one once (bounds, and for C no overlap) before reading.
//!
//! ```
//! use arenaprof_gemm::{MatMut, MatRef};
//! let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let a = MatRef::row_major(&a, 2, 3); // 2 x 3
//! assert_eq!((a.rows(), a.cols()), (2, 3));
//! assert_eq!(a.t().shape(), (3, 2));   // the transpose, no copy
//! let mut c = [0.0; 4];
//! let c = MatMut::row_major(&mut c, 2, 2);
//! assert_eq!(c.shape(), (2, 2));
//! ```
//!
//! [`GemmPool::gemm`]: crate::GemmPool::gemm

use crate::operand::Strides;
use std::marker::PhantomData;

/// A borrowed `rows x cols` matrix to read: element `(i, j)` is
/// `data[strides.index(i, j)]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    ptr: *const T,
    len: usize,
    rows: usize,
    cols: usize,
    strides: Strides,
    _data: PhantomData<&'a [T]>,
}

/// A borrowed `rows x cols` matrix to write (the GEMM's C).
#[derive(Debug)]
pub struct MatMut<'a, T> {
    ptr: *mut T,
    len: usize,
    rows: usize,
    cols: usize,
    strides: Strides,
    _data: PhantomData<&'a mut [T]>,
}

// SAFETY: a `MatRef` is a shared borrow of `T`s (`&'a [T]`): it may cross
// or be shared between threads exactly when `&[T]` may, i.e. `T: Sync`.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}
// SAFETY: a `MatMut` is an exclusive borrow (`&'a mut [T]`): Send when `T`
// is, Sync when `T` is (it hands out no `&mut` through `&self`).
unsafe impl<T: Send> Send for MatMut<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatMut<'_, T> {}

impl<'a, T> MatRef<'a, T> {
    /// `rows x cols` in `data` with `strides` (or `(row, col)`,
    /// `(row, col, offset)`); checked when used.
    ///
    /// ```
    /// let d = [1.0f32, 2.0, 3.0, 4.0];
    /// let m = arenaprof_gemm::MatRef::new(&d, 2, 2, (1, 2)); // column-major
    /// assert_eq!(m.strides().index(0, 1), 2);
    /// ```
    pub fn new(data: &'a [T], rows: usize, cols: usize, strides: impl Into<Strides>) -> Self {
        MatRef {
            ptr: data.as_ptr(),
            len: data.len(),
            rows,
            cols,
            strides: strides.into(),
            _data: PhantomData,
        }
    }

    /// Row-major (C order) `rows x cols` in `data`.
    ///
    /// ```
    /// let m = arenaprof_gemm::MatRef::row_major(&[0.0f64; 6], 2, 3);
    /// assert_eq!(m.strides(), arenaprof_gemm::Strides::row_major(3));
    /// ```
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, Strides::row_major(cols))
    }

    /// Column-major (Fortran order) `rows x cols` in `data`.
    ///
    /// ```
    /// let m = arenaprof_gemm::MatRef::col_major(&[0.0f64; 6], 2, 3);
    /// assert_eq!(m.strides(), arenaprof_gemm::Strides::col_major(2));
    /// ```
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, Strides::col_major(rows))
    }

    /// The transpose (same data, strides swapped).
    ///
    /// ```
    /// let m = arenaprof_gemm::MatRef::row_major(&[0.0f64; 6], 2, 3).t();
    /// assert_eq!(m.shape(), (3, 2));
    /// ```
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            strides: self.strides.t(),
            ..self
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Strides, in elements.
    pub fn strides(&self) -> Strides {
        self.strides
    }

    pub(crate) fn raw(&self) -> (*const T, usize) {
        (self.ptr, self.len)
    }
}

impl<'a, T> MatMut<'a, T> {
    /// `rows x cols` in `data` with `strides`; checked when used (no
    /// element may be reached twice).
    ///
    /// ```
    /// let mut d = [0.0f32; 4];
    /// let m = arenaprof_gemm::MatMut::new(&mut d, 2, 2, (2, 1));
    /// assert_eq!(m.shape(), (2, 2));
    /// ```
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, strides: impl Into<Strides>) -> Self {
        MatMut {
            ptr: data.as_mut_ptr(),
            len: data.len(),
            rows,
            cols,
            strides: strides.into(),
            _data: PhantomData,
        }
    }

    /// Row-major (C order) `rows x cols` in `data`.
    ///
    /// ```
    /// let mut d = [0.0f64; 6];
    /// assert_eq!(arenaprof_gemm::MatMut::row_major(&mut d, 3, 2).shape(), (3, 2));
    /// ```
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, Strides::row_major(cols))
    }

    /// Column-major (Fortran order) `rows x cols` in `data`.
    ///
    /// ```
    /// let mut d = [0.0f64; 6];
    /// assert_eq!(arenaprof_gemm::MatMut::col_major(&mut d, 3, 2).strides().col, 3);
    /// ```
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, Strides::col_major(rows))
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Strides, in elements.
    pub fn strides(&self) -> Strides {
        self.strides
    }

    pub(crate) fn raw(&mut self) -> (*mut T, usize) {
        (self.ptr, self.len)
    }
}

/// The lowest element's offset from element (0, 0) and the span in elements
/// of an ndarray view's elements: `(offset of (0, 0) from the lowest, len)`.
fn span(dim: (usize, usize), strides: &[isize]) -> (usize, usize) {
    let (rows, cols) = dim;
    if rows == 0 || cols == 0 {
        return (0, 0);
    }
    let last_r = (rows - 1) as isize * strides[0];
    let last_c = (cols - 1) as isize * strides[1];
    let lo = last_r.min(0) + last_c.min(0);
    let hi = last_r.max(0) + last_c.max(0);
    ((-lo) as usize, (hi - lo) as usize + 1)
}

impl<'a, T> From<ndarray::ArrayView2<'a, T>> for MatRef<'a, T> {
    /// The view's elements, shape and strides (any sign); no copy.
    ///
    /// ```
    /// let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    /// let m: arenaprof_gemm::MatRef<'_, f64> = a.t().into();
    /// assert_eq!(m.strides().index(0, 1), 2);
    /// ```
    fn from(v: ndarray::ArrayView2<'a, T>) -> Self {
        let (off, len) = span(v.dim(), v.strides());
        MatRef {
            // (0, 0) minus `off` elements is the view's lowest element, in
            // the view's allocation; pointer arithmetic only (wrapping).
            ptr: v.as_ptr().wrapping_sub(off),
            len,
            rows: v.nrows(),
            cols: v.ncols(),
            strides: Strides::new(v.strides()[0], v.strides()[1]).with_offset(off),
            _data: PhantomData,
        }
    }
}

impl<'a, T> From<ndarray::ArrayViewMut2<'a, T>> for MatMut<'a, T> {
    /// The view's elements, shape and strides (any sign); no copy.
    ///
    /// ```
    /// let mut c = ndarray::Array2::<f64>::zeros((2, 2));
    /// let m: arenaprof_gemm::MatMut<'_, f64> = c.view_mut().into();
    /// assert_eq!(m.shape(), (2, 2));
    /// ```
    fn from(mut v: ndarray::ArrayViewMut2<'a, T>) -> Self {
        let (off, len) = span(v.dim(), v.strides());
        let (rows, cols) = v.dim();
        let strides = Strides::new(v.strides()[0], v.strides()[1]).with_offset(off);
        MatMut {
            ptr: v.as_mut_ptr().wrapping_sub(off),
            len,
            rows,
            cols,
            strides,
            _data: PhantomData,
        }
    }
}
