//! HTTP authentication math (RFC 7617 Basic, RFC 7616 Digest with MD5 / SHA-256, `-sess`,
//! qop=auth) for both sides: the ACS client answering a challenge, and the Connection Request
//! listener issuing and checking them. Time is passed in; nothing here reads a clock.

use std::collections::HashMap;
use std::fmt;

use crate::codec::{base64, hex};

/// Longest Authorization / WWW-Authenticate header accepted.
pub const MAX_HEADER: usize = 4096;
/// Most nonces a verifier remembers at once (nonces that authenticated a request; issued
/// nonces are stateless and cost no memory).
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
                use md5::Digest;
                hex::encode(&md5::Md5::digest(data.as_bytes()))
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
///
/// Nonces are stateless: `issued-ms ‖ random ‖ HMAC-SHA-256(key, issued-ms ‖ random)`, so
/// answering a flood of unauthenticated requests with 401s stores nothing and cannot push
/// out the nonce a real ACS is about to answer. Only nonces that carried a correct response
/// are remembered (with their highest nonce count, RFC 7616 §3.4: replays refused), at most
/// [`MAX_NONCES`] of them; when one has to be forgotten early, every nonce issued up to then
/// is treated as stale, so forgetting never re-opens a replay.
pub struct Verifier {
    user: String,
    pass: String,
    realm: String,
    opaque: String,
    key: ring::hmac::Key,
    lifetime_ms: u64,
    /// nonce → (issued at, highest nc seen), for nonces that authenticated a request.
    used: HashMap<String, Box<(u64, u32)>>,
    /// Nonces issued at or before this time were forgotten early: refused as stale.
    floor_ms: Option<u64>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password or the key.
        f.debug_struct("Verifier")
            .field("user", &self.user)
            .field("realm", &self.realm)
            .field("lifetime_ms", &self.lifetime_ms)
            .field("used", &self.used.len())
            .finish_non_exhaustive()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Random bytes as hex, from the system RNG via ring.
pub fn random_hex(n: usize) -> String {
    hex::encode(&random_bytes(n))
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let rng = ring::rand::SystemRandom::new();
    if ring::rand::SecureRandom::fill(&rng, &mut buf).is_err() {
        // The kernel RNG failing is not something to limp along with silently.
        log::error!("system random number generator failed");
    }
    buf
}

/// Hex digits of the issue time and of the random part of a nonce; the tag follows.
const NONCE_TIME_HEX: usize = 16;
const NONCE_RANDOM_HEX: usize = 16;
/// Bytes of the HMAC kept in a nonce (128 bits).
const NONCE_TAG_BYTES: usize = 16;

impl Verifier {
    /// A verifier for one user; nonces expire `lifetime_ms` after issue.
    pub fn new(user: &str, pass: &str, realm: &str, lifetime_ms: u64) -> Verifier {
        Verifier {
            user: user.into(),
            pass: pass.into(),
            realm: realm.into(),
            opaque: random_hex(8),
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &random_bytes(32)),
            lifetime_ms,
            used: HashMap::new(),
            floor_ms: None,
        }
    }

    fn tag(&self, body: &str) -> String {
        let t = ring::hmac::sign(&self.key, body.as_bytes());
        hex::encode(t.as_ref().get(..NONCE_TAG_BYTES).unwrap_or(t.as_ref()))
    }

    fn new_nonce(&self, now_ms: u64) -> String {
        let body = format!("{now_ms:016x}{}", random_hex(NONCE_RANDOM_HEX / 2));
        let tag = self.tag(&body);
        format!("{body}{tag}")
    }

    /// The issue time of a nonce this verifier made and that is still fresh at `now_ms`.
    fn nonce_issued(&self, nonce: &str, now_ms: u64) -> Option<u64> {
        let split = NONCE_TIME_HEX + NONCE_RANDOM_HEX;
        if nonce.len() != split + 2 * NONCE_TAG_BYTES || !nonce.is_ascii() {
            return None;
        }
        let (body, tag) = nonce.split_at(split);
        if !constant_time_eq(self.tag(body).as_bytes(), tag.as_bytes()) {
            return None;
        }
        let issued = u64::from_str_radix(body.get(..NONCE_TIME_HEX)?, 16).ok()?;
        // A nonce from the future (the caller's clock went back) is as unusable as an old one.
        if issued > now_ms || now_ms - issued >= self.lifetime_ms {
            return None;
        }
        if self.floor_ms.is_some_and(|f| issued <= f) {
            return None;
        }
        Some(issued)
    }

    /// WWW-Authenticate header values for a 401: a SHA-256 and an MD5 challenge, preferred
    /// first (RFC 7616 §3.7), both qop="auth" and sharing one fresh nonce. ACSs that merge
    /// repeated headers and keep the last value see MD5. `stale` says the last answer had
    /// the right credentials but an expired nonce (RFC 7616 §3.3). (`&mut` is kept for the
    /// callers written when issuing stored the nonce.)
    pub fn challenges(&mut self, now_ms: u64, stale: bool) -> Vec<String> {
        let nonce = self.new_nonce(now_ms);
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

    /// Checks the Authorization header of a `method` request for `uri` at `now_ms`.
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
        let h = h.trim_start();
        let rest = match h.get(..6) {
            Some(s) if s.eq_ignore_ascii_case("digest") => h.get(6..).unwrap_or(""),
            _ => return Err(AuthError::Missing),
        };
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
        let opaque_ok = get("opaque").is_none_or(|o| o == self.opaque);
        if user != self.user || realm != self.realm || duri != uri || !opaque_ok {
            log::debug!("auth: denied: username {user:?}, realm {realm:?}, uri {duri:?} (expected {:?}, {:?}, {uri:?}), opaque matches: {opaque_ok}", self.user, self.realm);
            return Err(AuthError::Denied);
        }
        let resp = resp.to_ascii_lowercase();
        let inputs = |alg| Inputs {
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
        };
        let mut matches = constant_time_eq(response(&inputs(alg)).as_bytes(), resp.as_bytes());
        // GenieACS 1.2 always computes MD5 but echoes whatever algorithm it parsed last. MD5
        // is offered anyway, so an MD5 answer labelled SHA-256 proves no less than one
        // labelled MD5: accept it rather than lock such ACSs out.
        if alg == Algorithm::Sha256 && !matches {
            matches = constant_time_eq(
                response(&inputs(Algorithm::Md5)).as_bytes(),
                resp.as_bytes(),
            );
        }
        if !matches {
            log::debug!("auth: denied: response does not match (user {user:?}, algorithm {}, qop auth, nc {nc})", alg.name());
            return Err(AuthError::Denied);
        }
        // The credentials are right; now the nonce must be ours, fresh and its count new.
        let issued = self.nonce_issued(nonce, now_ms).ok_or(AuthError::Stale)?;
        let lifetime = self.lifetime_ms;
        self.used
            .retain(|_, e| now_ms.saturating_sub(e.0) < lifetime);
        if let Some(entry) = self.used.get_mut(nonce) {
            if nc_n <= entry.1 {
                return Err(AuthError::Replay);
            }
            entry.1 = nc_n;
            return Ok(());
        }
        if self.used.len() >= MAX_NONCES {
            let oldest = self
                .used
                .iter()
                .min_by_key(|(_, e)| e.0)
                .map(|(k, e)| (k.clone(), e.0));
            if let Some((k, at)) = oldest {
                self.used.remove(&k);
                self.floor_ms = Some(self.floor_ms.map_or(at, |f| f.max(at)));
                log::debug!("auth: forgot nonce issued at {at} ms; older nonces are now stale");
            }
            if self.floor_ms.is_some_and(|f| issued <= f) {
                return Err(AuthError::Stale);
            }
        }
        self.used
            .insert(nonce.to_string(), Box::new((issued, nc_n)));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
