//! The house rules, held against the code: cwmpd's top-level modules stand in layers, and a
//! module may import (`crate::…`) only from a layer below its own. That makes import cycles
//! impossible between modules; between the files of the crate they are checked too, with
//! `super::…` paths read as well as `crate::…` ones. Test code (`tests.rs` files and
//! `#[cfg(test)] mod tests` blocks) is left out: tests may reach anywhere.
//! `cargo test --test it layers:: -- --nocapture` prints the graph's figures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom up. Data flows bytes → typed message → RPC → model → backend → system: the ones
/// nearer the system stand lower, SOAP is a leaf any layer may use.
const LAYERS: &[&[&str]] = &[
    &["codec", "clock", "soap", "privilege", "musl"],
    &["store", "config", "event", "http"],
    &["logger", "diag", "cr"],
    &["backend"],
    &["model"],
    &["board"],
    &["transfer"],
    &["rpc"],
    &["session"],
    &["device"],
    &["agent"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every non-test source file under `src/`, as (module path, text without test blocks).
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || name == "tests.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let cut = text.find("#[cfg(test)]\nmod tests {").unwrap_or(text.len());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let rel = p.strip_prefix(&root).unwrap().with_extension("");
        let module = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .filter(|c| c != "mod")
            .collect::<Vec<_>>()
            .join("::");
        out.push((module, text[..cut].to_string()));
    }
}

/// The module paths a text names (imports and inline paths), as paths from the crate root:
/// `crate::a::b…` as it stands, `super::…` (any number of them) resolved against `module`,
/// the file's own module; `use` groups expanded one level (`crate::a::{b, c}`).
fn named(module: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        let next = ["crate::", "super::"]
            .iter()
            .filter_map(|t| text[at..].find(t).map(|i| (at + i, *t)))
            .min();
        let Some((i, token)) = next else { break };
        // A token inside a longer name (`my_crate::`) or after a path (`a::super::`) is not one.
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[i - 1])) {
            at = i + token.len();
            continue;
        }
        let mut base: Vec<&str> = if token == "crate::" {
            Vec::new()
        } else {
            module.split("::").collect()
        };
        let mut start = i + token.len();
        if token == "super::" {
            base.pop();
            while text[start..].starts_with("super::") {
                base.pop();
                start += "super::".len();
            }
        }
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || b"_:".contains(&bytes[end]))
        {
            end += 1;
        }
        let tail = text[start..end].trim_end_matches(':');
        let path = base
            .iter()
            .copied()
            .chain(tail.split("::").filter(|p| !p.is_empty()))
            .collect::<Vec<_>>()
            .join("::");
        if text[end..].starts_with('{') {
            let close = text[end..].find('}').map_or(end, |c| end + c);
            for item in text[end + 1..close].split(',') {
                let item = item.trim().split("::").next().unwrap_or("").trim();
                if !item.is_empty() && item != "self" {
                    out.push(format!("{path}::{item}"));
                }
            }
        }
        out.push(path);
        at = end;
    }
    out
}

/// The module a path names among the known ones (the longest known prefix).
fn resolve<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|p| modules.get(&p))
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'g> {
        g: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(t: &mut T<'g>, v: &'g str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn modules_import_only_from_layers_below_and_files_form_no_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = BTreeSet::new();
    let mut unplaced = BTreeSet::new();
    for (module, text) in &files {
        let top = module.split("::").next().unwrap_or("");
        if top == "lib" || top == "main" {
            continue;
        }
        let deps = graph.entry(module.clone()).or_default();
        for path in named(module, text) {
            let Some(target) = resolve(&path, &modules) else {
                continue;
            };
            if target == module {
                continue;
            }
            deps.insert(target.clone());
            let to = target.split("::").next().unwrap_or("");
            if to == top {
                continue;
            }
            match (layer_of(top), layer_of(to)) {
                (Some(a), Some(b)) if b < a => {}
                (Some(_), Some(_)) => {
                    upward.insert(format!("{module} -> {target}"));
                }
                (None, _) => {
                    unplaced.insert(top.to_string());
                }
                (_, None) => {
                    unplaced.insert(to.to_string());
                }
            }
        }
    }
    let found = cycles(&graph);
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    println!(
        "{} modules (files), {edges} imports between them, {} cycles, {} upward imports",
        graph.len(),
        found.len(),
        upward.len()
    );
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS: {unplaced:?}"
    );
    let up: Vec<&str> = upward.iter().map(String::as_str).collect();
    assert!(up.is_empty(), "imports from a layer up:\n{}", up.join("\n"));
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn the_checker_sees_groups_and_inline_paths() {
    let text = "use crate::a::{b, c::D};\nfn f() { crate::x::y::z(); }\n";
    assert_eq!(
        named("m", text),
        ["a::b", "a::c", "a", "x::y::z"].map(String::from).to_vec()
    );
    // `super::` is read from the file's own module; a name that only ends in it is not one.
    let text = "use super::sock::Timeout;\nuse super::super::codec::{hex};\nmy_crate::q();\n";
    assert_eq!(
        named("http::tls::provider", text),
        [
            "http::tls::sock::Timeout",
            "http::codec::hex",
            "http::codec"
        ]
        .map(String::from)
        .to_vec()
    );
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&g).len(), 1, "a cycle is found");
}
