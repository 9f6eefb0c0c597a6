//! GEMM when the allocator refuses its workspaces: an error, never an abort,
//! and the next call succeeds once memory is there again.

use arenaprof_alloc::testing::{self, FailingAlloc};
use arenaprof_alloc::TrackingAlloc;
use arenaprof_gemm::{GemmConfig, GemmError, GemmPool, MatMut, MatRef, Strides};

#[global_allocator]
static ALLOC: TrackingAlloc<FailingAlloc> = TrackingAlloc::wrap(FailingAlloc::new());

#[test]
fn refused_workspaces_give_an_error_then_recover() {
    let n = 64;
    let a = vec![1.0f64; n * n];
    let mut c = vec![7.0f64; n * n];
    let rm = Strides::row_major(n);
    // Requests of 1 MiB and more (workspaces are 2 MiB; the test's own
    // buffers are small), on every thread.
    let refuse = testing::refuse_everywhere(1 << 20);
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
    drop(refuse);
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
