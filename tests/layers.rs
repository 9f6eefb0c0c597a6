//! Module layering: no import cycles between the modules of any crate of
//! the workspace (files in subfolders included), and in the crates whose
//! lib.rs lists its layers (the allocator, the report crate, the native
//! crate) every module imports only from its own layer or lower ones.
//!
//! How: a module is a file (`a/b.rs` or `a/b/mod.rs` is `a::b`). Every
//! `crate::`, `super::` and `self::` path in its code (comments, strings
//! and `#[cfg(test)] mod` blocks stripped; `use` groups expanded) is an edge
//! to the longest module path it names; a path through an item the crate
//! root re-exports (`crate::Report`) is an edge to the module that defines
//! it. The test fails naming the cycle, or the edge that goes up a layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// `src` without comments, string and char literals' contents, and
/// `#[cfg(test)] mod NAME { ... }` blocks.
fn code_of(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'r'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
            && b[i + 1..].iter().take_while(|&&x| x == b'#').count() + i + 1 < b.len()
            && b[i + 1 + b[i + 1..].iter().take_while(|&&x| x == b'#').count()] == b'"'
        {
            // A raw string: r#"..."#, its hashes counted.
            let hashes = b[i + 1..].iter().take_while(|&&x| x == b'#').count();
            i += 2 + hashes;
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' {
            // A char literal ('x', '\n', '"'), else a lifetime.
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 2 + p)
            } else {
                let ch = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch) == Some(&b'\'')).then_some(i + 1 + ch)
            };
            match end {
                Some(e) => {
                    out.push_str("' '");
                    i = e + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = src[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    strip_test_mods(&out)
}

/// Removes `#[cfg(test)] mod NAME { ... }` blocks (their `super::*` is the
/// file itself, not an import).
fn strip_test_mods(code: &str) -> String {
    let mut s = code.to_owned();
    while let Some(at) = s.find("#[cfg(test)]") {
        let rest = &s[at + "#[cfg(test)]".len()..];
        let t = rest.trim_start();
        let Some(open) = t
            .strip_prefix("mod ")
            .and_then(|m| m.find('{').filter(|&k| !m[..k].contains(';')))
        else {
            // Not a module block: drop just the attribute.
            s.replace_range(at..at + "#[cfg(test)]".len(), "");
            continue;
        };
        let start_of_body = at + "#[cfg(test)]".len() + (rest.len() - t.len()) + 4 + open + 1;
        let mut depth = 1;
        let mut end = start_of_body;
        for (k, ch) in s[start_of_body..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start_of_body + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        s.replace_range(at..end.max(start_of_body), "");
    }
    s
}

fn ident_at(s: &str) -> &str {
    let n = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '*'))
        .unwrap_or(s.len());
    &s[..n]
}

/// Parses the path (or `use` tree) at `s`, appending each full path.
/// Returns how many bytes it read.
fn use_tree(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    let mut i = 0;
    loop {
        i += s[i..].len() - s[i..].trim_start().len();
        if s[i..].starts_with('{') {
            i += 1;
            loop {
                i += use_tree(&s[i..], &path, out);
                i += s[i..].len() - s[i..].trim_start().len();
                if s[i..].starts_with(',') {
                    i += 1;
                    i += s[i..].len() - s[i..].trim_start().len();
                }
                if s[i..].starts_with('}') {
                    return i + 1;
                }
                if i >= s.len() {
                    return i;
                }
            }
        }
        let id = ident_at(&s[i..]);
        if id.is_empty() {
            out.push(path);
            return i;
        }
        path.push(id.to_owned());
        i += id.len();
        let t = s[i..].trim_start();
        if let Some(rest) = t.strip_prefix("::") {
            i = s.len() - rest.len();
            continue;
        }
        out.push(path);
        return i;
    }
}

/// Every `crate::`, `super::` and `self::` path in `code`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    for kw in ["crate", "super", "self"] {
        let mut from = 0;
        while let Some(k) = code[from..].find(kw) {
            let at = from + k;
            from = at + kw.len();
            let before_ok = at == 0
                || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_' || b[at - 1] == b':');
            let after = code[from..].trim_start();
            if before_ok && after.starts_with("::") {
                use_tree(&code[at..], &[], &mut out);
            }
        }
    }
    out
}

/// The crate's modules by path (`""` is the root), from its `src` folder;
/// unit-test files (`tests.rs`) left out.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<String, PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, src, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                if parts == ["lib"] || parts == ["main"] {
                    parts.clear();
                }
                // A `tests.rs` is a `#[cfg(test)]` module's body.
                if parts.last().is_some_and(|l| l == "tests") {
                    continue;
                }
                out.insert(parts.join("::"), p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The module a path names: the longest prefix that is a module.
fn resolve(path: &[String], me: &[String], mods: &BTreeMap<String, PathBuf>) -> Option<String> {
    let mut segs = path;
    let mut base: Vec<String> = Vec::new();
    if segs.first().is_some_and(|s| s == "crate") {
        segs = &segs[1..];
    } else {
        base = me.to_vec();
        while let Some(s) = segs.first() {
            match s.as_str() {
                "super" => {
                    base.pop();
                }
                "self" => {}
                _ => break,
            }
            segs = &segs[1..];
        }
    }
    let full: Vec<String> = base.into_iter().chain(segs.iter().cloned()).collect();
    (0..=full.len())
        .rev()
        .map(|k| full[..k].join("::"))
        .find(|k| mods.contains_key(k))
}

/// The module graph of the crate whose sources are in `src`.
fn graph_of(src: &Path) -> Graph {
    let mods = modules(src);
    let code: BTreeMap<&String, String> = mods
        .iter()
        .map(|(m, p)| (m, code_of(&std::fs::read_to_string(p).expect("read"))))
        .collect();
    // Items the root re-exports (`pub use a::b::Item;`): name to module.
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
    if let Some(root) = code.get(&String::new()) {
        let mut from = 0;
        while let Some(k) = root[from..].find("pub use ") {
            let at = from + k + "pub use ".len();
            from = at;
            let mut ps = Vec::new();
            use_tree(&root[at..], &[], &mut ps);
            for p in ps {
                let p: Vec<String> = p.into_iter().filter(|s| s != "crate").collect();
                if let (Some(last), Some(m)) = (p.last(), resolve(&p, &[], &mods)) {
                    exported.insert(last.clone(), m);
                }
            }
        }
    }
    let mut g = Graph::new();
    for (m, c) in &code {
        let me: Vec<String> = if m.is_empty() {
            Vec::new()
        } else {
            m.split("::").map(str::to_owned).collect()
        };
        let mut deps = BTreeSet::new();
        for p in paths(c) {
            let mut r = resolve(&p, &me, &mods);
            if r.as_deref() == Some("") && p[0] == "crate" {
                r = p.get(1).and_then(|item| exported.get(item)).cloned();
            }
            if let Some(r) = r.filter(|r| r != *m && !r.is_empty()) {
                deps.insert(r);
            }
        }
        g.insert((*m).clone(), deps);
    }
    g
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every crate's `src` folder in the workspace.
fn crate_sources() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .expect("crates")
        .map(|e| e.expect("entry").path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    v.push(root().join("tools/arenaprof/src"));
    v.push(root().join("src"));
    v.sort();
    v
}

fn graph(krate: &str) -> Graph {
    graph_of(&root().join("crates").join(krate).join("src"))
}

/// A cycle in `g`, if any, as the list of modules along it.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
        n: &str,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let at = path.iter().position(|p| p == n).unwrap_or(0);
                let mut c = path[at..].to_vec();
                c.push(n.to_owned());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_owned(), 1);
        path.push(n.to_owned());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, d, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if let Some(c) = visit(g, n, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_import_cycles() {
    let crates = crate_sources();
    assert!(crates.len() >= 8, "{crates:?}");
    for src in crates {
        let g = graph_of(&src);
        assert!(g.len() >= 2, "{}: no modules found", src.display());
        if let Some(c) = find_cycle(&g) {
            panic!("{}: import cycle {}", src.display(), c.join(" -> "));
        }
    }
}

/// Each module's layer, from the numbered "# Layers" list in `krate`'s
/// lib.rs (the backticked module paths of each item).
fn documented_layers(krate: &str) -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(root().join("crates").join(krate).join("src/lib.rs"))
        .expect("lib.rs");
    let section = lib
        .split("//! # Layers")
        .nth(1)
        .unwrap_or_else(|| panic!("{krate}: no # Layers section"));
    let mut layers = BTreeMap::new();
    let mut level = 0;
    for line in section.lines().skip(1) {
        let Some(text) = line.strip_prefix("//!") else {
            break;
        };
        let t = text.trim_start();
        if let Some(n) = t
            .split_once(". ")
            .and_then(|(n, _)| n.parse::<usize>().ok())
        {
            level = n;
        }
        if level == 0 {
            continue;
        }
        for (i, part) in t.split('`').enumerate() {
            if i % 2 == 1
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == ':')
            {
                layers.entry(part.to_owned()).or_insert(level);
            }
        }
    }
    layers
}

/// Every module of `krate` is in its documented layers, and imports only
/// from its own layer (without a cycle) or lower ones.
fn check_layers(krate: &str, g: &Graph) {
    let layers = documented_layers(krate);
    for (m, ds) in g.iter().filter(|(m, _)| !m.is_empty()) {
        let lm = *layers
            .get(m)
            .unwrap_or_else(|| panic!("{krate}: module `{m}` is missing from lib.rs's # Layers"));
        for d in ds {
            let ld = *layers.get(d).unwrap_or_else(|| {
                panic!("{krate}: module `{d}` is missing from lib.rs's # Layers")
            });
            assert!(
                ld < lm || (ld == lm && !g[d].contains(m)),
                "{krate}: `{m}` (layer {lm}) uses `{d}` (layer {ld}): lib.rs's layers are not the code's"
            );
        }
    }
}

#[test]
fn modules_depend_only_on_lower_layers() {
    for krate in ["arenaprof-alloc", "arenaprof-report", "arenaprof-native"] {
        check_layers(krate, &graph(krate));
    }
}

/// The report crate's renderers that import an analysis pass (they draw
/// what the analysis made, and never run it).
fn renderers_using_analysis(g: &Graph) -> Vec<(String, String)> {
    g.iter()
        .filter(|(m, _)| m.as_str() == "render" || m.starts_with("render::"))
        .flat_map(|(m, ds)| {
            ds.iter()
                .filter(|d| d.as_str() == "analysis" || d.starts_with("analysis::"))
                .map(move |d| (m.clone(), d.clone()))
        })
        .collect()
}

#[test]
fn renderers_never_import_the_analysis() {
    assert_eq!(renderers_using_analysis(&graph("arenaprof-report")), []);
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let a: BTreeSet<String> = paths(&code_of(
        "use crate::{b, c::X};\nfn f() { crate::d::g(); } // crate::e\nconst S: &str = \"crate::f\";",
    ))
    .into_iter()
    .map(|p| p[1].clone())
    .collect();
    assert_eq!(a, ["b", "c", "d"].iter().map(|s| s.to_string()).collect());
    let mut g = Graph::new();
    g.insert("a".into(), ["b".into()].into());
    g.insert("b".into(), ["c".into()].into());
    g.insert("c".into(), ["a".into()].into());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    g.get_mut("c").unwrap().clear();
    assert!(find_cycle(&g).is_none());
}

/// A copy of the report crate's sources with one import planted: the data
/// model using a renderer (the cycle model -> render::text -> model), and a
/// renderer using an analysis pass through `super::super::`. The checker must see both; the real sources have neither.
#[test]
fn a_cycle_planted_in_the_report_crate_fails() {
    let src = root().join("crates/arenaprof-report/src");
    let tmp = std::env::temp_dir().join(format!("arenaprof-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let t = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &t);
            } else {
                std::fs::copy(&p, &t).unwrap();
            }
        }
    }
    copy(&src, &tmp);
    assert!(find_cycle(&graph_of(&tmp)).is_none());
    let model = tmp.join("model/mod.rs");
    let mut text = std::fs::read_to_string(&model).unwrap();
    text.push_str("\n#[allow(unused)]\nuse crate::render::text as planted;\n");
    std::fs::write(&model, text).unwrap();
    let c = find_cycle(&graph_of(&tmp)).expect("the planted cycle is found");
    assert!(
        c.contains(&"model".to_owned()) && c.contains(&"render::text".to_owned()),
        "{c:?}"
    );
    std::fs::copy(src.join("model/mod.rs"), &model).unwrap();
    let flame = tmp.join("render/flame.rs");
    let mut text = std::fs::read_to_string(&flame).unwrap();
    text.push_str("\nfn planted() { let _ = super::super::analysis::stacks::fold; }\n");
    std::fs::write(&flame, text).unwrap();
    let g = graph_of(&tmp);
    assert!(
        g["render::flame"].contains("analysis::stacks"),
        "{:?}",
        g["render::flame"]
    );
    assert_eq!(
        renderers_using_analysis(&g),
        [("render::flame".to_owned(), "analysis::stacks".to_owned())]
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
