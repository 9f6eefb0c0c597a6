//! OpenBLAS linked statically into the executable (`libopenblas.a`): builds
//! `examples/openblas_static.rs` (feature `link-openblas-static`), which
//! sets 16 threads, and checks that `blas::info()` lists OpenBLAS with 16
//! threads and `blas::limits(1, ..)` gives 1 thread inside and 16 after;
//! after a dgemm, the buffers' resident pages (per smaps) are under the
//! executable that mapped them (`native_mapped`), not in a jemalloc rung.
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
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("static.arenaprof");
    let out = Command::new(&exe)
        .env("ARENAPROF_OUT", &snap)
        .env_remove("OPENBLAS_NUM_THREADS")
        .env_remove("ARENAPROF_NATIVE")
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

    let blas: i64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("openblas buffers resident "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no buffer figure: {stdout}"));
    assert!(blas > 0, "{stdout}");
    let s = arenaprof::snapshot::Snapshot::read(&snap).expect("snapshot");
    let r = arenaprof_report::analyze(&s, &arenaprof_report::Options::default());
    let rung = |n: &str| {
        r.memory
            .gap
            .iter()
            .find(|g| g.name == n)
            .map_or(0, |g| g.bytes)
    };
    // The executable made them (OpenBLAS is part of it): its row.
    let row = r
        .memory
        .outside_allocator
        .iter()
        .find(|o| o.kind == "mapped_by" && o.object.ends_with("openblas_static"))
        .unwrap_or_else(|| {
            panic!(
                "no row for the executable's mappings: {:?}",
                r.memory.outside_allocator
            )
        });
    println!(
        "{}; OpenBLAS's buffers {blas} B resident; mapped by the executable {} B; {:?}",
        s.native.allocator_source,
        row.resident_bytes,
        r.memory
            .gap
            .iter()
            .map(|g| (&g.name, g.bytes))
            .collect::<Vec<_>>()
    );
    assert_eq!(s.native.allocator_source, "allocator ranges in smaps");
    assert!(
        row.resident_bytes as i64 >= blas && rung("native_mapped") >= row.resident_bytes as i64,
        "OpenBLAS's {blas} B are not all under the executable: {row:?} {:?}",
        r.memory.gap
    );
    assert!(
        r.memory.gap.iter().all(|g| g.bytes >= 0),
        "{:?}",
        r.memory.gap
    );
}
