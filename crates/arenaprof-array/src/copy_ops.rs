//! Operations that always copy into a fresh arena (NumPy's advanced
//! indexing and `copy()`): the result pins nothing of its source.

use crate::array::{alloc_buffer, Array};
use crate::element::Element;
use crate::error::ArrayError;
use ndarray::{ArrayViewMutD, Axis, IxDyn};
use std::panic::Location;

impl<T: Element> Array<T> {
    /// A copy in a fresh arena, C order: drops the pin on the source arena
    /// (NumPy's `copy()`). This is the fix the registry suggests for views
    /// that keep a large arena alive.
    ///
    /// **Panics** if the allocation fails; see
    /// [`try_to_owned`](Array::try_to_owned).
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let big = Array::<f64>::arange(1_000);
    /// let small = big.slice(s![..10]).to_owned();
    /// assert!(!small.is_view() && !small.shares_memory(&big));
    /// assert_ne!(small.arena_id(), big.arena_id());
    /// ```
    #[track_caller]
    pub fn to_owned(&self) -> Array<T> {
        match self.try_to_owned() {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`to_owned`](Array::to_owned) that returns an error on allocation failure.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f32>::ones(&[3]);
    /// assert_eq!(a.try_to_owned().unwrap().to_vec(), vec![1.0; 3]);
    /// ```
    #[track_caller]
    pub fn try_to_owned(&self) -> Result<Array<T>, ArrayError> {
        self.copy_as("to_owned", Location::caller())
    }

    /// Copies the elements (logical order) into a new owning array.
    pub(crate) fn copy_as(
        &self,
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<T>, ArrayError> {
        let mut v = alloc_buffer::<T>(self.len())?;
        let nd = self.as_ndarray();
        match nd.as_slice() {
            Some(s) => v.extend_from_slice(s),
            None => v.extend(nd.iter().copied()),
        }
        Array::from_buffer(v, self.shape(), op, site)
    }

    /// The entries `indices` along `axis`, copied (NumPy's
    /// `take(indices, axis)` / `a[[0, 2]]`).
    ///
    /// **Panics** on a bad axis or index; see [`try_select`](Array::try_select).
    ///
    /// ```
    /// let m = arenaprof_array::Array::<i32>::arange(6).reshape(&[3, 2]);
    /// let c = m.select(0, &[2, 0]);
    /// assert_eq!(c.to_vec(), vec![4, 5, 0, 1]);
    /// assert!(!c.shares_memory(&m));
    /// ```
    #[track_caller]
    pub fn select(&self, axis: usize, indices: &[usize]) -> Array<T> {
        match self.try_select(axis, indices) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`select`](Array::select) returning an error naming the axis and the
    /// bad index.
    ///
    /// ```
    /// let m = arenaprof_array::Array::<i32>::zeros(&[3, 2]);
    /// assert!(m.try_select(1, &[2]).is_err());
    /// ```
    #[track_caller]
    pub fn try_select(&self, axis: usize, indices: &[usize]) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        if axis >= self.ndim() {
            return Err(ArrayError::AxisOutOfBounds {
                axis,
                ndim: self.ndim(),
            });
        }
        let len = self.shape()[axis];
        if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
            return Err(ArrayError::IndexOutOfBounds {
                axis,
                index: bad as isize,
                len,
            });
        }
        let mut shape = self.dim.clone();
        shape[axis] = indices.len();
        let shape = shape.as_slice();
        let n = crate::array::checked_len::<T>(shape)?;
        let mut v = alloc_buffer::<T>(n)?;
        v.resize(n, T::default());
        {
            let src = self.as_ndarray();
            let mut out = ArrayViewMutD::from_shape(IxDyn(shape), &mut v[..])
                .expect("the buffer has exactly the shape's element count");
            for (j, &i) in indices.iter().enumerate() {
                out.index_axis_mut(Axis(axis), j)
                    .assign(&src.index_axis(Axis(axis), i));
            }
        }
        Array::from_buffer(v, shape, "select", site)
    }

    /// The elements where `mask` is true, in logical order, as a new 1-D
    /// array (NumPy's `a[b]` with a boolean array of the same shape).
    ///
    /// **Panics** if the shapes differ; see [`try_mask`](Array::try_mask).
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::arange(5);
    /// let k = a.mask(&a.map(|x| x > 2.0));
    /// assert_eq!(k.to_vec(), vec![3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn mask(&self, mask: &Array<bool>) -> Array<T> {
        match self.try_mask(mask) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`mask`](Array::mask) returning an error on a shape mismatch.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::arange(5);
    /// assert!(a.try_mask(&arenaprof_array::Array::<bool>::zeros(&[4])).is_err());
    /// ```
    #[track_caller]
    pub fn try_mask(&self, mask: &Array<bool>) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        if mask.shape() != self.shape() {
            return Err(ArrayError::ShapeMismatch {
                op: "mask",
                from: self.shape().to_vec(),
                to: mask.shape().to_vec(),
            });
        }
        let m = mask.as_ndarray();
        let n = m.iter().filter(|&&b| b).count();
        let mut v = alloc_buffer::<T>(n)?;
        v.extend(
            self.as_ndarray()
                .iter()
                .zip(m.iter())
                .filter(|(_, &b)| b)
                .map(|(&x, _)| x),
        );
        Array::from_buffer(v, &[n], "mask", site)
    }
}
