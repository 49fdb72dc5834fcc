//! The ACS client over HTTPS against a rustls server on 127.0.0.1, with certificates made at
//! test time by the `openssl` command: good certificate, unknown CA refused, wrong host name
//! refused, client certificate presented, and the insecure switch. Without openssl the test
//! fails under CI (`CI=true`) and is skipped elsewhere.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cwmpd::http::tls::{TlsError, TlsSettings};
use cwmpd::http::{Client, Error, Settings};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::support::TempDir;

struct Pki(TempDir);

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a second CA nobody trusts, server certificates for 127.0.0.1 and for another host,
/// and a client certificate.
fn pki(tag: &str) -> Option<Pki> {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl is required in CI"
        );
        eprintln!("skipped: openssl not installed");
        return None;
    }
    let d = TempDir::new(&format!("pki-{tag}"));
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for ca in ["ca", "rogue"] {
        let (key, pem, subj) = (
            format!("{ca}.key"),
            format!("{ca}.pem"),
            format!("/CN=cwmpd test {ca}"),
        );
        let mut a = vec!["req", "-x509"];
        a.extend(ec);
        a.extend(["-keyout", &key, "-out", &pem, "-subj", &subj, "-days", "2"]);
        openssl(&d, &a);
    }
    let leaf = |name: &str, ca: &str, ext: &str| {
        std::fs::write(d.join(format!("{name}.ext")), ext).unwrap();
        let mut a = vec!["req"];
        a.extend(ec);
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        a.extend([
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=cwmpd test leaf",
        ]);
        openssl(&d, &a);
        let (cap, cak, out, extf) = (
            format!("{ca}.pem"),
            format!("{ca}.key"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        openssl(
            &d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &cap,
                "-CAkey",
                &cak,
                "-CAcreateserial",
                "-out",
                &out,
                "-days",
                "2",
                "-extfile",
                &extf,
            ],
        );
    };
    leaf(
        "server",
        "ca",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    leaf(
        "wronghost",
        "ca",
        "subjectAltName=DNS:acs.example.net\nextendedKeyUsage=serverAuth\n",
    );
    leaf(
        "rogueserver",
        "rogue",
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
    Some(Pki(d))
}

/// Serves one HTTPS request; returns the URL and whether the client presented a certificate.
fn serve(
    pki: &Pki,
    cert: &str,
    require_client: bool,
) -> (String, std::thread::JoinHandle<Option<bool>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki.0.join(format!("{cert}.pem")))
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
    let key = PrivateKeyDer::from_pem_file(pki.0.join(format!("{cert}.key"))).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let cfg = if require_client {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(pki.0.join("ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap()
    } else {
        builder
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap()
    };
    let cfg = Arc::new(cfg);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/acs", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let (sock, _) = l.accept().ok()?;
        sock.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let conn = rustls::ServerConnection::new(cfg).ok()?;
        let mut tls = rustls::StreamOwned::new(conn, sock);
        // The whole request (head and body come in separate records): a socket closed with
        // unread data resets the connection before the client reads the answer.
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tls.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if req.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let presented = tls.conn.peer_certificates().is_some_and(|c| !c.is_empty());
        tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .ok()?;
        tls.flush().ok()?;
        Some(presented)
    });
    (url, h)
}

fn post(url: &str, tls: TlsSettings) -> Result<Vec<u8>, Error> {
    let c = Client::new(Settings {
        tls,
        timeout: Duration::from_secs(5),
        ..Settings::new(url)
    })?;
    c.session().post(b"<x/>").map(|r| r.body)
}

#[test]
fn https_verifies_the_acs_and_presents_client_certificates() {
    let Some(pki) = pki("acs") else { return };
    let ca = Some(pki.0.join("ca.pem"));
    // A certificate from the trusted CA for 127.0.0.1.
    let (url, h) = serve(&pki, "server", false);
    assert_eq!(
        post(
            &url,
            TlsSettings {
                ca_file: ca.clone(),
                ..Default::default()
            }
        )
        .unwrap(),
        b"ok"
    );
    assert_eq!(h.join().unwrap(), Some(false));
    // An unknown CA is refused.
    let (url, h) = serve(&pki, "rogueserver", false);
    let e = post(
        &url,
        TlsSettings {
            ca_file: ca.clone(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Tls(TlsError::Handshake(ref m)) if m.contains("UnknownIssuer") || m.contains("unknown")),
        "{e}"
    );
    let _ = h.join();
    // A good certificate for another host name is refused.
    let (url, h) = serve(&pki, "wronghost", false);
    let e = post(
        &url,
        TlsSettings {
            ca_file: ca.clone(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Tls(TlsError::Handshake(ref m)) if m.contains("NotValidForName") || m.contains("name")),
        "{e}"
    );
    let _ = h.join();
    // The insecure switch accepts the unknown CA.
    let (url, h) = serve(&pki, "rogueserver", false);
    assert_eq!(
        post(
            &url,
            TlsSettings {
                insecure: true,
                ..Default::default()
            }
        )
        .unwrap(),
        b"ok"
    );
    let _ = h.join();
    // A server that demands a client certificate: refused without, accepted with.
    let (url, h) = serve(&pki, "server", true);
    assert!(post(
        &url,
        TlsSettings {
            ca_file: ca.clone(),
            ..Default::default()
        }
    )
    .is_err());
    assert_eq!(h.join().unwrap(), None);
    let (url, h) = serve(&pki, "server", true);
    let with_cert = TlsSettings {
        ca_file: ca.clone(),
        client_cert: Some(pki.0.join("client.pem")),
        client_key: Some(pki.0.join("client.key")),
        insecure: false,
    };
    assert_eq!(post(&url, with_cert).unwrap(), b"ok");
    assert_eq!(
        h.join().unwrap(),
        Some(true),
        "client certificate presented"
    );
    // Half a client identity is a configuration error.
    assert!(matches!(
        post(
            &url,
            TlsSettings {
                ca_file: ca,
                client_cert: Some(pki.0.join("client.pem")),
                ..Default::default()
            }
        ),
        Err(Error::Tls(TlsError::CertWithoutKey))
    ));
}

#[test]
fn https_downloads_use_the_same_verification() {
    use cwmpd::transfer::{error::TransferError, run, Direction, Job, Phase};
    let Some(pki) = pki("download") else { return };
    let dir = pki.0.join("xfer");
    let settings = |insecure: bool| run::Settings {
        dir: dir.clone(),
        max_size: None,
        tls: TlsSettings {
            ca_file: Some(pki.0.join("ca.pem")),
            insecure,
            ..Default::default()
        },
        timeout: Duration::from_secs(5),
        total_timeout: run::TRANSFER_TIMEOUT,
        allow_basic_over_http: false,
    };
    let job = |id: u64, url: &str| Job {
        id,
        direction: Direction::Download,
        scheduled: false,
        command_key: "k".into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: url.into(),
        username: String::new(),
        password: String::new(),
        file_size: 2,
        target_file_name: String::new(),
        due: 0,
        windows: Vec::new(),
        retries_left: 0,
        phase: Phase::Running,
        started: None,
        file: None,
        software_before: None,
    };
    let (url, h) = serve(&pki, "server", false);
    let file = run::download(&job(1, &url), &settings(false)).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"ok");
    let _ = h.join();
    // An image from a server nobody vouches for is never fetched: 9015.
    let (url, h) = serve(&pki, "rogueserver", false);
    let e = run::download(&job(2, &url), &settings(false)).unwrap_err();
    assert!(
        matches!(e, TransferError::Unreachable(ref m) if m.contains("nknown")),
        "{e}"
    );
    assert_eq!(
        cwmpd::rpc::fault::transfer_fault(true, &e, cwmpd::soap::CwmpVersion::V1_4).code(),
        9015
    );
    let _ = h.join();
    assert!(!run::part_path(&dir, 2).exists(), "no partial file");
}
