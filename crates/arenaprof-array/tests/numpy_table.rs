//! View/copy semantics against NumPy, case by case.
//!
//! Bases, as in NumPy: `x = np.arange(10)`, `m = np.arange(12).reshape(3, 4)`,
//! `a = np.arange(24).reshape(2, 3, 4)` (int64). Each row gives the NumPy
//! expression, whether `np.shares_memory(result, base)` is true, the shape,
//! the strides in elements (NumPy's byte strides / 8) and the values in
//! C order, as NumPy documents them (basic slicing, newaxis and transpose
//! make views; reshape makes a view exactly when `_attempt_nocopy_reshape`
//! succeeds; advanced indexing and `copy()` copy). ndarray's slice syntax
//! differs from NumPy's for negative steps: `s![a..b;-k]` takes `a..b` and
//! walks it backwards, so NumPy's `x[7:2:-2]` is `s![3..8;-2]`.

use arenaprof_array::{s, Array, NewAxis};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

struct Bases {
    x: Array<i64>,
    m: Array<i64>,
    a: Array<i64>,
}

#[derive(Clone, Copy)]
enum B {
    X,
    M,
    A,
}

struct Case {
    numpy: &'static str,
    base: B,
    make: fn(&Bases) -> Array<i64>,
    shares: bool,
    shape: &'static [usize],
    strides: &'static [isize],
    values: &'static [i64],
}

const T_M: &[i64] = &[0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11];

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use B::*;
    vec![
        // x[2:8] -> view, strides (8,)
        Case { numpy: "x[2:8]", base: X, make: |b| b.x.slice(s![2..8]), shares: true, shape: &[6], strides: &[1], values: &[2, 3, 4, 5, 6, 7] },
        // x[::2] -> view, strides (16,)
        Case { numpy: "x[::2]", base: X, make: |b| b.x.slice(s![..;2]), shares: true, shape: &[5], strides: &[2], values: &[0, 2, 4, 6, 8] },
        // x[1::3] -> view, strides (24,)
        Case { numpy: "x[1::3]", base: X, make: |b| b.x.slice(s![1..;3]), shares: true, shape: &[3], strides: &[3], values: &[1, 4, 7] },
        // x[::-1] -> view, strides (-8,)
        Case { numpy: "x[::-1]", base: X, make: |b| b.x.slice(s![..;-1]), shares: true, shape: &[10], strides: &[-1], values: &[9, 8, 7, 6, 5, 4, 3, 2, 1, 0] },
        // x[7:2:-2] -> view [7, 5, 3], strides (-16,)
        Case { numpy: "x[7:2:-2]", base: X, make: |b| b.x.slice(s![3..8;-2]), shares: true, shape: &[3], strides: &[-2], values: &[7, 5, 3] },
        // x[-3:] -> view, strides (8,)
        Case { numpy: "x[-3:]", base: X, make: |b| b.x.slice(s![-3..]), shares: true, shape: &[3], strides: &[1], values: &[7, 8, 9] },
        // x[3, ...] -> 0-d view (x[3] alone would be a NumPy scalar)
        Case { numpy: "x[3, ...]", base: X, make: |b| b.x.slice(s![3]), shares: true, shape: &[], strides: &[], values: &[3] },
        // x[np.newaxis, 2:5] -> view, shape (1, 3), strides (0, 8)
        Case { numpy: "x[np.newaxis, 2:5]", base: X, make: |b| b.x.slice(s![NewAxis, 2..5]), shares: true, shape: &[1, 3], strides: &[0, 1], values: &[2, 3, 4] },
        // x[2:5, np.newaxis] -> view, shape (3, 1), strides (8, 0)
        Case { numpy: "x[2:5, np.newaxis]", base: X, make: |b| b.x.slice(s![2..5, NewAxis]), shares: true, shape: &[3, 1], strides: &[1, 0], values: &[2, 3, 4] },
        // x[5:5] -> empty view; np.shares_memory(x[5:5], x) is False (no element in common)
        Case { numpy: "x[5:5]", base: X, make: |b| b.x.slice(s![5..5]), shares: false, shape: &[0], strides: &[1], values: &[] },
        // x[:] -> view of everything
        Case { numpy: "x[:]", base: X, make: |b| b.x.slice(s![..]), shares: true, shape: &[10], strides: &[1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
        // x[::2][::-1] -> view of a view, strides (-16,)
        Case { numpy: "x[::2][::-1]", base: X, make: |b| b.x.slice(s![..;2]).slice(s![..;-1]), shares: true, shape: &[5], strides: &[-2], values: &[8, 6, 4, 2, 0] },
        // x.reshape(2, 5) -> view, strides (40, 8)
        Case { numpy: "x.reshape(2, 5)", base: X, make: |b| b.x.reshape(&[2, 5]), shares: true, shape: &[2, 5], strides: &[5, 1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
        // np.broadcast_to(x[:3], (2, 3)) -> read-only view, strides (0, 8)
        Case { numpy: "np.broadcast_to(x[:3], (2, 3))", base: X, make: |b| b.x.slice(s![..3]).broadcast_to(&[2, 3]).unwrap(), shares: true, shape: &[2, 3], strides: &[0, 1], values: &[0, 1, 2, 0, 1, 2] },
        // np.broadcast_to(x[4:5], (2, 2, 2)) -> view, strides (0, 0, 0)
        Case { numpy: "np.broadcast_to(x[4:5], (2, 2, 2))", base: X, make: |b| b.x.slice(s![4..5]).broadcast_to(&[2, 2, 2]).unwrap(), shares: true, shape: &[2, 2, 2], strides: &[0, 0, 0], values: &[4; 8] },
        // np.broadcast_to(x, (10,)) -> view, strides (8,)
        Case { numpy: "np.broadcast_to(x, (10,))", base: X, make: |b| b.x.broadcast_to(&[10]).unwrap(), shares: true, shape: &[10], strides: &[1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
        // x[x > 6] -> boolean indexing copies
        Case { numpy: "x[x > 6]", base: X, make: |b| b.x.mask(&b.x.map(|v| v > 6)), shares: false, shape: &[3], strides: &[1], values: &[7, 8, 9] },
        // x.copy() -> copy
        Case { numpy: "x.copy()", base: X, make: |b| b.x.to_owned(), shares: false, shape: &[10], strides: &[1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
        // m[1] -> view of row 1, strides (8,)
        Case { numpy: "m[1]", base: M, make: |b| b.m.slice(s![1, ..]), shares: true, shape: &[4], strides: &[1], values: &[4, 5, 6, 7] },
        // m[:, 1] -> view of column 1, strides (32,)
        Case { numpy: "m[:, 1]", base: M, make: |b| b.m.slice(s![.., 1]), shares: true, shape: &[3], strides: &[4], values: &[1, 5, 9] },
        // m[1:, ::2] -> view, strides (32, 16)
        Case { numpy: "m[1:, ::2]", base: M, make: |b| b.m.slice(s![1.., ..;2]), shares: true, shape: &[2, 2], strides: &[4, 2], values: &[4, 6, 8, 10] },
        // m[::-1, ::-1] -> view, strides (-32, -8)
        Case { numpy: "m[::-1, ::-1]", base: M, make: |b| b.m.slice(s![..;-1, ..;-1]), shares: true, shape: &[3, 4], strides: &[-4, -1], values: &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0] },
        // m[-1, ::-1] -> view, strides (-8,)
        Case { numpy: "m[-1, ::-1]", base: M, make: |b| b.m.slice(s![-1, ..;-1]), shares: true, shape: &[4], strides: &[-1], values: &[11, 10, 9, 8] },
        // m[1:2] -> view, shape (1, 4), strides (32, 8)
        Case { numpy: "m[1:2]", base: M, make: |b| b.m.slice(s![1..2, ..]), shares: true, shape: &[1, 4], strides: &[4, 1], values: &[4, 5, 6, 7] },
        // m.T -> view, strides (8, 32)
        Case { numpy: "m.T", base: M, make: |b| b.m.t(), shares: true, shape: &[4, 3], strides: &[1, 4], values: T_M },
        // m.transpose(1, 0) -> view, strides (8, 32)
        Case { numpy: "m.transpose(1, 0)", base: M, make: |b| b.m.permuted_axes(&[1, 0]), shares: true, shape: &[4, 3], strides: &[1, 4], values: T_M },
        // m.T[::2] -> view, strides (16, 32)
        Case { numpy: "m.T[::2]", base: M, make: |b| b.m.t().slice(s![..;2, ..]), shares: true, shape: &[2, 3], strides: &[2, 4], values: &[0, 4, 8, 2, 6, 10] },
        // m.reshape(4, 3) -> view, strides (24, 8)
        Case { numpy: "m.reshape(4, 3)", base: M, make: |b| b.m.reshape(&[4, 3]), shares: true, shape: &[4, 3], strides: &[3, 1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
        // m.reshape(2, 2, 3) -> view, strides (48, 24, 8)
        Case { numpy: "m.reshape(2, 2, 3)", base: M, make: |b| b.m.reshape(&[2, 2, 3]), shares: true, shape: &[2, 2, 3], strides: &[6, 3, 1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
        // m.reshape(12) -> view, strides (8,)
        Case { numpy: "m.reshape(12)", base: M, make: |b| b.m.reshape(&[12]), shares: true, shape: &[12], strides: &[1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
        // m.T.reshape(12) -> copy (the transpose is not C-contiguous and cannot be flattened)
        Case { numpy: "m.T.reshape(12)", base: M, make: |b| b.m.t().reshape(&[12]), shares: false, shape: &[12], strides: &[1], values: T_M },
        // m.T.reshape(2, 2, 3) -> view: axis 0 of m.T splits, strides (16, 8, 32)
        Case { numpy: "m.T.reshape(2, 2, 3)", base: M, make: |b| b.m.t().reshape(&[2, 2, 3]), shares: true, shape: &[2, 2, 3], strides: &[2, 1, 4], values: T_M },
        // m[:, ::2].reshape(6) -> view: strides (32, 16) merge into (16,)
        Case { numpy: "m[:, ::2].reshape(6)", base: M, make: |b| b.m.slice(s![.., ..;2]).reshape(&[6]), shares: true, shape: &[6], strides: &[2], values: &[0, 2, 4, 6, 8, 10] },
        // m[:, :2].reshape(6) -> copy: strides (32, 8) do not merge
        Case { numpy: "m[:, :2].reshape(6)", base: M, make: |b| b.m.slice(s![.., ..2]).reshape(&[6]), shares: false, shape: &[6], strides: &[1], values: &[0, 1, 4, 5, 8, 9] },
        // m[:, :2].reshape(3, 2, 1) -> view, strides (32, 8, 8)
        Case { numpy: "m[:, :2].reshape(3, 2, 1)", base: M, make: |b| b.m.slice(s![.., ..2]).reshape(&[3, 2, 1]), shares: true, shape: &[3, 2, 1], strides: &[4, 1, 1], values: &[0, 1, 4, 5, 8, 9] },
        // np.broadcast_to(m[:, :1], (3, 4)) -> view, strides (32, 0)
        Case { numpy: "np.broadcast_to(m[:, :1], (3, 4))", base: M, make: |b| b.m.slice(s![.., ..1]).broadcast_to(&[3, 4]).unwrap(), shares: true, shape: &[3, 4], strides: &[4, 0], values: &[0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8] },
        // m[[0, 2]] -> advanced indexing copies
        Case { numpy: "m[[0, 2]]", base: M, make: |b| b.m.select(0, &[0, 2]), shares: false, shape: &[2, 4], strides: &[4, 1], values: &[0, 1, 2, 3, 8, 9, 10, 11] },
        // m[:, [3, 0]] -> copy
        Case { numpy: "m[:, [3, 0]]", base: M, make: |b| b.m.select(1, &[3, 0]), shares: false, shape: &[3, 2], strides: &[2, 1], values: &[3, 0, 7, 4, 11, 8] },
        // m[m % 2 == 0] -> copy
        Case { numpy: "m[m % 2 == 0]", base: M, make: |b| b.m.mask(&b.m.map(|v| v % 2 == 0)), shares: false, shape: &[6], strides: &[1], values: &[0, 2, 4, 6, 8, 10] },
        // m[1:, 1:3].copy() -> copy, C order
        Case { numpy: "m[1:, 1:3].copy()", base: M, make: |b| b.m.slice(s![1.., 1..3]).to_owned(), shares: false, shape: &[2, 2], strides: &[2, 1], values: &[5, 6, 9, 10] },
        // m.T.copy() -> copy (ndarray.copy defaults to order='C'), strides (24, 8)
        Case { numpy: "m.T.copy()", base: M, make: |b| b.m.t().to_owned(), shares: false, shape: &[4, 3], strides: &[3, 1], values: T_M },
        // m + 0 -> arithmetic makes a new array
        Case { numpy: "m + 0", base: M, make: |b| &b.m + 0, shares: false, shape: &[3, 4], strides: &[4, 1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
        // a[1, :, ::3] -> view, strides (32, 24)
        Case { numpy: "a[1, :, ::3]", base: A, make: |b| b.a.slice(s![1, .., ..;3]), shares: true, shape: &[3, 2], strides: &[4, 3], values: &[12, 15, 16, 19, 20, 23] },
        // a[..., 1] -> view, strides (96, 32)
        Case { numpy: "a[..., 1]", base: A, make: |b| b.a.slice(s![.., .., 1]), shares: true, shape: &[2, 3], strides: &[12, 4], values: &[1, 5, 9, 13, 17, 21] },
        // a[:, np.newaxis, 1, :] -> view, strides (96, 0, 8)
        Case { numpy: "a[:, np.newaxis, 1, :]", base: A, make: |b| b.a.slice(s![.., NewAxis, 1, ..]), shares: true, shape: &[2, 1, 4], strides: &[12, 0, 1], values: &[4, 5, 6, 7, 16, 17, 18, 19] },
        // a[::-1, 1:, -2] -> view, strides (-96, 32)
        Case { numpy: "a[::-1, 1:, -2]", base: A, make: |b| b.a.slice(s![..;-1, 1.., -2]), shares: true, shape: &[2, 2], strides: &[-12, 4], values: &[18, 22, 6, 10] },
        // a.transpose(2, 0, 1) -> view, strides (8, 96, 32)
        Case { numpy: "a.transpose(2, 0, 1)", base: A, make: |b| b.a.permuted_axes(&[2, 0, 1]), shares: true, shape: &[4, 2, 3], strides: &[1, 12, 4], values: &[0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23] },
        // a.reshape(6, 4) -> view, strides (32, 8)
        Case { numpy: "a.reshape(6, 4)", base: A, make: |b| b.a.reshape(&[6, 4]), shares: true, shape: &[6, 4], strides: &[4, 1], values: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23] },
        // a.transpose(1, 0, 2).reshape(3, 8) -> copy: strides (32, 96, 8) cannot merge axes 1 and 2
        Case { numpy: "a.transpose(1, 0, 2).reshape(3, 8)", base: A, make: |b| b.a.permuted_axes(&[1, 0, 2]).reshape(&[3, 8]), shares: false, shape: &[3, 8], strides: &[8, 1], values: &[0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23] },
        // a.transpose(1, 0, 2).reshape(3, 2, 2, 2) -> view: only the last axis splits, strides (32, 96, 16, 8)
        Case { numpy: "a.transpose(1, 0, 2).reshape(3, 2, 2, 2)", base: A, make: |b| b.a.permuted_axes(&[1, 0, 2]).reshape(&[3, 2, 2, 2]), shares: true, shape: &[3, 2, 2, 2], strides: &[4, 12, 2, 1], values: &[0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23] },
    ]
}

#[test]
fn numpy_view_and_copy_semantics() {
    let b = Bases {
        x: Array::arange(10),
        m: Array::<i64>::arange(12).reshape(&[3, 4]),
        a: Array::<i64>::arange(24).reshape(&[2, 3, 4]),
    };
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for c in &cases {
        let base = match c.base {
            B::X => &b.x,
            B::M => &b.m,
            B::A => &b.a,
        };
        let r = (c.make)(&b);
        assert_eq!(
            r.shares_memory(base),
            c.shares,
            "{}: shares_memory",
            c.numpy
        );
        assert_eq!(r.shape(), c.shape, "{}: shape", c.numpy);
        assert_eq!(r.strides(), c.strides, "{}: strides", c.numpy);
        assert_eq!(r.to_vec(), c.values, "{}: values", c.numpy);
        // A view pins exactly its base's arena; a copy (or an empty view) pins another or none.
        assert_eq!(
            r.arena_id() == base.arena_id(),
            c.shares,
            "{}: arena",
            c.numpy
        );
        if c.shares {
            assert!(r.may_share_memory(base), "{}: may_share_memory", c.numpy);
            assert!(r.is_view(), "{}: is_view", c.numpy);
        }
        // Zero-copy interop agrees with to_vec.
        let nd: Vec<i64> = r.as_ndarray().iter().copied().collect();
        assert_eq!(nd, c.values, "{}: as_ndarray", c.numpy);
    }
}

#[test]
fn exact_shares_memory_on_interleaved_views() {
    let m = Array::<f64>::arange(12).reshape(&[3, 4]);
    let even_cols = m.slice(s![.., ..;2]);
    let odd_cols = m.slice(s![.., 1..;2]);
    // np.shares_memory(m[:, ::2], m[:, 1::2]) is False; may_share_memory is True.
    assert!(!even_cols.shares_memory(&odd_cols));
    assert!(even_cols.may_share_memory(&odd_cols));
    // np.shares_memory(m[:, ::2], m.T[1]) is False (column 1); m.T[2] is column 2: True.
    assert!(!even_cols.shares_memory(&m.t().slice(s![1, ..])));
    assert!(even_cols.shares_memory(&m.t().slice(s![2, ..])));
    // Different arenas never share.
    assert!(!m.shares_memory(&m.to_owned()));
    assert!(!m.may_share_memory(&m.to_owned()));
}

#[test]
fn bad_input_names_axis_and_bounds() {
    use arenaprof_array::ArrayError;
    let m = Array::<f64>::zeros(&[3, 4]);
    assert_eq!(
        m.try_slice(s![.., 1..7]).unwrap_err(),
        ArrayError::SliceOutOfBounds {
            axis: 1,
            start: 1,
            end: Some(7),
            len: 4
        }
    );
    assert_eq!(
        m.try_slice(s![-4, ..]).unwrap_err(),
        ArrayError::IndexOutOfBounds {
            axis: 0,
            index: -4,
            len: 3
        }
    );
    assert_eq!(
        m.try_slice(s![..]).unwrap_err(),
        ArrayError::SliceArity { ndim: 2, got: 1 }
    );
    assert!(matches!(
        m.try_reshape(&[5, 2]),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        m.t().reshape_view(&[12]),
        Err(ArrayError::ReshapeNeedsCopy { .. })
    ));
    assert!(matches!(
        m.broadcast_to(&[4]),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    let msg = std::panic::catch_unwind(|| m.slice(s![.., 9])).unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert_eq!(msg, "index 9 is out of bounds for axis 1 of length 4");
    let mut b = m.slice(s![0, ..]).broadcast_to(&[2, 4]).unwrap();
    assert_eq!(b.fill(1.0), Err(ArrayError::ReadOnly));
}
