//! The tokenizer and the reader over it, rule by rule: prolog, comments, PIs, DOCTYPE, CDATA,
//! references, line ends, attributes, end tags, namespaces, limits.

use super::super::{Event, Reader, Start, MAX_ATTRIBUTES, MAX_DEPTH, MAX_NAMESPACES};
use super::*;

/// Every event of `doc` (texts as they come), or the error.
fn events(doc: &str) -> Result<Vec<Event>, DecodeError> {
    let mut r = Reader::new(doc.as_bytes())?;
    let mut out = Vec::new();
    loop {
        match r.next()? {
            Event::Eof => return Ok(out),
            e => out.push(e),
        }
    }
}

/// The text of the root element of `doc`.
fn text(doc: &str) -> String {
    let mut r = Reader::new(doc.as_bytes()).unwrap();
    r.root().unwrap();
    let t = r.text().unwrap();
    r.finish().unwrap();
    t
}

/// The root element's start tag.
fn root(doc: &str) -> Start {
    Reader::new(doc.as_bytes()).unwrap().root().unwrap()
}

/// The message of the XML error `doc` gives.
fn error(doc: &str) -> String {
    match events(doc) {
        Err(DecodeError::Xml(m)) => m,
        other => panic!("{doc:?}: {other:?}"),
    }
}

fn start(ns: &str, name: &str) -> Event {
    Event::Start(Start {
        ns: ns.into(),
        name: name.into(),
        attrs: vec![],
    })
}

#[test]
fn declaration_bom_pis_and_comments_are_passed_over() {
    let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\" standalone='yes' ?>\n\
               <!-- before --><?pi data?>\n<a><!-- in --><?p?>x</a><!-- after -->\n<?end?>";
    assert_eq!(
        events(doc).unwrap(),
        vec![start("", "a"), Event::Text("x".into()), Event::End]
    );
    assert!(error("<?xml version='2.0'?><a/>").contains("version"));
    assert!(error("<?xml encoding='UTF-8'?><a/>").contains("version"));
    assert!(error("<?xml version='1.0' encoding='UTF-16'?><a/>").contains("UTF-8 only"));
    assert_eq!(
        events("<?xml version='1.0' encoding='ISO-8859-1'?><a/>")
            .unwrap()
            .len(),
        2
    );
    let latin = "<?xml version='1.0' encoding='ISO-8859-1'?><a>\u{e9}</a>";
    assert!(error(latin).contains("UTF-8 only"));
    assert!(error(" <?xml version='1.0'?><a/>").contains("not at the start"));
    assert!(error("<a><?XML x?></a>").contains("not at the start"));
    assert!(error("<a><?pi x").contains("unterminated"));
    assert!(error("<a><?pi</a>").contains("white space after the target"));
}

#[test]
fn comments_may_not_hold_a_double_hyphen() {
    assert_eq!(events("<a><!-- - x - --></a>").unwrap().len(), 2);
    assert!(error("<a><!-- x -- y --></a>").contains("`--` inside a comment"));
    assert!(error("<a><!-- x ---></a>").contains("`--` inside a comment"));
    assert!(error("<a><!-- x").contains("unterminated comment"));
}

#[test]
fn doctype_is_refused() {
    for doc in [
        "<!DOCTYPE a><a/>",
        "<?xml version='1.0'?><!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>",
        "<a><!DOCTYPE a></a>",
    ] {
        assert_eq!(
            events(doc),
            Err(DecodeError::Xml("DOCTYPE not allowed".into()))
        );
    }
    assert!(error("<a><!ELEMENT a></a>").contains("`<!`"));
}

#[test]
fn cdata_is_text_as_written() {
    assert_eq!(
        text("<a>x<![CDATA[<b>&amp;]]]]><![CDATA[>]]>y</a>"),
        "x<b>&amp;]]>y"
    );
    assert_eq!(text("<a><![CDATA[l1\r\nl2\rl3]]></a>"), "l1\nl2\nl3");
    assert!(error("<![CDATA[x]]><a/>").contains("outside the root"));
    assert!(error("<a><![CDATA[x</a>").contains("unterminated CDATA"));
    assert!(error("<a>x]]>y</a>").contains("`]]>` in text"));
}

#[test]
fn references_are_decoded_and_bad_ones_refused() {
    assert_eq!(
        text("<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x00063;&#x1F600;</a>"),
        "<>&\"'ABc\u{1F600}"
    );
    for (doc, what) in [
        ("<a>&nbsp;</a>", "unknown entity `&nbsp;`"),
        ("<a>&#0;</a>", "invalid character reference"),
        ("<a>&#x1;</a>", "invalid character reference"),
        ("<a>&#xD800;</a>", "invalid character reference"),
        ("<a>&#xFFFE;</a>", "invalid character reference"),
        ("<a>&#x110000;</a>", "invalid character reference"),
        (
            "<a>&#99999999999999999999;</a>",
            "invalid character reference",
        ),
        ("<a>&#;</a>", "invalid character reference"),
        ("<a>&#x;</a>", "invalid character reference"),
        ("<a>&amp</a>", "reference without `;`"),
        ("<a>a & b</a>", "`&` not starting a reference"),
        ("<a>1 < 2</a>", "expected a name at 1:7"),
        ("<a k='&bogus;'/>", "unknown entity"),
    ] {
        assert!(error(doc).contains(what), "{doc}: {}", error(doc));
    }
}

#[test]
fn line_ends_are_normalised() {
    // §2.11: CR LF and lone CR are LF in text; a reference to CR stays CR.
    assert_eq!(
        text("<a>1\r\n2\r3\n4&#13;5\r\r\n6</a>"),
        "1\n2\n3\n4\r5\n\n6"
    );
    // §3.3.3: in attribute values tab, LF, CR LF are one space each; references stay.
    let a = root("<a k='1\t2\n3\r\n4\r5&#9;6&#10;7&#13;8'/>");
    assert_eq!(a.attr("k"), Some("1 2 3 4 5\t6\n7\r8"));
}

#[test]
fn characters_xml_does_not_allow_are_refused() {
    assert!(error("<a>\u{1}</a>").contains("U+0001"));
    assert!(error("<a k='\u{ffff}'/>").contains("U+FFFF"));
    assert!(matches!(
        Reader::new(b"<a>\xff</a>").map(|_| ()),
        Err(DecodeError::Xml(m)) if m.contains("not UTF-8 at byte 3")
    ));
}

#[test]
fn attributes_in_either_quotes_once_each() {
    let a = root("<a x='1' y=\"2\"  z = '\"' w=\"'\" e=''/>");
    let got: Vec<(&str, &str)> = a
        .attrs
        .iter()
        .map(|(_, n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        got,
        [("x", "1"), ("y", "2"), ("z", "\""), ("w", "'"), ("e", "")]
    );
    for (doc, what) in [
        ("<a x='1' x='2'/>", "attribute `x` twice"),
        ("<a x='1'y='2'/>", "expected white space"),
        ("<a x/>", "expected `=`"),
        ("<a x=1/>", "quoted attribute value"),
        ("<a x='<'/>", "`<` in an attribute value"),
        ("<a x='1/>", "unterminated attribute value"),
        ("<a x='1'", "unterminated start tag"),
        ("<a / >", "expected `/>`"),
        ("< a/>", "expected a name"),
        ("<1a/>", "expected a name"),
    ] {
        assert!(error(doc).contains(what), "{doc}: {}", error(doc));
    }
}

#[test]
fn empty_element_is_a_start_then_an_end() {
    assert_eq!(
        events("<a><b/><c /></a>").unwrap(),
        vec![
            start("", "a"),
            start("", "b"),
            Event::End,
            start("", "c"),
            Event::End,
            Event::End
        ]
    );
}

#[test]
fn end_tags_must_match_the_open_element() {
    assert_eq!(events("<p:a xmlns:p='u'></p:a >").unwrap().len(), 2);
    assert!(error("<a><b></a></b>").contains("end tag `a` does not match `b` at 1:7"));
    assert!(error("<p:a xmlns:p='u' xmlns:q='u'></q:a>").contains("does not match `p:a`"));
    assert!(error("</a>").contains("outside the root element"));
    assert!(error("<a></a x>").contains("expected `>`"));
    assert!(error("<a><b>").contains("unexpected end of document"));
}

#[test]
fn only_white_space_misc_and_one_root() {
    assert_eq!(events(" \r\n\t<a/> \n").unwrap().len(), 2);
    assert!(error("").contains("no root element"));
    assert!(error("  ").contains("no root element"));
    assert!(error("x<a/>").contains("text before the root element at 1:1"));
    assert!(error("<a/>x").contains("content after the root element at 1:5"));
    assert!(error("<a/><b/>").contains("content after the root element"));
}

#[test]
fn errors_say_where_by_line_and_column() {
    assert_eq!(
        error("<a>\n  <b>\n  &x;</b></a>"),
        "unknown entity `&x;` at 3:3"
    );
    assert_eq!(error("<a>\u{e9}\u{e9}<</a>"), "expected a name at 1:7");
}

#[test]
fn namespaces_are_scoped_per_element() {
    let doc = "<a xmlns='urn:d' xmlns:p='urn:p'>\
               <p:b p:k='1' k='2' xml:lang='en'/>\
               <c xmlns=''><d/></c>\
               <p:e xmlns:p='urn:q'><p:f/></p:e>\
               <p:g/><h/></a>";
    let starts: Vec<Start> = events(doc)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e {
            Event::Start(s) => Some(s),
            _ => None,
        })
        .collect();
    let s = |ns: &str, n: &str| Start {
        ns: ns.into(),
        name: n.into(),
        attrs: vec![],
    };
    let xml = super::super::names::XML_URI;
    let b = Start {
        attrs: vec![
            ("urn:p".into(), "k".into(), "1".into()),
            (String::new(), "k".into(), "2".into()),
            (xml.into(), "lang".into(), "en".into()),
        ],
        ..s("urn:p", "b")
    };
    assert_eq!(
        starts,
        vec![
            s("urn:d", "a"),
            b,
            s("", "c"),
            s("", "d"),
            s("urn:q", "e"),
            s("urn:q", "f"),
            s("urn:p", "g"),
            s("urn:d", "h"),
        ],
        "xmlns attributes are not passed on; declarations end with their element"
    );
}

#[test]
fn namespace_errors() {
    for (doc, what) in [
        ("<p:a/>", "prefix of `p:a` not bound"),
        ("<a p:k='1'/>", "prefix of `p:k` not bound"),
        (
            "<a><p:b xmlns:p='u'/><p:c/></a>",
            "prefix of `p:c` not bound",
        ),
        ("<a xmlns:p=''/>", "namespace declaration"),
        ("<a xmlns:xmlns='u'/>", "namespace declaration"),
        ("<a xmlns:xml='u'/>", "namespace declaration"),
        (
            "<a xmlns:x='http://www.w3.org/XML/1998/namespace'/>",
            "namespace declaration",
        ),
        (
            "<a xmlns='http://www.w3.org/2000/xmlns/'/>",
            "namespace declaration",
        ),
        ("<a xmlns:='u'/>", "not a qualified name"),
        ("<a:b:c xmlns:a='u'/>", "not a qualified name"),
        ("<:a/>", "not a qualified name"),
        ("<xml:a/>", "reserved prefix"),
        (
            "<a xmlns:p='u' xmlns:q='u' p:k='1' q:k='2'/>",
            "attribute `q:k` twice",
        ),
        ("<a xmlns:p='u' xmlns:p='v'/>", "attribute `xmlns:p` twice"),
    ] {
        assert!(error(doc).contains(what), "{doc}: {}", error(doc));
    }
    assert_eq!(
        root("<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>").attrs,
        vec![],
        "the xml prefix may be declared to its own namespace"
    );
}

#[test]
fn limits_bound_depth_attributes_and_namespaces() {
    let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
    assert!(events(&deep).is_ok());
    let deeper = format!(
        "{}{}",
        "<a>".repeat(MAX_DEPTH + 1),
        "</a>".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(events(&deeper), Err(DecodeError::Limit("element depth")));

    let attrs =
        |n: usize, name: &str| -> String { (0..n).map(|i| format!(" {name}{i}='u{i}'")).collect() };
    assert!(events(&format!("<a{}/>", attrs(MAX_ATTRIBUTES, "k"))).is_ok());
    assert_eq!(
        events(&format!("<a{}/>", attrs(MAX_ATTRIBUTES + 1, "k"))),
        Err(DecodeError::Limit("attribute count"))
    );
    // Declarations do not count as attributes, but have their own bound.
    let both = format!("<a{}{}/>", attrs(MAX_ATTRIBUTES, "k"), attrs(8, "xmlns:p"));
    assert!(events(&both).is_ok());
    assert_eq!(
        events(&format!("<a{}/>", attrs(MAX_NAMESPACES + 1, "xmlns:p"))),
        Err(DecodeError::Limit("namespace count"))
    );
    // In scope at once, over nested elements; siblings give theirs back.
    let half = attrs(MAX_NAMESPACES / 2, "xmlns:p");
    let other = attrs(MAX_NAMESPACES / 2, "xmlns:q");
    let siblings = format!("<a{half}><b{other}/><b{other}/></a>");
    assert!(events(&siblings).is_ok());
    let nested = format!("<a{half}><b{other}><c xmlns:r='u'/></b></a>");
    assert_eq!(events(&nested), Err(DecodeError::Limit("namespace count")));
}

#[test]
fn after_an_error_every_read_gives_it_again() {
    let mut r = Reader::new(b"<a><b></c><d/></a>").unwrap();
    r.root().unwrap();
    r.child().unwrap();
    let first = r.child().unwrap_err();
    assert_eq!(r.child().unwrap_err(), first);
    assert_eq!(r.finish().unwrap_err(), first);
}

#[test]
fn every_prefix_of_a_document_fails_cleanly() {
    let doc = "<?xml version='1.0'?><a xmlns:p='u' k=\"v&amp;\"><!-- c --><p:b>t&#65;\r\n\
               <![CDATA[x]]></p:b><?pi?></a>";
    assert!(events(doc).is_ok());
    for end in 0..doc.len() {
        if let Some(prefix) = doc.get(..end) {
            assert!(
                matches!(events(prefix), Err(DecodeError::Xml(_))),
                "{prefix:?}"
            );
        }
    }
}

#[test]
fn the_lexer_alone_gives_names_with_prefixes() {
    let mut l = Lexer::new(b"<p:a xmlns:p='u' k='1'>t</p:a>").unwrap();
    assert_eq!(
        l.next_token().unwrap(),
        Token::Start {
            at: 0,
            name: "p:a",
            attrs: vec![("xmlns:p", "u".into()), ("k", "1".into())],
        }
    );
    assert_eq!(l.next_token().unwrap(), Token::Text("t".into()));
    assert_eq!(l.next_token().unwrap(), Token::End);
    assert_eq!(l.next_token().unwrap(), Token::Eof);
    assert_eq!(l.next_token().unwrap(), Token::Eof);
}
