//! What a GEMM call can refuse: [`GemmError`], naming the operand and why.

use std::fmt;

/// One of the three matrices of `C ← α A B + β C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// The `m x k` left factor.
    A,
    /// The `k x n` right factor.
    B,
    /// The `m x n` output.
    C,
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operand::A => "A",
            Operand::B => "B",
            Operand::C => "C",
        })
    }
}

/// Why a GEMM call was refused. Nothing is written to C when a call returns
/// an error, except for [`GemmError::WorkerPanicked`].
///
/// ```
/// use arenaprof_gemm::{GemmConfig, GemmError, GemmPool, Operand, Strides};
/// let pool = GemmPool::new(GemmConfig { threads: 1, ..Default::default() });
/// let (a, b) = (vec![1.0; 6], vec![1.0; 5]); // B should hold 3 x 2 = 6
/// let mut c = vec![0.0; 4];
/// let err = pool
///     .dgemm(2, 3, 2, 1.0, &a, Strides::row_major(3), &b, Strides::row_major(2), 0.0, &mut c, Strides::row_major(2))
///     .unwrap_err();
/// assert!(matches!(err, GemmError::TooShort { operand: Operand::B, needed: 6, len: 5, .. }));
/// assert_eq!(err.to_string(), "operand B (3 x 2, strides (2, 1), offset 0) needs a slice of 6 elements, got 5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GemmError {
    /// The slice ends before the last element that the shape and strides touch.
    TooShort {
        /// Which matrix.
        operand: Operand,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
        /// Its row stride, column stride and offset of element (0, 0).
        strides: (isize, isize, usize),
        /// Elements the slice must hold.
        needed: usize,
        /// Elements it holds.
        len: usize,
    },
    /// A negative stride reaches before the start of the slice: the offset
    /// of element (0, 0) must be at least `reach`.
    BeforeStart {
        /// Which matrix.
        operand: Operand,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
        /// Its row stride, column stride and offset of element (0, 0).
        strides: (isize, isize, usize),
        /// How far before element (0, 0) the lowest touched element lies.
        reach: usize,
    },
    /// The index arithmetic of the shape and strides overflows `isize`.
    IndexOverflow {
        /// Which matrix.
        operand: Operand,
    },
    /// C's strides map two different elements to the same place, so the
    /// result would depend on write order.
    OverlappingOutput {
        /// Rows of C.
        rows: usize,
        /// Columns of C.
        cols: usize,
        /// Row and column stride of C.
        strides: (isize, isize),
    },
    /// A pool thread panicked while computing; C is partly written.
    WorkerPanicked,
    /// The allocator refused the workspaces of every worker that took part,
    /// again at this call; C is untouched. (Running without one would let
    /// matrixmultiply allocate its packing buffer itself and abort.)
    WorkspaceUnavailable {
        /// Bytes of the workspace each worker needs.
        bytes: usize,
    },
}

impl fmt::Display for GemmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GemmError::TooShort {
                operand,
                rows,
                cols,
                strides: (r, c, o),
                needed,
                len,
            } => write!(
                f,
                "operand {operand} ({rows} x {cols}, strides ({r}, {c}), offset {o}) \
                 needs a slice of {needed} elements, got {len}"
            ),
            GemmError::BeforeStart {
                operand,
                rows,
                cols,
                strides: (r, c, o),
                reach,
            } => write!(
                f,
                "operand {operand} ({rows} x {cols}, strides ({r}, {c}), offset {o}) reaches \
                 {reach} elements before element (0, 0): its offset must be at least {reach}"
            ),
            GemmError::IndexOverflow { operand } => {
                write!(f, "operand {operand}: shape and strides overflow isize")
            }
            GemmError::OverlappingOutput {
                rows,
                cols,
                strides: (r, c),
            } => write!(
                f,
                "operand C ({rows} x {cols}, strides ({r}, {c})) maps two elements to one place"
            ),
            GemmError::WorkerPanicked => f.write_str("a GEMM pool thread panicked"),
            GemmError::WorkspaceUnavailable { bytes } => write!(
                f,
                "the allocator refused every GEMM workspace ({bytes} bytes each); nothing was computed"
            ),
        }
    }
}

impl std::error::Error for GemmError {}
