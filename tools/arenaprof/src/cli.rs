//! Command-line arguments (clap derive).

use crate::demo::DemoArgs;
use arenaprof_report::units::parse_size;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Where a numeric program's memory goes, and why it stays.
///
/// Reads `.arenaprof` snapshots written by the tracking allocator
/// (`arenaprof::snapshot().write(path)` or `ARENAPROF_OUT=run.arenaprof`).
/// Exit status: 0 success, 1 a `check` limit was exceeded, 2 bad input or usage.
#[derive(Debug, Parser)]
#[command(name = "arenaprof", version)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report tags, threads, memory, timeline, retention and sites.
    Report(ReportArgs),
    /// Draw a flame graph (SVG) of sampled allocation stacks.
    Flame(FlameArgs),
    /// Write a pprof heap profile (gzipped profile.proto).
    Pprof(PprofArgs),
    /// Show what grew between two snapshots or JSON reports.
    Diff(DiffArgs),
    /// Fail (exit 1) when a snapshot or JSON report exceeds limits.
    Check(CheckArgs),
    /// Run the built-in demonstration.
    Demo(DemoArgs),
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Text,
    /// Machine-readable (docs/JSON.md).
    Json,
    /// One self-contained page.
    Html,
}

/// `arenaprof report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Snapshot file (or a JSON report to render again as text or HTML).
    pub snapshot: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows per site table.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
}

/// `arenaprof flame`.
#[derive(Debug, Args)]
pub struct FlameArgs {
    /// Snapshot file.
    pub snapshot: PathBuf,
    /// SVG file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Wasted arena bytes by the view chain that pins them.
    #[arg(long, group = "kind")]
    pub leaks: bool,
    /// Live bytes at the global peak.
    #[arg(long, group = "kind")]
    pub peak: bool,
    /// Cumulative allocated bytes.
    #[arg(long, group = "kind")]
    pub alloc: bool,
}

/// `arenaprof pprof`.
#[derive(Debug, Args)]
pub struct PprofArgs {
    /// Snapshot file.
    pub snapshot: PathBuf,
    /// File to write (gzipped profile.proto, e.g. heap.pb.gz).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Diff formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For a terminal.
    Text,
    /// Machine-readable.
    Json,
}

/// `arenaprof diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot or JSON report.
    pub before: PathBuf,
    /// The later snapshot or JSON report.
    pub after: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

fn size(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

fn tag_limit(s: &str) -> Result<(String, u64), String> {
    arenaprof_report::check::parse_tag_limit(s)
}

/// `arenaprof check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Snapshot or JSON report.
    pub input: PathBuf,
    /// Most wasted arena bytes at the run's worst moment
    /// (retention_worst.wasted_bytes; the end with --at-end), e.g. 10MiB.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_wasted: Option<u64>,
    /// Gate --max-wasted on the wasted bytes at the end of the run
    /// (retention.wasted_bytes) instead of at its worst moment
    /// (retention_worst.wasted_bytes, the default).
    #[arg(long)]
    pub at_end: bool,
    /// Most live bytes at the end (totals.live_bytes).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_live: Option<u64>,
    /// Most peak live bytes (totals.peak_bytes).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_peak: Option<u64>,
    /// Most resident bytes (memory.rss_bytes).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_rss: Option<u64>,
    /// Most resident bytes outside the allocator: native libraries' mappings,
    /// C heaps, stacks, code (memory.outside_allocator_resident_bytes).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_outside: Option<u64>,
    /// Most virtual bytes, VmSize (memory.virtual_bytes).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_virtual: Option<u64>,
    /// Most live bytes of a tag at the end, e.g. gemm-workspace=16MiB (repeatable).
    #[arg(long, value_name = "NAME=SIZE", value_parser = tag_limit)]
    pub max_tag: Vec<(String, u64)>,
    /// Most peak bytes of a tag, e.g. gemm-workspace=64MiB (repeatable).
    #[arg(long, value_name = "NAME=SIZE", value_parser = tag_limit)]
    pub max_tag_peak: Vec<(String, u64)>,
}
