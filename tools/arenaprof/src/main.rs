//! `arenaprof`: reports, flame graphs, pprof profiles, diffs and CI checks
//! from arenaprof snapshots. Exit status: 0 success, 1 a `check` limit was
//! exceeded, 2 bad input or usage (never a panic).

mod cli;
mod commands;
mod demo;

use clap::Parser;
use std::process::ExitCode;

/// The CLI profiles itself: the demo needs the tracker, and the report
/// commands pay only its small overhead.
#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("arenaprof: {e}");
            ExitCode::from(2)
        }
    }
}
