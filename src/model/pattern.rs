//! The XSD regular-expression subset used by TR-181 `<pattern>` facets: literals, escapes
//! (`\d \w \s \D \W \S` and escaped metacharacters), `.`, character classes with ranges and
//! negation, groups, alternation and the quantifiers `? * + {n} {n,} {n,m}` (a trailing `?`
//! for laziness is accepted and ignored: XSD patterns only ask whether the whole string
//! matches). Patterns are anchored at both ends.
//!
//! Compiled to a small instruction program and run as a Pike VM (a set of threads advanced
//! one character at a time), so matching is O(pattern × input) with no exponential cases.

use std::fmt;

/// Longest pattern text accepted.
pub const MAX_PATTERN_LEN: usize = 1024;
/// Largest compiled program (counted repeats are expanded).
pub const MAX_PROGRAM: usize = 8192;

/// Why a pattern does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// Longer than [`MAX_PATTERN_LEN`] or compiles to more than [`MAX_PROGRAM`] steps.
    TooLarge,
    /// Malformed at a character offset.
    Syntax(usize, &'static str),
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::TooLarge => write!(f, "pattern: too large"),
            PatternError::Syntax(at, m) => write!(f, "pattern: at {at}: {m}"),
        }
    }
}

impl std::error::Error for PatternError {}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
    // Shorthand classes inside brackets: \d, \w, \s and negations.
    shorthands: Vec<(char, bool)>,
}

fn shorthand(kind: char, c: char) -> bool {
    match kind {
        'd' => c.is_ascii_digit(),
        'w' => c.is_alphanumeric() || c == '_',
        's' => c == ' ' || c == '\t' || c == '\n' || c == '\r',
        _ => false,
    }
}

impl Class {
    fn matches(&self, c: char) -> bool {
        let hit = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
            || self
                .shorthands
                .iter()
                .any(|&(k, neg)| shorthand(k, c) != neg);
        hit != self.negated
    }
}

#[derive(Debug, Clone)]
enum Node {
    Class(Class),
    Any,
    Alt(Vec<Vec<Node>>),
    Repeat(Box<Node>, u32, Option<u32>),
}

#[derive(Debug, Clone)]
enum Inst {
    Class(usize),
    Any,
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    prog: Vec<Inst>,
    classes: Vec<Class>,
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    _src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alt(&mut self, depth: usize) -> Result<Node, PatternError> {
        if depth > 32 {
            return Err(PatternError::Syntax(self.pos, "groups nested too deeply"));
        }
        let mut branches = vec![self.seq(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.seq(depth)?);
        }
        Ok(Node::Alt(branches))
    }

    fn seq(&mut self, depth: usize) -> Result<Vec<Node>, PatternError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            out.push(self.quantified(atom)?);
        }
        Ok(out)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.chars[start..self.pos]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, PatternError> {
        let (min, max) = match self.peek() {
            Some('?') => (0, Some(1)),
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('{') => {
                self.pos += 1;
                let min = self
                    .number()
                    .ok_or(PatternError::Syntax(self.pos, "expected a count"))?;
                let max = if self.peek() == Some(',') {
                    self.pos += 1;
                    if self.peek() == Some('}') {
                        None
                    } else {
                        Some(
                            self.number()
                                .ok_or(PatternError::Syntax(self.pos, "expected a count"))?,
                        )
                    }
                } else {
                    Some(min)
                };
                if self.peek() != Some('}') {
                    return Err(PatternError::Syntax(self.pos, "expected }"));
                }
                if max.is_some_and(|m| m < min) {
                    return Err(PatternError::Syntax(self.pos, "{n,m} with m < n"));
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if self.peek() == Some('?') {
            self.pos += 1; // lazy: irrelevant for a whole-string match
        }
        if min > MAX_PROGRAM as u32 || max.is_some_and(|m| m > MAX_PROGRAM as u32) {
            return Err(PatternError::TooLarge);
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn escape(&mut self) -> Result<Class, PatternError> {
        let c = self
            .peek()
            .ok_or(PatternError::Syntax(self.pos, "dangling \\"))?;
        self.pos += 1;
        let single = |c: char| Class {
            negated: false,
            ranges: vec![(c, c)],
            shorthands: vec![],
        };
        Ok(match c {
            'd' | 'w' | 's' => Class {
                negated: false,
                ranges: vec![],
                shorthands: vec![(c, false)],
            },
            'D' | 'W' | 'S' => Class {
                negated: false,
                ranges: vec![],
                shorthands: vec![(c.to_ascii_lowercase(), true)],
            },
            'n' => single('\n'),
            'r' => single('\r'),
            't' => single('\t'),
            c if "\\|.-^?*+{}()[]$/".contains(c) => single(c),
            _ => return Err(PatternError::Syntax(self.pos - 1, "unsupported escape")),
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Node, PatternError> {
        let at = self.pos;
        let c = self
            .peek()
            .ok_or(PatternError::Syntax(at, "unexpected end"))?;
        self.pos += 1;
        match c {
            '(' => {
                let inner = self.alt(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err(PatternError::Syntax(self.pos, "expected )"));
                }
                self.pos += 1;
                Ok(inner)
            }
            '.' => Ok(Node::Any),
            '\\' => Ok(Node::Class(self.escape()?)),
            '[' => self.class(),
            '?' | '*' | '+' | '{' => Err(PatternError::Syntax(at, "quantifier without an atom")),
            ']' | '}' => Err(PatternError::Syntax(at, "unbalanced bracket")),
            c => Ok(Node::Class(Class {
                negated: false,
                ranges: vec![(c, c)],
                shorthands: vec![],
            })),
        }
    }

    fn class(&mut self) -> Result<Node, PatternError> {
        let mut cls = Class {
            negated: false,
            ranges: vec![],
            shorthands: vec![],
        };
        if self.peek() == Some('^') {
            cls.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self
                .peek()
                .ok_or(PatternError::Syntax(self.pos, "unterminated ["))?;
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = if c == '\\' {
                let e = self.escape()?;
                if !e.shorthands.is_empty() {
                    cls.shorthands.extend(e.shorthands);
                    continue;
                }
                e.ranges[0].0
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let h = self
                    .peek()
                    .ok_or(PatternError::Syntax(self.pos, "unterminated range"))?;
                self.pos += 1;
                let hi = if h == '\\' {
                    self.escape()?.ranges.first().map(|r| r.0).unwrap_or(h)
                } else {
                    h
                };
                if hi < lo {
                    return Err(PatternError::Syntax(self.pos, "range out of order"));
                }
                cls.ranges.push((lo, hi));
            } else {
                cls.ranges.push((lo, lo));
            }
        }
        Ok(Node::Class(cls))
    }
}

struct Compiler {
    prog: Vec<Inst>,
    classes: Vec<Class>,
}

impl Compiler {
    fn emit(&mut self, i: Inst) -> Result<usize, PatternError> {
        if self.prog.len() >= MAX_PROGRAM {
            return Err(PatternError::TooLarge);
        }
        self.prog.push(i);
        Ok(self.prog.len() - 1)
    }

    fn node(&mut self, n: &Node) -> Result<(), PatternError> {
        match n {
            Node::Class(c) => {
                self.classes.push(c.clone());
                self.emit(Inst::Class(self.classes.len() - 1))?;
            }
            Node::Any => {
                self.emit(Inst::Any)?;
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    if i + 1 < branches.len() {
                        let split = self.emit(Inst::Split(0, 0))?;
                        for x in b {
                            self.node(x)?;
                        }
                        jumps.push(self.emit(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, next);
                    } else {
                        for x in b {
                            self.node(x)?;
                        }
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.prog[j] = Inst::Jmp(end);
                }
            }
            Node::Repeat(inner, min, max) => {
                for _ in 0..*min {
                    self.node(inner)?;
                }
                match max {
                    None => {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(inner)?;
                        self.emit(Inst::Jmp(split))?;
                        let end = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, end);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.emit(Inst::Split(0, 0))?);
                            self.node(inner)?;
                        }
                        let end = self.prog.len();
                        for s in splits {
                            self.prog[s] = Inst::Split(s + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Pattern {
    /// Compiles a pattern.
    pub fn new(text: &str) -> Result<Pattern, PatternError> {
        if text.len() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLarge);
        }
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
            _src: text,
        };
        let tree = p.alt(0)?;
        if p.pos != p.chars.len() {
            return Err(PatternError::Syntax(p.pos, "unbalanced )"));
        }
        let mut c = Compiler {
            prog: Vec::new(),
            classes: Vec::new(),
        };
        c.node(&tree)?;
        c.emit(Inst::Match)?;
        Ok(Pattern {
            prog: c.prog,
            classes: c.classes,
        })
    }

    fn add(&self, list: &mut Vec<usize>, seen: &mut [u32], gen: u32, pc: usize) {
        // Iterative epsilon closure over Split/Jmp.
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == gen {
                continue;
            }
            seen[pc] = gen;
            match self.prog[pc] {
                Inst::Jmp(t) => stack.push(t),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                _ => list.push(pc),
            }
        }
    }

    /// True when the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        let mut seen = vec![0u32; self.prog.len()];
        let mut gen = 1;
        let mut clist = Vec::new();
        self.add(&mut clist, &mut seen, gen, 0);
        for c in text.chars() {
            gen += 1;
            let mut nlist = Vec::new();
            for &pc in &clist {
                let ok = match self.prog[pc] {
                    Inst::Class(i) => self.classes[i].matches(c),
                    Inst::Any => c != '\n' && c != '\r',
                    _ => false,
                };
                if ok {
                    self.add(&mut nlist, &mut seen, gen, pc + 1);
                }
            }
            if nlist.is_empty() {
                return false;
            }
            clist = nlist;
        }
        clist.iter().any(|&pc| matches!(self.prog[pc], Inst::Match))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).unwrap().is_match(s)
    }

    #[test]
    fn real_tr181_patterns() {
        let mac = "([0-9A-Fa-f][0-9A-Fa-f]:){5}([0-9A-Fa-f][0-9A-Fa-f])";
        assert!(m(mac, "02:fc:00:00:00:01"));
        assert!(!m(mac, "02:fc:00:00:00"));
        assert!(!m(mac, "02:fc:00:00:00:0g"));
        assert!(m("[0-9A-F]{6}", "00A0C9"));
        assert!(!m("[0-9A-F]{6}", "00a0c9"));
        assert!(m(r"2\.\d+", "2.17"));
        assert!(!m(r"2\.\d+", "2."));
        assert!(m("", ""));
        assert!(!m("", "x"));
        assert!(m("[0-9]|[1-5][0-9]|6[0-3]", "63"));
        assert!(!m("[0-9]|[1-5][0-9]|6[0-3]", "64"));
        assert!(m("([0-9]{1,15}?[BKMGT])", "512M"));
        assert!(m(r"\d{4}|\d{8}", "20240101"));
        assert!(!m(r"\d{4}|\d{8}", "123456"));
        assert!(m("X [0-9A-F]{6} .*", "X 00A0C9 anything"));
        assert!(m("[A-Z][A-Z][ OI]", "US "));
        assert!(m(r"\d+(\.\d+)*", "1.2.3"));
        let ipv4 =
            "((25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])";
        assert!(m(ipv4, "192.168.1.1"));
        assert!(m(ipv4, "255.255.255.0"));
        assert!(m(ipv4, "0.0.0.0"));
        assert!(!m(ipv4, "256.1.1.1"));
        assert!(!m(ipv4, "1.2.3"));
        assert!(!m(ipv4, "1.2.3.4.5"));
        assert!(!m(r"\d+(\.\d+)*", "1..2"));
    }

    #[test]
    fn classes_negation_and_escapes() {
        assert!(m("[^a-c]x", "dx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(m(r"[\d\-]+", "12-3"));
        assert!(m(r"a\.b", "a.b"));
        assert!(!m(r"a\.b", "axb"));
        assert!(m("a.b", "axb"));
        assert!(m(r"\S+\s\w", "ab_c d"));
    }

    #[test]
    fn pathological_patterns_run_in_linear_time() {
        let p = Pattern::new("(a*)*b").unwrap();
        let s = "a".repeat(20_000);
        let t = std::time::Instant::now();
        assert!(!p.is_match(&s));
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn malformed_and_oversized_patterns_are_errors() {
        for bad in ["(", ")", "[a-", "a{2,1}", "*a", "a{x}", r"\q", "[z-a]"] {
            assert!(Pattern::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Pattern::new(&"a".repeat(MAX_PATTERN_LEN + 1)).unwrap_err(),
            PatternError::TooLarge
        );
        assert_eq!(
            Pattern::new("(a{100}){100}").unwrap_err(),
            PatternError::TooLarge
        );
    }

    #[test]
    fn every_pattern_in_the_tr181_xml_compiles() {
        // In a worktree the shared directory is not next to the manifest; try both.
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let candidates = [
            here.join("../shared/bbf/tr-181-2-17-0-cwmp-full.xml"),
            std::path::PathBuf::from("/work/shared/bbf/tr-181-2-17-0-cwmp-full.xml"),
        ];
        let Some(text) = candidates
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
        else {
            eprintln!("skipped: tr-181-2-17-0-cwmp-full.xml not found");
            return;
        };
        let mut n = 0;
        // `<pattern` may be followed by a newline before `value="` (long patterns wrap).
        for part in text.split("<pattern").skip(1) {
            let rest = part.trim_start();
            let Some(rest) = rest.strip_prefix("value=\"") else {
                continue;
            };
            let raw = &rest[..rest.find('"').unwrap()];
            let p = raw
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&");
            Pattern::new(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
            n += 1;
        }
        assert!(n > 60, "only {n} patterns found");
    }
}
