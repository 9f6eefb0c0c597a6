//! In a process without a BLAS or OpenMP runtime, `set_threads` and
//! `limits` change nothing and say so: no change is returned and the
//! request is kept in `blas::unchanged()` with the reason.

use arenaprof_native::blas;

#[test]
fn requests_that_find_no_runtime_are_not_silent() {
    assert!(
        blas::info().runtimes.is_empty(),
        "this test binary links no BLAS"
    );
    assert!(blas::set_threads(3).is_empty());
    let v = blas::limits(2, || 7);
    assert_eq!(v, 7);
    let notes = blas::unchanged();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].starts_with("blas::set_threads(3) changed nothing: no BLAS"),
        "{notes:?}"
    );
    assert!(
        notes[1].starts_with("blas::limit(2) changed nothing: no BLAS"),
        "{notes:?}"
    );
    assert!(blas::changes().is_empty());
}
