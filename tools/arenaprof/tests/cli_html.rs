//! The HTML report opens in a real browser with no network, and its charts
//! render. Needs Debian's `chromium` (tools/test.sh installs it); without it
//! this test fails with a message saying so, rather than passing silently.
//!
//! Set `ARENAPROF_SCREENSHOT=path.png` to keep the screenshot.
//!
//! The second test drives the page's zoom, search and sorting through the
//! URL fragment (`#zoom=100,300&search=...&sort=...`, which the script
//! applies with the same functions as the controls) and reads the result
//! back from the DOM; the third checks with Chromium's net log that the
//! page makes no request at all.

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
    let (html, page) = fixture_page(dir.path());
    // Self-contained: no external script, style sheet, image or font.
    for needle in [" src=", "<link", "@import", "url(", "href=\"http"] {
        assert!(!page.contains(needle), "page references {needle}");
    }
    assert!(page.contains("`to_owned()`") || page.contains("<code>to_owned()</code>"));

    let url = format!("file://{}", html.display());
    let dom = browse(&dir.path().join("profile-dom"), &["--dump-dom"], &url);
    // Every chart laid out: the timeline, the strips, the process chart and
    // the arena bars (at the end, and at the worst moment when there is one).
    let rendered = dom
        .split(r#"data-charts-rendered=""#)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap_or("");
    let (ok, all) = rendered.split_once('/').unwrap_or(("", ""));
    assert!(
        ok == all && ok.parse::<u32>().is_ok_and(|n| n >= 4),
        "the inline script did not find every chart laid out ({rendered}): {}",
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

/// The report of the pinned-views fixture as HTML, in `dir`.
fn fixture_page(dir: &Path) -> (PathBuf, String) {
    let snap = write(dir, "pinned.arenaprof", &fixtures::pinned_views());
    let html = dir.join("report.html");
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
    (html, page)
}

/// The opening tag of the element with `id`.
fn open_tag<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let start = dom[..at].rfind('<').unwrap();
    &dom[start..at + dom[at..].find('>').unwrap()]
}

/// The text of the five time labels of the chart with `id`.
fn ticks(dom: &str, id: &str) -> Vec<String> {
    let at = dom.find(&format!(r#"id="{id}""#)).unwrap();
    // The labels come before the chart's plot.
    let chart = &dom[at..at + dom[at..].find(r#"<svg class="plot""#).unwrap()];
    chart
        .split(r#"<text class="tick""#)
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            t[..t.find('<').unwrap()].to_owned()
        })
        .collect()
}

/// The rows of the table with `id`, as the text of their first cell.
fn first_cells(dom: &str, id: &str) -> Vec<(String, String)> {
    let at = dom.find(&format!(r#"id="{id}""#)).unwrap();
    let table = &dom[at..at + dom[at..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr")
        .skip(1)
        .map(|tr| {
            let class = tr[..tr.find('>').unwrap()].to_owned();
            let cell = &tr[tr.find("<td").unwrap()..];
            let cell = &cell[cell.find('>').unwrap() + 1..];
            (class, cell[..cell.find('<').unwrap()].to_owned())
        })
        .collect()
}

#[test]
fn zoom_search_and_sort_change_the_dom_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (html, page) = fixture_page(dir.path());
    let url = format!("file://{}", html.display());

    // Without a fragment: the whole run, 0 ns to 1.50 s, nothing searched.
    let dom = browse(&dir.path().join("p0"), &["--dump-dom"], &url);
    assert_eq!(
        ticks(&dom, "combined-chart"),
        ["0 ns", "375.0 ms", "750.0 ms", "1.12 s", "1.50 s"]
    );
    assert!(dom.contains(r#"data-zoom="full""#));
    assert!(!dom.contains("fr match"));
    // The static page (before any script) has the same full-range labels.
    assert_eq!(
        ticks(&page, "combined-chart"),
        ticks(&dom, "combined-chart")
    );

    // Zoom to 100-300 ms, search a frame, sort the tags by live bytes
    // ascending: all through the fragment, as the controls do it.
    let frag = "#zoom=100,300&search=load_signal&sort=tags-table.1.asc&flame=demo_app::load_signal";
    let dom = browse(
        &dir.path().join("p1"),
        &["--dump-dom"],
        &format!("{url}{frag}"),
    );
    assert!(
        dom.contains(r#"data-zoom="100000000,300000000""#),
        "{}",
        &dom[..2000]
    );
    // Every timeline chart shows the range, and its axis says so.
    for id in ["combined-chart", "timeline-chart", "process-chart"] {
        assert!(
            open_tag(&dom, id).contains(r#"data-shown="100000000,300000000""#),
            "{id}: {}",
            open_tag(&dom, id)
        );
        assert_eq!(
            ticks(&dom, id),
            ["100.0 ms", "150.0 ms", "200.0 ms", "250.0 ms", "300.0 ms"],
            "{id}"
        );
    }
    // The plots' viewBox is the zoomed window: 100-300 ms of 0-1.5 s is
    // x 66.67 to 200 of 1000 plot units.
    assert!(
        dom.contains(r#"viewBox="66.6667 -8 133.3333 216.0""#),
        "combined plot not zoomed"
    );
    // The "first matmul" mark (1.15 s) is outside the range: its label is hidden.
    let mark = dom.find(">first matmul<title>").expect("mark label");
    let mark_tag = &dom[dom[..mark].rfind("<text").unwrap()..mark];
    assert!(mark_tag.contains(r#"visibility="hidden""#), "{mark_tag}");
    let load = dom.find(">load<title>").expect("mark label");
    assert!(!dom[dom[..load].rfind("<text").unwrap()..load].contains("visibility"));
    assert!(dom.contains(r#"<output id="zoom-range">100.0 ms – 300.0 ms</output>"#));

    // The search marked the matching flame graph frame, and only it.
    let matched: Vec<&str> = dom
        .split(r#"class="fr match" data-n=""#)
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(matched, ["demo_app::load_signal"]);
    assert!(dom.contains(r#"class="fr" data-n="demo_app::main""#));
    assert!(dom.contains(r#"class="flame searching""#));
    // Site rows: the matching ones highlighted, the others filtered out.
    let rows = dom.matches(r#"<tr class="match">"#).count();
    let hidden = dom.matches(r#"<tr class="nomatch">"#).count();
    assert!(
        rows >= 1 && hidden >= 1,
        "{rows} matching, {hidden} hidden rows"
    );
    for tr in dom.split(r#"<tr class="match">"#).skip(1) {
        assert!(tr[..tr.find("</tr>").unwrap()].contains("load_signal"));
    }
    assert!(dom.contains(r#"id="search-info">1 frames ("#));
    // The flame graph is widened to the frame given (as a click on it does):
    // it and its callers span the width, the other stacks are hidden.
    let frame = |name: &str| -> Vec<&str> {
        dom.split(&format!(r#"data-n="{name}""#))
            .skip(1)
            .map(|t| &t[..t.find('>').unwrap()])
            .collect()
    };
    assert!(frame("demo_app::load_signal")[0].contains("left: 0%; width: 100%;"));
    assert!(frame("[tag array-base]")[0].contains("width: 100%;"));
    assert!(frame("[tag gemm-workspace]")[0].ends_with(r#"hidden="""#));
    assert!(dom.contains(r#"data-zoom="demo_app::load_signal""#));

    // Sorted by live bytes, ascending: untagged 32 KiB, gemm-workspace
    // 48 MiB, array-base 763 MiB (the page lists them by live bytes, descending).
    let order: Vec<String> = first_cells(&dom, "tags-table")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(order, ["untagged", "gemm-workspace", "array-base"]);
    let static_order: Vec<String> = first_cells(&page, "tags-table")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(static_order, ["array-base", "gemm-workspace", "untagged"]);
    assert!(dom.contains(r#"aria-sort="ascending">live</th>"#));
}

/// The URLs of the requests a page (not the browser itself) started, from
/// a Chromium net log.
fn page_requests(net_log: &Path) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(net_log).expect("net log written")).unwrap();
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("event type in the log's constants");
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start))
        .filter(|e| e["params"]["url"].is_string())
        // The browser's own requests (updates, accounts) have no origin.
        .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
        .map(|e| e["params"]["url"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_page_makes_no_network_request() {
    let dir = tempfile::tempdir().unwrap();
    let (html, page) = fixture_page(dir.path());
    // The policy forbids every load but inline style and script.
    assert!(page.contains(
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">"#
    ));
    // No URL of any scheme but the in-page anchors (`href="#..."`), not
    // even an SVG namespace; no protocol-relative reference either.
    for needle in [
        "http://", "https://", "=\"//", "='//", " src=", "<link", "url(", "@import",
    ] {
        assert!(!page.contains(needle), "the page contains {needle}");
    }
    for href in page.split("href=").skip(1) {
        assert!(
            href.starts_with("\"#"),
            "a link out of the page: {}",
            &href[..40]
        );
    }
    let log = dir.path().join("net.json");
    let url = format!("file://{}#zoom=100,300&search=main", html.display());
    browse(
        &dir.path().join("p"),
        &["--dump-dom", &format!("--log-net-log={}", log.display())],
        &url,
    );
    assert_eq!(page_requests(&log), Vec::<String>::new());

    // The check sees a page's requests: a page that loads an image and
    // fetches a URL shows both.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        r#"<!DOCTYPE html><img src="http://192.0.2.1/x.png"><script>fetch("https://example.invalid/y")</script>"#,
    )
    .unwrap();
    let log = dir.path().join("net-control.json");
    browse(
        &dir.path().join("pc"),
        &["--dump-dom", &format!("--log-net-log={}", log.display())],
        &format!("file://{}", control.display()),
    );
    let mut seen = page_requests(&log);
    seen.sort();
    assert_eq!(
        seen,
        ["http://192.0.2.1/x.png", "https://example.invalid/y"]
    );
}
