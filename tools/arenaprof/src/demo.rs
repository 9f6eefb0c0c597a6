//! `arenaprof demo`: a guided run that shows both failure modes the tool is
//! built for (placeholder; its owner replaces this file).

use std::path::PathBuf;

/// Options of `arenaprof demo`.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Worker threads for the GEMM part.
    #[arg(long, default_value_t = 16)]
    pub threads: usize,
    /// Directory for the snapshots and reports the demo writes.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Smaller sizes, for a fast run.
    #[arg(long)]
    pub quick: bool,
}

/// Runs the demo.
pub fn run(opts: &DemoArgs) -> Result<(), String> {
    let _ = opts;
    Err("demo not built yet".to_owned())
}
