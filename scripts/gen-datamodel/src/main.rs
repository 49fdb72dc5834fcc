//! Generates `datamodel/*.toml` from the Broadband Forum's TR-181 "full" XML.
//!
//! Usage: `cargo run -p gen-datamodel -- [--xml FILE] [--out DIR]`
//! (defaults: `../shared/bbf/tr-181-2-17-0-cwmp-full.xml` and `datamodel`, relative to the
//! repository root). Carries facts only — paths, access, counts, keys, types and their
//! facets, defaults, notification policy, status — never description text. Output is
//! deterministic: objects and parameters in data-model order, one file per child of
//! `Device.` plus `Device.toml` for the root object.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cwmpd::model::schema::{
    Access, BaseType, ListSpec, NotifyPolicy, Object, Parameter, Range, Status, Syntax,
};
use xml::reader::{EventReader, ParserConfig, XmlEvent};

/// A parsed element without text content (descriptions are skipped while parsing).
#[derive(Debug, Default)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Elem>,
}

impl Elem {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    fn child(&self, n: &str) -> Option<&Elem> {
        self.children.iter().find(|c| c.name == n)
    }
    fn all<'a>(&'a self, n: &'a str) -> impl Iterator<Item = &'a Elem> + 'a {
        self.children.iter().filter(move |c| c.name == n)
    }
}

fn parse_xml(path: &Path) -> Result<Elem, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg = ParserConfig::new()
        .trim_whitespace(true)
        .ignore_comments(true);
    let mut stack: Vec<Elem> = vec![Elem::default()];
    let mut skip = 0usize;
    for ev in EventReader::new_with_config(std::io::BufReader::new(file), cfg) {
        match ev.map_err(|e| format!("{}: {e}", path.display()))? {
            XmlEvent::StartElement {
                name, attributes, ..
            } => {
                if skip > 0 || name.local_name == "description" {
                    skip += 1;
                    continue;
                }
                stack.push(Elem {
                    name: name.local_name,
                    attrs: attributes
                        .into_iter()
                        .filter(|a| a.name.prefix.is_none())
                        .map(|a| (a.name.local_name, a.value))
                        .collect(),
                    children: Vec::new(),
                });
            }
            XmlEvent::EndElement { .. } => {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let done = stack.pop().ok_or("unbalanced XML")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced XML")?
                    .children
                    .push(done);
            }
            _ => {}
        }
    }
    stack
        .pop()
        .and_then(|mut root| root.children.pop())
        .ok_or_else(|| "empty document".to_string())
}

const PRIMITIVES: [(&str, BaseType); 10] = [
    ("string", BaseType::String),
    ("boolean", BaseType::Boolean),
    ("int", BaseType::Int),
    ("unsignedInt", BaseType::UnsignedInt),
    ("long", BaseType::Long),
    ("unsignedLong", BaseType::UnsignedLong),
    ("dateTime", BaseType::DateTime),
    ("base64", BaseType::Base64),
    ("hexBinary", BaseType::HexBinary),
    ("decimal", BaseType::Decimal),
];

fn empty_syntax(base: BaseType) -> Syntax {
    Syntax::new(base)
}

/// Applies facet children (size, range, enumeration, pattern, units, pathRef …) of `e`.
/// Facets given on a derived type replace those of its base of the same kind.
fn apply_facets(s: &mut Syntax, e: &Elem) -> Result<(), String> {
    let num = |v: Option<&str>| v.and_then(|x| x.parse::<u32>().ok());
    let sizes: Vec<&Elem> = e.all("size").collect();
    match sizes.as_slice() {
        [] => {}
        [size] => {
            if let Some(v) = num(size.attr("maxLength")) {
                s.max_length = Some(v);
            }
            if let Some(v) = num(size.attr("minLength")) {
                s.min_length = Some(v);
            }
        }
        // Several `<size>` are alternatives (WEPKey: 5 or 13 bytes; EnhancedPassword: 12..64
        // or empty). The schema holds one length range, so keep their envelope: it never
        // refuses a valid value, and it may accept a length between two alternatives.
        many => {
            let min = many
                .iter()
                .map(|z| num(z.attr("minLength")).unwrap_or(0))
                .min()
                .unwrap_or(0);
            s.min_length = (min > 0).then_some(min);
            s.max_length = many
                .iter()
                .map(|z| num(z.attr("maxLength")))
                .try_fold(0u32, |m, v| v.map(|v| m.max(v)));
        }
    }
    let mut ranges = Vec::new();
    for r in e.all("range") {
        // Bounds must be integers: the schema's `Range` holds `i128`. TR-181 2.17 has no
        // fractional (decimal) ranges; fail loudly rather than drop one a later XML adds.
        let p = |k: &str| -> Result<Option<i128>, String> {
            match r.attr(k) {
                None => Ok(None),
                Some(v) => v
                    .parse::<i128>()
                    .map(Some)
                    .map_err(|_| format!("range {k}=\"{v}\" is not an integer")),
            }
        };
        ranges.push(Range {
            min: p("minInclusive")?,
            max: p("maxInclusive")?,
            step: p("step")?,
        });
    }
    if !ranges.is_empty() {
        s.ranges = ranges;
    }
    let en: Vec<String> = e
        .all("enumeration")
        .filter_map(|x| x.attr("value").map(str::to_string))
        .collect();
    if !en.is_empty() {
        s.enumeration = en;
    }
    let pats: Vec<String> = e
        .all("pattern")
        .filter_map(|x| x.attr("value").map(str::to_string))
        .collect();
    if !pats.is_empty() {
        s.patterns = pats;
    }
    if let Some(u) = e.child("units").and_then(|u| u.attr("value")) {
        s.units = Some(u.to_string());
    }
    if e.child("pathRef").is_some() || e.child("instanceRef").is_some() {
        s.reference = true;
    }
    Ok(())
}

struct Types<'a> {
    defs: BTreeMap<&'a str, &'a Elem>,
}

impl Types<'_> {
    /// The syntax of a named data type, following `base=` chains.
    fn resolve(&self, name: &str, depth: usize) -> Result<Syntax, String> {
        let def = self
            .defs
            .get(name)
            .ok_or_else(|| format!("unknown dataType {name}"))?;
        if depth > 8 {
            return Err(format!("dataType {name}: base chain too deep"));
        }
        let mut s = if let Some(base) = def.attr("base") {
            self.resolve(base, depth + 1)?
        } else {
            self.syntax_of(&def.children, depth + 1)?
        };
        apply_facets(&mut s, def).map_err(|e| format!("dataType {name}: {e}"))?;
        s.data_type = Some(name.to_string());
        Ok(s)
    }

    /// The syntax described by the children of a `<syntax>` (or a `<dataType>` definition).
    fn syntax_of(&self, children: &[Elem], depth: usize) -> Result<Syntax, String> {
        let mut list = None;
        let mut s = None;
        for c in children {
            if c.name == "list" {
                let n = |k| c.attr(k).and_then(|v: &str| v.parse::<u32>().ok());
                list = Some(ListSpec {
                    min_items: n("minItems"),
                    max_items: n("maxItems"),
                    max_length: c
                        .child("size")
                        .and_then(|sz| sz.attr("maxLength"))
                        .and_then(|v| v.parse().ok()),
                });
            } else if let Some((_, base)) = PRIMITIVES.iter().find(|(n, _)| *n == c.name) {
                let mut x = empty_syntax(*base);
                apply_facets(&mut x, c)?;
                s = Some(x);
            } else if c.name == "dataType" {
                let r = c
                    .attr("ref")
                    .or_else(|| c.attr("base"))
                    .ok_or("dataType without ref or base")?;
                let mut x = self.resolve(r, depth)?;
                apply_facets(&mut x, c)?;
                s = Some(x);
            }
        }
        let mut s = s.ok_or("syntax without a type")?;
        if list.is_some() {
            s.list = list;
        }
        Ok(s)
    }
}

fn access(v: Option<&str>) -> Result<Access, String> {
    match v {
        Some("readOnly") | None => Ok(Access::ReadOnly),
        Some("readWrite") => Ok(Access::ReadWrite),
        Some("writeOnceReadOnly") => Ok(Access::WriteOnceReadOnly),
        Some(o) => Err(format!("unknown access {o}")),
    }
}

fn status(v: Option<&str>) -> Status {
    match v {
        Some("deprecated") => Status::Deprecated,
        Some("obsoleted") => Status::Obsoleted,
        Some("deleted") => Status::Deleted,
        _ => Status::Current,
    }
}

fn parameter(types: &Types, p: &Elem) -> Result<Parameter, String> {
    let name = p.attr("name").ok_or("parameter without name")?.to_string();
    let syn_el = p
        .child("syntax")
        .ok_or_else(|| format!("{name}: no syntax"))?;
    let mut syntax = types
        .syntax_of(&syn_el.children, 0)
        .map_err(|e| format!("{name}: {e}"))?;
    syntax.hidden = syn_el.attr("hidden") == Some("true") || syn_el.attr("secured") == Some("true");
    let defaults: Vec<&Elem> = syn_el.all("default").collect();
    let default = defaults
        .iter()
        .find(|d| d.attr("type") == Some("object"))
        .or_else(|| defaults.first())
        .and_then(|d| d.attr("value"))
        .map(str::to_string);
    let notify = match p.attr("activeNotify") {
        Some("canDeny") => NotifyPolicy::CanDeny,
        Some("forceEnabled") => NotifyPolicy::ForceEnabled,
        Some("forceDefaultEnabled") => NotifyPolicy::ForceDefaultEnabled,
        _ => NotifyPolicy::Normal,
    };
    Ok(Parameter {
        name,
        syntax,
        access: access(p.attr("access"))?,
        default,
        forced_inform: p.attr("forcedInform") == Some("true"),
        notify,
        status: status(p.attr("status")),
    })
}

fn object(types: &Types, o: &Elem) -> Result<Object, String> {
    let path = o.attr("name").ok_or("object without name")?.to_string();
    // Both default to 1 (cwmp-datamodel-1-14.xsd): 2.17 leaves them off some new objects.
    let entries = |k: &str| -> Result<Option<u32>, String> {
        match o.attr(k) {
            None => Ok(Some(1)),
            Some("unbounded") => Ok(None),
            Some(v) => v
                .parse::<u32>()
                .map(Some)
                .map_err(|_| format!("{path}: {k}=\"{v}\" is not a count")),
        }
    };
    let min_entries =
        entries("minEntries")?.ok_or_else(|| format!("{path}: minEntries unbounded"))?;
    let max_entries = entries("maxEntries")?;
    let mut params = Vec::new();
    for p in o.all("parameter") {
        params.push(parameter(types, p).map_err(|e| format!("{path}{e}"))?);
    }
    Ok(Object {
        access: access(o.attr("access"))?,
        min_entries,
        max_entries,
        num_entries: o.attr("numEntriesParameter").map(str::to_string),
        unique_keys: o
            .all("uniqueKey")
            .map(|k| {
                k.all("parameter")
                    .filter_map(|p| p.attr("ref").map(str::to_string))
                    .collect()
            })
            .collect(),
        enable_parameter: o.attr("enableParameter").map(str::to_string),
        status: status(o.attr("status")),
        params,
        path,
    })
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list_of(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

fn syntax_toml(s: &Syntax) -> String {
    let mut f = vec![format!("type = {}", q(s.base.as_str()))];
    if let Some(d) = &s.data_type {
        f.push(format!("data_type = {}", q(d)));
    }
    if let Some(l) = &s.list {
        let mut lf = Vec::new();
        if let Some(v) = l.min_items {
            lf.push(format!("min_items = {v}"));
        }
        if let Some(v) = l.max_items {
            lf.push(format!("max_items = {v}"));
        }
        if let Some(v) = l.max_length {
            lf.push(format!("max_length = {v}"));
        }
        f.push(format!("list = {{ {} }}", lf.join(", ")).replace("{  }", "{}"));
    }
    if let Some(v) = s.min_length {
        f.push(format!("min_length = {v}"));
    }
    if let Some(v) = s.max_length {
        f.push(format!("max_length = {v}"));
    }
    if !s.ranges.is_empty() {
        let rs: Vec<String> = s
            .ranges
            .iter()
            .map(|r| {
                let mut x = Vec::new();
                if let Some(v) = r.min {
                    x.push(format!("min = {v}"));
                }
                if let Some(v) = r.max {
                    x.push(format!("max = {v}"));
                }
                if let Some(v) = r.step {
                    x.push(format!("step = {v}"));
                }
                format!("{{ {} }}", x.join(", "))
            })
            .collect();
        f.push(format!("ranges = [{}]", rs.join(", ")));
    }
    if !s.enumeration.is_empty() {
        f.push(format!("enumeration = {}", list_of(&s.enumeration)));
    }
    if !s.patterns.is_empty() {
        f.push(format!("patterns = {}", list_of(&s.patterns)));
    }
    if s.reference {
        f.push("reference = true".into());
    }
    if s.hidden {
        f.push("hidden = true".into());
    }
    if let Some(u) = &s.units {
        f.push(format!("units = {}", q(u)));
    }
    format!("{{ {} }}", f.join(", "))
}

fn object_toml(o: &Object, out: &mut String) {
    let _ = writeln!(
        out,
        "\n[[object]]\npath = {}\naccess = {}",
        q(&o.path),
        q(o.access.as_str())
    );
    let _ = writeln!(out, "min_entries = {}", o.min_entries);
    if let Some(m) = o.max_entries {
        let _ = writeln!(out, "max_entries = {m}");
    }
    if let Some(n) = &o.num_entries {
        let _ = writeln!(out, "num_entries = {}", q(n));
    }
    if !o.unique_keys.is_empty() {
        let keys: Vec<String> = o.unique_keys.iter().map(|k| list_of(k)).collect();
        let _ = writeln!(out, "unique_keys = [{}]", keys.join(", "));
    }
    if let Some(e) = &o.enable_parameter {
        let _ = writeln!(out, "enable_parameter = {}", q(e));
    }
    if o.status != Status::Current {
        let _ = writeln!(out, "status = {}", q(o.status.as_str()));
    }
    if o.params.is_empty() {
        return;
    }
    out.push_str("param = [\n");
    for p in &o.params {
        let mut f = vec![
            format!("name = {}", q(&p.name)),
            format!("access = {}", q(p.access.as_str())),
        ];
        if let Some(d) = &p.default {
            f.push(format!("default = {}", q(d)));
        }
        if p.forced_inform {
            f.push("forced_inform = true".into());
        }
        if p.notify != NotifyPolicy::Normal {
            f.push(format!("notify = {}", q(p.notify.as_str())));
        }
        if p.status != Status::Current {
            f.push(format!("status = {}", q(p.status.as_str())));
        }
        f.push(format!("syntax = {}", syntax_toml(&p.syntax)));
        let _ = writeln!(out, "  {{ {} }},", f.join(", "));
    }
    out.push_str("]\n");
}

/// The file an object goes to: `Device` for the root, else the first segment below it.
fn file_of(path: &str) -> &str {
    match path
        .strip_prefix("Device.")
        .and_then(|r| r.split('.').next())
    {
        Some(first) if !first.is_empty() => first,
        _ => "Device",
    }
}

fn run(xml: &Path, out_dir: &Path) -> Result<(usize, usize, usize), String> {
    let doc = parse_xml(xml)?;
    let types = Types {
        defs: doc
            .all("dataType")
            .filter_map(|d| d.attr("name").map(|n| (n, d)))
            .collect(),
    };
    let model = doc.child("model").ok_or("no <model> element")?;
    let version = model.attr("name").unwrap_or("?").to_string();
    let source = xml
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut files: Vec<(String, String)> = Vec::new();
    let (mut n_obj, mut n_par) = (0, 0);
    for o in model.all("object") {
        let obj = object(&types, o)?;
        n_obj += 1;
        n_par += obj.params.len();
        let file = file_of(&obj.path).to_string();
        let idx = match files.iter().position(|(f, _)| *f == file) {
            Some(i) => i,
            None => {
                let header = format!(
                    "# Generated by scripts/gen-datamodel from {source} ({version}). Do not edit.\n\
                     # Facts from the Broadband Forum TR-181 data model (BSD-3-Clause); see README.md.\n"
                );
                files.push((file.clone(), header));
                files.len() - 1
            }
        };
        object_toml(&obj, &mut files[idx].1);
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    // Remove generated files that no longer have objects, keep anything else (README.md).
    if let Ok(rd) = std::fs::read_dir(out_dir) {
        for e in rd.flatten() {
            let p = e.path();
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.extension().is_some_and(|x| x == "toml") && !files.iter().any(|(f, _)| *f == stem)
            {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    for (file, text) in &files {
        let path = out_dir.join(format!("{file}.toml"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok((files.len(), n_obj, n_par))
}

fn main() -> std::process::ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut xml: PathBuf = root.join("../shared/bbf/tr-181-2-17-0-cwmp-full.xml");
    let mut out: PathBuf = root.join("datamodel");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--xml", Some(v)) => xml = v.into(),
            ("--out", Some(v)) => out = v.into(),
            _ => {
                eprintln!("usage: gen-datamodel [--xml FILE] [--out DIR]");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match run(&xml, &out) {
        Ok((files, objects, params)) => {
            println!(
                "{files} files, {objects} objects, {params} parameters written to {}",
                out.display()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-datamodel: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// The committed `datamodel/` is exactly what the generator makes from the BBF XML.
    #[test]
    fn committed_output_is_what_the_generator_makes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        // CWMPD_BBF_XML points at the XML from a checkout elsewhere (a git worktree).
        let xml = std::env::var_os("CWMPD_BBF_XML")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/bbf/tr-181-2-17-0-cwmp-full.xml"));
        if !xml.exists() {
            eprintln!("skipped: {} not found", xml.display());
            return;
        }
        let out = std::env::temp_dir().join(format!("cwmpd-gen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let (files, objects, params) = super::run(&xml, &out).unwrap();
        assert_eq!((objects, params), (790, 6483));
        let committed = root.join("datamodel");
        let mut n = 0;
        for e in std::fs::read_dir(&out).unwrap().flatten() {
            let name = e.file_name();
            let want = std::fs::read(committed.join(&name)).unwrap_or_default();
            assert!(
                std::fs::read(e.path()).unwrap() == want,
                "{} differs: re-run the generator",
                name.to_string_lossy()
            );
            n += 1;
        }
        assert_eq!(n, files);
        let extra: Vec<_> = std::fs::read_dir(&committed)
            .unwrap()
            .flatten()
            .filter(|e| {
                e.path().extension().is_some_and(|x| x == "toml")
                    && !out.join(e.file_name()).exists()
            })
            .map(|e| e.file_name())
            .collect();
        assert!(extra.is_empty(), "stale files in datamodel/: {extra:?}");
        std::fs::remove_dir_all(&out).unwrap();
    }

    const TINY: &str = r#"<?xml version="1.0"?>
<dm:document xmlns:dm="urn:broadband-forum-org:cwmp:datamodel-1-14">
  <dataType name="Alias"><string><size maxLength="64"/></string></dataType>
  <dataType name="Short" base="Alias"><size maxLength="8"/><pattern value="[a-z]+"/></dataType>
  <model name="Device:9.9">
    <object name="Device." access="readOnly" minEntries="1" maxEntries="1">
      <parameter name="XNumberOfEntries" access="readOnly"><syntax><unsignedInt/></syntax></parameter>
    </object>
    <object name="Device.X.{i}." access="readWrite" minEntries="0" maxEntries="unbounded"
            numEntriesParameter="XNumberOfEntries" enableParameter="Enable">
      <uniqueKey><parameter ref="Name"/></uniqueKey>
      <parameter name="Name" access="readWrite">
        <description>Words that must not appear.</description>
        <syntax secured="true"><dataType ref="Short"/><default type="factory" value="f"/><default type="object" value="o"/></syntax>
      </parameter>
      <parameter name="Level" access="readWrite" activeNotify="canDeny" forcedInform="true">
        <syntax><list minItems="1"><size maxLength="32"/></list><int><range minInclusive="-5" maxInclusive="5" step="5"/></int></syntax>
      </parameter>
      <parameter name="Key" access="readWrite">
        <syntax hidden="true"><hexBinary><size minLength="5" maxLength="5"/><size minLength="13" maxLength="13"/></hexBinary></syntax>
      </parameter>
      <parameter name="Code" access="readOnly">
        <syntax><string><size minLength="0" maxLength="0"/><size minLength="5" maxLength="7"/></string></syntax>
      </parameter>
    </object>
    <object name="Device.X.{i}.Sub." access="readOnly">
    </object>
  </model>
</dm:document>
"#;

    fn tiny(xml: &str, tag: &str) -> (std::path::PathBuf, Result<(usize, usize, usize), String>) {
        let d = std::env::temp_dir().join(format!("cwmpd-gen-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let x = d.join("tiny.xml");
        std::fs::write(&x, xml).unwrap();
        let r = super::run(&x, &d.join("out"));
        (d, r)
    }

    #[test]
    fn a_tiny_model_carries_its_facts_and_no_text() {
        let (d, r) = tiny(TINY, "ok");
        assert_eq!(r.unwrap(), (2, 3, 5));
        let x = std::fs::read_to_string(d.join("out/X.toml")).unwrap();
        assert!(x.starts_with("# Generated by scripts/gen-datamodel from tiny.xml (Device:9.9)."));
        assert!(!x.contains("Words"));
        let s = cwmpd::model::load::load(&d.join("out"), None).unwrap();
        let o = s.object("Device.X.{i}.").unwrap();
        assert_eq!(o.max_entries, None);
        assert_eq!(o.num_entries.as_deref(), Some("XNumberOfEntries"));
        assert_eq!(o.enable_parameter.as_deref(), Some("Enable"));
        assert_eq!(o.unique_keys, vec![vec!["Name".to_string()]]);
        let name = o.param("Name").unwrap();
        assert_eq!(name.default.as_deref(), Some("o"));
        assert_eq!(name.syntax.data_type.as_deref(), Some("Short"));
        assert_eq!(name.syntax.max_length, Some(8));
        assert_eq!(name.syntax.patterns, vec!["[a-z]+".to_string()]);
        assert!(name.syntax.hidden);
        let level = o.param("Level").unwrap();
        assert!(level.forced_inform);
        assert_eq!(level.notify, cwmpd::model::schema::NotifyPolicy::CanDeny);
        let list = level.syntax.list.as_ref().unwrap();
        assert_eq!((list.min_items, list.max_length), (Some(1), Some(32)));
        let r = &level.syntax.ranges[0];
        assert_eq!((r.min, r.max, r.step), (Some(-5), Some(5), Some(5)));
        // minEntries and maxEntries default to 1.
        let sub = s.object("Device.X.{i}.Sub.").unwrap();
        assert_eq!((sub.min_entries, sub.max_entries), (1, Some(1)));
        // Alternative sizes keep their envelope, so no valid length is refused.
        let key = &o.param("Key").unwrap().syntax;
        assert_eq!(
            (key.min_length, key.max_length, key.hidden),
            (Some(5), Some(13), true)
        );
        let code = &o.param("Code").unwrap().syntax;
        assert_eq!((code.min_length, code.max_length), (None, Some(7)));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_fractional_range_is_an_error_not_dropped() {
        let xml = TINY.replace(r#"minInclusive="-5""#, r#"minInclusive="-0.5""#);
        let (d, r) = tiny(&xml, "frac");
        let e = r.unwrap_err();
        assert!(e.contains("not an integer"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
