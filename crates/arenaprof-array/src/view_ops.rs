//! Operations that make views: slicing, transposes, no-copy reshapes,
//! broadcasting. Each shares and pins the arena and records its parent.

use crate::array::{c_strides, checked_len, Array};
use crate::dims::{Shape, Small, Strides};
use crate::element::Element;
use crate::error::ArrayError;
use crate::op::Op;
use ndarray::SliceInfoElem;
use std::panic::Location;
use std::ptr::NonNull;

/// NumPy's C-order contiguity (axes of length 1 may have any stride).
fn is_c_contiguous(shape: &[usize], strides: &[isize]) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expect = 1isize;
    for (&d, &s) in shape.iter().zip(strides).rev() {
        if d != 1 {
            if s != expect {
                return false;
            }
            expect *= d as isize;
        }
    }
    true
}

/// NumPy's `_attempt_nocopy_reshape` for C order, in element strides: the
/// strides of `new` over the same memory, or `None` when a copy is needed.
pub(crate) fn nocopy_reshape(shape: &[usize], strides: &[isize], new: &[usize]) -> Option<Strides> {
    if is_c_contiguous(shape, strides) {
        return Some(c_strides(new));
    }
    // Inline storage only (no allocation for up to 4 axes): views must work
    // when the allocator refuses everything.
    let oldnd = shape.iter().filter(|&&d| d != 1).count();
    let mut olddims: Shape = Small::zeros(oldnd);
    let mut oldstrides: Strides = Small::zeros(oldnd);
    for (k, (&d, &s)) in shape
        .iter()
        .zip(strides)
        .filter(|(&d, _)| d != 1)
        .enumerate()
    {
        olddims[k] = d;
        oldstrides[k] = s;
    }
    let newnd = new.len();
    let mut newstrides: Strides = Small::zeros(newnd);
    let (mut oi, mut oj, mut ni, mut nj) = (0, 1, 0, 1);
    while ni < newnd && oi < oldnd {
        let mut np = new[ni];
        let mut op = olddims[oi];
        while np != op {
            if np < op {
                np *= *new.get(nj)?;
                nj += 1;
            } else {
                op *= *olddims.as_slice().get(oj)?;
                oj += 1;
            }
        }
        for ok in oi..oj - 1 {
            if oldstrides[ok] != olddims[ok + 1] as isize * oldstrides[ok + 1] {
                return None;
            }
        }
        newstrides[nj - 1] = oldstrides[oj - 1];
        for nk in (ni + 1..nj).rev() {
            newstrides[nk - 1] = newstrides[nk] * new[nk] as isize;
        }
        ni = nj;
        nj += 1;
        oi = oj;
        oj += 1;
    }
    let last = if ni >= 1 { newstrides[ni - 1] } else { 1 };
    for s in newstrides.as_mut_slice().iter_mut().skip(ni) {
        *s = last;
    }
    Some(newstrides)
}

impl<T: Element> Array<T> {
    /// A view of a slice, with [`s!`](crate::s)'s syntax and ndarray's
    /// semantics: ranges with steps (negative steps reverse the range),
    /// single indices (drop the axis), `NewAxis`. Shares and pins the arena.
    ///
    /// **Panics** where ndarray panics: a bound outside its axis, a zero
    /// step, or the wrong number of axes (the message names the axis and the
    /// bounds). [`try_slice`](Array::try_slice) returns the error instead.
    /// Unlike NumPy, out-of-range bounds are not clamped.
    ///
    /// ```
    /// use arenaprof_array::{s, Array, NewAxis};
    /// let a = Array::<f64>::arange(12).reshape(&[3, 4]);
    /// let v = a.slice(s![-1, NewAxis, ..;-2]);
    /// assert_eq!(v.shape(), &[1, 2]);
    /// assert_eq!(v.to_vec(), vec![11.0, 9.0]);
    /// ```
    #[track_caller]
    pub fn slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Array<T> {
        // Not through `try_slice`: no `Result<Array>` to move on the hot path.
        let site = Location::caller();
        let elems = info.as_ref();
        let (ptr, dim, strides) = match self.apply_slice(elems) {
            Ok(x) => x,
            Err(e) => panic!("{e}"),
        };
        self.derive(ptr, dim, strides, Op::slice(elems), site, false)
    }

    /// [`slice`](Array::slice) that returns an error naming the axis and the
    /// bounds instead of panicking.
    ///
    /// ```
    /// use arenaprof_array::{s, Array, ArrayError};
    /// let a = Array::<f64>::zeros(&[3]);
    /// assert_eq!(
    ///     a.try_slice(s![5]).unwrap_err(),
    ///     ArrayError::IndexOutOfBounds { axis: 0, index: 5, len: 3 }
    /// );
    /// ```
    #[track_caller]
    pub fn try_slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        let elems = info.as_ref();
        let (ptr, dim, strides) = self.apply_slice(elems)?;
        Ok(self.derive(ptr, dim, strides, Op::slice(elems), site, false))
    }

    /// Checks and applies slice arguments with ndarray's rules
    /// (`to_abs_slice` and `do_slice`), in one pass, returning an error that
    /// names the axis and the bounds where ndarray would panic. Like NumPy,
    /// an axis sliced to length 0 or 1 keeps `stride * step` (ndarray
    /// zeroes it). Done here rather than through an ndarray raw view because
    /// building and slicing an `IxDyn` raw view costs more than the whole
    /// registry (see `docs/array.md`); `tests::slicing_matches_ndarray`
    /// checks both agree.
    #[inline(always)]
    pub(crate) fn apply_slice(
        &self,
        elems: &[SliceInfoElem],
    ) -> Result<(NonNull<T>, Shape, Strides), ArrayError> {
        let (din, sin) = (self.shape(), self.strides());
        let (mut named, mut out_n) = (0, 0);
        for e in elems {
            named += !e.is_new_axis() as usize;
            out_n += !e.is_index() as usize;
        }
        if named != din.len() {
            return Err(ArrayError::SliceArity {
                ndim: din.len(),
                got: named,
            });
        }
        let (mut dim, mut strides) = if out_n == din.len() {
            (self.dim.clone(), self.strides.clone())
        } else {
            (Small::zeros(out_n), Small::zeros(out_n))
        };
        let (dout, sout) = (dim.as_mut_slice(), strides.as_mut_slice());
        // Absolute index of `i` on an axis of `len`, if within `0..=len`.
        let abs = |len: usize, i: isize| {
            let a = if i < 0 { len as isize + i } else { i };
            (0..=len as isize).contains(&a).then_some(a as usize)
        };
        let (mut off, mut i, mut o) = (0isize, 0, 0);
        for e in elems {
            match *e {
                SliceInfoElem::Slice { start, end, step } => {
                    let (len, s) = (din[i], sin[i]);
                    let bad = || ArrayError::SliceOutOfBounds {
                        axis: i,
                        start,
                        end,
                        len,
                    };
                    let a = abs(len, start).ok_or_else(bad)?;
                    let b = abs(len, end.unwrap_or(len as isize))
                        .ok_or_else(bad)?
                        .max(a);
                    if step == 0 {
                        return Err(ArrayError::ZeroStep { axis: i });
                    }
                    let m = b - a;
                    if m > 0 {
                        off += if step < 0 {
                            (b - 1) as isize * s
                        } else {
                            a as isize * s
                        };
                    }
                    dout[o] = match step.unsigned_abs() {
                        1 => m,
                        k => m.div_ceil(k),
                    };
                    sout[o] = s.wrapping_mul(step);
                    i += 1;
                    o += 1;
                }
                SliceInfoElem::Index(x) => {
                    let len = din[i];
                    match abs(len, x) {
                        Some(a) if a < len => off += a as isize * sin[i],
                        _ => {
                            return Err(ArrayError::IndexOutOfBounds {
                                axis: i,
                                index: x,
                                len,
                            })
                        }
                    }
                    i += 1;
                }
                SliceInfoElem::NewAxis => {
                    dout[o] = 1;
                    sout[o] = 0;
                    o += 1;
                }
            }
        }
        let ptr = NonNull::new(self.ptr.as_ptr().wrapping_offset(off)).unwrap_or(self.ptr);
        Ok((ptr, dim, strides))
    }

    /// The transpose (axes reversed): a view.
    ///
    /// ```
    /// let m = arenaprof_array::Array::<f64>::arange(6).reshape(&[2, 3]);
    /// assert_eq!((m.t().shape(), m.t().strides()), (&[3, 2][..], &[1, 3][..]));
    /// ```
    #[track_caller]
    pub fn t(&self) -> Array<T> {
        let site = Location::caller();
        let mut dim = self.dim.clone();
        let mut strides = self.strides.clone();
        dim.as_mut_slice().reverse();
        strides.as_mut_slice().reverse();
        self.derive(self.ptr, dim, strides, Op::T, site, false)
    }

    /// The axes in the order `axes` (a permutation of `0..ndim`): a view.
    ///
    /// **Panics** if `axes` is not a permutation; see
    /// [`try_permuted_axes`](Array::try_permuted_axes).
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::zeros(&[2, 3, 4]);
    /// assert_eq!(a.permuted_axes(&[2, 0, 1]).shape(), &[4, 2, 3]);
    /// ```
    #[track_caller]
    pub fn permuted_axes(&self, axes: &[usize]) -> Array<T> {
        match self.try_permuted_axes(axes) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`permuted_axes`](Array::permuted_axes) returning an error for a bad
    /// permutation.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::zeros(&[2, 3]);
    /// assert!(a.try_permuted_axes(&[0, 0]).is_err());
    /// ```
    #[track_caller]
    pub fn try_permuted_axes(&self, axes: &[usize]) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        let n = self.ndim();
        // A bit set, not a Vec: views must work when allocation fails.
        let mut seen = 0u128;
        let is_permutation = n <= 128
            && axes.len() == n
            && axes.iter().all(|&a| {
                let bit = 1u128 << a.min(127);
                let fresh = a < n && seen & bit == 0;
                seen |= bit;
                fresh
            });
        if !is_permutation {
            return Err(ArrayError::BadPermutation {
                axes: axes.to_vec(),
            });
        }
        let mut dim = Small::zeros(n);
        let mut strides = Small::zeros(n);
        for (k, &a) in axes.iter().enumerate() {
            dim[k] = self.dim[a];
            strides[k] = self.strides[a];
        }
        Ok(self.derive(self.ptr, dim, strides, Op::permute(axes), site, false))
    }

    /// `shape` over the same elements (C order): a view when NumPy's
    /// no-copy reshape succeeds, else a copy into a fresh arena.
    ///
    /// **Panics** if the element counts differ; see
    /// [`try_reshape`](Array::try_reshape).
    ///
    /// ```
    /// let m = arenaprof_array::Array::<f64>::arange(12).reshape(&[3, 4]);
    /// assert!(m.reshape(&[4, 3]).shares_memory(&m)); // contiguous: a view
    /// assert!(!m.t().reshape(&[12]).shares_memory(&m)); // transposed: a copy
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Array<T> {
        match self.try_reshape(shape) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`reshape`](Array::reshape) that returns an error on a size mismatch
    /// or allocation failure.
    ///
    /// ```
    /// let m = arenaprof_array::Array::<f64>::zeros(&[3, 4]);
    /// assert!(m.try_reshape(&[5, 2]).is_err());
    /// ```
    #[track_caller]
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        match self.reshape_at(shape, site)? {
            Some(view) => Ok(view),
            None => {
                let mut v = crate::array::alloc_buffer::<T>(self.len())?;
                v.extend(self.as_ndarray().iter().copied());
                Array::from_buffer(v, shape, "reshape", site)
            }
        }
    }

    /// A reshape that never copies (NumPy's `reshape(..., copy=False)`):
    /// an error when the strides do not allow a view.
    ///
    /// ```
    /// use arenaprof_array::{Array, ArrayError};
    /// let m = Array::<f64>::arange(12).reshape(&[3, 4]);
    /// assert!(m.reshape_view(&[2, 6]).is_ok());
    /// assert!(matches!(m.t().reshape_view(&[12]), Err(ArrayError::ReshapeNeedsCopy { .. })));
    /// ```
    #[track_caller]
    pub fn reshape_view(&self, shape: &[usize]) -> Result<Array<T>, ArrayError> {
        self.reshape_at(shape, Location::caller())?
            .ok_or_else(|| ArrayError::ReshapeNeedsCopy {
                shape: self.shape().to_vec(),
                strides: self.strides().to_vec(),
                to: shape.to_vec(),
            })
    }

    fn reshape_at(
        &self,
        shape: &[usize],
        site: &'static Location<'static>,
    ) -> Result<Option<Array<T>>, ArrayError> {
        if checked_len::<T>(shape)? != self.len() {
            return Err(ArrayError::ShapeMismatch {
                op: "reshape",
                from: self.shape().to_vec(),
                to: shape.to_vec(),
            });
        }
        Ok(
            nocopy_reshape(self.shape(), self.strides(), shape).map(|st| {
                self.derive(
                    self.ptr,
                    Small::from_slice(shape),
                    st,
                    Op::Reshape,
                    site,
                    false,
                )
            }),
        )
    }

    /// A read-only view broadcast to `shape` with NumPy's rules (trailing
    /// axes aligned; length-1 and missing axes get stride 0).
    ///
    /// ```
    /// let row = arenaprof_array::Array::<f64>::arange(3);
    /// let b = row.broadcast_to(&[2, 3]).unwrap();
    /// assert_eq!((b.strides(), b.is_read_only()), (&[0, 1][..], true));
    /// assert_eq!(b.to_vec(), vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
    /// assert!(row.broadcast_to(&[2, 4]).is_err());
    /// ```
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        // Every array's element count fits in `isize` (NumPy's rule for a
        // shape), so `len()` and copies never wrap.
        if shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .is_none_or(|n| n > isize::MAX as usize)
        {
            return Err(ArrayError::ShapeOverflow {
                shape: shape.to_vec(),
            });
        }
        let st = broadcast_strides(self.shape(), self.strides(), shape).ok_or_else(|| {
            ArrayError::ShapeMismatch {
                op: "broadcast_to",
                from: self.shape().to_vec(),
                to: shape.to_vec(),
            }
        })?;
        Ok(self.derive(
            self.ptr,
            Small::from_slice(shape),
            st,
            Op::Broadcast,
            site,
            true,
        ))
    }
}

/// Strides of `from` broadcast to `to`, or `None` when NumPy refuses.
pub(crate) fn broadcast_strides(
    from: &[usize],
    strides: &[isize],
    to: &[usize],
) -> Option<Strides> {
    if to.len() < from.len() {
        return None;
    }
    let lead = to.len() - from.len();
    let mut out: Strides = Small::zeros(to.len());
    for k in 0..from.len() {
        let (d, t) = (from[k], to[lead + k]);
        out[lead + k] = if d == t {
            strides[k]
        } else if d == 1 {
            0
        } else {
            return None;
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, ArrayD, IxDyn, NewAxis};

    #[test]
    fn slicing_matches_ndarray() {
        let nd = ArrayD::from_shape_vec(IxDyn(&[4, 5, 6]), (0..120).collect()).unwrap();
        let ours = Array::<i32>::from_ndarray(&nd);
        let (mut n, mut refused) = (0, 0);
        for a in [-4isize, -1, 0, 1, 3, 7] {
            for b in [None, Some(-2isize), Some(0), Some(2), Some(5)] {
                for step in [-3isize, -1, 1, 2, 4] {
                    for idx in [-1isize, 0, 2] {
                        let elems = [
                            SliceInfoElem::Slice {
                                start: a,
                                end: b,
                                step,
                            },
                            SliceInfoElem::NewAxis,
                            SliceInfoElem::Index(idx),
                            SliceInfoElem::Slice {
                                start: 1,
                                end: None,
                                step: -step,
                            },
                        ];
                        let Ok(got) = ours.try_slice(&elems[..]) else {
                            // We refuse exactly what ndarray panics on.
                            let nd = &nd;
                            let r = std::panic::catch_unwind(|| nd.slice(&elems[..]).len());
                            assert!(r.is_err(), "{elems:?}");
                            refused += 1;
                            continue;
                        };
                        let want = nd.slice(&elems[..]);
                        assert_eq!(got.shape(), want.shape(), "{elems:?}");
                        assert_eq!(
                            got.to_vec(),
                            want.iter().copied().collect::<Vec<_>>(),
                            "{elems:?}"
                        );
                        for (k, (&g, &w)) in got.strides().iter().zip(want.strides()).enumerate() {
                            if want.shape()[k] > 1 {
                                assert_eq!(g, w, "{elems:?} axis {k}");
                            }
                        }
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 200 && refused > 20, "{n} {refused}");
        let v = ours.slice(s![.., NewAxis, 1..;2, -1]);
        assert_eq!(v.shape(), nd.slice(s![.., NewAxis, 1..;2, -1]).shape());
    }

    #[test]
    fn nocopy_reshape_follows_numpy() {
        // a = np.arange(24).reshape(2, 3, 4); a[:, :, ::2] has strides (12, 4, 2) elements.
        assert_eq!(
            nocopy_reshape(&[2, 3, 2], &[12, 4, 2], &[6, 2]).map(|s| s.as_slice().to_vec()),
            Some(vec![4, 2])
        );
        // ... it is arange(0, 24, 2): one stride-2 axis.
        assert_eq!(
            nocopy_reshape(&[2, 3, 2], &[12, 4, 2], &[12]).map(|s| s.as_slice().to_vec()),
            Some(vec![2])
        );
        // a[:, :, :2] (strides (12, 4, 1)) cannot be flattened without a copy.
        assert_eq!(
            nocopy_reshape(&[2, 3, 2], &[12, 4, 1], &[12]).map(|s| s.as_slice().to_vec()),
            None
        );
        assert_eq!(
            nocopy_reshape(&[2, 3, 2], &[12, 4, 1], &[6, 2]).map(|s| s.as_slice().to_vec()),
            Some(vec![4, 1])
        );
        // Transposed 3x4 (strides (1, 3)): only reshapes that keep axes apart.
        assert_eq!(
            nocopy_reshape(&[4, 3], &[1, 4], &[12]).map(|s| s.as_slice().to_vec()),
            None
        );
        assert_eq!(
            nocopy_reshape(&[4, 3], &[1, 4], &[2, 2, 3]).map(|s| s.as_slice().to_vec()),
            Some(vec![2, 1, 4])
        );
        assert_eq!(
            nocopy_reshape(&[4, 3], &[1, 4], &[4, 1, 3]).map(|s| s.as_slice().to_vec()),
            Some(vec![1, 12, 4])
        );
        // Trailing ones take the last stride.
        assert_eq!(
            nocopy_reshape(&[3], &[2], &[3, 1]).map(|s| s.as_slice().to_vec()),
            Some(vec![2, 2])
        );
    }
}
