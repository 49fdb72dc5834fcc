//! The few URL facts an HTTP client needs: scheme, host, port, path; and the origin
//! (RFC 6454: scheme, host, port) that decides where credentials and cookies may go.

use std::fmt;

/// A parsed http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// https?
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

/// Why a URL or a redirect's Location cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Not `http://` or `https://` (the URL).
    Scheme(String),
    /// No host, or one with bytes no host has (the URL).
    Host(String),
    /// A port that is not a number up to 65535 (the URL).
    Port(String),
    /// A Location that is neither an absolute URL nor an absolute path (the Location).
    Relative(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Scheme(u) => write!(f, "{u:?} is not an http:// or https:// url"),
            UrlError::Host(u) => write!(f, "{u:?} has no usable host"),
            UrlError::Port(u) => write!(f, "{u:?} has a bad port"),
            UrlError::Relative(l) => write!(f, "location {l:?} is not an absolute url or path"),
        }
    }
}

impl std::error::Error for UrlError {}

/// Strips a scheme prefix, ignoring case (RFC 3986 §3.1).
fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
    let head = s.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &s[scheme.len()..])
}

impl Url {
    /// Parses `http://host[:port][/path]` or `https://…` (user info, if any, is dropped:
    /// credentials come from the configuration, never from a URL).
    pub fn parse(s: &str) -> Result<Url, UrlError> {
        let (tls, rest) = if let Some(r) = strip_scheme(s, "https://") {
            (true, r)
        } else {
            (
                false,
                strip_scheme(s, "http://").ok_or_else(|| UrlError::Scheme(s.to_string()))?,
            )
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| UrlError::Host(s.to_string()))?;
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(
                        p.strip_prefix(':')
                            .ok_or_else(|| UrlError::Port(s.to_string()))?,
                    ),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(UrlError::Host(s.to_string()));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| UrlError::Port(s.to_string()))?,
            None if tls => 443,
            None => 80,
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        Ok(Url {
            tls,
            host: host.to_string(),
            port,
            path,
        })
    }

    /// `host:port` for connecting and the Host header.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Same scheme, host (ignoring case) and port: where credentials and cookies given for
    /// one may go to the other.
    pub fn same_origin(&self, other: &Url) -> bool {
        self.tls == other.tls
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(&other.host)
    }

    /// Resolves a Location header against this URL: an absolute URL, a scheme-relative
    /// `//host/path`, or an absolute path.
    pub fn join(&self, location: &str) -> Result<Url, UrlError> {
        if strip_scheme(location, "http://").is_some()
            || strip_scheme(location, "https://").is_some()
        {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            let scheme = if self.tls { "https" } else { "http" };
            return Url::parse(&format!("{scheme}://{rest}"));
        }
        if location.starts_with('/') {
            return Ok(Url {
                path: location.to_string(),
                ..self.clone()
            });
        }
        Err(UrlError::Relative(location.to_string()))
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            if self.tls { "https" } else { "http" },
            self.authority(),
            self.path
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_acss_use() {
        let u = Url::parse("http://127.0.0.1:7547/acs?x=1").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path.as_str()),
            (false, "127.0.0.1", 7547, "/acs?x=1")
        );
        let u = Url::parse("https://acs.example.com").unwrap();
        assert_eq!((u.port, u.path.as_str()), (443, "/"));
        let u = Url::parse("http://[::1]:8080/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.authority()),
            ("::1", "[::1]:8080".to_string())
        );
        assert_eq!(u.to_string(), "http://[::1]:8080/");
        assert_eq!(Url::parse("HTTP://h/").unwrap().port, 80);
        assert_eq!(Url::parse("http://user:pw@h/").unwrap().host, "h");
        for (bad, want) in [
            ("ftp://x/", UrlError::Scheme("ftp://x/".into())),
            ("http://", UrlError::Host("http://".into())),
            ("http://:80/", UrlError::Host("http://:80/".into())),
            ("http://[::1/", UrlError::Host("http://[::1/".into())),
            ("http://h:99999/", UrlError::Port("http://h:99999/".into())),
            ("http://h:x/", UrlError::Port("http://h:x/".into())),
            ("http://[::1]x/", UrlError::Port("http://[::1]x/".into())),
        ] {
            assert_eq!(Url::parse(bad), Err(want), "{bad}");
        }
        let base = Url::parse("http://a:1/x").unwrap();
        assert_eq!(base.join("/y").unwrap().to_string(), "http://a:1/y");
        assert_eq!(
            base.join("https://b/z").unwrap().to_string(),
            "https://b:443/z"
        );
        assert_eq!(base.join("//c:2/w").unwrap().to_string(), "http://c:2/w");
        assert_eq!(
            base.join("relative"),
            Err(UrlError::Relative("relative".into()))
        );
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        let u = |s| Url::parse(s).unwrap();
        assert!(u("http://ACS.example/a").same_origin(&u("http://acs.example:80/b")));
        assert!(!u("http://acs.example/").same_origin(&u("https://acs.example/")));
        assert!(!u("http://acs.example/").same_origin(&u("http://acs.example:8080/")));
        assert!(!u("http://acs.example/").same_origin(&u("http://evil.example/")));
    }
}
