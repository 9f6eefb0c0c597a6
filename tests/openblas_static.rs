//! OpenBLAS linked statically into the executable (`libopenblas.a`): builds
//! `examples/openblas_static.rs` (feature `link-openblas-static`), which
//! sets 16 threads, and checks that `blas::info()` lists OpenBLAS with 16
//! threads and `blas::limits(1, ..)` gives 1 thread inside and 16 after.
//! Skips without libopenblas-dev; fails instead under `CI=true`.

mod common;
use common::{build_example, have_openblas_dev, skip};
use std::process::Command;

#[test]
fn static_openblas_is_found_and_limited() {
    if !have_openblas_dev() {
        return skip("libopenblas.a (libopenblas-dev) is not installed");
    }
    let Some(exe) = build_example("openblas_static", "link-openblas-static") else {
        return;
    };
    let out = Command::new(&exe)
        .env_remove("ARENAPROF_OUT")
        .env_remove("OPENBLAS_NUM_THREADS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{stdout}");
    let rt = stdout
        .lines()
        .find(|l| l.starts_with("runtime openblas "))
        .unwrap_or_else(|| panic!("blas::info() lists no OpenBLAS: {stdout}"));
    assert!(
        rt.contains("(statically linked)") && rt.ends_with(" threads 16"),
        "{rt}"
    );
    assert!(stdout.contains("limits(1): inside 1, after 16"), "{stdout}");
}
