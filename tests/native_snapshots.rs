//! 8 threads map and unmap through a shared library (a small C object
//! built with `cc`, loaded at run time, its `mmap`/`munmap` hooked) while
//! the main thread takes full snapshots under `TrackingAlloc`: nothing
//! deadlocks (a watchdog aborts after 120 s), every snapshot measures, and
//! at a quiescent point the report counts the library's mappings exactly.
//! Skips, printing why, without a C compiler.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use arenaprof::blas;
use arenaprof_native::hooks;
use arenaprof_report::{analyze, Options};

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

const MAPPER_C: &str = r#"
#include <stddef.h>
#include <sys/mman.h>
void *ns_map(size_t len) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
int ns_unmap(void *p, size_t len) { return munmap(p, len); }
"#;

type MapFn = unsafe extern "C" fn(usize) -> *mut c_void;
type UnmapFn = unsafe extern "C" fn(*mut c_void, usize) -> i32;

fn build_so() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("arenaprof-native-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let c = dir.join("nsmapper.c");
    std::fs::write(&c, MAPPER_C).map_err(|e| e.to_string())?;
    let so = dir.join("libnsmapper.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = std::process::Command::new(&cc)
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&so)
        .arg(&c)
        .output()
        .map_err(|e| format!("no C compiler `{cc}`: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(so)
}

const THREADS: usize = 8;
/// Each thread maps and unmaps at least this often, and on until the
/// main thread has taken [`SNAPSHOTS`] snapshots.
const ITERS: usize = 400;
const SNAPSHOTS: usize = 12;
const HOLD: usize = 4;
const PAGE: usize = 4096;

/// Sizes a thread maps: different per thread and iteration.
fn len_of(t: usize, i: usize) -> usize {
    ((t * 7 + i * 13) % 31 + 1) * PAGE
}

#[test]
fn eight_threads_map_and_unmap_while_snapshots_are_taken() {
    let _p = arenaprof::Profiler::from_env();
    let so = match build_so() {
        Ok(p) => p,
        Err(e) => {
            println!("SKIPPED: cannot build the test object: {e}");
            return;
        }
    };
    let lib = blas::open(&[so.to_str().unwrap()]).expect("dlopen the test object");
    // SAFETY: the two C functions above, with these signatures.
    let (map, unmap) = unsafe {
        (
            std::mem::transmute::<*mut c_void, MapFn>(lib.symbol("ns_map").unwrap()),
            std::mem::transmute::<*mut c_void, UnmapFn>(lib.symbol("ns_unmap").unwrap()),
        )
    };
    let name = so.to_string_lossy().into_owned();

    // Watchdog: a deadlock fails the test instead of hanging it.
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = done.clone();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            while !done.load(Ordering::Relaxed) {
                if t0.elapsed() > Duration::from_secs(120) {
                    eprintln!("watchdog: no progress in 120 s (deadlock?)");
                    std::process::abort();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }

    let finished = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(Barrier::new(THREADS + 1));
    let release = Arc::new(Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (finished, held, release) = (finished.clone(), held.clone(), release.clone());
            let (stop, pairs) = (stop.clone(), pairs.clone());
            std::thread::spawn(move || {
                // Churn: map, touch, unmap.
                let mut i = 0;
                while i < ITERS || !stop.load(Ordering::Relaxed) {
                    let len = len_of(t, i);
                    i += 1;
                    // SAFETY: maps len bytes through the test object.
                    let p = unsafe { map(len) };
                    assert!(!p.is_null());
                    // SAFETY: the first page is mapped read-write.
                    unsafe { p.cast::<u8>().write_volatile(1) };
                    // SAFETY: unmaps exactly what was mapped.
                    assert_eq!(unsafe { unmap(p, len) }, 0);
                }
                pairs.fetch_add(i, Ordering::SeqCst);
                finished.fetch_add(1, Ordering::SeqCst);
                // Hold HOLD mappings of (t+1) × 64 KiB across a snapshot.
                let kept: Vec<usize> = (0..HOLD)
                    // SAFETY: as above.
                    .map(|_| unsafe { map((t + 1) << 16) } as usize)
                    .collect();
                held.wait();
                release.wait();
                for p in kept {
                    // SAFETY: mapped above with this length.
                    assert_eq!(unsafe { unmap(p as *mut c_void, (t + 1) << 16) }, 0);
                }
            })
        })
        .collect();

    // Snapshots while the threads churn.
    let mut snaps = 0;
    while snaps < SNAPSHOTS {
        let s = arenaprof::snapshot();
        assert!(s.native.measured, "{:?}", s.native.notes);
        let r = analyze(&s, &Options::default());
        assert!(r.memory.gap.iter().all(|g| g.bytes >= 0));
        let sum: i64 = r.memory.gap.iter().map(|g| g.bytes).sum();
        assert_eq!(sum as u64, r.memory.mappings_rss_bytes);
        snaps += 1;
    }
    // The threads churn until here, so every snapshot above overlapped it.
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    stop.store(true, Ordering::Relaxed);

    // Quiescent: exactly THREADS × HOLD mappings of known sizes.
    held.wait();
    let r = analyze(&arenaprof::snapshot(), &Options::default());
    let row = r
        .memory
        .outside_allocator
        .iter()
        .find(|o| o.kind == "mapped_by" && o.object == name)
        .expect("the test object's mappings in the report");
    let want_bytes: u64 = (0..THREADS).map(|t| (HOLD * ((t + 1) << 16)) as u64).sum();
    assert_eq!(row.mappings, (THREADS * HOLD) as u64, "{row:?}");
    assert_eq!(row.virtual_bytes, want_bytes, "{row:?}");
    let h = r
        .memory
        .hooked_objects
        .iter()
        .find(|h| h.object == name)
        .expect("hooked object row");
    let churn = pairs.load(Ordering::SeqCst) as u64;
    let calls = churn + (THREADS * HOLD) as u64;
    assert_eq!(h.mmap_calls, calls);
    assert_eq!(h.munmap_calls, churn);
    assert_eq!(h.mappings, (THREADS * HOLD) as u64);
    release.wait();
    for w in workers {
        w.join().unwrap();
    }

    // Everything unmapped: nothing of the object left in the report.
    let r = analyze(&arenaprof::snapshot(), &Options::default());
    assert!(!r
        .memory
        .outside_allocator
        .iter()
        .any(|o| o.kind == "mapped_by" && o.object == name));
    let o = hooks::objects()
        .into_iter()
        .find(|o| o.name == name)
        .expect("object still registered");
    assert_eq!((o.live_mappings, o.live_bytes), (0, 0));
    assert_eq!(o.munmap_calls, calls);
    assert_eq!(o.unmatched_unmaps, 0);
    done.store(true, Ordering::Relaxed);
    println!("{snaps} snapshots while 8 threads made {churn} mmap+munmap pairs through the object");
}
