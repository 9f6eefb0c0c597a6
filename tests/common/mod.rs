//! Helpers of the tests that build an example linked against the system
//! OpenBLAS.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Says why the test skips; fails instead under `CI=true`.
pub fn skip(why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and {why}: tools/test.sh installs libopenblas-dev"
    );
    println!("SKIPPED: {why}");
}

/// Whether the system has libopenblas-dev's `libopenblas.so` and `.a`.
pub fn have_openblas_dev() -> bool {
    ["/usr/lib/x86_64-linux-gnu", "/usr/lib"].iter().any(|d| {
        Path::new(d).join("libopenblas.so").exists() && Path::new(d).join("libopenblas.a").exists()
    })
}

/// Builds example `name` with `feature` and returns its path (`None`, after
/// [`skip`], when it does not build).
pub fn build_example(name: &str, feature: &str) -> Option<PathBuf> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--example", name, "--features", feature])
        .args(["--message-format=json", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo runs");
    if !out.status.success() {
        skip(&format!(
            "example {name} does not build (libopenblas-dev missing?): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| l.contains("error") || l.contains("openblas"))
                .take(3)
                .collect::<Vec<_>>()
                .join(" / ")
        ));
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == name)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
}
