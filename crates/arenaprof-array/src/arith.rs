//! Elementwise arithmetic with NumPy broadcasting, maps, sums and means.
//! Every result is a new owning array in a fresh arena.

use crate::array::{alloc_buffer, checked_len, Array};
use crate::dims::{Shape, Small};
use crate::element::{Element, Numeric};
use crate::error::ArrayError;
use ndarray::{ArrayViewMutD, Axis, IxDyn, Zip};
use std::ops::{Add, Div, Mul, Sub};
use std::panic::Location;

/// The shape two operands broadcast to (NumPy's rule), if any.
///
/// ```
/// use arenaprof_array::broadcast_shape;
/// assert_eq!(broadcast_shape(&[3, 1], &[4]), Some(vec![3, 4]));
/// assert_eq!(broadcast_shape(&[3], &[4]), None);
/// ```
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    broadcast_dims(a, b).map(|s| s.as_slice().to_vec())
}

/// [`broadcast_shape`] without allocating (up to 4 axes).
pub(crate) fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Shape> {
    let n = a.len().max(b.len());
    let mut out: Shape = Small::zeros(n);
    for k in 0..n {
        let da = if k + a.len() >= n {
            a[k + a.len() - n]
        } else {
            1
        };
        let db = if k + b.len() >= n {
            b[k + b.len() - n]
        } else {
            1
        };
        out[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

impl<T: Element> Array<T> {
    /// `f` applied to every element, into a new array of the same shape.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::arange(3);
    /// assert_eq!(a.map(|x| x > 0.5).to_vec(), vec![false, true, true]);
    /// ```
    #[track_caller]
    pub fn map<U: Element>(&self, f: impl FnMut(T) -> U) -> Array<U> {
        match self.try_map(f) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`map`](Array::map) that returns an error on allocation failure.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<i32>::arange(3);
    /// assert_eq!(a.try_map(|x| x * 10).unwrap().to_vec(), vec![0, 10, 20]);
    /// ```
    #[track_caller]
    pub fn try_map<U: Element>(&self, f: impl FnMut(T) -> U) -> Result<Array<U>, ArrayError> {
        self.map_at(f, "map", Location::caller())
    }

    pub(crate) fn map_at<U: Element>(
        &self,
        mut f: impl FnMut(T) -> U,
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<U>, ArrayError> {
        let mut v = alloc_buffer::<U>(self.len())?;
        let nd = self.as_ndarray();
        match nd.as_slice() {
            Some(s) => v.extend(s.iter().map(|&x| f(x))),
            None => v.extend(nd.iter().map(|&x| f(x))),
        }
        Array::from_buffer(v, self.shape(), op, site)
    }

    /// `f(a, b)` over the broadcast shape of `self` and `other`.
    ///
    /// ```
    /// use arenaprof_array::Array;
    /// let col = Array::<f64>::arange(2).reshape(&[2, 1]);
    /// let row = Array::<f64>::arange(3);
    /// let t = col.try_zip_with(&row, |a, b| a * 10.0 + b).unwrap();
    /// assert_eq!(t.to_vec(), vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    /// ```
    #[track_caller]
    pub fn try_zip_with<U: Element, R: Element>(
        &self,
        other: &Array<U>,
        f: impl FnMut(T, U) -> R,
    ) -> Result<Array<R>, ArrayError> {
        self.zip_at(other, f, "zip_with", Location::caller())
    }

    pub(crate) fn zip_at<U: Element, R: Element>(
        &self,
        other: &Array<U>,
        mut f: impl FnMut(T, U) -> R,
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<R>, ArrayError> {
        let shape = broadcast_dims(self.shape(), other.shape()).ok_or_else(|| {
            ArrayError::ShapeMismatch {
                op,
                from: self.shape().to_vec(),
                to: other.shape().to_vec(),
            }
        })?;
        let shape = shape.as_slice();
        let n = checked_len::<R>(shape)?;
        let mut v = alloc_buffer::<R>(n)?;
        let (a, b) = (self.as_ndarray(), other.as_ndarray());
        match (a.as_slice(), b.as_slice()) {
            (Some(x), Some(y)) if a.shape() == b.shape() => {
                v.extend(x.iter().zip(y).map(|(&p, &q)| f(p, q)));
            }
            _ => {
                let a = a.broadcast(IxDyn(shape)).expect("shapes were checked");
                let b = b.broadcast(IxDyn(shape)).expect("shapes were checked");
                v.extend(a.iter().zip(b.iter()).map(|(&p, &q)| f(p, q)));
            }
        }
        Array::from_buffer(v, shape, op, site)
    }
}

impl<T: Numeric> Array<T> {
    /// Sum of all elements (zero when empty).
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<f64>::arange(5).sum(), 10.0);
    /// ```
    pub fn sum(&self) -> T {
        let nd = self.as_ndarray();
        match nd.as_slice() {
            Some(s) => s.iter().fold(T::default(), |acc, &x| acc + x),
            None => nd.iter().fold(T::default(), |acc, &x| acc + x),
        }
    }

    /// Mean of all elements, `None` when empty.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<f64>::arange(5).mean(), Some(2.0));
    /// ```
    pub fn mean(&self) -> Option<T> {
        (!self.is_empty()).then(|| self.sum() / T::from_count(self.len()))
    }

    /// Sums along `axis`, which is removed from the shape.
    ///
    /// **Panics** if `axis >= ndim` or on allocation failure; see
    /// [`try_sum_axis`](Array::try_sum_axis).
    ///
    /// ```
    /// let m = arenaprof_array::Array::<f64>::arange(6).reshape(&[2, 3]);
    /// assert_eq!(m.sum_axis(0).to_vec(), vec![3.0, 5.0, 7.0]);
    /// assert_eq!(m.sum_axis(1).to_vec(), vec![3.0, 12.0]);
    /// ```
    #[track_caller]
    pub fn sum_axis(&self, axis: usize) -> Array<T> {
        match self.try_sum_axis(axis) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`sum_axis`](Array::sum_axis) returning errors.
    ///
    /// ```
    /// let m = arenaprof_array::Array::<f64>::zeros(&[2, 3]);
    /// assert!(m.try_sum_axis(2).is_err());
    /// ```
    #[track_caller]
    pub fn try_sum_axis(&self, axis: usize) -> Result<Array<T>, ArrayError> {
        self.reduce_axis(axis, false, "sum_axis", Location::caller())
    }

    /// Means along `axis`, `None` when that axis has length zero.
    ///
    /// **Panics** if `axis >= ndim` or on allocation failure.
    ///
    /// ```
    /// let m = arenaprof_array::Array::<f64>::arange(6).reshape(&[2, 3]);
    /// assert_eq!(m.mean_axis(1).unwrap().to_vec(), vec![1.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn mean_axis(&self, axis: usize) -> Option<Array<T>> {
        if axis < self.ndim() && self.shape()[axis] == 0 {
            return None;
        }
        match self.reduce_axis(axis, true, "mean_axis", Location::caller()) {
            Ok(a) => Some(a),
            Err(e) => panic!("{e}"),
        }
    }

    fn reduce_axis(
        &self,
        axis: usize,
        mean: bool,
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<T>, ArrayError> {
        if axis >= self.ndim() {
            return Err(ArrayError::AxisOutOfBounds {
                axis,
                ndim: self.ndim(),
            });
        }
        let len = self.shape()[axis];
        let mut shape: Shape = Small::zeros(self.ndim() - 1);
        for (k, &d) in self.shape().iter().enumerate().filter(|&(k, _)| k != axis) {
            shape[k - (k > axis) as usize] = d;
        }
        let shape = shape.as_slice();
        let n = checked_len::<T>(shape)?;
        let mut v = alloc_buffer::<T>(n)?;
        v.resize(n, T::default());
        {
            let src = self.as_ndarray();
            let mut out = ArrayViewMutD::from_shape(IxDyn(shape), &mut v[..])
                .expect("the buffer has exactly the shape's element count");
            for lane in src.axis_iter(Axis(axis)) {
                Zip::from(&mut out).and(&lane).for_each(|o, &x| *o = *o + x);
            }
            if mean && len > 0 {
                let d = T::from_count(len);
                out.map_inplace(|o| *o = *o / d);
            }
        }
        Array::from_buffer(v, shape, op, site)
    }
}

macro_rules! binop {
    ($trait:ident, $method:ident, $name:literal) => {
        impl<T: Numeric> $trait<&Array<T>> for &Array<T> {
            type Output = Array<T>;
            /// Elementwise with NumPy broadcasting; a new array.
            ///
            /// **Panics** if the shapes do not broadcast (the message names
            /// both shapes) or the allocation fails.
            #[track_caller]
            fn $method(self, rhs: &Array<T>) -> Array<T> {
                match self.zip_at(rhs, |a, b| a.$method(b), $name, Location::caller()) {
                    Ok(a) => a,
                    Err(e) => panic!("{e}"),
                }
            }
        }

        impl<T: Numeric> $trait<T> for &Array<T> {
            type Output = Array<T>;
            /// Elementwise with a scalar; a new array.
            #[track_caller]
            fn $method(self, rhs: T) -> Array<T> {
                match self.map_at(|a| a.$method(rhs), $name, Location::caller()) {
                    Ok(a) => a,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    };
}

binop!(Add, add, "add");
binop!(Sub, sub, "sub");
binop!(Mul, mul, "mul");
binop!(Div, div, "div");
