//! Arithmetic with broadcasting, reductions, matmul, fallible constructors.

use arenaprof_array::{registry, s, Array, ArrayError};

#[global_allocator]
static A: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

#[test]
fn elementwise_ops_broadcast_like_numpy() {
    let m = Array::<f64>::arange(6).reshape(&[2, 3]);
    let row = Array::from_vec(&[3], vec![10.0, 20.0, 30.0]);
    let col = Array::from_vec(&[2, 1], vec![1.0, 2.0]);
    assert_eq!(
        (&m + &row).to_vec(),
        vec![10.0, 21.0, 32.0, 13.0, 24.0, 35.0]
    );
    assert_eq!((&m - &col).to_vec(), vec![-1.0, 0.0, 1.0, 1.0, 2.0, 3.0]);
    assert_eq!((&col * &row).shape(), &[2, 3]);
    assert_eq!(
        (&col * &row).to_vec(),
        vec![10.0, 20.0, 30.0, 20.0, 40.0, 60.0]
    );
    assert_eq!((&m / 2.0).to_vec(), vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
    // Strided and reversed operands are read in logical order.
    let r = m.slice(s![..;-1, ..;2]);
    assert_eq!((&r * 1.0).to_vec(), vec![3.0, 5.0, 0.0, 2.0]);
    assert_eq!(
        (&m.t() + &col.t()).to_vec(),
        vec![1.0, 5.0, 2.0, 6.0, 3.0, 7.0]
    );
    // Results are fresh owners named after the operation and this file.
    let (sum, line) = (&m + &row, line!());
    let info = registry::arena(sum.arena_id().unwrap()).unwrap();
    assert_eq!(
        (info.op.as_str(), info.site.file.as_str(), info.site.line),
        ("add", file!(), line)
    );
    assert!(!sum.shares_memory(&m));
    let bad = std::panic::catch_unwind(|| &m + &Array::<f64>::zeros(&[4])).unwrap_err();
    assert_eq!(
        bad.downcast_ref::<String>().unwrap(),
        "add: shapes [2, 3] and [4] are incompatible"
    );
}

#[test]
fn sums_and_means() {
    let a = Array::<f64>::arange(24).reshape(&[2, 3, 4]);
    assert_eq!(a.sum(), 276.0);
    assert_eq!(a.mean(), Some(11.5));
    assert_eq!(a.sum_axis(0).shape(), &[3, 4]);
    assert_eq!(
        a.sum_axis(0).to_vec(),
        (0..12).map(|i| (2 * i + 12) as f64).collect::<Vec<_>>()
    );
    assert_eq!(
        a.sum_axis(2).to_vec(),
        vec![6.0, 22.0, 38.0, 54.0, 70.0, 86.0]
    );
    assert_eq!(
        a.mean_axis(1).unwrap().to_vec(),
        vec![4.0, 5.0, 6.0, 7.0, 16.0, 17.0, 18.0, 19.0]
    );
    let t = a.permuted_axes(&[2, 0, 1]);
    assert_eq!(
        t.sum_axis(0).to_vec(),
        vec![6.0, 22.0, 38.0, 54.0, 70.0, 86.0]
    );
    assert_eq!(Array::<f64>::zeros(&[0, 3]).mean(), None);
    assert!(Array::<f64>::zeros(&[0, 3]).mean_axis(0).is_none());
    assert_eq!(
        Array::<f64>::zeros(&[0, 3]).sum_axis(0).to_vec(),
        vec![0.0; 3]
    );
    assert_eq!(
        a.try_sum_axis(3).unwrap_err(),
        ArrayError::AxisOutOfBounds { axis: 3, ndim: 3 }
    );
    assert_eq!(Array::<i32>::arange(5).sum(), 10);
}

fn naive(a: &Array<f64>, b: &Array<f64>) -> Vec<f64> {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k)
                .map(|p| a.get(&[i, p]).unwrap() * b.get(&[p, j]).unwrap())
                .sum();
        }
    }
    out
}

#[test]
fn matmul_on_views_matches_a_naive_product() {
    let a = Array::<f64>::arange(7 * 5).reshape(&[7, 5]);
    let b = (&Array::<f64>::arange(5 * 9).reshape(&[5, 9]) - 20.0).to_owned();
    assert_eq!(a.matmul(&b).to_vec(), naive(&a, &b));
    // Transposed, reversed and strided operands.
    let at = a.t(); // 5 x 7
    let bt = a.slice(s![..;-1, ..]); // 7 x 5 reversed rows
    assert_eq!(at.matmul(&bt).to_vec(), naive(&at, &bt));
    let sa = a.slice(s![1..;2, ..]); // 3 x 5
    let sb = b.slice(s![.., ..;3]); // 5 x 3
    let c = sa.matmul(&sb);
    assert_eq!(c.shape(), &[3, 3]);
    assert_eq!(c.to_vec(), naive(&sa, &sb));
    let f = Array::<f32>::ones(&[2, 3]).matmul(&Array::<f32>::ones(&[3, 4]));
    assert_eq!(f.to_vec(), vec![3.0f32; 8]);
    assert_eq!(
        Array::<f64>::zeros(&[2, 0])
            .matmul(&Array::<f64>::zeros(&[0, 3]))
            .to_vec(),
        vec![0.0; 6]
    );
    assert!(matches!(
        a.try_matmul(&a),
        Err(ArrayError::ShapeMismatch { op: "matmul", .. })
    ));
    let info = registry::arena(c.arena_id().unwrap()).unwrap();
    assert_eq!(info.op, "matmul");
}

#[test]
fn fallible_constructors_return_errors() {
    // 2^62 bytes: the allocator refuses, nothing aborts.
    let e = Array::<u8>::try_zeros(&[1 << 62]).unwrap_err();
    assert_eq!(e, ArrayError::Alloc { bytes: 1 << 62 });
    assert!(matches!(
        Array::<f64>::try_arange(1 << 59),
        Err(ArrayError::Alloc { .. })
    ));
    assert!(matches!(
        Array::<f64>::try_ones(&[1 << 40, 1 << 16]),
        Err(ArrayError::Alloc { .. })
    ));
    assert!(matches!(
        Array::<f64>::try_zeros(&[1 << 40, 1 << 40]),
        Err(ArrayError::ShapeOverflow { .. })
    ));
    assert!(matches!(
        Array::<f64>::try_full(&[usize::MAX], 1.0),
        Err(ArrayError::ShapeOverflow { .. })
    ));
    assert_eq!(
        Array::try_from_vec(&[2, 3], vec![0u8; 5]).unwrap_err(),
        ArrayError::LenMismatch {
            expected: 6,
            got: 5
        }
    );
    let nd = ndarray::Array2::<f64>::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
    let a = Array::try_from_ndarray(&nd.view()).unwrap();
    assert_eq!(a.as_ndarray(), nd.into_dyn());
}

#[test]
fn zero_copy_interop_with_ndarray() {
    let a = Array::<f64>::arange(12).reshape(&[3, 4]);
    let v = a.slice(s![..;-1, 1..3]);
    let nd = v.as_ndarray();
    assert_eq!(nd.as_ptr(), v.as_ndarray().as_ptr());
    assert_eq!(nd.shape(), &[3, 2]);
    assert_eq!(nd.strides(), &[-4, 1]);
    assert_eq!(nd[[0, 0]], 9.0);
    let owned_ptr = a.as_ndarray().as_ptr();
    // SAFETY: the view's first element lies inside the owner's buffer, so
    // both pointers are in one allocation.
    let off = unsafe { nd.as_ptr().offset_from(owned_ptr) };
    assert_eq!(off, 9);
}
