//! Small vectors for shapes and strides: up to 4 entries inline (a plain
//! copy to clone), more on the heap. `ndarray::IxDyn` does the same, but its
//! clone and constructors are not inlined across crates and cost more than
//! the whole registry on the view hot path.

use std::fmt;
use std::ops::{Index, IndexMut};

const INLINE: usize = 4;

/// A shape or strides vector.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Small<T: Copy + Default> {
    Inline(u8, [T; INLINE]),
    Heap(Box<[T]>),
}

/// A shape.
pub(crate) type Shape = Small<usize>;
/// Strides in elements.
pub(crate) type Strides = Small<isize>;

impl<T: Copy + Default> Small<T> {
    #[inline]
    pub(crate) fn from_slice(s: &[T]) -> Self {
        if s.len() <= INLINE {
            let mut a = [T::default(); INLINE];
            a[..s.len()].copy_from_slice(s);
            Small::Inline(s.len() as u8, a)
        } else {
            Small::Heap(s.into())
        }
    }

    #[inline]
    pub(crate) fn zeros(n: usize) -> Self {
        if n <= INLINE {
            Small::Inline(n as u8, [T::default(); INLINE])
        } else {
            Small::Heap(vec![T::default(); n].into())
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Small::Inline(n, a) => &a[..*n as usize],
            Small::Heap(b) => b,
        }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Small::Inline(n, a) => &mut a[..*n as usize],
            Small::Heap(b) => b,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Small::Inline(n, _) => *n as usize,
            Small::Heap(b) => b.len(),
        }
    }
}

impl<T: Copy + Default> Index<usize> for Small<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.as_slice()[i]
    }
}

impl<T: Copy + Default> IndexMut<usize> for Small<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.as_mut_slice()[i]
    }
}

impl<T: Copy + Default + fmt::Debug> fmt::Debug for Small<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}
