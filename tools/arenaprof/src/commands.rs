//! The subcommands. Each returns the exit code, or an error message (exit 2).

use crate::cli::{
    CheckArgs, Command, DiffArgs, DiffFormat, FlameArgs, Format, PprofArgs, ReportArgs,
};
use arenaprof_report::check::{check as check_report, Limits};
use arenaprof_report::render::{flame, html, json, pprof, text};
use arenaprof_report::{analyze, diff as diff_reports, input, Options};
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

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(s: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}

fn load_snapshot(path: &Path) -> Result<arenaprof_report::input::Snapshot, String> {
    input::snapshot(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn report(a: &ReportArgs) -> Result<ExitCode, String> {
    let opts = Options {
        top_sites: a.top,
        ..Options::default()
    };
    let r =
        input::report(&a.snapshot, &opts).map_err(|e| format!("{}: {e}", a.snapshot.display()))?;
    let out = match a.format {
        Format::Text => text::render(&r),
        Format::Json => json::render(&r),
        Format::Html => html::render(&r),
    };
    match &a.output {
        Some(p) => write_file(p, out.as_bytes())?,
        None => print(&out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn flame_cmd(a: &FlameArgs) -> Result<ExitCode, String> {
    let snap = load_snapshot(&a.snapshot)?;
    let kind = if a.leaks {
        flame::Kind::Leaks
    } else if a.peak {
        flame::Kind::Peak
    } else if a.alloc {
        flame::Kind::Alloc
    } else {
        flame::Kind::Live
    };
    let mut svg = Vec::new();
    let arenas = (kind == flame::Kind::Leaks).then(|| analyze(&snap, &Options::default()).arenas);
    flame::render_with(&snap, arenas.as_deref(), kind, &mut svg).map_err(|e| e.to_string())?;
    write_file(&a.output, &svg)?;
    Ok(ExitCode::SUCCESS)
}

fn pprof_cmd(a: &PprofArgs) -> Result<ExitCode, String> {
    let snap = load_snapshot(&a.snapshot)?;
    let bytes =
        pprof::to_gzip(&pprof::profile(&snap)).map_err(|e| format!("cannot encode: {e}"))?;
    write_file(&a.output, &bytes)?;
    Ok(ExitCode::SUCCESS)
}

fn load_report(path: &Path) -> Result<arenaprof_report::Report, String> {
    input::report(path, &Options::default()).map_err(|e| format!("{}: {e}", path.display()))
}

fn diff(a: &DiffArgs) -> Result<ExitCode, String> {
    let before = load_report(&a.before)?;
    let after = load_report(&a.after)?;
    let d = diff_reports::diff(&before, &after);
    let out = match a.format {
        DiffFormat::Text => diff_reports::render_text(&d),
        DiffFormat::Json => diff_reports::render_json(&d),
    };
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn check(a: &CheckArgs) -> Result<ExitCode, String> {
    let r = load_report(&a.input)?;
    let limits = Limits {
        max_wasted: a.max_wasted,
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
        eprintln!("note: {n}");
    }
    if out.violations.is_empty() {
        print(&format!("ok: {}\n", out.passed.join("; ")))?;
        Ok(ExitCode::SUCCESS)
    } else {
        let mut s = String::new();
        for v in &out.violations {
            s.push_str(&format!("FAIL: {}\n", v.message));
        }
        print(&s)?;
        Ok(ExitCode::from(1))
    }
}
