//! Errors: every one names what was asked and what was possible.

/// Why an array operation failed.
///
/// ```
/// use arenaprof_array::{s, Array, ArrayError};
/// let a = Array::<f64>::zeros(&[3, 4]);
/// let e = a.try_slice(s![.., 2..9]).unwrap_err();
/// assert_eq!(
///     e,
///     ArrayError::SliceOutOfBounds { axis: 1, start: 2, end: Some(9), len: 4 }
/// );
/// assert_eq!(e.to_string(), "slice 2..9 is out of bounds for axis 1 of length 4");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArrayError {
    /// The allocator refused the arena's buffer.
    #[error("allocating an arena of {bytes} bytes failed")]
    Alloc {
        /// Bytes requested.
        bytes: usize,
    },
    /// A shape whose element count overflows `usize` (or `isize::MAX` bytes).
    #[error("shape {shape:?} is too large")]
    ShapeOverflow {
        /// The shape asked for.
        shape: Vec<usize>,
    },
    /// Data and shape disagree (`from_vec`).
    #[error("shape needs {expected} elements but {got} were given")]
    LenMismatch {
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// A slice names a different number of axes than the array has.
    #[error("slice names {got} axes but the array has {ndim}")]
    SliceArity {
        /// Axes of the array.
        ndim: usize,
        /// Axes named by the slice (new axes not counted).
        got: usize,
    },
    /// A slice bound lies outside its axis.
    #[error("slice {start}..{} is out of bounds for axis {axis} of length {len}", end.map(|e| e.to_string()).unwrap_or_default())]
    SliceOutOfBounds {
        /// Axis number.
        axis: usize,
        /// Start as written.
        start: isize,
        /// End as written (`None`: to the end).
        end: Option<isize>,
        /// Length of the axis.
        len: usize,
    },
    /// A slice with step zero.
    #[error("slice step is zero on axis {axis}")]
    ZeroStep {
        /// Axis number.
        axis: usize,
    },
    /// An index outside its axis.
    #[error("index {index} is out of bounds for axis {axis} of length {len}")]
    IndexOutOfBounds {
        /// Axis number.
        axis: usize,
        /// Index as written (may be negative for slices).
        index: isize,
        /// Length of the axis.
        len: usize,
    },
    /// An axis number at or past `ndim`.
    #[error("axis {axis} is out of bounds for an array of {ndim} axes")]
    AxisOutOfBounds {
        /// The axis asked for.
        axis: usize,
        /// Axes of the array.
        ndim: usize,
    },
    /// `permuted_axes` got something that is not a permutation of `0..ndim`.
    #[error("{axes:?} is not a permutation of the array's axes")]
    BadPermutation {
        /// The axes given.
        axes: Vec<usize>,
    },
    /// Two shapes cannot be broadcast together or reshaped into each other.
    #[error("{op}: shapes {from:?} and {to:?} are incompatible")]
    ShapeMismatch {
        /// What it was done to.
        op: &'static str,
        /// The array's shape.
        from: Vec<usize>,
        /// The shape asked for or the other operand's.
        to: Vec<usize>,
    },
    /// `reshape_view` would need a copy (NumPy's `copy=False` error).
    #[error("cannot reshape {shape:?} with strides {strides:?} into {to:?} without copying")]
    ReshapeNeedsCopy {
        /// The array's shape.
        shape: Vec<usize>,
        /// Its strides in elements.
        strides: Vec<isize>,
        /// The shape asked for.
        to: Vec<usize>,
    },
    /// Writing to a read-only view (`broadcast_to`).
    #[error("the array is a read-only view (broadcast_to)")]
    ReadOnly,
    /// The GEMM pool refused the product; the cause is its [`GemmError`](arenaprof_gemm::GemmError)
    /// (also as [`source`](std::error::Error::source)).
    #[error("matmul failed")]
    Gemm(#[source] arenaprof_gemm::GemmError),
}
