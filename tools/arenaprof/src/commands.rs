//! The subcommands. Each returns the exit code, or an error message (exit 2).
//!
//! Every input is read as a regular file of bounded size and comes with its
//! budget (`arenaprof_report::budget`): what the analysis and the rendering
//! make of it is bounded by 64 × its size + 64 MiB, and past that the command
//! stops with one line. Every output file (`-o`) is written atomically
//! without following symbolic links, and never over the input.

use crate::cli::{
    CheckArgs, Command, DiffArgs, DiffFormat, FlameArgs, Format, PprofArgs, ReportArgs,
};
use arenaprof_report::check::{check as check_report, Limits};
use arenaprof_report::input::Snapshot;
use arenaprof_report::render::{flame, html, json, pprof, text};
use arenaprof_report::{analyze_within, diff as diff_reports, input, sanitize, Budget, Options};
use arenaprof_snapshot::{write_atomic, FormatError};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Runs one command.
pub fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::Report(a) => report(&a),
        Command::Flame(a) => flame_cmd(&a),
        Command::Pprof(a) => pprof_cmd(&a),
        Command::Diff(a) => diff(&a),
        Command::Check(a) => check(&a),
        Command::Demo(a) => crate::demo::run(&a).map(|()| ExitCode::SUCCESS),
    }
}

/// Writes an output file (`-o`) through the atomic, no-follow writer: a
/// temporary file with a random name created exclusively in the same
/// directory, synced and renamed over the final name (a symbolic link there
/// is replaced, not followed).
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic(path, bytes).map_err(|e| match e {
        FormatError::Io(_, e) => format!("cannot write {}: {e}", path.display()),
        e => format!("cannot write {}: {e}", path.display()),
    })
}

/// Refuses an output path that names the input (or the file the input
/// links to): the rename would replace the snapshot with the report.
fn refuse_overwriting_input(input: &Path, output: Option<&Path>) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let Some(output) = output else {
        return Ok(());
    };
    let Ok(out) = std::fs::symlink_metadata(output) else {
        return Ok(());
    };
    let same = |m: std::io::Result<std::fs::Metadata>| {
        m.is_ok_and(|m| m.dev() == out.dev() && m.ino() == out.ino())
    };
    if same(std::fs::symlink_metadata(input)) || same(std::fs::metadata(input)) {
        return Err(format!(
            "{}: refusing to write the output over the input ({}); choose another -o",
            output.display(),
            input.display()
        ));
    }
    Ok(())
}

/// Writes to stdout. A closed pipe (`| head`) ends the output quietly, as
/// with other Unix tools; any other error is reported (exit 2).
fn print(s: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

/// Writes one line to stderr: escaped (no control character reaches the
/// terminal), cut at [`sanitize::MAX_LINE_CHARS`], prefixed `arenaprof: `.
/// Write errors are ignored: there is nowhere left to report them.
pub fn error_line(msg: &str) {
    let line = format!("arenaprof: {}\n", sanitize::line(msg));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

fn note(msg: &str) {
    let line = format!("note: {}\n", sanitize::line(msg));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

fn load_snapshot(path: &Path) -> Result<(Snapshot, Budget), String> {
    input::snapshot_budgeted(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn report(a: &ReportArgs) -> Result<ExitCode, String> {
    refuse_overwriting_input(&a.snapshot, a.output.as_deref())?;
    let opts = Options {
        top_sites: a.top,
        ..Options::default()
    };
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", a.snapshot.display());
    let (r, mut budget) = input::report_budgeted(&a.snapshot, &opts).map_err(|e| at(&e))?;
    let out = match a.format {
        Format::Text => text::render_within(&r, &mut budget),
        Format::Json => json::render_within(&r, &mut budget),
        Format::Html => html::render_within(&r, &mut budget),
    }
    .map_err(|e| at(&e))?;
    match &a.output {
        Some(p) => write_file(p, out.as_bytes())?,
        None => print(&out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn flame_cmd(a: &FlameArgs) -> Result<ExitCode, String> {
    refuse_overwriting_input(&a.snapshot, Some(&a.output))?;
    let (snap, mut budget) = load_snapshot(&a.snapshot)?;
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", a.snapshot.display());
    let kind = if a.leaks {
        flame::Kind::Leaks
    } else if a.peak {
        flame::Kind::Peak
    } else if a.alloc {
        flame::Kind::Alloc
    } else {
        flame::Kind::Live
    };
    let arenas = match kind {
        flame::Kind::Leaks => Some(
            analyze_within(&snap, &Options::default(), &mut budget)
                .map_err(|e| at(&e))?
                .arenas,
        ),
        _ => None,
    };
    let mut svg = Vec::new();
    flame::render_within(&snap, arenas.as_deref(), kind, &mut svg, &mut budget).map_err(
        |e| match e {
            flame::FlameError::Empty(_) => e.to_string(),
            e => at(&e),
        },
    )?;
    write_file(&a.output, &svg)?;
    Ok(ExitCode::SUCCESS)
}

fn pprof_cmd(a: &PprofArgs) -> Result<ExitCode, String> {
    refuse_overwriting_input(&a.snapshot, Some(&a.output))?;
    let (snap, mut budget) = load_snapshot(&a.snapshot)?;
    let profile = pprof::profile_within(&snap, &mut budget)
        .map_err(|e| format!("{}: {e}", a.snapshot.display()))?;
    let bytes = pprof::to_gzip(&profile).map_err(|e| format!("cannot encode: {e}"))?;
    write_file(&a.output, &bytes)?;
    Ok(ExitCode::SUCCESS)
}

fn load_report(path: &Path) -> Result<(arenaprof_report::Report, Budget), String> {
    input::report_budgeted(path, &Options::default())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn diff(a: &DiffArgs) -> Result<ExitCode, String> {
    let (before, b1) = load_report(&a.before)?;
    let (after, b2) = load_report(&a.after)?;
    let mut budget = Budget::join(&b1, &b2);
    let d = diff_reports::diff(&before, &after);
    let out = match a.format {
        DiffFormat::Text => diff_reports::render_text_within(&d, &mut budget),
        DiffFormat::Json => diff_reports::render_json_within(&d, &mut budget),
    }
    .map_err(|e| format!("diff: {e}"))?;
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn check(a: &CheckArgs) -> Result<ExitCode, String> {
    let (r, _) = load_report(&a.input)?;
    let limits = Limits {
        max_wasted: a.max_wasted,
        wasted_at_end: a.at_end,
        max_live: a.max_live,
        max_peak: a.max_peak,
        max_rss: a.max_rss,
        max_outside: a.max_outside,
        max_virtual: a.max_virtual,
        max_tag: a.max_tag.clone(),
        max_tag_peak: a.max_tag_peak.clone(),
    };
    let checked = limits.max_wasted.is_some()
        || limits.max_live.is_some()
        || limits.max_peak.is_some()
        || limits.max_rss.is_some()
        || limits.max_outside.is_some()
        || limits.max_virtual.is_some()
        || !limits.max_tag.is_empty()
        || !limits.max_tag_peak.is_empty();
    if !checked {
        return Err("check: no limit given (use --max-wasted, --max-live, --max-peak, --max-rss, --max-outside, --max-virtual, --max-tag NAME=SIZE or --max-tag-peak NAME=SIZE)".to_owned());
    }
    let out = check_report(&r, &limits);
    for n in &out.notes {
        note(n);
    }
    if out.violations.is_empty() {
        print(&format!("ok: {}\n", sanitize::text(&out.passed.join("; "))))?;
        Ok(ExitCode::SUCCESS)
    } else {
        let mut s = String::new();
        for v in &out.violations {
            s.push_str(&format!("FAIL: {}\n", sanitize::line(&v.message)));
        }
        print(&s)?;
        Ok(ExitCode::from(1))
    }
}
