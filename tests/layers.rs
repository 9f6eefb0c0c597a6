//! Module layering: no import cycles between the modules of the allocator,
//! array, GEMM and snapshot crates, and the allocator's modules depend only
//! on layers its crate docs list above them.
//!
//! How: every `crate::NAME` path in a module's code (comments stripped,
//! `use crate::{a, b::c}` groups expanded) is an edge to module `NAME`. The
//! test fails naming the cycle, or the edge that goes up a layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Removes `//` comments (docs included) and string literals' contents.
fn code_of(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                kept.push(c);
            }
            prev = c;
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Modules named after `crate::` in `code`.
fn deps(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident_at(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 || c != '{' {
                    item.push(c);
                }
            }
            out.insert(ident_at(item.trim()));
        } else {
            out.insert(ident_at(after));
        }
        rest = &rest[i + 1..];
    }
    out.retain(|d| !d.is_empty() && d.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
    out
}

fn graph(krate: &str) -> Graph {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(krate)
        .join("src");
    let mut g = Graph::new();
    for e in std::fs::read_dir(&dir).expect("src dir") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "rs") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "lib" {
                continue;
            }
            let src = std::fs::read_to_string(&p).expect("read");
            let mut d = deps(&code_of(&src));
            d.remove(&name);
            g.insert(name, d);
        }
    }
    let modules: BTreeSet<String> = g.keys().cloned().collect();
    for d in g.values_mut() {
        d.retain(|m| modules.contains(m));
    }
    g
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
    for krate in [
        "arenaprof-alloc",
        "arenaprof-array",
        "arenaprof-gemm",
        "arenaprof-snapshot",
    ] {
        let g = graph(krate);
        assert!(g.len() > 2, "{krate}: no modules found");
        if let Some(c) = find_cycle(&g) {
            panic!("{krate}: import cycle {}", c.join(" -> "));
        }
    }
}

/// The allocator's layer of each module, from the numbered "# Layers" list
/// in its lib.rs.
fn documented_layers() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/arenaprof-alloc/src/lib.rs"),
    )
    .expect("lib.rs");
    let section = lib
        .split("//! # Layers")
        .nth(1)
        .expect("a # Layers section");
    let mut layers = BTreeMap::new();
    let mut level = 0;
    for line in section.lines().skip(1) {
        let Some(text) = line.strip_prefix("//!") else {
            break;
        };
        let t = text.trim_start();
        if t.split_once(". ")
            .is_some_and(|(n, _)| n.parse::<usize>().is_ok())
        {
            level = t.split_once(". ").unwrap().0.parse().unwrap();
        }
        if level == 0 {
            continue;
        }
        for (i, part) in t.split('`').enumerate() {
            if i % 2 == 1 && part.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                layers.entry(part.to_owned()).or_insert(level);
            }
        }
    }
    layers
}

#[test]
fn allocator_modules_depend_only_on_lower_layers() {
    let g = graph("arenaprof-alloc");
    let layers = documented_layers();
    for (m, ds) in &g {
        let lm = *layers
            .get(m)
            .unwrap_or_else(|| panic!("module `{m}` is missing from lib.rs's # Layers"));
        for d in ds {
            let ld = layers[d.as_str()];
            assert!(
                ld < lm || (ld == lm && !g[d].contains(m)),
                "`{m}` (layer {lm}) uses `{d}` (layer {ld}): lib.rs's layers are not the code's"
            );
        }
    }
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let a = deps(&code_of(
        "use crate::{b, c::X};\nfn f() { crate::d::g(); } // crate::e",
    ));
    assert_eq!(a, ["b", "c", "d"].iter().map(|s| s.to_string()).collect());
    let mut g = Graph::new();
    g.insert("a".into(), ["b".into()].into());
    g.insert("b".into(), ["c".into()].into());
    g.insert("c".into(), ["a".into()].into());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    g.get_mut("c").unwrap().clear();
    assert!(find_cycle(&g).is_none());
}
