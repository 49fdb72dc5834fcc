//! TLS client configuration for the ACS and file servers (rustls with the ring provider): the CA verified by
//! default against the system store or a configured PEM file, the host name checked, an
//! optional client certificate, and an explicit insecure mode that skips verification.
//!
//! Everything rustls is behind the `tls` cargo feature. Without it the [`TlsSettings`] still
//! parse (a config stays valid across builds), [`client_config`] refuses with a clear error, and
//! [`Stream`] has no values, so the plain-HTTP client compiles without a `cfg` of its own.

#[cfg(not(feature = "tls"))]
use std::io::{Read, Write};
#[cfg(feature = "tls")]
use std::path::Path;
#[cfg(feature = "tls")]
use std::sync::Arc;

#[cfg(feature = "tls")]
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
#[cfg(feature = "tls")]
use rustls::pki_types::pem::PemObject;
#[cfg(feature = "tls")]
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
#[cfg(feature = "tls")]
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use std::fmt;
use std::path::PathBuf;

use super::sock::Sock;

#[cfg(feature = "tls")]
mod provider;

/// Where the system's CA bundle lives on Debian and OpenWrt (ca-bundle / ca-certificates).
pub const SYSTEM_CA_FILES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// Why TLS could not be set up or established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsError {
    /// cwmpd was built without the `tls` feature.
    NotBuilt,
    /// No system CA bundle at any of [`SYSTEM_CA_FILES`].
    NoSystemCa,
    /// A PEM file could not be read (the file, what went wrong).
    Pem(PathBuf, String),
    /// A CA file without one certificate rustls can use.
    NoUsableCa(PathBuf),
    /// A client certificate without its key, or a key without its certificate.
    CertWithoutKey,
    /// The client certificate and key were refused (what rustls said).
    ClientCert(String),
    /// The host is not a name or address a certificate can be checked against.
    ServerName(String),
    /// The provider or protocol versions could not be set up (what rustls said).
    Setup(String),
    /// The handshake failed: unknown CA, wrong host name, no common cipher … (what rustls
    /// said).
    Handshake(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::NotBuilt => f.write_str(NOT_BUILT),
            TlsError::NoSystemCa => write!(f, "no system CA bundle found; set acs.ca_file"),
            TlsError::Pem(p, e) => write!(f, "{}: {e}", p.display()),
            TlsError::NoUsableCa(p) => write!(f, "{}: no usable CA certificates", p.display()),
            TlsError::CertWithoutKey => write!(f, "client_cert and client_key go together"),
            TlsError::ClientCert(e) => write!(f, "client certificate: {e}"),
            TlsError::ServerName(h) => write!(f, "{h:?} cannot be checked against a certificate"),
            TlsError::Setup(e) => write!(f, "setup: {e}"),
            TlsError::Handshake(e) => write!(f, "handshake: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

/// TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM CA file; the system store when `None`.
    pub ca_file: Option<std::path::PathBuf>,
    /// PEM client certificate chain.
    pub client_cert: Option<std::path::PathBuf>,
    /// PEM private key.
    pub client_key: Option<std::path::PathBuf>,
    /// Accept any server certificate.
    pub insecure: bool,
}

#[cfg(feature = "tls")]
fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let pem = |e: rustls::pki_types::pem::Error| TlsError::Pem(path.to_path_buf(), e.to_string());
    let certs = CertificateDer::pem_file_iter(path).map_err(pem)?;
    for c in certs {
        let c = c.map_err(pem)?;
        // A bundle may contain certificates rustls cannot use; skip them rather than fail.
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(TlsError::NoUsableCa(path.to_path_buf()));
    }
    Ok(roots)
}

#[cfg(feature = "tls")]
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

#[cfg(feature = "tls")]
impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A built client configuration, shared by the connections of one client.
#[cfg(feature = "tls")]
pub type Config = Arc<ClientConfig>;

/// A built client configuration (never built without the `tls` feature).
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
pub struct Config(());

/// An established TLS connection to the ACS.
#[cfg(feature = "tls")]
pub type Stream = Box<rustls::StreamOwned<rustls::ClientConnection, Sock>>;

/// An established TLS connection (none can exist without the `tls` feature).
#[derive(Debug)]
#[cfg(not(feature = "tls"))]
pub enum Stream {}

#[cfg(not(feature = "tls"))]
impl Read for Stream {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match *self {}
    }
}

#[cfg(not(feature = "tls"))]
impl Write for Stream {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        match *self {}
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match *self {}
    }
}

/// What [`client_config`] answers in a build without the `tls` feature.
pub const NOT_BUILT: &str = "https is not available: cwmpd was built without the `tls` feature";

/// Builds the client configuration: always an error without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn client_config(_: &TlsSettings) -> Result<Config, TlsError> {
    Err(TlsError::NotBuilt)
}

/// Starts TLS on a connected socket (no I/O yet: [`handshake`] does it).
#[cfg(feature = "tls")]
pub fn start(cfg: Config, host: &str, sock: Sock) -> Result<Stream, TlsError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| TlsError::ServerName(host.to_string()))?;
    let conn =
        rustls::ClientConnection::new(cfg, name).map_err(|e| TlsError::Setup(e.to_string()))?;
    Ok(Box::new(rustls::StreamOwned::new(conn, sock)))
}

/// Completes the handshake, so that certificate problems are reported as TLS errors before
/// the first request. Every read and write is bounded by the socket's budget.
#[cfg(feature = "tls")]
pub fn handshake(s: &mut Stream) -> std::io::Result<()> {
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock)?;
    }
    Ok(())
}

/// The socket under a TLS stream.
#[cfg(feature = "tls")]
pub fn socket(s: &mut Stream) -> &mut Sock {
    &mut s.sock
}

/// Starts TLS: always an error without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn start(_: Config, _: &str, _: Sock) -> Result<Stream, TlsError> {
    Err(TlsError::NotBuilt)
}

/// No stream exists without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn handshake(s: &mut Stream) -> std::io::Result<()> {
    match *s {}
}

/// No stream exists without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn socket(s: &mut Stream) -> &mut Sock {
    match *s {}
}

/// Builds the rustls client configuration.
#[cfg(feature = "tls")]
pub fn client_config(s: &TlsSettings) -> Result<Config, TlsError> {
    let provider = Arc::new(provider::provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let builder = if s.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
    } else {
        let roots = match &s.ca_file {
            Some(p) => load_roots(p)?,
            None => {
                let found = SYSTEM_CA_FILES
                    .iter()
                    .map(Path::new)
                    .find(|p| p.exists())
                    .ok_or(TlsError::NoSystemCa)?;
                load_roots(found)?
            }
        };
        builder.with_root_certificates(roots)
    };
    let cfg = match (&s.client_cert, &s.client_key) {
        (Some(cert), Some(key)) => {
            let pem = |p: &Path| {
                let p = p.to_path_buf();
                move |e: rustls::pki_types::pem::Error| TlsError::Pem(p, e.to_string())
            };
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(pem(cert))?
                .collect::<Result<_, _>>()
                .map_err(pem(cert))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(pem(key))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::ClientCert(e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsError::CertWithoutKey),
    };
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Client, Error, Settings};

    fn https_client(tls: TlsSettings) -> Result<Client, Error> {
        Client::new(Settings {
            tls,
            ..Settings::new("https://127.0.0.1:7548/acs")
        })
    }

    #[test]
    #[cfg(not(feature = "tls"))]
    fn https_url_is_refused_when_built_without_tls() {
        let insecure = TlsSettings {
            insecure: true,
            ..TlsSettings::default()
        };
        match https_client(insecure) {
            Err(Error::Tls(e)) => assert_eq!(e, TlsError::NotBuilt),
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("https accepted without tls"),
        }
    }

    #[test]
    #[cfg(feature = "tls")]
    fn https_url_builds_a_client_with_tls() {
        let insecure = TlsSettings {
            insecure: true,
            ..TlsSettings::default()
        };
        assert!(https_client(insecure).is_ok());
        let missing_ca = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        assert!(matches!(
            https_client(missing_ca),
            Err(Error::Tls(TlsError::Pem(..)))
        ));
    }

    #[test]
    fn plain_http_needs_no_tls() {
        assert!(Client::new(Settings::new("http://127.0.0.1:7557/acs")).is_ok());
    }
}
