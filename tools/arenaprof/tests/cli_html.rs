//! The HTML report opens in a real browser with no network, and its charts
//! render. Needs Debian's `chromium` (tools/test.sh installs it); without it
//! this test fails with a message saying so, rather than passing silently.
//!
//! Set `ARENAPROF_SCREENSHOT=path.png` to keep the screenshot (that is how
//! docs/report-html.png is made).

mod common;
use arenaprof_report::fixtures;
use common::{arenaprof, outcome, s, write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .flat_map(|name| {
                std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                    .map(move |d| d.join(name))
                    .collect::<Vec<_>>()
            })
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "headless Chromium is required for this test but was not found on PATH \
             (install it with `apt-get install -y chromium`, as tools/test.sh does, \
             or set CHROMIUM=/path/to/chromium)"
        )
    })
}

/// Runs headless Chromium with networking disabled; returns stdout.
fn browse(profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            // Any host name fails to resolve: the page must need no network.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium starts");
    assert!(
        out.status.success(),
        "chromium failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn html_report_renders_its_charts_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write(dir.path(), "pinned.arenaprof", &fixtures::pinned_views());
    let html = dir.path().join("report.html");
    let (code, _, err) = outcome(&arenaprof(&[
        "report",
        s(&snap),
        "--format",
        "html",
        "-o",
        s(&html),
    ]));
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: no external script, style sheet, image or font.
    for needle in [" src=", "<link", "@import", "url(", "href=\"http"] {
        assert!(!page.contains(needle), "page references {needle}");
    }
    assert!(page.contains("`to_owned()`") || page.contains("<code>to_owned()</code>"));

    let url = format!("file://{}", html.display());
    let dom = browse(&dir.path().join("profile-dom"), &["--dump-dom"], &url);
    assert!(
        dom.contains(r#"data-charts-rendered="3/3""#),
        "the inline script did not find all three charts laid out: {}",
        &dom[..dom.len().min(2000)]
    );
    let timeline = dom
        .find(r#"id="timeline-chart""#)
        .expect("timeline chart in the DOM");
    let tag_end = timeline + dom[timeline..].find('>').unwrap();
    assert!(dom[timeline..tag_end].contains(r#"data-rendered="true""#));
    // The chart drew one series per tag (and VmSize and RSS in the process
    // chart), and the jump and fix are on the page.
    assert_eq!(dom.matches(r#"class="series" data-tag="#).count(), 5);
    let process = dom
        .find(r#"id="process-chart""#)
        .expect("VmSize/RSS chart in the DOM");
    let tag_end = process + dom[process..].find('>').unwrap();
    assert!(dom[process..tag_end].contains(r#"data-rendered="true""#));
    assert!(dom.contains(r#"<table id="outside-allocator">"#));
    assert!(dom.contains("anonymous memory mapped by libopenblas.so.0"));
    assert!(dom.contains("gemm-workspace +48.0 MiB at 1.20 s (mark: first matmul)"));
    assert!(dom.contains("<code>to_owned()</code> at src/main.rs:14 frees 762.9 MiB"));

    let png = dir.path().join("report.png");
    browse(
        &dir.path().join("profile-shot"),
        &[
            "--window-size=1100,1400",
            &format!("--screenshot={}", png.display()),
        ],
        &url,
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1100, 1400));
    assert!(
        bytes.len() > 20_000,
        "a blank page compresses to almost nothing"
    );
    if let Some(keep) = std::env::var_os("ARENAPROF_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}
