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
/// use arenaprof_gemm::{GemmConfig, GemmError, GemmPool, MatMut, MatRef, Operand};
/// let pool = GemmPool::new(GemmConfig { threads: 1, ..Default::default() });
/// let (a, b) = (vec![1.0; 6], vec![1.0; 5]); // B should hold 3 x 2 = 6
/// let mut c = vec![0.0; 4];
/// let err = pool
///     .gemm(1.0, MatRef::row_major(&a, 2, 3), MatRef::row_major(&b, 3, 2), 0.0, MatMut::row_major(&mut c, 2, 2))
///     .unwrap_err();
/// assert!(matches!(err, GemmError::TooShort { operand: Operand::B, needed: 6, len: 5, .. }));
/// assert_eq!(err.to_string(), "operand B (3 x 2, strides (2, 1), offset 0) needs a slice of 6 elements, got 5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GemmError {
    /// The shapes do not agree: A is `m x k`, B must be `k x n`, C `m x n`.
    #[error("shapes do not agree: A is {} x {}, B is {} x {}, C is {} x {} (need A m x k, B k x n, C m x n)", a.0, a.1, b.0, b.1, c.0, c.1)]
    ShapeMismatch {
        /// A's `(rows, cols)`.
        a: (usize, usize),
        /// B's `(rows, cols)`.
        b: (usize, usize),
        /// C's `(rows, cols)`.
        c: (usize, usize),
    },
    /// The slice ends before the last element that the shape and strides touch.
    #[error("operand {operand} ({rows} x {cols}, strides ({}, {}), offset {}) needs a slice of {needed} elements, got {len}", strides.0, strides.1, strides.2)]
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
    #[error("operand {operand} ({rows} x {cols}, strides ({}, {}), offset {}) reaches {reach} elements before element (0, 0): its offset must be at least {reach}", strides.0, strides.1, strides.2)]
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
    #[error("operand {operand}: shape and strides overflow isize")]
    IndexOverflow {
        /// Which matrix.
        operand: Operand,
    },
    /// C's strides map two different elements to the same place, so the
    /// result would depend on write order.
    #[error("operand C ({rows} x {cols}, strides ({}, {})) maps two elements to one place", strides.0, strides.1)]
    OverlappingOutput {
        /// Rows of C.
        rows: usize,
        /// Columns of C.
        cols: usize,
        /// Row and column stride of C.
        strides: (isize, isize),
    },
    /// A pool thread panicked while computing; C is partly written.
    #[error("a GEMM pool thread panicked")]
    WorkerPanicked,
    /// The allocator refused the workspaces of every worker that took part,
    /// again at this call; C is untouched. (Running without one would let
    /// matrixmultiply allocate its packing buffer itself and abort.)
    #[error(
        "the allocator refused every GEMM workspace ({bytes} bytes each); nothing was computed"
    )]
    WorkspaceUnavailable {
        /// Bytes of the workspace each worker needs.
        bytes: usize,
    },
}
