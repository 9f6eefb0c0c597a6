//! Builds small C shared objects at test time (with `cc`), so the hooks
//! can be tested through a real GOT.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A C file whose `mmap`/`munmap`/`mremap` calls go through its GOT.
pub const MAPPER_C: &str = r#"
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/mman.h>
void *tl_map(size_t len) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
int tl_unmap(void *p, size_t len) { return munmap(p, len); }
void *tl_remap(void *p, size_t old_len, size_t new_len) {
    void *q = mremap(p, old_len, new_len, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}
void *tl_map_fixed(void *at, size_t len) {
    void *p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
"#;

/// Compiles `src` into `lib<name>.so` in a per-process temporary folder.
/// `Err` says why (no compiler, compile error): callers skip with it.
pub fn build_so(name: &str, src: &str, extra: &[&str]) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("arenaprof-native-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir: {e}"))?;
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).map_err(|e| format!("write {}: {e}", c.display()))?;
    let out = dir.join(format!("lib{name}.so"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&out)
        .arg(&c)
        .args(extra)
        .output()
        .map_err(|e| format!("no C compiler `{cc}`: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "`{cc}` failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(out)
}
