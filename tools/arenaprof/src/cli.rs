//! Command-line arguments (clap derive).

use arenaprof_report::units::parse_size;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Where a numeric program's memory goes, and why it stays.
///
/// Reads `.arenaprof` snapshots written by the tracking allocator
/// (`arenaprof::snapshot().write(path)` or `ARENAPROF_OUT=run.arenaprof`).
/// Exit status: 0 success, 1 a `check` limit was exceeded, 2 bad input or usage.
/// Every snapshot argument may be `-` (standard input), every `-o` too
/// (standard output).
#[derive(Debug, Parser)]
#[command(name = "arenaprof", version, after_help = TOP_HELP)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const TOP_HELP: &str = "\\
Examples:
  ARENAPROF_OUT=run.arenaprof ARENAPROF_SAMPLE=bytes ./my_program
  arenaprof report run.arenaprof
  arenaprof flame run.arenaprof -o live.svg
  arenaprof check run.arenaprof --max-tag gemm-workspace=16MiB

Run `arenaprof help COMMAND` for each command's examples.";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report tags, threads, memory, timeline, retention and sites.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Draw a flame graph (SVG, or folded stacks) of sampled allocation
    /// stacks; by default the bytes still live at snapshot time.
    #[command(after_help = FLAME_HELP)]
    Flame(FlameArgs),
    /// Write a pprof heap profile (gzipped profile.proto).
    #[command(after_help = PPROF_HELP)]
    Pprof(PprofArgs),
    /// Export the live-bytes timeline for trace viewers (Perfetto, Chrome) or as CSV.
    #[command(after_help = TIMELINE_HELP)]
    Timeline(TimelineArgs),
    /// Show what grew between two snapshots or JSON reports.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Fail (exit 1) when a snapshot or JSON report exceeds limits.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Run the built-in demonstration (the `arenaprof-demo` program beside
    /// this one, which profiles itself with the tracking allocator).
    #[command(after_help = DEMO_HELP, disable_help_flag = true)]
    Demo(DemoCommand),
}

/// `arenaprof demo ARGS...`: the arguments go to `arenaprof-demo` as they are
/// (`arenaprof demo --help` prints its options).
#[derive(Debug, Args)]
pub struct DemoCommand {
    /// Options of `arenaprof-demo` (`--threads N`, `--no-openblas`,
    /// `--out DIR`, `--quick`, `--help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<std::ffi::OsString>,
}

const REPORT_HELP: &str = "\
Examples:
  arenaprof report run.arenaprof                      text, fitted to the terminal
  arenaprof report run.arenaprof --width 0 | less     no width limit
  arenaprof report run.arenaprof --format html -o report.html
  arenaprof report run.arenaprof --format json -o - | jq .totals
  cat run.arenaprof | arenaprof report -              read standard input

The text width is --width, else $COLUMNS, else the terminal's, else 100.";

const FLAME_HELP: &str = "\
By default the flame graph draws the bytes still live at snapshot time,
by allocation stack, each stack rooted at its tag. Allocator, tracker and
standard-library frames at the leaf and the runtime's start-up frames are
trimmed, as in the report's site tables.

Examples:
  arenaprof flame run.arenaprof -o live.svg
  arenaprof flame run.arenaprof --peak -o peak.svg
  arenaprof flame run.arenaprof --alloc --folded -o - | inferno-flamegraph > alloc.svg
  arenaprof flame run.arenaprof --leaks -o leaks.svg";

const PPROF_HELP: &str = "\
Sample types: alloc_objects, alloc_space, inuse_objects, inuse_space (the
default). Each sample carries the labels tag and thread and the numeric
label bytes (allocation size). Mappings carry the binaries' build IDs.

Examples:
  arenaprof pprof run.arenaprof -o heap.pb.gz && go tool pprof -top heap.pb.gz
  arenaprof pprof run.arenaprof -o - > heap.pb.gz";

const TIMELINE_HELP: &str = "\
perfetto: Chrome trace event JSON, one counter track per tag plus the total,
marks as instant events; open it in ui.perfetto.dev or chrome://tracing.
csv: t_ns, then live bytes per tag, then the total (docs/trace.md).

Examples:
  arenaprof timeline run.arenaprof -o trace.json
  arenaprof timeline run.arenaprof --format csv -o - | column -s, -t";

const DIFF_HELP: &str = "\
--flame and --folded need two snapshots (JSON reports have no stacks): the
differential flame graph's widths are the later snapshot's bytes, red frames
grew and blue ones shrank; --folded writes `stack BEFORE AFTER` lines as
inferno-diff-folded does.

Examples:
  arenaprof diff before.arenaprof after.arenaprof
  arenaprof diff before.json after.json --format json -o diff.json
  arenaprof diff before.arenaprof after.arenaprof --flame diff.svg
  arenaprof diff before.arenaprof after.arenaprof --kind alloc --folded - | inferno-flamegraph > d.svg";

const CHECK_HELP: &str = "\
Sizes are a number and an optional unit: B; KiB, MiB, GiB, TiB (powers of
1024); KB, MB, GB, TB (powers of 1000); K, M, G, T (powers of 1024).
Case-insensitive, a decimal fraction allowed: 4096, 16MiB, 1.5GB, 512k.
A tag name that the report does not have is an error (exit 2) naming the
tags it has. Exit status: 0 all limits hold, 1 one is exceeded, 2 bad input.

Examples:
  arenaprof check run.arenaprof --max-wasted 10MiB --max-tag gemm-workspace=16MiB
  arenaprof check report.json --max-peak 1.5GB --format json | jq .pass";

const DEMO_HELP: &str = "\
Examples:
  arenaprof demo                      OpenBLAS's per-thread buffers and a pinned view, fixed
  arenaprof demo --quick --no-openblas --out /tmp/demo

The demo is its own program, arenaprof-demo, installed beside arenaprof:
it runs on the tracking allocator, which the commands that read snapshots
do not. From the repository: cargo run --release -p arenaprof-cli -- demo";

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
    /// Snapshot file (or a JSON report to render again as text or HTML); `-` reads standard input.
    pub snapshot: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write to FILE instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows per site table.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Widest text line, in characters (0: no limit). Default: $COLUMNS,
    /// else the terminal's width, else 100.
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,
    /// One row per thread: do not fold exited threads that share a name.
    #[arg(long)]
    pub all_threads: bool,
}

/// `arenaprof flame`.
#[derive(Debug, Args)]
pub struct FlameArgs {
    /// Snapshot file (`-`: standard input).
    pub snapshot: PathBuf,
    /// File to write (`-`: standard output).
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
    /// Live bytes at snapshot time (the default).
    #[arg(long, group = "kind")]
    pub live: bool,
    /// Write folded stacks (`frame;frame;frame BYTES`, inferno's format)
    /// instead of SVG.
    #[arg(long)]
    pub folded: bool,
}

/// Which bytes a flame graph shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlameKind {
    /// Live at snapshot time.
    Live,
    /// Live at the global peak.
    Peak,
    /// Cumulative allocated.
    Alloc,
    /// Wasted arena bytes by the view chain that pins them.
    Leaks,
}

/// `arenaprof pprof`.
#[derive(Debug, Args)]
pub struct PprofArgs {
    /// Snapshot file (`-`: standard input).
    pub snapshot: PathBuf,
    /// File to write (gzipped profile.proto, e.g. heap.pb.gz; `-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Timeline formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// Chrome trace event JSON (ui.perfetto.dev, chrome://tracing).
    Perfetto,
    /// Comma-separated values: t_ns, one column per tag, total.
    Csv,
}

/// `arenaprof timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Snapshot file (`-`: standard input).
    pub snapshot: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Perfetto)]
    pub format: TimelineFormat,
    /// Write to FILE instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
    /// The earlier snapshot or JSON report (`-`: standard input).
    pub before: PathBuf,
    /// The later snapshot or JSON report (`-`: standard input).
    pub after: PathBuf,
    /// Output format of the diff.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Write the diff to FILE instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also draw a differential flame graph (SVG) to FILE (`-`: standard
    /// output, instead of the diff).
    #[arg(long, value_name = "FILE")]
    pub flame: Option<PathBuf>,
    /// Also write differential folded stacks (`stack BEFORE AFTER`) to FILE
    /// (`-`: standard output, instead of the diff).
    #[arg(long, value_name = "FILE")]
    pub folded: Option<PathBuf>,
    /// Which bytes --flame and --folded compare.
    #[arg(long, value_enum, default_value_t = FlameKind::Live)]
    pub kind: FlameKind,
}

/// Check verdict formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// `ok: ...` or `FAIL: ...` lines.
    Text,
    /// Each limit with its field, measured value, limit and verdict.
    Json,
}

fn size(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

fn tag_limit(s: &str) -> Result<(String, u64), String> {
    arenaprof_report::check::parse_tag_threshold(s).map_err(|e| e.to_string())
}

/// `arenaprof check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Snapshot or JSON report (`-`: standard input).
    pub input: PathBuf,
    /// Verdict format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
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
