//! GEMM when the allocator refuses its workspaces: an error, never an abort,
//! and the next call succeeds once memory is there again.

use arenaprof_alloc::TrackingAlloc;
use arenaprof_gemm::{GemmConfig, GemmError, GemmPool, MatMut, MatRef, Strides};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// The system allocator, refusing every request of 1 MiB or more while
/// `REFUSE_BIG` is set (workspaces are 2 MiB; the test's own buffers are small).
struct RefuseBig;
static REFUSE_BIG: AtomicBool = AtomicBool::new(false);

fn refuse(l: Layout) -> bool {
    REFUSE_BIG.load(Relaxed) && l.size() >= 1 << 20
}

// SAFETY: forwards to System, or returns null, which GlobalAlloc allows.
unsafe impl GlobalAlloc for RefuseBig {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if refuse(l) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: TrackingAlloc<RefuseBig> = TrackingAlloc::wrap(RefuseBig);

#[test]
fn refused_workspaces_give_an_error_then_recover() {
    let n = 64;
    let a = vec![1.0f64; n * n];
    let mut c = vec![7.0f64; n * n];
    let rm = Strides::row_major(n);
    REFUSE_BIG.store(true, Relaxed);
    let pool = GemmPool::new(GemmConfig {
        threads: 1,
        workspace_cap: 16 << 20,
        ..Default::default()
    });
    let err = pool
        .gemm(
            1.0,
            MatRef::new(&a, n, n, rm),
            MatRef::new(&a, n, n, rm),
            0.0,
            MatMut::new(&mut c, n, n, rm),
        )
        .unwrap_err();
    assert!(
        matches!(err, GemmError::WorkspaceUnavailable { bytes } if bytes > 1 << 20),
        "{err}"
    );
    assert!(c.iter().all(|&x| x == 7.0), "C untouched");
    REFUSE_BIG.store(false, Relaxed);
    pool.gemm(
        1.0,
        MatRef::new(&a, n, n, rm),
        MatRef::new(&a, n, n, rm),
        0.0,
        MatMut::new(&mut c, n, n, rm),
    )
    .unwrap();
    assert!(c.iter().all(|&x| x == n as f64));
    let st = pool.mem_stat();
    assert_eq!(st.overflows(), 0, "the retried workspace served the call");
}
