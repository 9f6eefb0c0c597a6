//! `from_vec` and `from_ndarray_owned` take the buffer they are given: no
//! copy, and its bytes move to `array-base`.

use arenaprof_alloc::{current_thread_slot, stats, with_tag, Tag, TagCounters, TrackingAlloc};
use arenaprof_array::Array;

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

/// This thread's counters of `tag` (tests run in parallel: the tag's
/// process-wide total moves with the other test's arrays).
fn mine(tag: Tag) -> TagCounters {
    let slot = current_thread_slot().unwrap();
    stats().thread(slot).map(|t| t.tag(tag)).unwrap_or_default()
}

#[test]
fn from_vec_adopts_the_buffer_and_moves_its_bytes_to_array_base() {
    let user = Tag::new("adopt-user");
    let v: Vec<f64> = with_tag(user, || (0..100_000).map(|i| i as f64).collect());
    let ptr = v.as_ptr();
    let user_before = mine(user).live_bytes;
    let base_before = mine(Tag::ARRAY_BASE).live_bytes;
    let a = Array::from_vec(&[1000, 100], v);
    // jemalloc serves a same-size realloc in place; another inner allocator
    // (ASan's, with `--no-default-features`) may move the block.
    if cfg!(feature = "jemalloc") {
        assert_eq!(a.as_ndarray().as_ptr(), ptr, "the elements were not copied");
    }
    assert_eq!(a.get(&[999, 99]), Some(99_999.0));
    assert_eq!(mine(user).live_bytes, user_before - 800_000);
    assert_eq!(mine(Tag::ARRAY_BASE).live_bytes, base_before + 800_000);
    drop(a);
    assert_eq!(mine(Tag::ARRAY_BASE).live_bytes, base_before);
}

#[test]
fn from_ndarray_owned_adopts_standard_layout_and_copies_the_rest() {
    let nd = ndarray::Array2::<f32>::from_shape_fn((300, 200), |(i, j)| (i * 200 + j) as f32);
    let ptr = nd.as_ptr();
    let a = Array::from_ndarray_owned(nd);
    if cfg!(feature = "jemalloc") {
        assert_eq!(a.as_ndarray().as_ptr(), ptr);
    }
    assert_eq!(a.get(&[299, 199]), Some(59_999.0));
    // A transposed (Fortran-order) array is copied into logical order.
    let t =
        ndarray::Array2::<f32>::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f32).reversed_axes();
    let b = Array::from_ndarray_owned(t.to_owned());
    assert_eq!(b.shape(), &[3, 2]);
    assert_eq!(b.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
}
