//! TLS client configuration for the ACS (rustls with the ring provider): the CA verified by
//! default against the system store or a configured PEM file, the host name checked, an
//! optional client certificate, and an explicit insecure mode that skips verification.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::ClientError;

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

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

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

/// Builds the rustls client configuration.
pub fn client_config(s: &TlsSettings) -> Result<Arc<ClientConfig>, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
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
