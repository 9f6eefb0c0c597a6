//! `arenaprof`: reports, flame graphs, pprof profiles, diffs and CI checks
//! from arenaprof snapshots. Exit status: 0 success, 1 a `check` limit was
//! exceeded, 2 bad input or usage (never a panic). Output that cannot be
//! written is not a panic either: a closed pipe (`| head`) ends the output
//! quietly, any other write error is one line and exit 2.

//!
//! The commands that read snapshots run on the system allocator and do not
//! link the profiler's runtime; `arenaprof demo` runs `arenaprof-demo`
//! (`src/demo_main.rs`), the program that profiles itself.

mod cli;
mod commands;
mod term;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // Help and version go to stdout (exit 0), usage errors to stderr
            // (exit 2); clap chooses, and its write errors are ours.
            let code = e.exit_code();
            return match e.print() {
                Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                    commands::error_line(&format!("cannot write the usage message: {err}"));
                    ExitCode::from(2)
                }
                _ => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    match commands::run(args.command) {
        Ok(code) => code,
        Err(e) => {
            commands::error_line(&e);
            ExitCode::from(2)
        }
    }
}
