//! Phase 1: per-thread BLAS buffers.
//!
//! With the machine's OpenBLAS (see [`super::openblas`]): the library is set
//! to the configured thread count and runs the products; its buffers are
//! measured as the `mmap` hooks attributed them (virtual, resident, commit
//! from `/proc/self/smaps`). Without it: [`super::sim`], a simulation that
//! maps and touches what OpenBLAS does, measured the same way and labelled
//! as a simulation. arenaprof's pool runs the same products with its capped,
//! pre-allocated workspaces. Then both are lowered to one thread, and what
//! that freed is measured.

use super::measure::{change, mib, rss_purged, size};
use super::openblas::{Mode, OpenBlas};
use super::sim;
use arenaprof::gemm::{GemmConfig, GemmPool, MatMut, MatRef, Strides};
use arenaprof::{stats, timeline, with_tag, Tag};
use arenaprof_native::maps;
use std::time::Instant;

/// arenaprof pool's cap on the sum of its workspaces.
const POOL_CAP: usize = 16 << 20;

/// What phase 1 measured.
pub struct GemmFigures {
    /// `OpenBLAS 0.3.21` or `simulated OpenBLAS`.
    pub blas_name: String,
    /// Buffers its threads mapped.
    pub blas_buffers: u64,
    /// Their virtual bytes.
    pub blas_virtual: u64,
    /// Their resident bytes.
    pub blas_resident: u64,
    /// Their commit charge.
    pub blas_commit: u64,
    /// Its throughput.
    pub blas_gflops: f64,
    /// Bytes lowering its thread count freed (`None`: not measurable).
    pub blas_freed: Option<u64>,
    /// The same in words.
    pub blas_freed_text: String,
    /// Bytes of arenaprof's workspaces (tracker).
    pub pool_bytes: u64,
    /// Workers arenaprof's pool ran with.
    pub pool_workers: usize,
    /// arenaprof's cap.
    pub pool_cap: u64,
    /// arenaprof throughput.
    pub pool_gflops: f64,
    /// Bytes `set_threads(1)` freed in the pool.
    pub pool_freed: u64,
    /// Products computed by each side.
    pub products: usize,
    /// The pool, kept so the report shows its live workspaces.
    pub pool: Option<GemmPool>,
    /// The simulated buffers (never unmapped, like OpenBLAS's).
    pub sim: Option<sim::Buffers>,
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

fn gflops(n: usize, products: usize, secs: f64) -> f64 {
    2.0 * (n as f64).powi(3) * products as f64 / secs / 1e9
}

fn statm() -> maps::Statm {
    maps::read_statm().unwrap_or_default()
}

/// Commit charge of `ranges` (`VmFlags: ac` in `/proc/self/smaps`).
fn commit_of(ranges: &[(usize, usize)]) -> u64 {
    let Ok(smaps) = arenaprof::plumbing::untracked(maps::read_smaps) else {
        return 0;
    };
    smaps
        .vmas
        .iter()
        .filter(|v| v.accounted)
        .map(|v| {
            ranges
                .iter()
                .map(|&(s, l)| {
                    let (s, e) = (s as u64, (s + l) as u64);
                    e.min(v.end).saturating_sub(s.max(v.start))
                })
                .sum::<u64>()
        })
        .sum()
}

/// Runs phase 1 and prints what it measured.
pub fn run(mode: &Mode, threads: usize, quick: bool) -> Result<GemmFigures, String> {
    let (n, products) = if quick { (256, 2) } else { (1024, 4) };
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1);
    let workers = cores.min(threads);
    let inputs = Tag::new("demo-matrices");
    let (a, b) = with_tag(inputs, || (matrix(n, 1), matrix(n, 2)));
    let mut c_blas = with_tag(inputs, || vec![0.0f64; n * n]);
    let mut c_pool = with_tag(inputs, || vec![0.0f64; n * n]);

    // arenaprof's pool first: OpenBLAS's idle workers keep spinning for a
    // while after its calls, which would slow whatever runs next.
    let ws0 = stats().tag(Tag::GEMM_WORKSPACE).live_bytes;
    let (s0, rss0) = (statm(), rss_purged());
    timeline::mark("arenaprof gemm: first matmul");
    let pool = GemmPool::new(GemmConfig {
        threads: workers,
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
    let (s1, rss1) = (statm(), rss_purged());
    let stat = pool.mem_stat();

    let work = Work {
        n,
        products,
        cores,
        a: &a,
        b: &b,
        c: &mut c_blas,
    };
    let mut fig = match mode {
        Mode::Real(lib) => real(lib, threads, work)?,
        Mode::Simulated(why) => simulated(why, threads, work)?,
    };
    let max_diff = c_blas
        .iter()
        .zip(&c_pool)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    say!(
        "  arenaprof pool ({} workers, cap {}, run first): workspaces {} under tag {} (tracker; commit the same); process VmSize {}, RSS {}; {pool_gflops:.1} GFLOP/s; overflows {}; max |C diff| {max_diff:.1e}",
        stat.workers,
        mib(POOL_CAP as u64),
        mib(pool_bytes),
        Tag::GEMM_WORKSPACE,
        change(s0.size, s1.size),
        change(rss0, rss1),
        stat.overflows(),
    );
    if max_diff > 1e-9 * n as f64 {
        return Err(format!("the two products differ by {max_diff}"));
    }

    // Lowering both to one thread.
    let lowered = match mode {
        Mode::Real(lib) => lower_real(lib, &mut fig),
        Mode::Simulated(_) => format!(
            "the simulation keeps its {} buffers mapped, as OpenBLAS does (not a measurement of the library)",
            fig.blas_buffers
        ),
    };
    let before = stats().tag(Tag::GEMM_WORKSPACE).live_bytes;
    pool.set_threads(1);
    let after = stats().tag(Tag::GEMM_WORKSPACE).live_bytes;
    say!(
        "  lowering to 1 thread: {lowered}; arenaprof pool set_threads(1) freed {} ({} {} -> {})",
        mib(before.saturating_sub(after)),
        Tag::GEMM_WORKSPACE,
        mib(before),
        mib(after)
    );
    if let Mode::Real(_) = mode {
        say!(
            "  what frees OpenBLAS's buffers: nothing once mapped; limit before the first call (OPENBLAS_NUM_THREADS=N at start, or arenaprof::blas::limits) or use arenaprof::gemm"
        );
    }
    fig.pool_bytes = pool_bytes;
    fig.pool_workers = stat.workers;
    fig.pool_cap = POOL_CAP as u64;
    fig.pool_gflops = pool_gflops;
    fig.pool_freed = before.saturating_sub(after);
    fig.pool = Some(pool);
    Ok(fig)
}

fn empty(name: String, products: usize) -> GemmFigures {
    GemmFigures {
        blas_name: name,
        blas_buffers: 0,
        blas_virtual: 0,
        blas_resident: 0,
        blas_commit: 0,
        blas_gflops: 0.0,
        blas_freed: None,
        blas_freed_text: "nothing (simulated: it keeps its buffers, as OpenBLAS does)".into(),
        pool_bytes: 0,
        pool_workers: 0,
        pool_cap: 0,
        pool_gflops: 0.0,
        pool_freed: 0,
        products,
        pool: None,
        sim: None,
    }
}

/// The products both sides compute: `products` of `n x n` on `cores` cores.
struct Work<'a> {
    n: usize,
    products: usize,
    cores: usize,
    a: &'a [f64],
    b: &'a [f64],
    c: &'a mut [f64],
}

fn real(lib: &OpenBlas, threads: usize, w: Work<'_>) -> Result<GemmFigures, String> {
    let Work {
        n,
        products,
        cores,
        a,
        b,
        c,
    } = w;
    let name = format!("OpenBLAS {}", lib.version.as_deref().unwrap_or("?"));
    let (s0, rss0) = (statm(), rss_purged());
    let set = arenaprof::blas::set_threads(threads);
    let now = lib.runtime().map_or(0, |r| r.num_threads);
    say!(
        "  {name} ({}{}) from {}; openblas_set_num_threads({threads}): {} -> {now} threads",
        lib.threading,
        lib.arch
            .as_deref()
            .map(|a| format!(", {a} kernels"))
            .unwrap_or_default(),
        lib.path,
        set.iter()
            .find(|c| c.path == lib.path)
            .map_or(lib.initial_threads, |c| c.previous),
    );
    say!(
        "  {products} products of {n}x{n} f64 on {cores} cores, through OpenBLAS ({now} threads) and arenaprof's pool"
    );
    timeline::mark("openblas: first matmul");
    let t = Instant::now();
    for _ in 0..products {
        lib.dgemm(n, a, b, c);
    }
    let g = gflops(n, products, t.elapsed().as_secs_f64());
    let (s1, rss1) = (statm(), rss_purged());
    let (maps_n, virt, res, commit) = lib.mapped();
    let bufs = lib.runtime().and_then(|r| r.buffers);
    let base = lib.path.rsplit('/').next().unwrap_or(&lib.path);
    say!(
        "  {name} ({now} threads): {} buffers of {} mapped by {base} ({maps_n} mappings{}): virtual {}, resident {}, commit {}; process VmSize {}, RSS {} from openblas_set_num_threads to the last product; {g:.1} GFLOP/s",
        bufs.map_or(0, |b| b.mapped),
        size(bufs.map_or(0, |b| b.buffer_size)),
        if lib.adopted() > 0 {
            format!("; {} mapped while it loaded", size(lib.adopted()))
        } else {
            String::new()
        },
        size(virt),
        size(res),
        size(commit),
        change(s0.size, s1.size),
        change(rss0, rss1),
    );
    let mut f = empty(name, products);
    f.blas_buffers = bufs.map_or(maps_n, |b| b.mapped);
    f.blas_virtual = virt;
    f.blas_resident = res;
    f.blas_commit = commit;
    f.blas_gflops = g;
    Ok(f)
}

fn lower_real(lib: &OpenBlas, f: &mut GemmFigures) -> String {
    let s0 = statm();
    let changes = arenaprof::blas::set_threads(1);
    let s1 = statm();
    let c = changes.iter().find(|c| c.path == lib.path);
    f.blas_freed = c.and_then(|c| c.freed_bytes());
    f.blas_freed_text = f
        .blas_freed
        .map_or("an unknown amount (no mmap hooks)".to_owned(), size);
    let base = lib.path.rsplit('/').next().unwrap_or(&lib.path);
    format!(
        "openblas_set_num_threads(1) ({} -> {}) freed {} ({base} still maps {}; VmSize {} -> {})",
        c.map_or(0, |c| c.previous),
        c.map_or(0, |c| c.now),
        f.blas_freed
            .map_or("an unknown amount (no hooks)".to_owned(), size),
        size(c.and_then(|c| c.mapped_after).unwrap_or(0)),
        size(s0.size),
        size(s1.size),
    )
}

fn simulated(why: &str, threads: usize, w: Work<'_>) -> Result<GemmFigures, String> {
    let Work {
        n,
        products,
        cores,
        a,
        b,
        c,
    } = w;
    say!(
        "  simulated OpenBLAS ({why}): {threads} threads, one {} buffer each (NumPy's wheels' BUFFER_SIZE) mapped with mmap at the first call and kept; each thread packs its block of A and its slice of B into its own buffer, as OpenBLAS's threaded dgemm does",
        mib(sim::BUFFER_SIZE as u64)
    );
    say!(
        "  {products} products of {n}x{n} f64 on {cores} cores, through the simulation ({threads} threads) and arenaprof's pool"
    );
    let (s0, rss0) = (statm(), rss_purged());
    timeline::mark("simulated openblas: first matmul");
    let t = Instant::now();
    let bufs = sim::Buffers::map(threads)?;
    for _ in 0..products {
        bufs.dgemm(n, a, b, c);
    }
    let g = gflops(n, products, t.elapsed().as_secs_f64());
    let (s1, rss1) = (statm(), rss_purged());
    let ranges: Vec<(usize, usize)> = bufs.ranges().collect();
    let virt: u64 = ranges.iter().map(|&(_, l)| l as u64).sum();
    let res: u64 = ranges
        .iter()
        .map(|&(s, l)| maps::resident_bytes(s, l).unwrap_or(0))
        .sum();
    let commit = commit_of(&ranges);
    say!(
        "  simulated OpenBLAS ({threads} threads): {} buffers of {}: virtual {}, resident {} ({} per buffer), commit {} (Windows commits every buffer whole at the first call); process VmSize {}, RSS {}; {g:.1} GFLOP/s (simulated)",
        bufs.len(),
        size(sim::BUFFER_SIZE as u64),
        size(virt),
        size(res),
        size(res / bufs.len().max(1) as u64),
        size(commit),
        change(s0.size, s1.size),
        change(rss0, rss1),
    );
    let mut f = empty("simulated OpenBLAS".into(), products);
    f.blas_buffers = bufs.len() as u64;
    f.blas_virtual = virt;
    f.blas_resident = res;
    f.blas_commit = commit;
    f.blas_gflops = g;
    f.sim = Some(bufs);
    Ok(f)
}
