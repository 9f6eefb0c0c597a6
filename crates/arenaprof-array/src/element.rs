//! Element types an [`Array`](crate::Array) can hold.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Sub};

mod private {
    pub trait Sealed {}
}

/// A plain-data element: copyable, thread-safe, and zero when all its bytes
/// are zero (so `zeros` can take lazily zeroed pages from the allocator).
///
/// Implemented for the primitive integers, `f32`, `f64` and `bool`; sealed.
///
/// ```
/// use arenaprof_array::Element;
/// assert_eq!(<f64 as Element>::NAME, "f64");
/// assert_eq!(f32::from_index(3), 3.0);
/// ```
pub trait Element:
    Copy + Send + Sync + Debug + PartialEq + Default + 'static + private::Sealed
{
    /// Type name as recorded in the registry, e.g. `"f64"`.
    const NAME: &'static str;
    /// The value `i` (for `arange`); `bool` is `i != 0`.
    fn from_index(i: usize) -> Self;
    /// The value one (`true` for `bool`).
    fn one() -> Self;
}

/// An element with arithmetic: every [`Element`] except `bool`.
///
/// ```
/// use arenaprof_array::Numeric;
/// assert_eq!(<i32 as Numeric>::from_count(4), 4);
/// ```
pub trait Numeric:
    Element
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + PartialOrd
{
    /// `n` as this type (for means).
    fn from_count(n: usize) -> Self;
}

macro_rules! numeric {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {}
        impl Element for $t {
            const NAME: &'static str = stringify!($t);
            #[inline]
            fn from_index(i: usize) -> Self {
                i as $t
            }
            #[inline]
            fn one() -> Self {
                1 as $t
            }
        }
        impl Numeric for $t {
            #[inline]
            fn from_count(n: usize) -> Self {
                n as $t
            }
        }
    )*};
}

numeric!(f32, f64, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl private::Sealed for bool {}
impl Element for bool {
    const NAME: &'static str = "bool";
    fn from_index(i: usize) -> Self {
        i != 0
    }
    fn one() -> Self {
        true
    }
}
