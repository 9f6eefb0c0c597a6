//! Errors: every one names what was asked and what was possible.

use std::fmt;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArrayError {
    /// The allocator refused the arena's buffer.
    Alloc {
        /// Bytes requested.
        bytes: usize,
    },
    /// A shape whose element count overflows `usize` (or `isize::MAX` bytes).
    ShapeOverflow {
        /// The shape asked for.
        shape: Vec<usize>,
    },
    /// Data and shape disagree (`from_vec`).
    LenMismatch {
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// A slice names a different number of axes than the array has.
    SliceArity {
        /// Axes of the array.
        ndim: usize,
        /// Axes named by the slice (new axes not counted).
        got: usize,
    },
    /// A slice bound lies outside its axis.
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
    ZeroStep {
        /// Axis number.
        axis: usize,
    },
    /// An index outside its axis.
    IndexOutOfBounds {
        /// Axis number.
        axis: usize,
        /// Index as written (may be negative for slices).
        index: isize,
        /// Length of the axis.
        len: usize,
    },
    /// An axis number at or past `ndim`.
    AxisOutOfBounds {
        /// The axis asked for.
        axis: usize,
        /// Axes of the array.
        ndim: usize,
    },
    /// `permuted_axes` got something that is not a permutation of `0..ndim`.
    BadPermutation {
        /// The axes given.
        axes: Vec<usize>,
    },
    /// Two shapes cannot be broadcast together or reshaped into each other.
    ShapeMismatch {
        /// What it was done to.
        op: &'static str,
        /// The array's shape.
        from: Vec<usize>,
        /// The shape asked for or the other operand's.
        to: Vec<usize>,
    },
    /// `reshape_view` would need a copy (NumPy's `copy=False` error).
    ReshapeNeedsCopy {
        /// The array's shape.
        shape: Vec<usize>,
        /// Its strides in elements.
        strides: Vec<isize>,
        /// The shape asked for.
        to: Vec<usize>,
    },
    /// Writing to a read-only view (`broadcast_to`).
    ReadOnly,
    /// The GEMM pool refused the operands (an internal inconsistency).
    Gemm(String),
}

impl fmt::Display for ArrayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArrayError::Alloc { bytes } => write!(f, "allocating an arena of {bytes} bytes failed"),
            ArrayError::ShapeOverflow { shape } => write!(f, "shape {shape:?} is too large"),
            ArrayError::LenMismatch { expected, got } => {
                write!(f, "shape needs {expected} elements but {got} were given")
            }
            ArrayError::SliceArity { ndim, got } => {
                write!(f, "slice names {got} axes but the array has {ndim}")
            }
            ArrayError::SliceOutOfBounds {
                axis,
                start,
                end,
                len,
            } => {
                let end = end.map(|e| e.to_string()).unwrap_or_default();
                write!(
                    f,
                    "slice {start}..{end} is out of bounds for axis {axis} of length {len}"
                )
            }
            ArrayError::ZeroStep { axis } => write!(f, "slice step is zero on axis {axis}"),
            ArrayError::IndexOutOfBounds { axis, index, len } => {
                write!(
                    f,
                    "index {index} is out of bounds for axis {axis} of length {len}"
                )
            }
            ArrayError::AxisOutOfBounds { axis, ndim } => {
                write!(
                    f,
                    "axis {axis} is out of bounds for an array of {ndim} axes"
                )
            }
            ArrayError::BadPermutation { axes } => {
                write!(f, "{axes:?} is not a permutation of the array's axes")
            }
            ArrayError::ShapeMismatch { op, from, to } => {
                write!(f, "{op}: shapes {from:?} and {to:?} are incompatible")
            }
            ArrayError::ReshapeNeedsCopy { shape, strides, to } => write!(
                f,
                "cannot reshape {shape:?} with strides {strides:?} into {to:?} without copying"
            ),
            ArrayError::ReadOnly => write!(f, "the array is a read-only view (broadcast_to)"),
            ArrayError::Gemm(e) => write!(f, "matmul: {e}"),
        }
    }
}

impl std::error::Error for ArrayError {}
