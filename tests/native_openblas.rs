//! Acceptance for memory outside the allocator, end to end: the system's
//! OpenBLAS loaded at run time, 8 threads, one dgemm under `TrackingAlloc`
//! with sampling on, a snapshot, and assertions made on the *report*:
//!
//! - at least 8 mappings attributed to libopenblas, at least 8 × its buffer
//!   size in virtual bytes;
//! - their resident bytes within 10% of what `/proc/self/smaps` says for the
//!   same ranges;
//! - every rung of the memory ladder ≥ 0, the rungs summing to RSS within 2%;
//! - `arenaprof::blas::limits(1, ..)`: 1 thread inside, the previous count
//!   after; `blas::info()` names the library and its version.
//!
//! Without libopenblas the test skips, printing why; with `CI=true` it fails
//! (tools/test.sh installs `libopenblas0-pthread`).

use std::ffi::{c_int, c_void};

use arenaprof::blas;
use arenaprof_native::{hooks, maps};
use arenaprof_report::{analyze, Options};

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

type GetFn = unsafe extern "C" fn() -> c_int;

fn open_or_skip() -> Option<blas::Library> {
    match blas::open(&["libopenblas.so.0", "libopenblas.so"]) {
        Ok(l) => Some(l),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and libopenblas is not installed ({e}): tools/test.sh installs libopenblas0-pthread"
            );
            println!(
                "SKIPPED: libopenblas is not installed ({e}); apt-get install libopenblas0-pthread"
            );
            None
        }
    }
}

/// Resident bytes of `ranges`, page by page from `mincore`. (Not smaps'
/// `Rss` split in proportion: the kernel merges adjacent anonymous mappings
/// into one VMA, and a VMA shared with other resident memory, such as the
/// allocator's, makes a proportional share wrong by whatever the neighbour
/// holds; that made this check fail about half the time.)
fn smaps_resident(ranges: &[(u64, u64)]) -> u64 {
    ranges
        .iter()
        .map(|&(s, e)| maps::resident_bytes(s as usize, (e - s) as usize).unwrap())
        .sum()
}

#[test]
fn openblas_buffers_in_the_report_and_the_ladder_sums_to_rss() {
    // What a program does: the profiler from the environment (installs the
    // mmap hooks), sampling on.
    let _p = arenaprof::Profiler::from_env();
    arenaprof::set_sampling(arenaprof::Sampling::Bytes {
        mean: arenaprof::Sampling::DEFAULT_MEAN,
    });
    assert!(
        hooks::is_installed(),
        "Profiler::from_env installs the hooks"
    );
    let Some(lib) = open_or_skip() else { return };
    let changes = blas::set_threads(8);
    assert!(changes
        .iter()
        .any(|c| c.path.contains("openblas") && c.now == 8));
    let n = 1024usize;
    let a = vec![1.0f64; n * n];
    let b = vec![0.5f64; n * n];
    let mut c = vec![0.0f64; n * n];
    lib.dgemm_square(n, &a, &b, &mut c).expect("cblas_dgemm");
    assert_eq!(c[n * n - 1], 512.0);

    let snap = arenaprof::snapshot();
    assert!(snap.native.measured, "{:?}", snap.native.notes);
    let r = analyze(&snap, &Options::default());
    let text = arenaprof_report::render::text::render(&r, Default::default()).unwrap();
    let start = text.find("MEMORY (").unwrap();
    let end = text.find("TIMELINE").unwrap();
    println!("{}", &text[start..end]);

    // The BLAS section names the library, its version and 8 threads.
    let ob = r
        .blas
        .iter()
        .find(|b| b.api == "openblas")
        .expect("blas[] has OpenBLAS");
    assert!(ob.library.contains("libopenblas"), "{}", ob.library);
    assert!(ob.version.as_deref().is_some_and(|v| v.starts_with("0.")));
    assert_eq!(ob.threads, 8);
    assert!(ob.buffers_known && ob.buffer_size_bytes >= 1 << 20);

    // At least 8 mappings attributed to libopenblas, 8 × its buffer size.
    let row = r
        .memory
        .outside_allocator
        .iter()
        .find(|o| o.kind == "mapped_by" && o.object.contains("libopenblas"))
        .expect("memory.outside_allocator has libopenblas's mappings");
    println!("{row:?}");
    assert!(row.mappings >= 8, "{} mappings", row.mappings);
    assert!(
        row.virtual_bytes >= 8 * ob.buffer_size_bytes,
        "{} < 8 × {}",
        row.virtual_bytes,
        ob.buffer_size_bytes
    );
    assert!(row.commit_bytes >= 8 * ob.buffer_size_bytes);

    // Their resident bytes agree with smaps for the same ranges.
    let id = hooks::objects()
        .into_iter()
        .find(|o| o.name == row.object && o.live_mappings > 0)
        .expect("hooked object")
        .id;
    let ranges: Vec<(u64, u64)> = hooks::mappings()
        .into_iter()
        .filter(|m| m.object == id && !m.file_backed)
        .map(|m| (m.start as u64, m.end() as u64))
        .collect();
    let theirs = smaps_resident(&ranges);
    println!(
        "resident: report {} B, smaps {theirs} B over {} ranges",
        row.resident_bytes,
        ranges.len()
    );
    assert!(
        row.resident_bytes.abs_diff(theirs) as f64 <= 0.10 * theirs.max(1) as f64,
        "report {} vs smaps {theirs}",
        row.resident_bytes
    );

    // The ladder: no rung below zero, summing to RSS within 2%.
    let m = &r.memory;
    assert_eq!(m.gap_source, "mappings");
    assert!(m.gap.iter().all(|g| g.bytes >= 0), "{:?}", m.gap);
    let sum: i64 = m.gap.iter().map(|g| g.bytes).sum();
    assert_eq!(sum as u64, m.mappings_rss_bytes);
    let rss = m.rss_bytes;
    assert!(
        (sum as u64).abs_diff(rss) as f64 <= 0.02 * rss as f64,
        "ladder {sum} vs RSS {rss}"
    );
    println!(
        "ladder: {} rungs, all >= 0, sum {sum} B = mappings' RSS; statm RSS {rss} B ({:+.2}%); measured in {} µs",
        m.gap.len(),
        (sum as f64 - rss as f64) * 100.0 / rss as f64,
        m.measure_ns / 1000
    );
    let native = m.gap.iter().find(|g| g.name == "native_mapped").unwrap();
    assert!(native.bytes as u64 >= row.resident_bytes);

    // Scoped limits, and info names the library.
    let get = lib.symbol("openblas_get_num_threads").unwrap();
    // SAFETY: int openblas_get_num_threads(void).
    let get = unsafe { std::mem::transmute::<*mut c_void, GetFn>(get) };
    // SAFETY: no arguments.
    let inside = blas::limits(1, || unsafe { get() });
    assert_eq!(inside, 1);
    // SAFETY: no arguments.
    assert_eq!(unsafe { get() }, 8);
    let info = blas::info();
    let rt = info
        .runtimes
        .iter()
        .find(|r| r.kind == blas::Kind::OpenBlas)
        .unwrap();
    assert!(rt.path.contains("libopenblas"));
    assert!(rt.version.is_some());

    // Lowering the count freed nothing, and the next report says so.
    blas::set_threads(1);
    let r = analyze(&arenaprof::snapshot(), &Options::default());
    let ob = r.blas.iter().find(|b| b.api == "openblas").unwrap();
    assert_eq!(ob.threads, 1);
    assert_eq!(ob.lowering_freed_bytes, Some(0));
    assert!(ob.lowering.starts_with("freed nothing"), "{}", ob.lowering);
}
