//! Parameter and object paths: parsing, validation and the mapping between instance paths
//! (`Device.IP.Interface.3.Enable`) and schema paths (`Device.IP.Interface.{i}.Enable`).
//!
//! TR-106 §3.1: a path is dot-separated names and instance numbers; a *partial* path ends in
//! a dot and names an object, a *full* path names a parameter. Names start with a letter or
//! `_`, then letters, digits, `_` or `-`. Instance numbers are positive decimals.

use std::fmt;

/// Longest path accepted from anywhere (TR-069 A.3.2.1: `string(256)` for parameter names).
pub const MAX_PATH_LEN: usize = 256;

/// The placeholder for an instance number in a schema path.
pub const INSTANCE_PLACEHOLDER: &str = "{i}";

/// Why a string is not a valid path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is longer than [`MAX_PATH_LEN`].
    TooLong(usize),
    /// A segment between dots is empty (`Device..X`), or the path is empty where not allowed.
    EmptySegment,
    /// A segment is neither a valid name nor an instance number.
    BadSegment(String),
    /// The first segment is a number.
    StartsWithInstance,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::TooLong(n) => write!(f, "path: {n} characters, at most {MAX_PATH_LEN}"),
            PathError::EmptySegment => write!(f, "path: empty segment"),
            PathError::BadSegment(s) => write!(f, "path: invalid segment {s:?}"),
            PathError::StartsWithInstance => write!(f, "path: starts with an instance number"),
        }
    }
}

impl std::error::Error for PathError {}

/// One segment of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// An object or parameter name.
    Name(String),
    /// An instance number (1 or more).
    Instance(u32),
    /// `{i}`: any instance (schema paths only).
    Placeholder,
}

/// A validated path. `partial` is true when the text ended with a dot (an object path).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    segments: Vec<Segment>,
    partial: bool,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Path {
    /// `Device.`, the root object.
    pub fn root() -> Path {
        Path {
            segments: vec![Segment::Name("Device".into())],
            partial: true,
        }
    }

    /// Parses an instance path (numbers, no placeholders).
    pub fn parse(text: &str) -> Result<Path, PathError> {
        Self::parse_inner(text, false)
    }

    /// Parses a schema path, where `{i}` stands for any instance.
    pub fn parse_schema(text: &str) -> Result<Path, PathError> {
        Self::parse_inner(text, true)
    }

    fn parse_inner(text: &str, placeholders: bool) -> Result<Path, PathError> {
        if text.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong(text.len()));
        }
        let (body, partial) = match text.strip_suffix('.') {
            Some(b) => (b, true),
            None => (text, false),
        };
        if body.is_empty() {
            return Err(PathError::EmptySegment);
        }
        let mut segments = Vec::new();
        for seg in body.split('.') {
            if seg.is_empty() {
                return Err(PathError::EmptySegment);
            }
            let s = if placeholders && seg == INSTANCE_PLACEHOLDER {
                Segment::Placeholder
            } else if seg.bytes().all(|b| b.is_ascii_digit()) {
                // Leading zeros and 0 are not instance numbers (TR-106 3.2.1).
                match seg.parse::<u32>() {
                    Ok(n) if n > 0 && !seg.starts_with('0') => Segment::Instance(n),
                    _ => return Err(PathError::BadSegment(seg.to_string())),
                }
            } else if is_name(seg) {
                Segment::Name(seg.to_string())
            } else {
                return Err(PathError::BadSegment(seg.to_string()));
            };
            segments.push(s);
        }
        if !matches!(segments.first(), Some(Segment::Name(_))) {
            return Err(PathError::StartsWithInstance);
        }
        Ok(Path { segments, partial })
    }

    /// Builds a path from segments.
    pub fn from_segments(segments: Vec<Segment>, partial: bool) -> Path {
        Path { segments, partial }
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// True for an object (partial) path, which ends with a dot.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The schema form: every instance number replaced by `{i}`.
    pub fn to_schema(&self) -> Path {
        Path {
            segments: self
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Instance(_) => Segment::Placeholder,
                    other => other.clone(),
                })
                .collect(),
            partial: self.partial,
        }
    }

    /// The instance numbers, outermost first.
    pub fn instances(&self) -> Vec<u32> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Instance(n) => Some(*n),
                _ => None,
            })
            .collect()
    }

    /// The last segment as a name, if it is one (a parameter name for full paths).
    pub fn last_name(&self) -> Option<&str> {
        match self.segments.last() {
            Some(Segment::Name(n)) => Some(n),
            _ => None,
        }
    }

    /// The object that contains this path (for a parameter, its object; for an object, its
    /// parent object; for an instance, its table). `None` at the root.
    pub fn parent(&self) -> Option<Path> {
        if self.segments.len() <= 1 {
            return None;
        }
        Some(Path {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
            partial: true,
        })
    }

    /// A child path: `self` must be partial.
    pub fn child(&self, seg: Segment, partial: bool) -> Path {
        let mut segments = self.segments.clone();
        segments.push(seg);
        Path { segments, partial }
    }

    /// True when `self` is `other` or lies below it (`other` must be partial to have children).
    pub fn starts_with(&self, other: &Path) -> bool {
        if other.segments.len() > self.segments.len() {
            return false;
        }
        if other.segments.len() == self.segments.len() {
            return other.partial == self.partial && other.segments == self.segments;
        }
        other.partial && self.segments[..other.segments.len()] == other.segments[..]
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match s {
                Segment::Name(n) => f.write_str(n)?,
                Segment::Instance(n) => write!(f, "{n}")?,
                Segment::Placeholder => f.write_str(INSTANCE_PLACEHOLDER)?,
            }
        }
        if self.partial {
            f.write_str(".")?;
        }
        Ok(())
    }
}

/// Replaces every instance number in a path string by `{i}` without full validation; used
/// for lookups where the string came from the schema or was already validated.
pub fn schema_form(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, seg) in text.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(INSTANCE_PLACEHOLDER);
        } else {
            out.push_str(seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_partial_paths() {
        let p = Path::parse("Device.IP.Interface.3.Enable").unwrap();
        assert!(!p.is_partial());
        assert_eq!(p.instances(), vec![3]);
        assert_eq!(p.last_name(), Some("Enable"));
        assert_eq!(p.to_string(), "Device.IP.Interface.3.Enable");
        assert_eq!(p.to_schema().to_string(), "Device.IP.Interface.{i}.Enable");
        let o = Path::parse("Device.IP.").unwrap();
        assert!(o.is_partial());
        assert_eq!(o.to_string(), "Device.IP.");
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "",
            ".",
            "Device..IP",
            "Device.0.",
            "Device.01.",
            "1.Device",
            "Device.I P",
            "Device.{i}.",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("Device.{}", "A".repeat(MAX_PATH_LEN));
        assert_eq!(Path::parse(&long), Err(PathError::TooLong(long.len())));
        assert!(Path::parse("Device.X_ACME-COM_Foo.").is_ok());
    }

    #[test]
    fn schema_paths_accept_placeholders() {
        let p = Path::parse_schema("Device.IP.Interface.{i}.IPv4Address.{i}.").unwrap();
        assert_eq!(p.to_string(), "Device.IP.Interface.{i}.IPv4Address.{i}.");
        assert_eq!(
            schema_form("Device.IP.Interface.12.IPv4Address.1."),
            p.to_string()
        );
    }

    #[test]
    fn prefix_and_parent() {
        let p = Path::parse("Device.IP.Interface.3.Enable").unwrap();
        assert!(p.starts_with(&Path::parse("Device.IP.").unwrap()));
        assert!(!p.starts_with(&Path::parse("Device.IPX.").unwrap()));
        assert!(p.starts_with(&p));
        assert_eq!(p.parent().unwrap().to_string(), "Device.IP.Interface.3.");
        assert_eq!(Path::parse("Device.").unwrap().parent(), None);
    }
}
