//! HTTP authentication math (RFC 7617 Basic, RFC 7616 Digest with MD5 / SHA-256, `-sess`,
//! qop=auth) for both sides: the ACS client answering a challenge, and the Connection Request
//! listener issuing and checking them. Time is passed in; nothing here reads a clock.

use std::collections::HashMap;
use std::fmt;

use crate::codec::{base64, hex};

/// Longest Authorization / WWW-Authenticate header accepted.
pub const MAX_HEADER: usize = 4096;
/// Most nonces a verifier remembers at once.
pub const MAX_NONCES: usize = 64;

/// Digest algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (the RFC 2617 default).
    Md5,
    /// MD5-sess.
    Md5Sess,
    /// SHA-256.
    Sha256,
    /// SHA-256-sess.
    Sha256Sess,
}

impl Algorithm {
    fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => {
                hex::encode(&super::md5::digest(data.as_bytes()))
            }
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(ring::digest::digest(&ring::digest::SHA256, data.as_bytes()).as_ref())
            }
        }
    }

    fn sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

/// A Digest challenge from a WWW-Authenticate header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// realm
    pub realm: String,
    /// nonce
    pub nonce: String,
    /// opaque
    pub opaque: Option<String>,
    /// algorithm
    pub algorithm: Algorithm,
    /// qop options offered
    pub qop: Vec<String>,
    /// stale=true: the nonce expired, the credentials were fine
    pub stale: bool,
}

/// One authentication scheme offered by a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Basic with its realm.
    Basic { realm: String },
    /// Digest.
    Digest(Challenge),
}

/// Splits `k=v, k="v, with comma"` parameters; returns (key lower-cased, value).
fn params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key.to_ascii_lowercase(), value));
    }
    out
}

/// Parses every challenge in a WWW-Authenticate header value (several may be joined by
/// commas); unknown schemes and malformed challenges are skipped.
pub fn parse_challenges(header: &str) -> Vec<Scheme> {
    if header.len() > MAX_HEADER {
        return Vec::new();
    }
    // Split at commas outside quoted strings; a piece whose first token has no '=' starts a
    // new challenge ("Digest realm=…"), the others continue the current one.
    let mut pieces = Vec::new();
    let (mut cur, mut quoted, mut escaped) = (String::new(), false, false);
    for c in header.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                pieces.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    pieces.push(cur);
    let mut parts: Vec<(String, String)> = Vec::new();
    for piece in pieces {
        let t = piece.trim();
        let first = t.split_whitespace().next().unwrap_or("");
        if !first.is_empty() && !first.contains('=') {
            parts.push((first.to_string(), t[first.len()..].to_string()));
        } else if let Some(last) = parts.last_mut() {
            last.1.push(',');
            last.1.push_str(t);
        }
    }
    let mut out = Vec::new();
    for (scheme, rest) in parts {
        let p = params(&rest);
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if scheme.eq_ignore_ascii_case("basic") {
            out.push(Scheme::Basic {
                realm: get("realm").unwrap_or_default(),
            });
        } else if scheme.eq_ignore_ascii_case("digest") {
            let (Some(realm), Some(nonce)) = (get("realm"), get("nonce")) else {
                continue;
            };
            let Some(algorithm) = get("algorithm")
                .map(|a| Algorithm::parse(&a))
                .unwrap_or(Some(Algorithm::Md5))
            else {
                continue;
            };
            out.push(Scheme::Digest(Challenge {
                realm,
                nonce,
                opaque: get("opaque"),
                algorithm,
                qop: get("qop")
                    .map(|q| {
                        q.split(',')
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
            }));
        }
    }
    out
}

/// The inputs of one Digest response computation (RFC 7616 §3.4.1).
struct Inputs<'a> {
    alg: Algorithm,
    user: &'a str,
    realm: &'a str,
    pass: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    nc: &'a str,
    qop: Option<&'a str>,
    method: &'a str,
    uri: &'a str,
}

fn response(i: &Inputs) -> String {
    let mut ha1 = i.alg.hash(&format!("{}:{}:{}", i.user, i.realm, i.pass));
    if i.alg.sess() {
        ha1 = i.alg.hash(&format!("{ha1}:{}:{}", i.nonce, i.cnonce));
    }
    let ha2 = i.alg.hash(&format!("{}:{}", i.method, i.uri));
    match i.qop {
        Some(q) => i.alg.hash(&format!(
            "{ha1}:{}:{}:{}:{q}:{ha2}",
            i.nonce, i.nc, i.cnonce
        )),
        None => i.alg.hash(&format!("{ha1}:{}:{ha2}", i.nonce)),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Authorization header value answering a Digest challenge.
pub fn authorization(
    ch: &Challenge,
    user: &str,
    pass: &str,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> String {
    let qop = ch.qop.iter().any(|q| q == "auth").then_some("auth");
    let nc_s = format!("{nc:08x}");
    let resp = response(&Inputs {
        alg: ch.algorithm,
        user,
        realm: &ch.realm,
        pass,
        nonce: &ch.nonce,
        cnonce,
        nc: &nc_s,
        qop,
        method,
        uri,
    });
    let mut h = format!(
        "Digest username={}, realm={}, nonce={}, uri={}, algorithm={}, response=\"{resp}\"",
        quote(user),
        quote(&ch.realm),
        quote(&ch.nonce),
        quote(uri),
        ch.algorithm.name()
    );
    if let Some(q) = qop {
        h.push_str(&format!(", qop={q}, nc={nc_s}, cnonce={}", quote(cnonce)));
    }
    if let Some(o) = &ch.opaque {
        h.push_str(&format!(", opaque={}", quote(o)));
    }
    h
}

/// The Authorization header value for Basic.
pub fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::encode(format!("{user}:{pass}").as_bytes())
    )
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No Authorization header, or not Digest.
    Missing,
    /// Malformed, too long, or missing fields.
    Malformed,
    /// Wrong user, realm, uri or response.
    Denied,
    /// The nonce is unknown or expired (answer with stale=true).
    Stale,
    /// The nonce count did not increase.
    Replay,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = match self {
            AuthError::Missing => "no digest credentials",
            AuthError::Malformed => "malformed credentials",
            AuthError::Denied => "wrong credentials",
            AuthError::Stale => "stale nonce",
            AuthError::Replay => "replayed nonce count",
        };
        write!(f, "auth: {m}")
    }
}

impl std::error::Error for AuthError {}

/// Issues Digest challenges and checks answers (server side).
pub struct Verifier {
    user: String,
    pass: String,
    realm: String,
    opaque: String,
    lifetime_ms: u64,
    /// nonce → (issued at, highest nc seen).
    nonces: HashMap<String, (u64, u32)>,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Random bytes as hex, from the system RNG via ring.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    let rng = ring::rand::SystemRandom::new();
    if ring::rand::SecureRandom::fill(&rng, &mut buf).is_err() {
        // The kernel RNG failing is not something to limp along with silently.
        log::error!("system random number generator failed");
    }
    hex::encode(&buf)
}

impl Verifier {
    /// A verifier for one user; nonces expire `lifetime_ms` after issue.
    pub fn new(user: &str, pass: &str, realm: &str, lifetime_ms: u64) -> Verifier {
        Verifier {
            user: user.into(),
            pass: pass.into(),
            realm: realm.into(),
            opaque: random_hex(8),
            lifetime_ms,
            nonces: HashMap::new(),
        }
    }

    /// WWW-Authenticate header values for a 401: a SHA-256 and an MD5 challenge, preferred
    /// first (RFC 7616 §3.7). ACSs that merge repeated headers and keep the last value see MD5.
    pub fn challenges(&mut self, now_ms: u64, stale: bool) -> Vec<String> {
        self.nonces
            .retain(|_, (at, _)| now_ms.saturating_sub(*at) < self.lifetime_ms);
        if self.nonces.len() >= MAX_NONCES {
            // Forget the oldest: a flood of unauthenticated requests cannot grow memory.
            if let Some(oldest) = self
                .nonces
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            {
                self.nonces.remove(&oldest);
            }
        }
        let nonce = random_hex(16);
        self.nonces.insert(nonce.clone(), (now_ms, 0));
        let stale = if stale { ", stale=true" } else { "" };
        ["SHA-256", "MD5"]
            .iter()
            .map(|alg| {
                format!(
                    "Digest realm={}, qop=\"auth\", algorithm={alg}, nonce={}, opaque={}{stale}",
                    quote(&self.realm),
                    quote(&nonce),
                    quote(&self.opaque)
                )
            })
            .collect()
    }

    /// Checks an Authorization header for a request.
    pub fn verify(
        &mut self,
        header: Option<&str>,
        method: &str,
        uri: &str,
        now_ms: u64,
    ) -> Result<(), AuthError> {
        let h = header.ok_or(AuthError::Missing)?;
        if h.len() > MAX_HEADER {
            return Err(AuthError::Malformed);
        }
        let rest = h
            .trim_start()
            .strip_prefix("Digest")
            .or_else(|| h.trim_start().strip_prefix("digest"))
            .ok_or(AuthError::Missing)?;
        let p = params(rest);
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let (Some(user), Some(realm), Some(nonce), Some(duri), Some(resp)) = (
            get("username"),
            get("realm"),
            get("nonce"),
            get("uri"),
            get("response"),
        ) else {
            return Err(AuthError::Malformed);
        };
        let alg =
            Algorithm::parse(get("algorithm").unwrap_or("MD5")).ok_or(AuthError::Malformed)?;
        if get("qop") != Some("auth") {
            return Err(AuthError::Malformed);
        }
        let (Some(nc), Some(cnonce)) = (get("nc"), get("cnonce")) else {
            return Err(AuthError::Malformed);
        };
        let nc_n = u32::from_str_radix(nc, 16).map_err(|_| AuthError::Malformed)?;
        if user != self.user || realm != self.realm || duri != uri {
            log::debug!("auth: denied: username {user:?}, realm {realm:?}, uri {duri:?} (expected {:?}, {:?}, {uri:?})", self.user, self.realm);
            return Err(AuthError::Denied);
        }
        let mut want = response(&Inputs {
            alg,
            user: &self.user,
            realm: &self.realm,
            pass: &self.pass,
            nonce,
            cnonce,
            nc,
            qop: Some("auth"),
            method,
            uri,
        });
        // GenieACS 1.2 always computes MD5 but echoes whatever algorithm it parsed last. MD5
        // is offered anyway, so an MD5 answer labelled SHA-256 proves no less than one
        // labelled MD5: accept it rather than lock such ACSs out.
        if alg == Algorithm::Sha256
            && !constant_time_eq(want.as_bytes(), resp.to_ascii_lowercase().as_bytes())
        {
            want = response(&Inputs {
                alg: Algorithm::Md5,
                user: &self.user,
                realm: &self.realm,
                pass: &self.pass,
                nonce,
                cnonce,
                nc,
                qop: Some("auth"),
                method,
                uri,
            });
        }
        if !constant_time_eq(want.as_bytes(), resp.to_ascii_lowercase().as_bytes()) {
            log::debug!("auth: denied: response does not match (user {user:?}, algorithm {}, qop auth, nc {nc})", alg.name());
            return Err(AuthError::Denied);
        }
        let entry = self.nonces.get_mut(nonce).ok_or(AuthError::Stale)?;
        if now_ms.saturating_sub(entry.0) >= self.lifetime_ms {
            self.nonces.remove(nonce);
            return Err(AuthError::Stale);
        }
        if nc_n <= entry.1 {
            return Err(AuthError::Replay);
        }
        entry.1 = nc_n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1: the same request answered with SHA-256 and MD5.
    #[test]
    fn rfc7616_examples() {
        let mk = |alg| Challenge {
            realm: "http-auth@example.org".into(),
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into(),
            opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".into()),
            algorithm: alg,
            qop: vec!["auth".into(), "auth-int".into()],
            stale: false,
        };
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let sha = authorization(
            &mk(Algorithm::Sha256),
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            1,
            cnonce,
        );
        assert!(
            sha.contains(
                "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
            ),
            "{sha}"
        );
        let md5 = authorization(
            &mk(Algorithm::Md5),
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            1,
            cnonce,
        );
        assert!(
            md5.contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            "{md5}"
        );
        assert!(md5.contains("nc=00000001") && md5.contains("qop=auth"));
    }

    #[test]
    fn parses_several_challenges_in_one_header() {
        let h = "Digest realm=\"a, b\", qop=\"auth,auth-int\", algorithm=SHA-256, nonce=\"n1\", opaque=\"o\", Digest realm=\"r\", nonce=\"n2\", Basic realm=\"x\"";
        let c = parse_challenges(h);
        assert_eq!(c.len(), 3, "{c:?}");
        match &c[0] {
            Scheme::Digest(ch) => {
                assert_eq!(
                    (ch.realm.as_str(), ch.algorithm, ch.qop.len()),
                    ("a, b", Algorithm::Sha256, 2)
                );
                assert_eq!(ch.opaque.as_deref(), Some("o"));
            }
            s => panic!("{s:?}"),
        }
        assert!(
            matches!(&c[1], Scheme::Digest(ch) if ch.algorithm == Algorithm::Md5 && ch.qop.is_empty())
        );
        assert_eq!(c[2], Scheme::Basic { realm: "x".into() });
        assert!(parse_challenges(&"x".repeat(MAX_HEADER + 1)).is_empty());
        assert!(
            parse_challenges("Digest realm=\"r\"").is_empty(),
            "no nonce"
        );
        assert!(parse_challenges("Digest realm=\"r\", nonce=\"n\", algorithm=XYZ").is_empty());
    }

    #[test]
    fn basic_header() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    fn answer(
        v: &mut Verifier,
        now: u64,
        alg: usize,
        user: &str,
        pass: &str,
        nc: u32,
    ) -> (String, String) {
        let ch = v.challenges(now, false);
        let Scheme::Digest(c) = parse_challenges(&ch[alg]).remove(0) else {
            panic!()
        };
        (
            authorization(&c, user, pass, "GET", "/cr", nc, "cn"),
            c.nonce,
        )
    }

    #[test]
    fn verifier_accepts_right_answers_once_per_count() {
        let mut v = Verifier::new("acs", "secret", "cwmpd", 60_000);
        for alg in [0, 1] {
            let (h, _) = answer(&mut v, 0, alg, "acs", "secret", 1);
            assert_eq!(v.verify(Some(&h), "GET", "/cr", 10), Ok(()));
            assert_eq!(v.verify(Some(&h), "GET", "/cr", 11), Err(AuthError::Replay));
        }
        let (h, _) = answer(&mut v, 0, 0, "acs", "wrong", 1);
        assert_eq!(v.verify(Some(&h), "GET", "/cr", 10), Err(AuthError::Denied));
        let (h, _) = answer(&mut v, 0, 0, "eve", "secret", 1);
        assert_eq!(v.verify(Some(&h), "GET", "/cr", 10), Err(AuthError::Denied));
        let (h, _) = answer(&mut v, 0, 0, "acs", "secret", 1);
        assert_eq!(
            v.verify(Some(&h), "GET", "/other", 10),
            Err(AuthError::Denied)
        );
        assert_eq!(
            v.verify(Some(&h), "GET", "/cr", 60_001),
            Err(AuthError::Stale),
            "expired"
        );
        assert_eq!(v.verify(None, "GET", "/cr", 0), Err(AuthError::Missing));
        assert_eq!(
            v.verify(Some("Basic eDp5"), "GET", "/cr", 0),
            Err(AuthError::Missing)
        );
        assert_eq!(
            v.verify(Some("Digest username=\"acs\""), "GET", "/cr", 0),
            Err(AuthError::Malformed)
        );
        // A nonce the verifier never issued.
        let forged = h.replace("nonce=\"", "nonce=\"x");
        assert!(matches!(
            v.verify(Some(&forged), "GET", "/cr", 0),
            Err(AuthError::Denied | AuthError::Stale)
        ));
    }

    #[test]
    fn accepts_an_md5_answer_labelled_sha256_as_genieacs_sends_it() {
        let mut v = Verifier::new("acs", "secret", "cwmpd", 60_000);
        let ch = v.challenges(0, false);
        let Scheme::Digest(mut c) = parse_challenges(&ch[1]).remove(0) else {
            panic!()
        };
        assert_eq!(c.algorithm, Algorithm::Md5);
        let h = authorization(&c, "acs", "secret", "GET", "/cr", 1, "cn")
            .replace("algorithm=MD5", "algorithm=SHA-256");
        assert_eq!(v.verify(Some(&h), "GET", "/cr", 1), Ok(()));
        c.algorithm = Algorithm::Md5;
        let wrong = authorization(&c, "acs", "nope", "GET", "/cr", 2, "cn")
            .replace("algorithm=MD5", "algorithm=SHA-256");
        assert_eq!(
            v.verify(Some(&wrong), "GET", "/cr", 1),
            Err(AuthError::Denied)
        );
    }

    #[test]
    fn nonce_memory_is_bounded() {
        let mut v = Verifier::new("a", "b", "r", 60_000);
        for i in 0..(MAX_NONCES as u64 * 3) {
            v.challenges(i, false);
        }
        assert!(v.nonces.len() <= MAX_NONCES);
    }
}
