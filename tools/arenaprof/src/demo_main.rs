//! `arenaprof-demo`: the built-in demonstration, a program that profiles
//! itself on the tracking allocator (`arenaprof demo` runs it). A leading
//! `demo` argument is accepted, so that `cargo run -p arenaprof-cli -- demo`
//! (this package's default binary) runs it as the README says.

#[path = "demo/mod.rs"]
mod demo;

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

/// The arenaprof demonstration: OpenBLAS's per-thread buffers (the machine's
/// library, or a simulation) and a view pinning its base array, measured,
/// reported and fixed.
#[derive(Debug, Parser)]
#[command(name = "arenaprof-demo", version, after_help = EXAMPLES)]
struct DemoCli {
    #[command(flatten)]
    args: demo::DemoArgs,
}

const EXAMPLES: &str = "\
Examples:
  arenaprof demo                      OpenBLAS's per-thread buffers and a pinned view, fixed
  arenaprof demo --quick --no-openblas --out /tmp/demo
  cargo run --release -p arenaprof-cli -- demo     from the repository";

fn main() -> ExitCode {
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "demo") {
        argv.remove(1);
    }
    let cli = match DemoCli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    match demo::run(&cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = format!("arenaprof-demo: {}\n", arenaprof_report::sanitize::line(&e));
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
            ExitCode::from(2)
        }
    }
}
