//! Load: 16 threads mix array views, GEMM calls and raw allocations for a
//! bounded time (10 s by default, `ARENAPROF_LOAD_SECS` to change it). At the
//! end every tag is back to its baseline, the array registry is empty, and
//! nothing deadlocked (a watchdog aborts the process if the run overstays).

use arenaprof::array::{registry, s, Array};
use arenaprof::gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};
use arenaprof::{stats, with_tag, Tag, TrackingAlloc};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc::new();

const THREADS: usize = 16;

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn sixteen_threads_mixed_load_returns_to_baseline() {
    let secs: u64 = std::env::var("ARENAPROF_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let raw_tag = Tag::new("load-raw");
    let pool = Arc::new(GemmPool::new(GemmConfig {
        threads: 2,
        workspace_cap: 8 << 20,
        ..Default::default()
    }));
    // Warm the pool so its workspaces are part of the baseline.
    let warm = vec![1.0f64; 64 * 64];
    let mut out = vec![0.0f64; 64 * 64];
    pool.gemm(
        1.0,
        MatRef::new(&warm, 64, 64, Strides::row_major(64)),
        MatRef::new(&warm, 64, 64, Strides::row_major(64)),
        0.0,
        MatMut::new(&mut out, 64, 64, Strides::row_major(64)),
    )
    .unwrap();
    // Array::matmul uses the global pool: warm it too.
    let sq = Array::<f64>::ones(&[256, 256]);
    drop(sq.matmul(&sq));
    drop(sq);
    let base = stats();
    let base_array = base.tag(Tag::ARRAY_BASE).live_bytes;
    let base_gemm = base.tag(Tag::GEMM_WORKSPACE).live_bytes;

    // Watchdog: if the workers do not finish well after the deadline, abort.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx
            .recv_timeout(Duration::from_secs(secs + 120))
            .is_err()
        {
            eprintln!("load test did not finish: deadlock?");
            std::process::abort();
        }
    });

    // Each thread sends some of its views to its neighbour, which drops them.
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| mpsc::channel::<Array<f64>>()).unzip();
    let start = Arc::new(Barrier::new(THREADS));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rxs: Vec<Option<mpsc::Receiver<Array<f64>>>> = rxs.into_iter().map(Some).collect();
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let to_next = txs[(i + 1) % THREADS].clone();
            let inbox = rxs[i].take().unwrap();
            let (pool, start) = (pool.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut x = 0x9E37_79B9 ^ (i as u64 + 1);
                let mut ops = 0u64;
                while Instant::now() < deadline {
                    let rows = 8 + (xorshift(&mut x) % 56) as usize;
                    let cols = 8 + (xorshift(&mut x) % 56) as usize;
                    let a = Array::<f64>::arange(rows * cols).reshape(&[rows, cols]);
                    let t = a.t();
                    let v = t.slice(s![..cols / 2, 1..]);
                    let c = a.matmul(&a.t());
                    assert_eq!(c.shape(), &[rows, rows][..]);
                    if xorshift(&mut x) % 3 == 0 {
                        to_next.send(v).unwrap();
                    } else {
                        drop(v);
                    }
                    drop((a, t, c));
                    let n = 16 + (xorshift(&mut x) % 48) as usize;
                    let m = vec![1.0f64; n * n];
                    let mut out = vec![0.0f64; n * n];
                    pool.gemm(
                        1.0,
                        MatRef::new(&m, n, n, Strides::row_major(n)),
                        MatRef::new(&m, n, n, Strides::row_major(n)),
                        0.0,
                        MatMut::new(&mut out, n, n, Strides::row_major(n)),
                    )
                    .unwrap();
                    assert_eq!(out[0], n as f64);
                    let raw = with_tag(raw_tag, || {
                        vec![0u8; 1 + (xorshift(&mut x) % 65536) as usize]
                    });
                    std::hint::black_box(&raw);
                    while let Ok(view) = inbox.try_recv() {
                        drop(view);
                    }
                    ops += 1;
                }
                drop(to_next);
                // Drain what the neighbour still sends until it hangs up.
                for view in inbox {
                    drop(view);
                }
                ops
            })
        })
        .collect();
    drop(txs);
    let ops: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    done_tx.send(()).unwrap();
    watchdog.join().unwrap();

    assert!(
        ops >= THREADS as u64,
        "every thread did work ({ops} rounds)"
    );
    let end = stats();
    assert_eq!(
        end.tag(Tag::ARRAY_BASE).live_bytes,
        base_array,
        "array bytes back to baseline"
    );
    assert_eq!(
        end.tag(Tag::GEMM_WORKSPACE).live_bytes,
        base_gemm,
        "workspaces unchanged"
    );
    assert_eq!(end.tag(raw_tag).live_bytes, 0, "raw allocations freed");
    assert!(
        registry::stats().is_empty(),
        "registry empty: {:?}",
        registry::stats()
    );
}
