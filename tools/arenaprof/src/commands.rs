//! The subcommands. Each returns the exit code, or an error message (exit 2).
//!
//! Every input is read as a regular file of bounded size and comes with its
//! budget (`arenaprof_report::budget`): what the analysis and the rendering
//! make of it is bounded by 64 × its size + 64 MiB, and past that the command
//! stops with one line. Every output file (`-o`) is written atomically
//! without following symbolic links, and never over the input. An input
//! `-` is standard input (capped as files are), an output `-` standard
//! output.

use crate::cli::{
    CheckArgs, CheckFormat, Command, DiffArgs, DiffFormat, FlameArgs, FlameKind, Format, PprofArgs,
    ReportArgs, TimelineArgs, TimelineFormat,
};
use arenaprof_report::check::{check as check_report, validate, Thresholds};
use arenaprof_report::input::{is_stdin, Snapshot};
use arenaprof_report::passes::stacks;
use arenaprof_report::render::{self, flame, folded, html, json, pprof, text, trace};
use arenaprof_report::Kind;
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
        Command::Timeline(a) => timeline(&a),
        Command::Diff(a) => diff(&a),
        Command::Check(a) => check(&a),
        Command::Demo(a) => demo(&a.args),
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

/// Whether an output path is `-` (standard output).
fn is_stdout(path: &Path) -> bool {
    is_stdin(path)
}

/// Writes `bytes` to `output`: standard output when it is absent or `-`,
/// else the file, atomically ([`write_file`]).
fn emit(output: Option<&Path>, bytes: &[u8]) -> Result<(), String> {
    match output {
        Some(p) if !is_stdout(p) => write_file(p, bytes),
        _ => print_bytes(bytes),
    }
}

/// Refuses an output path that names the input (or the file the input
/// links to): the rename would replace the snapshot with the report.
fn refuse_overwriting_input(input: &Path, output: Option<&Path>) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let Some(output) = output.filter(|o| !is_stdout(o)) else {
        return Ok(());
    };
    if is_stdin(input) {
        return Ok(());
    }
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
    print_bytes(s.as_bytes())
}

/// [`print`] for bytes (a gzipped profile, an SVG).
fn print_bytes(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
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
        all_threads: a.all_threads,
        ..Options::default()
    };
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", a.snapshot.display());
    let (r, snap, mut budget) =
        input::report_and_snapshot_budgeted(&a.snapshot, &opts).map_err(|e| at(&e))?;
    let out = match a.format {
        Format::Text => text::render(
            &r,
            render::Options {
                width: text_width(a),
                budget: Some(&mut budget),
                stacks: None,
            },
        ),
        Format::Json => json::render(&r, opts_within(&mut budget)),
        Format::Html => {
            let folded = snap
                .as_ref()
                .map(|s| stacks::page(s, &r.arenas, &mut budget));
            html::render(
                &r,
                render::Options {
                    width: None,
                    budget: Some(&mut budget),
                    stacks: folded.as_ref(),
                },
            )
        }
    }
    .map_err(|e| at(&e))?;
    emit(a.output.as_deref(), out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Render options charging `budget`.
fn opts_within(budget: &mut Budget) -> render::Options<'_> {
    render::Options {
        budget: Some(budget),
        ..Default::default()
    }
}

/// The text report's width: `--width` (0: no limit), else `$COLUMNS`,
/// else the terminal's when the report goes to one, else 100.
fn text_width(a: &ReportArgs) -> Option<usize> {
    let to_stdout = a.output.as_deref().is_none_or(is_stdout);
    let w = a
        .width
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse().ok())
        })
        .or_else(|| to_stdout.then(crate::term::width).flatten())
        .unwrap_or(100);
    (w != 0).then_some(w)
}

fn flame_kind(k: FlameKind) -> Kind {
    match k {
        FlameKind::Live => Kind::Live,
        FlameKind::Peak => Kind::Peak,
        FlameKind::Alloc => Kind::Alloc,
        FlameKind::Leaks => Kind::Leaks,
    }
}

fn flame_cmd(a: &FlameArgs) -> Result<ExitCode, String> {
    refuse_overwriting_input(&a.snapshot, Some(&a.output))?;
    let (snap, mut budget) = load_snapshot(&a.snapshot)?;
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", a.snapshot.display());
    let kind = if a.leaks {
        Kind::Leaks
    } else if a.peak {
        Kind::Peak
    } else if a.alloc {
        Kind::Alloc
    } else {
        Kind::Live
    };
    let arenas = match kind {
        Kind::Leaks => Some(
            analyze_within(&snap, &Options::default(), &mut budget)
                .map_err(|e| at(&e))?
                .arenas,
        ),
        _ => None,
    };
    let flame_err = |e: flame::FlameError| match e {
        flame::FlameError::Empty(_) => e.to_string(),
        e => at(&e),
    };
    let stacks = stacks::fold(&snap, arenas.as_deref(), kind, &mut budget).map_err(|e| at(&e))?;
    let bytes = if a.folded {
        folded::render(&stacks).map_err(flame_err)?.into_bytes()
    } else {
        let mut svg = Vec::new();
        flame::render(&stacks, opts_within(&mut budget), &mut svg).map_err(flame_err)?;
        svg
    };
    emit(Some(&a.output), &bytes)?;
    Ok(ExitCode::SUCCESS)
}

fn pprof_cmd(a: &PprofArgs) -> Result<ExitCode, String> {
    refuse_overwriting_input(&a.snapshot, Some(&a.output))?;
    let (snap, mut budget) = load_snapshot(&a.snapshot)?;
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", a.snapshot.display());
    let trimmed = stacks::trim(&snap, &mut budget).map_err(|e| at(&e))?;
    let profile = pprof::render(&snap, &trimmed, opts_within(&mut budget)).map_err(|e| at(&e))?;
    let bytes = pprof::to_gzip(&profile).map_err(|e| format!("cannot encode: {e}"))?;
    emit(Some(&a.output), &bytes)?;
    Ok(ExitCode::SUCCESS)
}

fn timeline(a: &TimelineArgs) -> Result<ExitCode, String> {
    refuse_overwriting_input(&a.snapshot, a.output.as_deref())?;
    let (snap, mut budget) = load_snapshot(&a.snapshot)?;
    let out = match a.format {
        TimelineFormat::Perfetto => trace::chrome_json(&snap, opts_within(&mut budget)),
        TimelineFormat::Csv => trace::csv(&snap, opts_within(&mut budget)),
    }
    .map_err(|e| format!("{}: {e}", a.snapshot.display()))?;
    emit(a.output.as_deref(), out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn load_report(path: &Path) -> Result<(arenaprof_report::Report, Budget), String> {
    input::report_budgeted(path, &Options::default())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn diff(a: &DiffArgs) -> Result<ExitCode, String> {
    if is_stdin(&a.before) && is_stdin(&a.after) {
        return Err("diff: only one input can be standard input (-)".to_owned());
    }
    let outputs = [a.output.as_deref(), a.flame.as_deref(), a.folded.as_deref()];
    if outputs.iter().flatten().filter(|p| is_stdout(p)).count() > 1 {
        return Err(
            "diff: only one of -o, --flame and --folded can be standard output (-)".to_owned(),
        );
    }
    for input in [&a.before, &a.after] {
        for out in outputs {
            refuse_overwriting_input(input, out)?;
        }
    }
    // The diff goes to standard output unless -o names a file, or
    // --flame/--folded write there instead.
    let stacks_to_stdout = [a.flame.as_deref(), a.folded.as_deref()]
        .iter()
        .flatten()
        .any(|p| is_stdout(p));
    let stacks = a.flame.is_some() || a.folded.is_some();
    // Both inputs are read once: as bytes, then as a report and (for the
    // flame graphs) as a snapshot.
    let read = |p: &Path| input::read_bytes(p).map_err(|e| format!("{}: {e}", p.display()));
    let (bb, ab) = (read(&a.before)?, read(&a.after)?);
    let mut b1 = Budget::for_input(bb.len() as u64);
    let mut b2 = Budget::for_input(ab.len() as u64);
    let opts = Options::default();
    let before = input::report_from_bytes_within(&bb, &opts, &mut b1)
        .map_err(|e| format!("{}: {e}", a.before.display()))?;
    let after = input::report_from_bytes_within(&ab, &opts, &mut b2)
        .map_err(|e| format!("{}: {e}", a.after.display()))?;
    let mut budget = Budget::join(&b1, &b2);
    if stacks {
        let snap = |bytes: &[u8], p: &Path| {
            input::snapshot_from_bytes(bytes).map_err(|e| {
                format!(
                    "{}: --flame and --folded need snapshots (JSON reports have no stacks): {e}",
                    p.display()
                )
            })
        };
        let (s1, s2) = (snap(&bb, &a.before)?, snap(&ab, &a.after)?);
        let kind = flame_kind(a.kind);
        let err = |e: flame::FlameError| format!("diff: {e}");
        let f1 = stacks::fold(&s1, None, kind, &mut budget).map_err(|e| err(e.into()))?;
        let f2 = stacks::fold(&s2, None, kind, &mut budget).map_err(|e| err(e.into()))?;
        if let Some(p) = &a.folded {
            let text = folded::differential(&f1, &f2, opts_within(&mut budget)).map_err(err)?;
            emit(Some(p), text.as_bytes())?;
        }
        if let Some(p) = &a.flame {
            let mut svg = Vec::new();
            folded::differential_svg(&f1, &f2, opts_within(&mut budget), &mut svg).map_err(err)?;
            emit(Some(p), &svg)?;
        }
    }
    if stacks_to_stdout && a.output.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    let d = diff_reports::diff(&before, &after);
    let out = match a.format {
        DiffFormat::Text => render::diff::text(&d, opts_within(&mut budget)),
        DiffFormat::Json => render::diff::json(&d, opts_within(&mut budget)),
    }
    .map_err(|e| format!("diff: {e}"))?;
    emit(a.output.as_deref(), out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn check(a: &CheckArgs) -> Result<ExitCode, String> {
    let (r, _) = load_report(&a.input)?;
    let limits = Thresholds {
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
    validate(&r, &limits).map_err(|e| format!("check: {e}"))?;
    let out = check_report(&r, &limits);
    for n in &out.notes {
        note(n);
    }
    let code = if out.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if a.format == CheckFormat::Json {
        print(&out.to_json())?;
        return Ok(code);
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

/// Runs `arenaprof-demo`, the program beside this one, with `args`, and
/// returns its exit status.
fn demo(args: &[std::ffi::OsString]) -> Result<ExitCode, String> {
    let me = std::env::current_exe().map_err(|e| format!("demo: cannot find this program: {e}"))?;
    let program = me.with_file_name("arenaprof-demo");
    if !program.is_file() {
        return Err(format!(
            "demo: {} is missing (the demo is its own program; from the repository: cargo run --release -p arenaprof-cli -- demo)",
            program.display()
        ));
    }
    let status = std::process::Command::new(&program)
        .args(args)
        .status()
        .map_err(|e| format!("demo: cannot run {}: {e}", program.display()))?;
    Ok(ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(2),
    ))
}
