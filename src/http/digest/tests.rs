//! Basic and Digest: the RFC examples, both sides of a challenge, the verifier's bounds.

use super::*;

#[test]
fn md5_matches_the_rfc_1321_test_suite() {
    let cases = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(Algorithm::Md5.hash(input), want, "{input:?}");
    }
}

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

/// A verifier and a right answer (SHA-256) to a challenge issued at `issued`.
fn fresh(v: &mut Verifier, issued: u64, nc: u32) -> String {
    let ch = v.challenges(issued, false);
    let Scheme::Digest(c) = parse_challenges(&ch[0]).remove(0) else {
        panic!()
    };
    authorization(&c, "a", "b", "GET", "/cr", nc, "cn")
}

#[test]
fn used_nonce_memory_is_bounded_and_forgetting_reopens_no_replay() {
    let mut v = Verifier::new("a", "b", "r", 60_000);
    let Scheme::Digest(c) = parse_challenges(&v.challenges(0, false)[0]).remove(0) else {
        panic!()
    };
    let first = authorization(&c, "a", "b", "GET", "/cr", 1, "cn");
    assert_eq!(v.verify(Some(&first), "GET", "/cr", 0), Ok(()));
    for i in 1..=(MAX_NONCES as u64 * 2) {
        let h = fresh(&mut v, i, 1);
        assert_eq!(v.verify(Some(&h), "GET", "/cr", i), Ok(()), "nonce {i}");
        assert!(v.used.len() <= MAX_NONCES);
    }
    // The first nonce was forgotten; its replay, and even a higher count, are refused.
    let next = authorization(&c, "a", "b", "GET", "/cr", 2, "cn");
    assert_eq!(
        v.verify(Some(&first), "GET", "/cr", 200),
        Err(AuthError::Stale)
    );
    assert_eq!(
        v.verify(Some(&next), "GET", "/cr", 200),
        Err(AuthError::Stale)
    );
    // A fresh nonce still works.
    let h = fresh(&mut v, 300, 1);
    assert_eq!(v.verify(Some(&h), "GET", "/cr", 300), Ok(()));
}

#[test]
fn a_flood_of_challenges_does_not_invalidate_an_outstanding_nonce() {
    let mut v = Verifier::new("a", "b", "r", 60_000);
    let h = fresh(&mut v, 0, 1);
    for i in 0..(MAX_NONCES as u64 * 10) {
        v.challenges(i, false);
    }
    assert_eq!(v.verify(Some(&h), "GET", "/cr", 700), Ok(()));
    assert!(v.used.len() <= 1, "issuing stores nothing");
}

#[test]
fn refuses_forged_expired_and_future_nonces_as_stale() {
    let mut v = Verifier::new("a", "b", "r", 1_000);
    // Same nonce body, tag from another verifier's key.
    let mut other = Verifier::new("a", "b", "r", 1_000);
    let forged = fresh(&mut other, 0, 1).replace(&other.opaque, &v.opaque);
    assert_eq!(
        v.verify(Some(&forged), "GET", "/cr", 1),
        Err(AuthError::Stale)
    );
    let h = fresh(&mut v, 0, 1);
    assert_eq!(
        v.verify(Some(&h), "GET", "/cr", 1_000),
        Err(AuthError::Stale),
        "expired"
    );
    let h = fresh(&mut v, 500, 1);
    assert_eq!(
        v.verify(Some(&h), "GET", "/cr", 100),
        Err(AuthError::Stale),
        "from the future"
    );
    assert_eq!(v.verify(Some(&h), "GET", "/cr", 999), Ok(()));
    let wrong_opaque = fresh(&mut v, 900, 1).replace(&v.opaque, "0000");
    assert_eq!(
        v.verify(Some(&wrong_opaque), "GET", "/cr", 999),
        Err(AuthError::Denied)
    );
}

#[test]
fn refuses_an_overlong_header() {
    let mut v = Verifier::new("a", "b", "r", 1_000);
    let h = fresh(&mut v, 0, 1);
    let long = format!("{h}, x=\"{}\"", "y".repeat(MAX_HEADER));
    assert_eq!(
        v.verify(Some(&long), "GET", "/cr", 1),
        Err(AuthError::Malformed)
    );
    assert_eq!(v.verify(Some(&h), "GET", "/cr", 1), Ok(()));
}

#[test]
fn sess_algorithms_round_trip() {
    let mut v = Verifier::new("a", "b", "r", 60_000);
    for (nc, alg) in [(1, Algorithm::Md5Sess), (2, Algorithm::Sha256Sess)] {
        let ch = v.challenges(0, false);
        let Scheme::Digest(mut c) = parse_challenges(&ch[0]).remove(0) else {
            panic!()
        };
        c.algorithm = alg;
        let h = authorization(&c, "a", "b", "GET", "/cr", nc, "cn");
        assert_eq!(v.verify(Some(&h), "GET", "/cr", 1), Ok(()), "{alg:?}");
    }
}
