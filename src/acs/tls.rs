//! TLS client configuration for the ACS (rustls with the ring provider): the CA verified by
//! default against the system store or a configured PEM file, the host name checked, an
//! optional client certificate, and an explicit insecure mode that skips verification.
//!
//! Everything rustls is behind the `tls` cargo feature. Without it the [`TlsSettings`] still
//! parse (a config stays valid across builds), [`client_config`] refuses with a clear error, and
//! [`Stream`] has no values, so the plain-HTTP client compiles without a `cfg` of its own.

#[cfg(not(feature = "tls"))]
use std::io::{Read, Write};
use std::net::TcpStream;
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

use super::ClientError;

#[cfg(feature = "tls")]
mod provider;

/// Where the system's CA bundle lives on Debian and OpenWrt (ca-bundle / ca-certificates).
pub const SYSTEM_CA_FILES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

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
fn load_roots(path: &Path) -> Result<RootCertStore, ClientError> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
    for c in certs {
        let c = c.map_err(|e| ClientError::Tls(format!("{}: {e}", path.display())))?;
        // A bundle may contain certificates rustls cannot use; skip them rather than fail.
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(ClientError::Tls(format!(
            "{}: no usable CA certificates",
            path.display()
        )));
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
pub type Stream = Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>;

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
pub fn client_config(_: &TlsSettings) -> Result<Config, ClientError> {
    Err(ClientError::Tls(NOT_BUILT.into()))
}

/// Opens TLS on a connected socket and completes the handshake, so that certificate problems
/// are reported as TLS errors before the first request.
#[cfg(feature = "tls")]
pub fn connect(cfg: Config, host: &str, sock: TcpStream) -> Result<Stream, ClientError> {
    let name =
        ServerName::try_from(host.to_string()).map_err(|e| ClientError::Tls(e.to_string()))?;
    let conn =
        rustls::ClientConnection::new(cfg, name).map_err(|e| ClientError::Tls(e.to_string()))?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|e| ClientError::Tls(e.to_string()))?;
    }
    Ok(Box::new(tls))
}

/// Opens TLS on a connected socket: always an error without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub fn connect(_: Config, _: &str, _: TcpStream) -> Result<Stream, ClientError> {
    Err(ClientError::Tls(NOT_BUILT.into()))
}

/// Builds the rustls client configuration.
#[cfg(feature = "tls")]
pub fn client_config(s: &TlsSettings) -> Result<Config, ClientError> {
    let provider = Arc::new(provider::provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?;
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
                    .ok_or_else(|| {
                        ClientError::Tls("no system CA bundle found; set acs.ca_file".into())
                    })?;
                load_roots(found)?
            }
        };
        builder.with_root_certificates(roots)
    };
    let cfg = match (&s.client_cert, &s.client_key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| ClientError::Tls(format!("{}: {e}", cert.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| ClientError::Tls(format!("{}: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| ClientError::Tls(format!("{}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ClientError::Tls(e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(ClientError::Tls(
                "client_cert and client_key go together".into(),
            ))
        }
    };
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::{Client, Settings};

    fn https_client(tls: TlsSettings) -> Result<Client, ClientError> {
        Client::new(Settings {
            url: "https://127.0.0.1:7548/acs".into(),
            username: String::new(),
            password: String::new(),
            tls,
            timeout: std::time::Duration::from_secs(1),
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
            Err(ClientError::Tls(m)) => assert_eq!(m, NOT_BUILT),
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
        assert!(matches!(https_client(missing_ca), Err(ClientError::Tls(_))));
    }

    #[test]
    fn plain_http_needs_no_tls() {
        let c = Client::new(Settings {
            url: "http://127.0.0.1:7557/acs".into(),
            username: String::new(),
            password: String::new(),
            tls: TlsSettings::default(),
            timeout: std::time::Duration::from_secs(1),
        });
        assert!(c.is_ok());
    }
}
