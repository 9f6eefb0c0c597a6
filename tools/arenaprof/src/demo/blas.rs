//! Phase 1: per-thread BLAS buffers.
//!
//! The OpenBLAS side is simulated honestly: one buffer of 32 MiB (NumPy's
//! wheels' `BUFFER_SIZE`) per configured thread, allocated eagerly at the first
//! call and written once (Windows commits it at once; on Linux packing touches
//! it), kept for the life of the process. The multiplication itself runs on the
//! cores this machine has, each compute thread packing into its own buffer
//! (matrixmultiply's single-threaded kernel, its packing allocation served from
//! that buffer). arenaprof's pool runs the same products with its capped,
//! pre-allocated workspaces. Both are measured by the tracker, by RSS and by
//! wall time.

use super::measure::{delta, mib, rss_purged};
use arenaprof::gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};
use arenaprof::{stats, timeline, with_tag, Tag, Workspace};
use std::time::Instant;

/// NumPy's OpenBLAS buffer per thread.
const OPENBLAS_BUFFER: usize = 32 << 20;
/// arenaprof pool's cap on the sum of its workspaces.
const POOL_CAP: usize = 16 << 20;

/// What phase 1 measured.
pub struct GemmFigures {
    /// Bytes of the simulated OpenBLAS buffers (tracker).
    pub sim_bytes: u64,
    /// Bytes of arenaprof's workspaces (tracker).
    pub pool_bytes: u64,
    /// Workers arenaprof's pool ran with.
    pub pool_workers: usize,
    /// arenaprof's cap.
    pub pool_cap: u64,
    /// Simulated OpenBLAS throughput.
    pub sim_gflops: f64,
    /// arenaprof throughput.
    pub pool_gflops: f64,
    /// Products computed by each side.
    pub products: usize,
    /// The simulated buffers: OpenBLAS never frees them, so the demo keeps
    /// them until the end too.
    pub buffers: Vec<Workspace>,
    /// arenaprof's pool, kept so the report shows its live workspaces too.
    pub pool: GemmPool,
}

fn matrix(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n * n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 1000) as f64 / 1000.0 - 0.5
        })
        .collect()
}

/// C = A B, one row block per buffer, each on its own thread packing into
/// its buffer.
fn simulated_openblas(n: usize, a: &[f64], b: &[f64], c: &mut [f64], buffers: &mut [Workspace]) {
    let rows_per = n.div_ceil(buffers.len());
    std::thread::scope(|s| {
        let blocks = c.chunks_mut(rows_per * n).zip(a.chunks(rows_per * n));
        for (ws, (c_rows, a_rows)) in buffers.iter_mut().zip(blocks) {
            s.spawn(move || {
                let rows = c_rows.len() / n;
                let _scope = ws.enter();
                // SAFETY: `a_rows` is `rows x n`, `b` is `n x n` and `c_rows`
                // is `rows x n`, all row-major and in bounds; `c_rows` is this
                // thread's alone.
                unsafe {
                    matrixmultiply::dgemm(
                        rows,
                        n,
                        n,
                        1.0,
                        a_rows.as_ptr(),
                        n as isize,
                        1,
                        b.as_ptr(),
                        n as isize,
                        1,
                        0.0,
                        c_rows.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                };
            });
        }
    });
}

fn gflops(n: usize, products: usize, secs: f64) -> f64 {
    2.0 * (n as f64).powi(3) * products as f64 / secs / 1e9
}

/// Runs phase 1 and prints what it measured.
pub fn run(threads: usize, quick: bool) -> Result<GemmFigures, String> {
    let (n, products) = if quick { (256, 2) } else { (1024, 4) };
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1)
        .min(threads);
    let inputs = Tag::new("demo-matrices");
    let (a, b) = with_tag(inputs, || (matrix(n, 1), matrix(n, 2)));
    let mut c_sim = with_tag(inputs, || vec![0.0f64; n * n]);
    let mut c_pool = with_tag(inputs, || vec![0.0f64; n * n]);
    println!(
        "  {products} products of {n}x{n} f64; compute on {cores} cores; simulated OpenBLAS configured for {threads} threads"
    );

    // Simulated OpenBLAS: every configured thread gets its buffer at the first call.
    let sim_tag = Tag::new("openblas-sim-buffer");
    let rss0 = rss_purged();
    let live0 = stats().tag(sim_tag).live_bytes;
    timeline::mark("openblas-sim: first matmul");
    let mut buffers = with_tag(sim_tag, || {
        (0..threads)
            .map(|_| Workspace::new(OPENBLAS_BUFFER))
            .collect::<Option<Vec<_>>>()
    })
    .ok_or("the allocator refused a 32 MiB buffer")?;
    for ws in &mut buffers {
        let _scope = ws.enter();
        // Write the whole buffer once: served from the region, so this
        // commits the region's pages.
        let touch = vec![1u8; OPENBLAS_BUFFER - 64];
        std::hint::black_box(&touch);
    }
    let t = Instant::now();
    for _ in 0..products {
        simulated_openblas(n, &a, &b, &mut c_sim, &mut buffers[..cores]);
    }
    let sim_gflops = gflops(n, products, t.elapsed().as_secs_f64());
    let sim_bytes = stats().tag(sim_tag).live_bytes - live0;
    let rss1 = rss_purged();
    println!(
        "  simulated OpenBLAS: {threads} x {} buffers = {} under tag {sim_tag} (tracker), RSS {}; {sim_gflops:.1} GFLOP/s",
        mib(OPENBLAS_BUFFER as u64),
        mib(sim_bytes),
        delta(rss0, rss1),
    );

    // arenaprof's pool: capped, pre-allocated workspaces.
    let ws0 = stats().tag(Tag::GEMM_WORKSPACE).live_bytes;
    timeline::mark("arenaprof gemm: first matmul");
    let pool = GemmPool::new(GemmConfig {
        threads: cores,
        workspace_cap: POOL_CAP,
        ..Default::default()
    });
    let rm = Strides::row_major(n);
    let t = Instant::now();
    for _ in 0..products {
        pool.gemm(
            1.0,
            MatRef::new(&a, n, n, rm),
            MatRef::new(&b, n, n, rm),
            0.0,
            MatMut::new(&mut c_pool, n, n, rm),
        )
        .map_err(|e| e.to_string())?;
    }
    let pool_gflops = gflops(n, products, t.elapsed().as_secs_f64());
    let pool_bytes = stats().tag(Tag::GEMM_WORKSPACE).live_bytes - ws0;
    let rss2 = rss_purged();
    let stat = pool.mem_stat();
    let max_diff = c_sim
        .iter()
        .zip(&c_pool)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    println!(
        "  arenaprof pool: {} workers, cap {}: workspaces {} under tag {} (tracker), RSS {}; {pool_gflops:.1} GFLOP/s; overflows {}; max |C diff| {max_diff:.1e}",
        stat.workers,
        mib(POOL_CAP as u64),
        mib(pool_bytes),
        Tag::GEMM_WORKSPACE,
        delta(rss1, rss2),
        stat.overflows(),
    );
    if max_diff > 1e-9 * n as f64 {
        return Err(format!("the two products differ by {max_diff}"));
    }
    let before = stats().tag(Tag::GEMM_WORKSPACE).live_bytes;
    pool.set_threads(1);
    let after = stats().tag(Tag::GEMM_WORKSPACE).live_bytes;
    println!(
        "  set_threads(1): {} live {} -> {} (OpenBLAS keeps every buffer it mapped)",
        Tag::GEMM_WORKSPACE,
        mib(before),
        mib(after)
    );
    Ok(GemmFigures {
        sim_bytes,
        pool_bytes,
        pool_workers: stat.workers,
        pool_cap: POOL_CAP as u64,
        sim_gflops,
        pool_gflops,
        products,
        buffers,
        pool,
    })
}
