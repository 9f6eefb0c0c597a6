//! Shapes that overflow are errors, never wrapped lengths or panics.

use arenaprof_array::{Array, ArrayError};

#[global_allocator]
static ALLOC: arenaprof_alloc::TrackingAlloc = arenaprof_alloc::TrackingAlloc::new();

#[test]
fn broadcast_to_a_shape_whose_count_overflows_is_an_error() {
    let a = Array::<f64>::ones(&[1]);
    let huge = [1usize << 33, 1 << 33];
    assert_eq!(
        a.broadcast_to(&huge).unwrap_err(),
        ArrayError::ShapeOverflow {
            shape: huge.to_vec()
        }
    );
    let past_isize = [usize::MAX / 2 + 1];
    assert!(matches!(
        a.broadcast_to(&past_isize),
        Err(ArrayError::ShapeOverflow { .. })
    ));
}

#[test]
fn copying_a_huge_broadcast_view_is_an_allocation_error() {
    let a = Array::<f64>::ones(&[1]);
    let v = a.broadcast_to(&[1 << 40, 1 << 20]).unwrap();
    assert_eq!(v.len(), 1 << 60);
    assert_eq!(v.get(&[(1 << 40) - 1, 7]), Some(1.0));
    assert!(matches!(v.try_to_owned(), Err(ArrayError::Alloc { .. })));
}
