//! Libraries named like BLAS/OpenMP runtimes but missing expected symbols
//! are skipped with a note, never a crash; a complete (fake) OpenMP runtime
//! is found, set and scoped.

mod common;

use arenaprof_native::blas::{self, Kind};

const FAKE_OPENBLAS: &str = r#"
int openblas_get_num_threads(void) { return 4; }
/* no openblas_set_num_threads, no openblas_get_config */
"#;

const EMPTY: &str = "int unrelated_symbol(void) { return 0; }\n";

const FAKE_OMP: &str = r#"
static int n = 6;
int omp_get_max_threads(void) { return n; }
void omp_set_num_threads(int k) { if (k > 0) n = k; }
"#;

#[test]
fn missing_symbols_are_skipped_with_a_note() {
    let built = (
        common::build_so("openblas_fake", FAKE_OPENBLAS, &[]),
        common::build_so("blas_empty", EMPTY, &[]),
        common::build_so("gomp_fake", FAKE_OMP, &[]),
    );
    let (a, b, c) = match built {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            println!("SKIPPED: cannot build the test libraries: {e}");
            return;
        }
    };
    let _la = blas::open(&[a.to_str().unwrap()]).unwrap();
    let _lb = blas::open(&[b.to_str().unwrap()]).unwrap();
    let _lc = blas::open(&[c.to_str().unwrap()]).unwrap();

    let info = blas::info();
    for n in &info.notes {
        println!("note: {n}");
    }
    assert!(info.notes.iter().any(
        |n| n.contains("libopenblas_fake.so") && n.contains("missing openblas_set_num_threads")
    ));
    assert!(info
        .notes
        .iter()
        .any(|n| n.contains("libblas_empty.so") && n.contains("missing")));
    assert!(info
        .runtimes
        .iter()
        .all(|r| !r.path.contains("_fake.so") || r.kind == Kind::OpenMp));
    let omp = info
        .runtimes
        .iter()
        .find(|r| r.path.contains("libgomp_fake.so"))
        .expect("fake OpenMP found");
    assert_eq!(
        (omp.kind, omp.num_threads, omp.version.clone()),
        (Kind::OpenMp, 6, None)
    );
    assert_eq!(omp.threading_layer, "gomp_fake");

    // Scoped limit and set, on the fake runtime.
    let inside = blas::limits(2, || {
        blas::info()
            .runtimes
            .iter()
            .find(|r| r.path.contains("libgomp_fake.so"))
            .unwrap()
            .num_threads
    });
    assert_eq!(inside, 2);
    let after = blas::info();
    assert_eq!(
        after
            .runtimes
            .iter()
            .find(|r| r.path.contains("libgomp_fake.so"))
            .unwrap()
            .num_threads,
        6
    );
    let ch = blas::set_threads(3);
    let c = ch
        .iter()
        .find(|c| c.path.contains("libgomp_fake.so"))
        .unwrap();
    assert_eq!((c.previous, c.now), (6, 3));
    assert_eq!(c.freed_bytes(), None, "no hooks installed in this process");
}
