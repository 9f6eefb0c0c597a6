//! [`Array`]: a handle on a window of an arena, with its constructors and
//! the read-only accessors.

use crate::dims::{Shape, Small, Strides};
use crate::element::Element;
use crate::error::ArrayError;
use crate::op::Op;
use crate::registry;
use crate::store::{self, ArenaKey, Geometry, ViewKey, NONE};
use crate::warn;
use crate::worst;
use arenaprof_alloc::Tag;
use arenaprof_snapshot::{footprint, Layout};
use ndarray::{ArrayViewD, Axis, Dimension, IxDyn, RawArrayView, ShapeBuilder};
use std::fmt;
use std::mem::{size_of, ManuallyDrop};
use std::ops::Deref;
use std::panic::Location;
use std::ptr::NonNull;

/// One base buffer. Freed (with its record) when its last handle goes.
pub(crate) struct Arena<T> {
    pub(crate) ptr: NonNull<T>,
    len: usize,
    cap: usize,
    pub(crate) key: ArenaKey,
}

impl<T> Drop for Arena<T> {
    fn drop(&mut self) {
        // SAFETY: ptr, len and cap come from a `Vec<T>` taken apart in
        // `Array::from_buffer`; this is the only place that frees it.
        drop(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, self.cap) });
    }
}

/// A counted handle on an [`Arena`], like an `Arc` whose count is the
/// arena record's `refs` in the registry: it is changed under the shard
/// lock that registering or dropping a view takes anyway, which saves the
/// two atomic read-modify-writes an `Arc` clone and drop would add to every
/// view. Made by [`ArenaRef::new`] (count 0) and counted by
/// [`store::register_view`] (each handle registers a view, recorded or
/// not); [`Array`]'s drop releases its view and its count in one
/// [`store::release`]; a handle dropped on its own releases its count.
pub(crate) struct ArenaRef<T> {
    boxed: NonNull<Arena<T>>,
}

// SAFETY: an arena is a uniquely owned buffer of `T` (like `Vec<T>`), freed
// once by the handle that takes its count to 0 (the count changes under the
// shard lock); handles only read it through `&` unless their count is the
// only one (checked with `store::refs`, under that lock, by a handle
// borrowed `&mut`), so sharing handles across threads is as safe as sharing
// `Arc<[T]>`.
unsafe impl<T: Send + Sync> Send for ArenaRef<T> {}
// SAFETY: see `Send` above.
unsafe impl<T: Send + Sync> Sync for ArenaRef<T> {}

impl<T> ArenaRef<T> {
    /// Boxes the arena (untracked: the box is registry bookkeeping); the
    /// count starts at 0 and the owner's view registration takes it to 1.
    fn new(arena: Arena<T>) -> ArenaRef<T> {
        let b = arenaprof_alloc::untracked(|| Box::new(arena));
        ArenaRef {
            boxed: NonNull::from(Box::leak(b)),
        }
    }

    /// Another handle: the caller has just counted it in the registry
    /// (`store::register_view` on this arena).
    #[inline]
    fn counted_copy(&self) -> ArenaRef<T> {
        ArenaRef { boxed: self.boxed }
    }

    /// Frees the arena after its count reached 0 (once, by that releaser).
    #[cold]
    fn free(self) {
        let ptr = self.boxed;
        std::mem::forget(self);
        // SAFETY: the count reached 0 in this handle's release: no other
        // handle exists, none can be made, and the box came from
        // `ArenaRef::new`.
        let b = unsafe { Box::from_raw(ptr.as_ptr()) };
        let key = b.key;
        worst::changed(store::remove_arena(key));
        drop(b);
    }

    /// Releases this handle's count, and `view`'s record if any; frees the
    /// arena if it was the last handle. Returns the handles left.
    #[inline]
    fn release(self, view: Option<ViewKey>) -> u32 {
        let (waste, left) = store::release(self.key, view);
        worst::changed(waste);
        if left == 0 {
            self.free();
        } else {
            std::mem::forget(self);
        }
        left
    }
}

impl<T> Deref for ArenaRef<T> {
    type Target = Arena<T>;
    #[inline]
    fn deref(&self) -> &Arena<T> {
        // SAFETY: this handle's count keeps the box alive (see `free`).
        unsafe { self.boxed.as_ref() }
    }
}

impl<T> Drop for ArenaRef<T> {
    fn drop(&mut self) {
        let h = ArenaRef { boxed: self.boxed };
        h.release(None);
    }
}

pub(crate) const IS_VIEW: u8 = 1;
pub(crate) const READ_ONLY: u8 = 2;

/// An n-dimensional array: a strided window on an *arena* (a base buffer)
/// that it shares with every view derived from it.
///
/// **A shared handle, like ndarray's `ArcArray`** (not ndarray's owned
/// `Array`): `clone()` is a view that shares and pins the arena, and a write
/// through a handle whose arena is shared copies first (copy-on-write), so a
/// write never shows through another handle.
///
/// Views ([`slice`](Array::slice), [`t`](Array::t),
/// [`permuted_axes`](Array::permuted_axes), [`reshape`](Array::reshape) when
/// strides allow, [`broadcast_to`](Array::broadcast_to), `clone`) pin the
/// whole arena, exactly like NumPy's `view.base`; copies
/// ([`to_owned`](Array::to_owned), [`select`](Array::select),
/// [`mask`](Array::mask), arithmetic) get a fresh arena. Every arena and view
/// is recorded in the [`registry`](crate::registry) with the file:line:col
/// that made it.
///
/// ```
/// use arenaprof_array::{s, Array};
/// let a = Array::<f64>::arange(12).reshape(&[3, 4]);
/// let v = a.slice(s![1.., ..;2]);
/// assert!(v.is_view() && v.shares_memory(&a));
/// assert_eq!(v.shape(), &[2, 2]);
/// assert_eq!(v.strides(), &[4, 2]);
/// assert_eq!(v.to_vec(), vec![4.0, 6.0, 8.0, 10.0]);
/// ```
pub struct Array<T: Element> {
    pub(crate) ptr: NonNull<T>,
    pub(crate) dim: Shape,
    /// Strides in elements.
    pub(crate) strides: Strides,
    pub(crate) arena: Option<ArenaRef<T>>,
    pub(crate) view: Option<ViewKey>,
    pub(crate) flags: u8,
}

// SAFETY: an `Array` is a counted handle of a `Send + Sync` arena plus a
// pointer into it; reads go through `&self`, writes need `&mut self` and the
// only handle (`store::refs` is 1).
unsafe impl<T: Element> Send for Array<T> {}
// SAFETY: see `Send` above.
unsafe impl<T: Element> Sync for Array<T> {}

/// C-order strides in elements, NumPy's way (a zero-length axis counts as 1).
pub(crate) fn c_strides(shape: &[usize]) -> Strides {
    let mut st = Small::zeros(shape.len());
    let mut acc = 1usize;
    for k in (0..shape.len()).rev() {
        st[k] = acc as isize;
        acc = acc.wrapping_mul(shape[k].max(1));
    }
    st
}

/// Element count of `shape`, checked against `isize::MAX` bytes.
pub(crate) fn checked_len<T>(shape: &[usize]) -> Result<usize, ArrayError> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| {
            n.checked_mul(size_of::<T>().max(1))
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or_else(|| ArrayError::ShapeOverflow {
            shape: shape.to_vec(),
        })
}

/// An empty `Vec` with room for exactly `len` elements, allocated under
/// [`Tag::ARRAY_BASE`]; `Err` (never an abort) when the allocator refuses.
pub(crate) fn alloc_buffer<T>(len: usize) -> Result<Vec<T>, ArrayError> {
    let mut v = Vec::new();
    let _tag = Tag::ARRAY_BASE.enter();
    v.try_reserve_exact(len).map_err(|_| ArrayError::Alloc {
        bytes: len.saturating_mul(size_of::<T>()),
    })?;
    Ok(v)
}

/// Moves `v`'s buffer under [`Tag::ARRAY_BASE`] without copying its
/// elements: a same-size `realloc` under that tag, which jemalloc serves in
/// place. If the allocator refuses, `v` is returned as it was.
fn adopt<T>(v: Vec<T>) -> Vec<T> {
    let cap = v.capacity();
    let Ok(layout) = std::alloc::Layout::array::<T>(cap) else {
        return v;
    };
    if layout.size() == 0 {
        return v;
    }
    let mut v = ManuallyDrop::new(v);
    let (ptr, len) = (v.as_mut_ptr(), v.len());
    let p = {
        let _tag = Tag::ARRAY_BASE.enter();
        // SAFETY: `ptr` was allocated by the global allocator with `layout`
        // (a `Vec<T>`'s buffer of capacity `cap`), and the new size is that
        // layout's non-zero size.
        unsafe { std::alloc::realloc(ptr.cast(), layout, layout.size()) }
    };
    if p.is_null() {
        // SAFETY: a refused realloc leaves the old block as it was.
        return unsafe { Vec::from_raw_parts(ptr, len, cap) };
    }
    // SAFETY: `p` holds the same `len` initialised elements in a block of
    // `layout`, the layout of `[T; cap]`.
    unsafe { Vec::from_raw_parts(p.cast(), len, cap) }
}

/// Like [`alloc_buffer`] but zero-filled by the allocator (`alloc_zeroed`,
/// so untouched pages stay unmapped) and of length `len`.
fn alloc_zeroed_buffer<T: Element>(len: usize) -> Result<Vec<T>, ArrayError> {
    if len == 0 || size_of::<T>() == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| ArrayError::Alloc {
        bytes: len.saturating_mul(size_of::<T>()),
    })?;
    let p = {
        let _tag = Tag::ARRAY_BASE.enter();
        // SAFETY: the layout has a non-zero size (len > 0, T not zero-sized).
        unsafe { std::alloc::alloc_zeroed(layout) }
    };
    if p.is_null() {
        return Err(ArrayError::Alloc {
            bytes: layout.size(),
        });
    }
    // SAFETY: `p` was allocated by the global allocator with the layout of
    // `[T; len]`, and all-zero bytes are a valid `T` for every `Element`
    // (integers, floats, bool).
    Ok(unsafe { Vec::from_raw_parts(p.cast::<T>(), len, len) })
}

impl<T: Element> Array<T> {
    /// Wraps a filled buffer from [`alloc_buffer`] as a new owning array in
    /// C order. Fails (freeing the buffer) only if the registry cannot grow
    /// its table for the arena's record.
    pub(crate) fn from_buffer(
        vec: Vec<T>,
        shape: &[usize],
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<T>, ArrayError> {
        let dim = Small::from_slice(shape);
        let strides = c_strides(shape);
        debug_assert_eq!(vec.len(), shape.iter().product::<usize>());
        if vec.is_empty() || size_of::<T>() == 0 {
            return Ok(Array::empty(dim, strides, 0));
        }
        registry::ensure_contributor();
        let key = store::register_arena(
            (vec.capacity() * size_of::<T>()) as u64,
            T::NAME,
            size_of::<T>() as u64,
            shape,
            op,
            site,
        )
        .ok_or(ArrayError::Alloc {
            bytes: size_of::<store::ArenaRec>(),
        })?;
        let mut v = ManuallyDrop::new(vec);
        let (len, cap) = (v.len(), v.capacity());
        let ptr = NonNull::new(v.as_mut_ptr()).expect("a non-empty Vec has a non-null buffer");
        let arena = ArenaRef::new(Arena { ptr, len, cap, key });
        // Without a record (the registry could not grow) the owner still
        // works; it is counted in `RegistryStats::unrecorded_views`.
        let view = store::register_view(
            key,
            NONE,
            Op::Owner(op),
            site,
            true,
            Geometry {
                dim: &dim,
                strides: &strides,
                offset: 0,
                elem_size: size_of::<T>() as u64,
            },
        );
        Ok(Array {
            ptr,
            dim,
            strides,
            arena: Some(arena),
            view,
            flags: 0,
        })
    }

    /// A handle with no elements: it pins nothing and is not registered.
    pub(crate) fn empty(dim: Shape, strides: Strides, flags: u8) -> Array<T> {
        Array {
            ptr: NonNull::dangling(),
            dim,
            strides,
            arena: None,
            view: None,
            flags,
        }
    }

    /// A new view of this array's arena with the given window.
    #[inline(always)]
    pub(crate) fn derive(
        &self,
        ptr: NonNull<T>,
        dim: Shape,
        strides: Strides,
        op: Op,
        site: &'static Location<'static>,
        read_only: bool,
    ) -> Array<T> {
        let flags = IS_VIEW
            | if read_only || self.is_read_only() {
                READ_ONLY
            } else {
                0
            };
        let Some(arena) = &self.arena else {
            return Array::empty(dim, strides, flags);
        };
        if dim.as_slice().contains(&0) {
            return Array::empty(dim, strides, flags);
        }
        let parent = self.view.map_or(NONE, |v| v.slot);
        // SAFETY: `ptr` was derived from this array's pointer by ndarray's
        // in-bounds slicing or by a permutation, so it lies in the arena.
        let offset = unsafe { ptr.as_ptr().offset_from(arena.ptr.as_ptr()) };
        let view = store::register_view(
            arena.key,
            parent,
            op,
            site,
            false,
            Geometry {
                dim: &dim,
                strides: &strides,
                offset,
                elem_size: size_of::<T>() as u64,
            },
        );
        Array {
            ptr,
            dim,
            strides,
            arena: Some(arena.counted_copy()),
            view,
            flags,
        }
    }

    /// This array as a raw ndarray view (negative strides included).
    pub(crate) fn raw_view(&self) -> RawArrayView<T, IxDyn> {
        let nonempty = !self.is_empty();
        let n = self.ndim();
        let mut abs = IxDyn::zeros(n);
        let mut low = self.ptr.as_ptr() as *const T;
        let mut flip = false;
        for k in 0..n {
            let s = self.strides[k];
            abs[k] = s.unsigned_abs();
            if s < 0 && nonempty {
                flip = true;
                // SAFETY: the element at index dim-1 along this axis is
                // inside the arena (the array is non-empty).
                low = unsafe { low.offset(s * (self.dim[k] as isize - 1)) };
            }
        }
        // SAFETY: `low` is the lowest element of a window that lies inside a
        // live arena (or a dangling pointer for an empty array), and `abs`
        // are non-negative strides that keep every element inside it.
        let mut raw =
            unsafe { RawArrayView::from_shape_ptr(IxDyn(self.shape()).strides(abs), low) };
        if flip {
            for k in 0..n {
                if self.strides[k] < 0 {
                    raw.invert_axis(Axis(k));
                }
            }
        }
        raw
    }

    #[track_caller]
    fn unwrap_or_panic(r: Result<Array<T>, ArrayError>) -> Array<T> {
        match r {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    /// An array of zeros (the allocator zeroes the pages lazily).
    ///
    /// **Panics** if the allocation fails; see [`try_zeros`](Array::try_zeros).
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::zeros(&[2, 3]);
    /// assert_eq!(a.to_vec(), vec![0.0; 6]);
    /// ```
    #[track_caller]
    pub fn zeros(shape: &[usize]) -> Array<T> {
        Self::unwrap_or_panic(Self::try_zeros(shape))
    }

    /// [`zeros`](Array::zeros) that returns an error when the allocator
    /// refuses the buffer.
    ///
    /// ```
    /// use arenaprof_array::{Array, ArrayError};
    /// let e = Array::<f64>::try_zeros(&[usize::MAX, 2]).unwrap_err();
    /// assert!(matches!(e, ArrayError::ShapeOverflow { .. }));
    /// ```
    #[track_caller]
    pub fn try_zeros(shape: &[usize]) -> Result<Array<T>, ArrayError> {
        Self::zeros_at(shape, "zeros", Location::caller())
    }

    /// Zeros recorded under another constructor name.
    pub(crate) fn zeros_at(
        shape: &[usize],
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<T>, ArrayError> {
        let len = checked_len::<T>(shape)?;
        let v = alloc_zeroed_buffer::<T>(len)?;
        Self::from_buffer(v, shape, op, site)
    }

    /// An array of ones.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<i32>::ones(&[3]).to_vec(), vec![1, 1, 1]);
    /// ```
    #[track_caller]
    pub fn ones(shape: &[usize]) -> Array<T> {
        Self::unwrap_or_panic(Self::try_ones(shape))
    }

    /// [`ones`](Array::ones) that returns an error on allocation failure.
    ///
    /// ```
    /// assert!(arenaprof_array::Array::<u8>::try_ones(&[4]).is_ok());
    /// ```
    #[track_caller]
    pub fn try_ones(shape: &[usize]) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        Self::filled(shape, T::one(), "ones", site)
    }

    /// An array with every element `value`.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::full(&[2], 7u16).to_vec(), vec![7, 7]);
    /// ```
    #[track_caller]
    pub fn full(shape: &[usize], value: T) -> Array<T> {
        Self::unwrap_or_panic(Self::try_full(shape, value))
    }

    /// [`full`](Array::full) that returns an error on allocation failure.
    ///
    /// ```
    /// assert!(arenaprof_array::Array::try_full(&[2], 1.5f32).is_ok());
    /// ```
    #[track_caller]
    pub fn try_full(shape: &[usize], value: T) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        Self::filled(shape, value, "full", site)
    }

    fn filled(
        shape: &[usize],
        value: T,
        op: &'static str,
        site: &'static Location<'static>,
    ) -> Result<Array<T>, ArrayError> {
        let len = checked_len::<T>(shape)?;
        let mut v = alloc_buffer::<T>(len)?;
        v.resize(len, value);
        Self::from_buffer(v, shape, op, site)
    }

    /// `[0, 1, ..., n-1]`, one-dimensional.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<f64>::arange(3).to_vec(), vec![0.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn arange(n: usize) -> Array<T> {
        Self::unwrap_or_panic(Self::try_arange(n))
    }

    /// [`arange`](Array::arange) that returns an error on allocation failure.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<u32>::try_arange(2).unwrap().to_vec(), vec![0, 1]);
    /// ```
    #[track_caller]
    pub fn try_arange(n: usize) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        checked_len::<T>(&[n])?;
        let mut v = alloc_buffer::<T>(n)?;
        v.extend((0..n).map(T::from_index));
        Self::from_buffer(v, &[n], "arange", site)
    }

    /// An array of `shape` holding `data` in C (row-major) order.
    ///
    /// `data`'s buffer becomes the arena without copying the elements. It is
    /// handed to the allocator once more at the same size under
    /// [`Tag::ARRAY_BASE`] (an in-place `realloc`: jemalloc keeps the block,
    /// the tracker moves its bytes to that tag), so the tag counts every
    /// arena byte, and only arena bytes. Spare capacity stays part of the
    /// arena (and shows as wasted in the registry).
    ///
    /// **Panics** if `data.len()` does not match the shape or the allocation
    /// fails; see [`try_from_vec`](Array::try_from_vec).
    ///
    /// ```
    /// let m = arenaprof_array::Array::from_vec(&[2, 2], vec![1, 2, 3, 4]);
    /// assert_eq!(m.get(&[1, 0]), Some(3));
    /// ```
    #[track_caller]
    pub fn from_vec(shape: &[usize], data: Vec<T>) -> Array<T> {
        Self::unwrap_or_panic(Self::try_from_vec(shape, data))
    }

    /// [`from_vec`](Array::from_vec) that returns an error on a length
    /// mismatch or allocation failure.
    ///
    /// ```
    /// use arenaprof_array::{Array, ArrayError};
    /// let e = Array::try_from_vec(&[2, 2], vec![1.0; 3]).unwrap_err();
    /// assert_eq!(e, ArrayError::LenMismatch { expected: 4, got: 3 });
    /// ```
    #[track_caller]
    pub fn try_from_vec(shape: &[usize], data: Vec<T>) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        let len = checked_len::<T>(shape)?;
        if len != data.len() {
            return Err(ArrayError::LenMismatch {
                expected: len,
                got: data.len(),
            });
        }
        Self::from_buffer(adopt(data), shape, "from_vec", site)
    }

    /// Takes an owned ndarray array without copying when it is in standard
    /// (C) order from the start of its buffer, as `ndarray::Array::zeros` and
    /// `from_shape_vec` make them; otherwise copies it in logical order.
    /// Adopted buffers keep the tag they were allocated under, like
    /// [`from_vec`](Array::from_vec).
    ///
    /// ```
    /// let nd = ndarray::Array2::<f64>::ones((2, 3));
    /// let p = nd.as_ptr();
    /// let a = arenaprof_array::Array::from_ndarray_owned(nd);
    /// assert_eq!((a.shape(), a.as_ndarray().as_ptr()), (&[2, 3][..], p)); // same buffer
    /// ```
    #[track_caller]
    pub fn from_ndarray_owned<D: Dimension>(a: ndarray::Array<T, D>) -> Array<T> {
        Self::unwrap_or_panic(Self::try_from_ndarray_owned(a))
    }

    /// [`from_ndarray_owned`](Array::from_ndarray_owned) that returns an
    /// error on allocation failure.
    ///
    /// ```
    /// let nd = ndarray::Array1::<f32>::zeros(4);
    /// assert!(arenaprof_array::Array::try_from_ndarray_owned(nd).is_ok());
    /// ```
    #[track_caller]
    pub fn try_from_ndarray_owned<D: Dimension>(
        a: ndarray::Array<T, D>,
    ) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        if !a.is_standard_layout() {
            let mut v = alloc_buffer::<T>(a.len())?;
            v.extend(a.iter().copied());
            return Self::from_buffer(v, a.shape(), "from_ndarray", site);
        }
        let shape = Small::from_slice(a.shape());
        let len = a.len();
        let (v, offset) = a.into_raw_vec_and_offset();
        if offset.unwrap_or(0) == 0 && v.len() == len {
            return Self::from_buffer(adopt(v), shape.as_slice(), "from_ndarray", site);
        }
        let start = offset.unwrap_or(0);
        let mut copy = alloc_buffer::<T>(len)?;
        copy.extend_from_slice(&v[start..start + len]);
        drop(v);
        Self::from_buffer(copy, shape.as_slice(), "from_ndarray", site)
    }

    /// A copy of an ndarray array or view (any dimensionality), in logical
    /// order. To move an owned ndarray array in without a copy, use
    /// [`from_ndarray_owned`](Array::from_ndarray_owned).
    ///
    /// ```
    /// let nd = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    /// let a = arenaprof_array::Array::from_ndarray(&nd.t());
    /// assert_eq!(a.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn from_ndarray<D: Dimension>(a: &ndarray::ArrayRef<T, D>) -> Array<T> {
        Self::unwrap_or_panic(Self::try_from_ndarray(a))
    }

    /// [`from_ndarray`](Array::from_ndarray) that returns an error on
    /// allocation failure.
    ///
    /// ```
    /// let nd = ndarray::Array2::<f32>::zeros((2, 2));
    /// assert!(arenaprof_array::Array::try_from_ndarray(&nd).is_ok());
    /// ```
    #[track_caller]
    pub fn try_from_ndarray<D: Dimension>(
        a: &ndarray::ArrayRef<T, D>,
    ) -> Result<Array<T>, ArrayError> {
        let site = Location::caller();
        let mut v = alloc_buffer::<T>(a.len())?;
        match a.as_slice() {
            Some(s) => v.extend_from_slice(s),
            None => v.extend(a.iter().copied()),
        }
        Self::from_buffer(v, a.shape(), "from_ndarray", site)
    }

    /// The shape.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<f64>::zeros(&[2, 5]).shape(), &[2, 5]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        self.dim.as_slice()
    }

    /// Strides in elements (negative for reversed axes, zero for broadcast
    /// axes), like NumPy's `strides` divided by the item size.
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::zeros(&[3, 4]);
    /// assert_eq!(a.strides(), &[4, 1]);
    /// assert_eq!(a.slice(s![..;-1, ..;2]).strides(), &[-4, 2]);
    /// ```
    pub fn strides(&self) -> &[isize] {
        self.strides.as_slice()
    }

    /// Number of axes.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<f64>::zeros(&[2, 3, 4]).ndim(), 3);
    /// ```
    pub fn ndim(&self) -> usize {
        self.dim.len()
    }

    /// Number of elements.
    ///
    /// ```
    /// assert_eq!(arenaprof_array::Array::<f64>::zeros(&[2, 3]).len(), 6);
    /// ```
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether the array has no elements (it then pins no arena).
    ///
    /// ```
    /// assert!(arenaprof_array::Array::<f64>::zeros(&[2, 0]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this array is a view of another array's arena (NumPy's
    /// `base is not None`); `false` for an owning array or a copy.
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::zeros(&[4]);
    /// assert!(!a.is_view());
    /// assert!(a.slice(s![1..]).is_view());
    /// assert!(!a.slice(s![1..]).to_owned().is_view());
    /// ```
    pub fn is_view(&self) -> bool {
        self.flags & IS_VIEW != 0
    }

    /// Whether writes are refused (views made by
    /// [`broadcast_to`](Array::broadcast_to) and views of them).
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::zeros(&[3]);
    /// assert!(!a.is_read_only() && a.broadcast_to(&[2, 3]).unwrap().is_read_only());
    /// ```
    pub fn is_read_only(&self) -> bool {
        self.flags & READ_ONLY != 0
    }

    /// Id of the arena this array pins, `None` when it has no elements (empty
    /// arrays pin nothing).
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::zeros(&[4]);
    /// assert_eq!(a.slice(s![1..]).arena_id(), a.arena_id());
    /// assert_eq!(a.slice(s![1..1]).arena_id(), None);
    /// ```
    pub fn arena_id(&self) -> Option<u64> {
        self.arena.as_ref().map(|a| a.key.id)
    }

    /// Id of this handle's view record in the registry (`None` for an
    /// empty array).
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::zeros(&[3]);
    /// assert_ne!(a.view_id(), a.clone().view_id());
    /// ```
    pub fn view_id(&self) -> Option<u64> {
        self.view.map(|v| v.id)
    }

    /// This array's window on its arena, in elements (offset from the start
    /// of the arena); `None` when it pins no arena.
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::arange(10);
    /// let l = a.slice(s![2..;3]).layout().unwrap();
    /// assert_eq!((l.offset, l.shape, l.strides, l.elem_size), (2, vec![3], vec![3], 8));
    /// ```
    pub fn layout(&self) -> Option<Layout> {
        let arena = self.arena.as_ref()?;
        // SAFETY: `ptr` points into `arena` (see `derive`).
        let offset = unsafe { self.ptr.as_ptr().offset_from(arena.ptr.as_ptr()) };
        Some(Layout {
            offset: offset as i64,
            shape: self.shape().to_vec(),
            strides: self.strides().to_vec(),
            elem_size: size_of::<T>() as u64,
        })
    }

    /// Whether the two arrays have at least one element in common (exact,
    /// like NumPy's `shares_memory`; the work is bounded by the runs of
    /// their footprints, see [`footprint`](arenaprof_snapshot::footprint)).
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::arange(10);
    /// assert!(!a.slice(s![..;2]).shares_memory(&a.slice(s![1..;2])));
    /// assert!(a.slice(s![..;2]).may_share_memory(&a.slice(s![1..;2])));
    /// ```
    pub fn shares_memory(&self, other: &Array<T>) -> bool {
        match (self.same_arena_layouts(other), self.len().min(other.len())) {
            (Some((a, b)), n) if n > 0 => footprint::overlaps(&a, &b),
            _ => false,
        }
    }

    /// Whether the two arrays' memory bounds overlap (like NumPy's
    /// `may_share_memory`): `false` means they certainly share nothing.
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::arange(10);
    /// assert!(!a.slice(s![..5]).may_share_memory(&a.slice(s![5..])));
    /// ```
    pub fn may_share_memory(&self, other: &Array<T>) -> bool {
        match self.same_arena_layouts(other) {
            Some((a, b)) => footprint::may_overlap(&a, &b),
            None => false,
        }
    }

    fn same_arena_layouts(&self, other: &Array<T>) -> Option<(Layout, Layout)> {
        if self.arena_id()? != other.arena_id()? {
            return None;
        }
        Some((self.layout()?, other.layout()?))
    }

    /// A zero-copy ndarray view of the same elements.
    ///
    /// ```
    /// use arenaprof_array::{s, Array};
    /// let a = Array::<f64>::arange(6).reshape(&[2, 3]);
    /// let t = a.t();
    /// let nd: ndarray::ArrayViewD<f64> = t.as_ndarray();
    /// assert_eq!(nd[[2, 1]], 5.0);
    /// ```
    pub fn as_ndarray(&self) -> ArrayViewD<'_, T> {
        // SAFETY: the window lies inside a live arena that `self` keeps
        // alive for the returned lifetime; nobody can write it meanwhile
        // (writes need `&mut self` and a unique arena).
        unsafe { self.raw_view().deref_into_view() }
    }

    /// The elements in logical (row-major) order.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<i64>::arange(6).reshape(&[2, 3]);
    /// assert_eq!(a.t().to_vec(), vec![0, 3, 1, 4, 2, 5]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        let v = self.as_ndarray();
        match v.as_slice() {
            Some(s) => s.to_vec(),
            None => v.iter().copied().collect(),
        }
    }

    /// The element at `index`, `None` when out of bounds.
    ///
    /// ```
    /// let a = arenaprof_array::Array::<f64>::arange(4);
    /// assert_eq!((a.get(&[3]), a.get(&[4])), (Some(3.0), None));
    /// ```
    pub fn get(&self, index: &[usize]) -> Option<T> {
        self.as_ndarray().get(index).copied()
    }

    /// Pointer offset (in elements) of `index`, checked.
    pub(crate) fn offset_of(&self, index: &[usize]) -> Result<isize, ArrayError> {
        if index.len() != self.ndim() {
            return Err(ArrayError::SliceArity {
                ndim: self.ndim(),
                got: index.len(),
            });
        }
        let mut off = 0isize;
        for (axis, (&i, (&d, &s))) in index
            .iter()
            .zip(self.shape().iter().zip(self.strides()))
            .enumerate()
        {
            if i >= d {
                return Err(ArrayError::IndexOutOfBounds {
                    axis,
                    index: i as isize,
                    len: d,
                });
            }
            off += i as isize * s;
        }
        Ok(off)
    }
}

impl<T: Element> Clone for Array<T> {
    /// Another handle on the same elements: a view (op `clone()`) that pins
    /// the arena like any other. Use [`to_owned`](Array::to_owned) for a copy.
    #[track_caller]
    fn clone(&self) -> Self {
        let site = Location::caller();
        let mut c = self.derive(
            self.ptr,
            self.dim.clone(),
            self.strides.clone(),
            Op::Clone,
            site,
            false,
        );
        c.flags = (self.flags & READ_ONLY) | IS_VIEW;
        c
    }
}

impl<T: Element> Drop for Array<T> {
    fn drop(&mut self) {
        if let Some(arena) = self.arena.take() {
            let key = arena.key;
            let left = arena.release(self.view);
            if left > 0 && self.view.is_some() && warn::enabled() {
                warn::check(key);
            }
        }
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .field("arena", &self.arena_id())
            .field("view", &self.view_id())
            .field("is_view", &self.is_view())
            .field("data", &self.as_ndarray())
            .finish()
    }
}
