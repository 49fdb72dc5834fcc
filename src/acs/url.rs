//! The few URL facts an HTTP client needs: scheme, host, port, path.

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

impl Url {
    /// Parses `http://host[:port][/path]` or `https://…`.
    pub fn parse(s: &str) -> Option<Url> {
        let (tls, rest) = if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else {
            (false, s.strip_prefix("http://")?)
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let authority = authority.rsplit('@').next()?;
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
            return None;
        }
        let port = match port {
            Some(p) => p.parse().ok()?,
            None if tls => 443,
            None => 80,
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        Some(Url {
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

    /// Resolves a Location header against this URL.
    pub fn join(&self, location: &str) -> Option<Url> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return Url::parse(location);
        }
        if location.starts_with('/') {
            return Some(Url {
                path: location.to_string(),
                ..self.clone()
            });
        }
        None
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
        for bad in [
            "ftp://x/",
            "http://",
            "http://:80/",
            "http://h:99999/",
            "http://h:x/",
        ] {
            assert!(Url::parse(bad).is_none(), "{bad}");
        }
        let base = Url::parse("http://a:1/x").unwrap();
        assert_eq!(base.join("/y").unwrap().to_string(), "http://a:1/y");
        assert_eq!(
            base.join("https://b/z").unwrap().to_string(),
            "https://b:443/z"
        );
        assert!(base.join("relative").is_none());
    }
}
