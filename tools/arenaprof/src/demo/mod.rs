//! `arenaprof demo`: both memory failures the tool is built for, reproduced,
//! explained from the tracker's own figures, and fixed, in one run.
//!
//! 1. [`blas`]: per-thread BLAS buffers. The machine's OpenBLAS, loaded at
//!    run time and set to the configured thread count ([`openblas`]), or
//!    when it is absent (or `--no-openblas`) a simulation that maps and
//!    touches what it does ([`sim`]), next to arenaprof's capped GEMM pool,
//!    on the same multiplications. The first line says which.
//! 2. [`views`]: a small view derived through a chain of views pins a large
//!    array; the registry names the chain, and `to_owned()` gives the bytes
//!    (and the RSS) back.
//! 3. The report: a snapshot taken while the view pinned its arena, printed as
//!    text and written as HTML, plus the diff against a snapshot after the fix.
//!
//! Every figure printed is measured in the run (tracker counters, the
//! process's mappings, RSS and VmSize, wall time), never a constant; a
//! simulated figure is labelled as one.

/// `println!` that never panics: a closed pipe (`arenaprof demo | head`) or
/// a full disk leaves the rest of the output unwritten, not a panic.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

mod blas;
mod measure;
mod openblas;
mod sim;
mod views;

use arenaprof::{Sampling, Tag};
use arenaprof_report::render::{self, html, text};
use arenaprof_report::{analyze, diff, Options};
use measure::{mib, Phase};
use std::path::PathBuf;

/// Options of `arenaprof demo`.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// OpenBLAS threads (the machine's library, set with
    /// openblas_set_num_threads, or the simulation: one buffer each), as on a
    /// machine with that many cores.
    #[arg(long, default_value_t = 16)]
    pub threads: usize,
    /// Do not load the machine's OpenBLAS: simulate it, as on a machine
    /// without the library.
    #[arg(long)]
    pub no_openblas: bool,
    /// Directory for the snapshots and reports the demo writes.
    #[arg(long, default_value = "target/arenaprof-demo")]
    pub out: PathBuf,
    /// Smaller sizes, for a fast run (used by the tests).
    #[arg(long)]
    pub quick: bool,
}

/// Runs the demo.
pub fn run(opts: &DemoArgs) -> Result<(), String> {
    if opts.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
    arenaprof::set_sampling(Sampling::Bytes {
        mean: arenaprof::Sampling::DEFAULT_MEAN,
    });
    arenaprof::timeline::start_sampler(std::time::Duration::from_millis(5));
    // Before any library is loaded, so what OpenBLAS maps is attributed to it.
    let hooks = arenaprof::plumbing::untracked(arenaprof_native::hooks::install);
    let mode = openblas::load(opts.no_openblas);
    let which = match (&mode, &hooks) {
        (openblas::Mode::Real(l), Ok(_)) => format!(
            "OpenBLAS {} loaded from {}",
            l.version.as_deref().unwrap_or("(version unknown)"),
            l.path
        ),
        (openblas::Mode::Real(l), Err(e)) => format!(
            "OpenBLAS {} loaded from {}; mmap hooks not installed ({e}), its buffers are not attributed",
            l.version.as_deref().unwrap_or("(version unknown)"),
            l.path
        ),
        (openblas::Mode::Simulated(why), _) => {
            format!("OpenBLAS not loaded: {why}; phase 1 simulates it")
        }
    };
    say!(
        "arenaprof demo: where memory goes and why it stays ({} mode; {which})\n",
        if opts.quick { "quick" } else { "full" }
    );

    let phase = Phase::start(1, "per-thread BLAS buffers");
    let gemm = blas::run(&mode, opts.threads, opts.quick)?;
    phase.done();

    let phase = Phase::start(2, "views that pin arenas");
    let pinned = views::pin(opts.quick)?;
    let pinned_path = opts.out.join("pinned.arenaprof");
    let snap = arenaprof::snapshot();
    arenaprof::plumbing::untracked(|| snap.write(&pinned_path)).map_err(|e| e.to_string())?;
    let fixed = views::fix(pinned)?;
    let fixed_path = opts.out.join("fixed.arenaprof");
    let after = arenaprof::snapshot();
    arenaprof::plumbing::untracked(|| after.write(&fixed_path)).map_err(|e| e.to_string())?;
    phase.done();

    let phase = Phase::start(3, "report");
    // The stacks were stored as return addresses: symbolised here from the
    // binaries, as `arenaprof report` does when it reads the file (the
    // report's flame graph draws from `snap` itself).
    let mut snap = snap;
    arenaprof::plumbing::untracked(|| arenaprof_report::symbols::resolve(&mut snap));
    let report = analyze(&snap, &Options::default());
    let html_path = opts.out.join("report.html");
    arenaprof_snapshot::write_atomic(&html_path, render_page(&report, &snap)?.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", html_path.display()))?;
    let d = diff::diff(&report, &analyze(&after, &Options::default()));
    phase.done();

    let text = text::render(&report, Default::default()).map_err(|e| e.to_string())?;
    say!("\n{text}");
    say!("--- after the fix (arenaprof diff pinned.arenaprof fixed.arenaprof) ---");
    say!(
        "{}",
        render::diff::text(&d, Default::default()).map_err(|e| e.to_string())?
    );
    say!("--- summary ---");
    say!(
        "per-thread buffers: {} maps {} ({} resident, {} commit) in {} buffers for {} threads, and lowering its thread count freed {}; arenaprof's pool holds {} ({} workers, cap {}) and set_threads(1) freed {}; {:.1} vs {:.1} GFLOP/s on the same {} products",
        gemm.blas_name,
        measure::size(gemm.blas_virtual),
        measure::size(gemm.blas_resident),
        measure::size(gemm.blas_commit),
        gemm.blas_buffers,
        opts.threads,
        gemm.blas_freed_text,
        mib(gemm.pool_bytes),
        gemm.pool_workers,
        mib(gemm.pool_cap),
        mib(gemm.pool_freed),
        gemm.blas_gflops,
        gemm.pool_gflops,
        gemm.products,
    );
    say!(
        "views: {} pinned by a {}-byte view ({}); to_owned() returned {} of {} and RSS fell by {}",
        mib(fixed.arena_bytes),
        fixed.view_bytes,
        fixed.site,
        mib(fixed.array_base_drop),
        Tag::ARRAY_BASE,
        mib(fixed.rss_drop),
    );
    say!("\nwrote:");
    say!(
        "  {}  (snapshot while the view pinned its arena)",
        pinned_path.display()
    );
    say!("  {}  (snapshot after the fix)", fixed_path.display());
    say!(
        "  {}  (HTML report: open it in a browser)",
        html_path.display()
    );
    say!("\nnext, with the binary at target/release/arenaprof:");
    say!("  arenaprof report {} --format json", pinned_path.display());
    say!(
        "  arenaprof check {} --max-wasted 10MiB   # exits 1: the pinned arena",
        pinned_path.display()
    );
    say!(
        "  arenaprof check {} --max-wasted 10MiB --at-end   # exits 0 after the fix (the run's worst moment stays)",
        fixed_path.display()
    );
    // OpenBLAS keeps its buffers for the life of the process; so did we.
    drop((gemm.sim, gemm.pool, fixed.owned));
    Ok(())
}

/// The HTML page of `report`, with the flame graph of `snap`'s stacks.
fn render_page(
    report: &arenaprof_report::Report,
    snap: &arenaprof_snapshot::Snapshot,
) -> Result<String, String> {
    let mut budget = arenaprof_report::Budget::unlimited();
    let stacks = arenaprof_report::passes::stacks::page(snap, &report.arenas, &mut budget);
    html::render(
        report,
        render::Options {
            stacks: Some(&stacks),
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())
}
