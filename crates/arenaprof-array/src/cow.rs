//! Writes, copy-on-write: a handle that shares its arena with another live
//! handle first moves its elements to a private arena, and the registry
//! records the copy (from, to, bytes, site).

use crate::array::{Array, IS_VIEW};
use crate::element::Element;
use crate::error::ArrayError;
use crate::store;
use ndarray::{ArrayViewMutD, Axis, IxDyn, RawArrayViewMut, ShapeBuilder};
use std::panic::Location;

impl<T: Element> Array<T> {
    /// Makes this handle the only one on its arena, copying if it is shared.
    fn make_unique(&mut self, site: &'static Location<'static>) -> Result<(), ArrayError> {
        if self.is_read_only() {
            return Err(ArrayError::ReadOnly);
        }
        let Some(arena) = self.arena.as_ref() else {
            return Ok(()); // no elements: nothing to write
        };
        // `&mut self`: no other thread can copy this handle meanwhile.
        if store::refs(arena.key) == 1 {
            return Ok(());
        }
        let from = arena.key.id;
        let copy = self.copy_as("cow", site)?;
        let to = copy.arena_id().unwrap_or(0);
        let bytes = copy.len() as u64 * std::mem::size_of::<T>() as u64;
        store::record_cow(from, to, bytes, site);
        *self = copy;
        self.flags &= !IS_VIEW;
        Ok(())
    }

    /// Sets one element. Copies first if the arena is shared (see
    /// [`view_mut`](Array::view_mut)).
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::zeros(&[4]);
    /// let mut v = a.slice(s![1..3]);
    /// v.set(&[0], 5.0).unwrap();            // a is alive: v gets its own arena
    /// assert_eq!(a.to_vec(), vec![0.0; 4]);
    /// assert_eq!(v.to_vec(), vec![5.0, 0.0]);
    /// assert_ne!(v.arena_id(), a.arena_id());
    /// ```
    #[track_caller]
    pub fn set(&mut self, index: &[usize], value: T) -> Result<(), ArrayError> {
        let site = Location::caller();
        self.offset_of(index)?;
        self.make_unique(site)?;
        let off = self.offset_of(index)?;
        // SAFETY: `off` was bounds-checked against this window, which lies in
        // an arena that this handle alone holds (`make_unique`), and `&mut
        // self` excludes any borrowed view.
        unsafe { *self.ptr.as_ptr().offset(off) = value };
        Ok(())
    }

    /// Sets every element to `value` (copy-on-write like [`set`](Array::set)).
    ///
    /// ```
    /// let mut a = arenaprof_array::Array::<i32>::zeros(&[3]);
    /// a.fill(7).unwrap();
    /// assert_eq!(a.to_vec(), vec![7, 7, 7]);
    /// ```
    #[track_caller]
    pub fn fill(&mut self, value: T) -> Result<(), ArrayError> {
        let site = Location::caller();
        self.view_mut_at(site)?.fill(value);
        Ok(())
    }

    /// Applies `f` to every element in place (copy-on-write like
    /// [`set`](Array::set)).
    ///
    /// ```
    /// let mut a = arenaprof_array::Array::<f64>::arange(3);
    /// a.map_inplace(|x| *x *= 2.0).unwrap();
    /// assert_eq!(a.to_vec(), vec![0.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn map_inplace(&mut self, f: impl FnMut(&mut T)) -> Result<(), ArrayError> {
        let site = Location::caller();
        self.view_mut_at(site)?.map_inplace(f);
        Ok(())
    }

    /// A mutable ndarray view of this handle's elements.
    ///
    /// If another live handle shares the arena, the elements are first
    /// copied to a new arena that this handle owns (copy-on-write; recorded
    /// in the registry with this call's site and the bytes copied), so other
    /// handles never see the write. Unlike NumPy, writing to a view does not
    /// write through to its base. Read-only arrays
    /// ([`broadcast_to`](Array::broadcast_to)) give [`ArrayError::ReadOnly`].
    ///
    /// ```
    /// let mut a = arenaprof_array::Array::<f64>::zeros(&[2, 2]);
    /// a.view_mut().unwrap()[[1, 1]] = 3.0;
    /// assert_eq!(a.get(&[1, 1]), Some(3.0));
    /// ```
    #[track_caller]
    pub fn view_mut(&mut self) -> Result<ArrayViewMutD<'_, T>, ArrayError> {
        self.view_mut_at(Location::caller())
    }

    fn view_mut_at(
        &mut self,
        site: &'static Location<'static>,
    ) -> Result<ArrayViewMutD<'_, T>, ArrayError> {
        self.make_unique(site)?;
        let nonempty = !self.is_empty();
        let mut abs = IxDyn::zeros(self.ndim());
        let mut low = self.ptr.as_ptr();
        for k in 0..self.ndim() {
            let s = self.strides[k];
            abs[k] = s.unsigned_abs();
            if s < 0 && nonempty {
                // SAFETY: index dim-1 along this axis is inside the arena.
                low = unsafe { low.offset(s * (self.dim[k] as isize - 1)) };
            }
        }
        // SAFETY: the window lies in an arena this handle alone holds (or is
        // empty with a dangling pointer); strides are non-negative and, as
        // the array is not read-only, no two indices alias.
        let mut raw =
            unsafe { RawArrayViewMut::from_shape_ptr(IxDyn(self.shape()).strides(abs), low) };
        if nonempty {
            for k in 0..self.ndim() {
                if self.strides[k] < 0 {
                    raw.invert_axis(Axis(k));
                }
            }
        }
        // SAFETY: as above; the view borrows `self` mutably for its lifetime.
        Ok(unsafe { raw.deref_into_view_mut() })
    }
}
