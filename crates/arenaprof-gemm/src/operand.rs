//! How a matrix lies in a slice ([`Strides`]), and the checks that every
//! element a GEMM touches is inside its slice.
//!
//! Element `(i, j)` of a matrix is `slice[offset + i * row + j * col]`.
//! Strides are in elements and may be negative; a negative stride needs an
//! `offset` that puts element `(0, 0)` far enough into the slice, so the
//! slice itself always starts at the lowest element and nothing is reached
//! through pointer arithmetic before it.
//!
//! ```
//! use arenaprof_gemm::Strides;
//! // A 3 x 4 row-major matrix, rows read bottom-up:
//! let s = Strides::row_major(4).flip_rows(3);
//! assert_eq!((s.row, s.col, s.offset), (-4, 1, 8));
//! assert_eq!(s.index(0, 0), 8);
//! assert_eq!(s.index(2, 3), 3);
//! ```

use crate::error::{GemmError, Operand};

/// Row stride, column stride and offset of element `(0, 0)`, in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Strides {
    /// Distance between `(i, j)` and `(i + 1, j)`.
    pub row: isize,
    /// Distance between `(i, j)` and `(i, j + 1)`.
    pub col: isize,
    /// Index of element `(0, 0)` in the slice.
    pub offset: usize,
}

impl Strides {
    /// Strides `row` and `col`, element `(0, 0)` at index 0.
    ///
    /// ```
    /// let s = arenaprof_gemm::Strides::new(1, 5);
    /// assert_eq!(s.index(2, 3), 17);
    /// ```
    pub const fn new(row: isize, col: isize) -> Strides {
        Strides {
            row,
            col,
            offset: 0,
        }
    }

    /// Row-major (C order) with `cols` elements per row.
    ///
    /// ```
    /// assert_eq!(arenaprof_gemm::Strides::row_major(7).index(1, 2), 9);
    /// ```
    pub const fn row_major(cols: usize) -> Strides {
        Strides::new(cols as isize, 1)
    }

    /// Column-major (Fortran order) with `rows` elements per column.
    ///
    /// ```
    /// assert_eq!(arenaprof_gemm::Strides::col_major(7).index(1, 2), 15);
    /// ```
    pub const fn col_major(rows: usize) -> Strides {
        Strides::new(1, rows as isize)
    }

    /// The same strides with element `(0, 0)` at `offset`.
    ///
    /// ```
    /// let s = arenaprof_gemm::Strides::new(-3, 1).with_offset(6);
    /// assert_eq!(s.index(2, 0), 0);
    /// ```
    pub const fn with_offset(self, offset: usize) -> Strides {
        Strides { offset, ..self }
    }

    /// The transpose: rows become columns. Same slice, same offset.
    ///
    /// ```
    /// let s = arenaprof_gemm::Strides::row_major(5).t();
    /// assert_eq!((s.row, s.col), (1, 5));
    /// ```
    pub const fn t(self) -> Strides {
        Strides {
            row: self.col,
            col: self.row,
            offset: self.offset,
        }
    }

    /// The matrix with its `rows` rows in reverse order (negated row stride,
    /// offset moved to the old last row). Wraps on absurd inputs; validation
    /// of the call reports them.
    ///
    /// ```
    /// let s = arenaprof_gemm::Strides::row_major(2).flip_rows(3);
    /// assert_eq!((s.row, s.offset), (-2, 4));
    /// ```
    pub const fn flip_rows(self, rows: usize) -> Strides {
        let last = (rows.saturating_sub(1) as isize).wrapping_mul(self.row);
        Strides {
            row: self.row.wrapping_neg(),
            col: self.col,
            offset: (self.offset as isize).wrapping_add(last) as usize,
        }
    }

    /// The matrix with its `cols` columns in reverse order.
    ///
    /// ```
    /// let s = arenaprof_gemm::Strides::row_major(3).flip_cols(3);
    /// assert_eq!((s.col, s.offset), (-1, 2));
    /// ```
    pub const fn flip_cols(self, cols: usize) -> Strides {
        self.t().flip_rows(cols).t()
    }

    /// Index of element `(i, j)` (wrapping; for in-range elements of a
    /// validated matrix it is exact).
    ///
    /// ```
    /// let s = arenaprof_gemm::Strides::new(-2, 1).with_offset(4);
    /// assert_eq!([s.index(0, 0), s.index(2, 1)], [4, 1]);
    /// ```
    pub const fn index(&self, i: usize, j: usize) -> usize {
        (self.offset as isize)
            .wrapping_add((i as isize).wrapping_mul(self.row))
            .wrapping_add((j as isize).wrapping_mul(self.col)) as usize
    }
}

impl From<(isize, isize)> for Strides {
    /// `(row, col)` with element `(0, 0)` at index 0.
    fn from((row, col): (isize, isize)) -> Strides {
        Strides::new(row, col)
    }
}

impl From<(isize, isize, usize)> for Strides {
    /// `(row, col, offset)`.
    fn from((row, col, offset): (isize, isize, usize)) -> Strides {
        Strides { row, col, offset }
    }
}

/// Checks that every element of a `rows x cols` matrix lies in a slice of
/// `len` elements. Empty matrices touch nothing and always pass.
pub(crate) fn check_bounds(
    operand: Operand,
    rows: usize,
    cols: usize,
    s: Strides,
    len: usize,
) -> Result<(), GemmError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let strides = (s.row, s.col, s.offset);
    let last_r = (rows - 1) as i128 * s.row as i128;
    let last_c = (cols - 1) as i128 * s.col as i128;
    let lo = s.offset as i128 + last_r.min(0) + last_c.min(0);
    let hi = s.offset as i128 + last_r.max(0) + last_c.max(0);
    if hi > isize::MAX as i128 || lo < isize::MIN as i128 {
        return Err(GemmError::IndexOverflow { operand });
    }
    if lo < 0 {
        return Err(GemmError::BeforeStart {
            operand,
            rows,
            cols,
            strides,
            reach: (last_r.min(0) + last_c.min(0)).unsigned_abs() as usize,
        });
    }
    if hi >= len as i128 {
        return Err(GemmError::TooShort {
            operand,
            rows,
            cols,
            strides,
            needed: hi as usize + 1,
            len,
        });
    }
    Ok(())
}

/// Checks that no two elements of C share a place: with the axes ordered by
/// stride size, the larger stride must step over the whole smaller axis.
/// (A sufficient condition, the one ndarray uses; exotic interleaved
/// layouts that happen not to overlap are refused too.)
pub(crate) fn check_no_overlap(rows: usize, cols: usize, s: Strides) -> Result<(), GemmError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let err = Err(GemmError::OverlappingOutput {
        rows,
        cols,
        strides: (s.row, s.col),
    });
    let mut axes = [(rows, s.row.unsigned_abs()), (cols, s.col.unsigned_abs())];
    if axes[0].1 > axes[1].1 {
        axes.swap(0, 1);
    }
    let mut span: u128 = 0; // furthest offset reached by the smaller axes
    for (d, st) in axes {
        if d <= 1 {
            continue;
        }
        if st == 0 || (st as u128) <= span {
            return err;
        }
        span += (d as u128 - 1) * st as u128;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_accept_exact_fits_and_name_the_operand() {
        let s = Strides::row_major(3);
        assert_eq!(check_bounds(Operand::A, 2, 3, s, 6), Ok(()));
        let e = check_bounds(Operand::A, 2, 3, s, 5).unwrap_err();
        assert!(matches!(
            e,
            GemmError::TooShort {
                operand: Operand::A,
                needed: 6,
                len: 5,
                ..
            }
        ));
        assert_eq!(check_bounds(Operand::B, 0, 3, s, 0), Ok(()));
        assert_eq!(check_bounds(Operand::B, 4, 0, s.with_offset(99), 0), Ok(()));
    }

    #[test]
    fn negative_strides_need_an_offset() {
        let s = Strides::new(-3, 1);
        let e = check_bounds(Operand::C, 2, 3, s, 6).unwrap_err();
        assert!(matches!(
            e,
            GemmError::BeforeStart {
                operand: Operand::C,
                reach: 3,
                ..
            }
        ));
        assert_eq!(check_bounds(Operand::C, 2, 3, s.with_offset(3), 6), Ok(()));
        let f = Strides::row_major(3).flip_rows(2).flip_cols(3);
        assert_eq!((f.row, f.col, f.offset), (-3, -1, 5));
        assert_eq!(check_bounds(Operand::A, 2, 3, f, 6), Ok(()));
        assert!(check_bounds(Operand::A, 2, 3, f, 5).is_err());
    }

    #[test]
    fn absurd_strides_overflow_cleanly() {
        let s = Strides::new(isize::MAX, 1);
        assert_eq!(
            check_bounds(Operand::B, 3, 1, s, 10),
            Err(GemmError::IndexOverflow {
                operand: Operand::B
            })
        );
        let s = Strides::new(isize::MIN, isize::MIN);
        assert!(check_bounds(Operand::B, 3, 3, s, 10).is_err());
    }

    #[test]
    fn overlap() {
        assert!(check_no_overlap(2, 3, Strides::new(3, 1)).is_ok());
        assert!(check_no_overlap(2, 3, Strides::new(2, 1)).is_err());
        assert!(check_no_overlap(2, 3, Strides::new(1, 2)).is_ok());
        assert!(check_no_overlap(3, 2, Strides::new(1, 2)).is_err());
        assert!(check_no_overlap(1, 5, Strides::new(0, 1)).is_ok());
        assert!(check_no_overlap(1, 5, Strides::new(1, 0)).is_err());
        assert!(check_no_overlap(5, 1, Strides::new(-1, 0)).is_ok());
        assert!(check_no_overlap(1, 1, Strides::new(0, 0)).is_ok());
        assert!(check_no_overlap(3, 0, Strides::new(0, 0)).is_ok());
        assert!(check_no_overlap(4, 4, Strides::new(-4, -1)).is_ok());
        assert!(check_no_overlap(4, 4, Strides::new(4, 4)).is_err());
    }
}
