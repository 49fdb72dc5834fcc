use super::parse::MAX_DEPTH;
use super::*;

fn t(text: &str) -> Table {
    match parse(text) {
        Ok(t) => t,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(t) => panic!("{text:?} parsed: {t:?}"),
        Err(e) => e,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn reads_every_toml_file_of_the_repository_and_writes_it_back() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [
        "board",
        "config",
        "datamodel",
        "packaging/openwrt/cwmpd/files",
        ".",
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let (doc, lines) = match parse_with_lines(&text) {
                    Ok(d) => d,
                    Err(e) => panic!("{}: {e}", p.display()),
                };
                assert!(!lines.is_empty() || doc.is_empty(), "{}", p.display());
                assert_eq!(t(&to_string(&doc)), doc, "{}", p.display());
                n += 1;
            }
        }
    }
    assert!(n > 40, "only {n} files");
}

#[test]
fn strings_in_all_four_forms() {
    let doc = t(r#"
a = "tab\there \"q\" \\ \u00e9 \U0001F600 \e"
b = 'C:\path\n'
c = """
first
  second \
    joined"""
d = '''
raw \n ''quoted'' '''
e = """two "" quotes"""""
"#);
    assert_eq!(doc["a"], s("tab\there \"q\" \\ é 😀 \u{1b}"));
    assert_eq!(doc["b"], s("C:\\path\\n"));
    assert_eq!(doc["c"], s("first\n  second joined"));
    assert_eq!(doc["d"], s("raw \\n ''quoted'' "));
    assert_eq!(doc["e"], s("two \"\" quotes\"\""));
}

#[test]
fn integers_in_every_base_and_the_unsigned_64_bit_range() {
    let doc = t(
        "a = 1_000\nb = -17\nc = 0xDEAD_beef\nd = 0o755\ne = 0b1010\nf = +3\n\
                 g = 18446744073709551615\nh = -9223372036854775808\ni = 0\n",
    );
    let i = |k: &str| match &doc[k] {
        Value::Integer(i) => *i,
        v => panic!("{v:?}"),
    };
    assert_eq!(
        [i("a"), i("b"), i("c"), i("d"), i("e"), i("f"), i("i")],
        [1000, -17, 0xdead_beef, 0o755, 10, 3, 0]
    );
    assert_eq!(i("g"), i128::from(u64::MAX));
    assert_eq!(i("h"), i128::from(i64::MIN));
    for bad in [
        "a = 18446744073709551616",
        "a = -9223372036854775809",
        "a = 1__0",
        "a = _1",
        "a = 1_",
        "a = 012",
        "a = -0x1",
        "a = 0xg",
        "a = 99999999999999999999999999999999999999999999",
    ] {
        err(bad);
    }
}

#[test]
fn floats_and_dates_are_refused_by_name() {
    assert!(err("a = 1.5").message.contains("floats"));
    assert!(err("a = 1e3").message.contains("floats"));
    assert!(err("a = inf").message.contains("floats"));
    assert!(err("a = 1979-05-27").message.contains("dates"));
    assert!(err("a = 07:32:00").message.contains("dates"));
}

#[test]
fn tables_arrays_of_tables_dotted_and_quoted_keys() {
    let doc = t(r#"
top = 1
[a.b]
c = true
"d.e" = 'x'
f.g = [1, "two", [3], { h = 4 }]
[[list]]
n = 1
[list.sub]
m = 2
[[list]]
n = 2
[inline]
t = { x = 1, y.z = 2,
      w = [ # a comment
        1,
        2, ],
    }
"#);
    assert_eq!(doc["top"], Value::Integer(1));
    let b = doc["a"].as_table().unwrap()["b"].as_table().unwrap();
    assert_eq!(b["c"], Value::Boolean(true));
    assert_eq!(b["d.e"], s("x"));
    let g = &b["f"].as_table().unwrap()["g"];
    assert_eq!(g.as_array().unwrap().len(), 4);
    let list = doc["list"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0].as_table().unwrap()["sub"].as_table().unwrap()["m"],
        Value::Integer(2)
    );
    assert_eq!(list[1].as_table().unwrap()["n"], Value::Integer(2));
    let it = doc["inline"].as_table().unwrap()["t"].as_table().unwrap();
    assert_eq!(it["y"].as_table().unwrap()["z"], Value::Integer(2));
    assert_eq!(
        it["w"],
        Value::Array(vec![Value::Integer(1), Value::Integer(2)])
    );
}

#[test]
fn errors_carry_line_and_column() {
    let e = err("a = 1\nb = 2\nc = = 3\n");
    assert_eq!((e.line, e.col), (3, 5), "{e}");
    assert_eq!(e.to_string(), "line 3, column 5: extra `=`: `=`");
    let e = err("a = 1\na = 2\n");
    assert_eq!(
        (e.line, e.col, e.message.as_str()),
        (2, 1, "duplicate key: `a`")
    );
    // Line ends may be CRLF; columns count bytes (`é` is two).
    let e = err("a = 1\r\n[t]\r\n\"é\" = 1.5\r\n");
    assert_eq!((e.line, e.col), (3, 8), "{e}");
    let e = err("[x]\n[x]\n");
    assert_eq!((e.line, e.message.as_str()), (2, "duplicate key: `x`"));
    for (text, line) in [
        ("x = 1\n[x]\n", 2),
        ("x = [1]\n[[x]]\n", 2),
        ("x = 1\n[[x]]\n", 2),
        ("a.b = 1\na.b.c = 2\n", 2),
        ("t = { a = 1 }\nt.b = 2\n", 2),
    ] {
        assert_eq!(err(text).line, line, "{text:?}");
    }
    for bad in [
        "a = \"unterminated",
        "a = \"two\nlines\"",
        "a = 'x",
        "a = \"\"\"never closed",
        "a = '''never closed",
        "a = \"\\q\"",
        "a = \"\\u12\"",
        "a = \"\\uD800\"",
        "a = \"nul \u{0} here\"",
        "a = 1 b = 2",
        "a = [1 2]",
        "a = { b = 1 c = 2 }",
        "a",
        "= 1",
        "[a",
        "[[a]",
        "a = tru",
        "a = \"x\" # \u{7}",
        "a = \"\"\"x\ry\"\"\"",
    ] {
        let e = err(bad);
        assert!(e.line >= 1 && e.col >= 1, "{bad:?}: {e}");
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!(
        "a = {}{}",
        "[".repeat(MAX_DEPTH + 1),
        "]".repeat(MAX_DEPTH + 1)
    );
    let e = err(&deep);
    assert!(e.message.contains("nested deeper than 32"), "{e}");
    assert_eq!((e.line, e.col), (1, 5 + MAX_DEPTH), "{e}");
    let ok = format!("a = {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    t(&ok);
    // Tables count too, however they are written.
    let keys = |n: usize| vec!["k"; n].join(".");
    assert!(err(&format!("[{}]\n", keys(MAX_DEPTH + 1)))
        .message
        .contains("nested"));
    t(&format!("[{}]\n", keys(MAX_DEPTH)));
    // The last key of `a.b = 1` holds a value, not a table.
    assert!(err(&format!("{} = 1\n", keys(MAX_DEPTH + 2)))
        .message
        .contains("nested"));
    t(&format!("{} = 1\n", keys(MAX_DEPTH + 1)));
    let deep = format!("a = {}", "{ b = ".repeat(MAX_DEPTH + 1));
    err(&deep);
    // Past the `toml` parser's own bound (80) it stops before building anything.
    let e = err(&format!("a = {}", "[".repeat(100_000)));
    assert!(e.message.contains("recursion"), "{e}");
    let e = err(&format!("{} = 1", vec!["k"; 100].join(".")));
    assert_eq!((e.line, e.message.as_str()), (0, "recursion limit"));
    assert_eq!(e.to_string(), "recursion limit");
}

#[test]
fn lines_are_recorded_for_keys_headers_and_array_elements() {
    let text = "x = 1\n\n[[object]]\npath = \"A.\"\n[object.params]\nP = { h = 1 }\n\
                [[object]]\npath = \"B.\"\nparams = { Q = 'q',\n R = 'r' }\n\
                list = [\n  { n = 1 },\n  { n = 2 },\n]\nd.e.f = \"\"\"\nthree\nlines\"\"\"\n\
                last = 0";
    let (_, lines) = parse_with_lines(text).unwrap();
    let at = |parts: &[&str]| lines.get(&path_key(parts)).copied();
    assert_eq!(at(&["x"]), Some(1));
    assert_eq!(at(&["object", "0"]), Some(3));
    assert_eq!(at(&["object", "0", "path"]), Some(4));
    assert_eq!(at(&["object", "0", "params"]), Some(5));
    assert_eq!(at(&["object", "0", "params", "P"]), Some(6));
    assert_eq!(at(&["object", "0", "params", "P", "h"]), Some(6));
    assert_eq!(at(&["object", "1"]), Some(7));
    assert_eq!(at(&["object", "1", "params", "R"]), Some(10));
    assert_eq!(at(&["object", "1", "list", "1"]), Some(13));
    assert_eq!(at(&["object", "1", "list", "1", "n"]), Some(13));
    assert_eq!(at(&["object", "1", "d", "e", "f"]), Some(15));
    assert_eq!(at(&["object", "1", "last"]), Some(18));
    assert_eq!(at(&["nothing"]), None);
    // Without lines the tree is the same.
    assert_eq!(parse(text).unwrap(), parse_with_lines(text).unwrap().0);
}

#[test]
fn written_documents_read_back_the_same() {
    let text = r#"
version = 3
name = "quote \" backslash \\ newline\n tab\t bell \u0007 del \u007f é"
"odd key" = [1, -2, 9223372036854775807]
empty = []
mixed = [{ a = 1 }, "s"]
[state.inner]
flag = false
[state.empty]
[[jobs]]
key = "k1"
[jobs.window]
start = 5
[[jobs]]
key = "k2"
nested = [[{ deep = true }]]
"#;
    let doc = t(text);
    let written = to_string(&doc);
    assert_eq!(t(&written), doc, "{written}");
    assert_eq!(to_string(&t(&written)), written);
    assert_eq!(to_string(&Table::new()), "");
    // Empty keys are keys like any other (found by `cargo fuzz run toml`).
    for text in [
        "[\"\".\"\"]\n",
        "[\"\"]\n[\"\".\"\"]\n",
        "\"\" = 1\n[a]\n\"\" = 2\n",
    ] {
        let doc = t(text);
        assert_eq!(t(&to_string(&doc)), doc, "{text}");
    }
    let big = t("max = 18446744073709551615\n");
    assert_eq!(t(&to_string(&big)), big);
}

#[test]
fn fields_take_typed_values_and_refuse_leftovers() {
    let text = "name = \"n\"\ncount = 300\nflag = true\nlist = [\"a\"]\n[sub]\nx = 1\ntypo = 2\n\
                [[item]]\nk = 'v'\n[[item]]\nk = 7\n";
    let (table, lines) = parse_with_lines(text).unwrap();
    let mut f = Fields::with_lines(table, &lines);
    assert_eq!(f.str("name").unwrap(), "n");
    let e = f.int::<u8>("count").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("`count`: 300 is out of range"), "{e}");
    assert!(f.flag("flag").unwrap());
    assert!(!f.flag("absent").unwrap());
    assert_eq!(f.strings("list").unwrap(), ["a"]);
    assert_eq!(f.opt_str("missing").unwrap(), None);
    assert!(f.str("missing").unwrap_err().message.contains("missing"));
    let mut sub = f.sub("sub").unwrap();
    assert_eq!(sub.int::<u32>("x").unwrap(), 1);
    let e = sub.finish().unwrap_err();
    assert_eq!((e.line, e.message.as_str()), (7, "`sub.typo`: unknown key"));
    let mut items = f.tables("item").unwrap();
    assert_eq!(items[0].str("k").unwrap(), "v");
    let e = items[1].str("k").unwrap_err();
    assert_eq!(e.line, 11);
    assert!(
        e.message
            .contains("`item[1].k`: expected a string, found integer"),
        "{e}"
    );
    f.finish().unwrap();
    let mut f = Fields::new(t("mode = \"x\""));
    let e = f
        .opt_parse("mode", |s| (s == "y").then_some(1), "y")
        .unwrap_err();
    assert_eq!(e.to_string(), "`mode`: `x` is not y");
}

/// Mutations of the fuzz corpus (a few thousand, deterministic): each text parses or fails
/// cleanly, and what parses is written back to text that reads as the same table.
#[test]
fn mutated_documents_parse_or_fail_cleanly_and_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/toml");
    let mut seeds: Vec<Vec<char>> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap().chars().collect())
        .collect();
    assert!(seeds.len() >= 4, "corpus missing");
    seeds.sort();
    let pieces = [
        "\"",
        "'",
        "[",
        "]",
        "[[",
        "{",
        "}",
        "=",
        ",",
        ".",
        "#",
        "\\",
        "\n",
        "\r",
        "0x",
        "_",
        "-",
        "+",
        ":",
        "e",
        " ",
        "\"\"\"",
        "'''",
        "\\u",
        "é",
        "\u{0}",
        "9999999999999999999",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n.max(1)
    };
    let (mut ok, mut failed) = (0, 0);
    for round in 0..3000 {
        let mut doc = seeds[round % seeds.len()].clone();
        for _ in 0..1 + next(3) {
            let at = next(doc.len() + 1);
            match next(3) {
                0 if at < doc.len() => {
                    let end = (at + 1 + next(8)).min(doc.len());
                    doc.drain(at..end);
                }
                1 => {
                    let p = pieces[next(pieces.len())];
                    doc.splice(at..at, p.chars());
                }
                _ => {
                    let end = (at + next(40)).min(doc.len());
                    let copy: Vec<char> = doc[at..end].to_vec();
                    let to = next(doc.len() + 1);
                    doc.splice(to..to, copy);
                }
            }
        }
        let text: String = doc.into_iter().collect();
        match parse(&text) {
            Ok(table) => {
                let written = to_string(&table);
                assert_eq!(parse(&written).as_ref(), Ok(&table), "{text:?}\n{written}");
                ok += 1;
            }
            Err(e) => {
                assert!(e.line >= 1 && e.col >= 1, "{e}");
                failed += 1;
            }
        }
    }
    assert!(ok > 100 && failed > 100, "{ok} parsed, {failed} refused");
}
