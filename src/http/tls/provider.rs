//! The TLS crypto provider cwmpd offers the ACS: ring's implementations, limited to what ACS
//! servers negotiate so that the code for the rest is left out of the binary (issue 5: every
//! kilobyte counts on a 4 MiB-flash router).
//!
//! - Cipher suites: AES-GCM only (TLS 1.3 `TLS_AES_128_GCM_SHA256`, which RFC 8446 §9.1 makes
//!   mandatory, and `TLS_AES_256_GCM_SHA384`; TLS 1.2 ECDHE-ECDSA/RSA with AES-128/256-GCM).
//!   ChaCha20-Poly1305 is dropped: every server that offers it also offers AES-GCM.
//!   The TLS 1.2 suites only with the `tls12` cargo feature (default).
//! - Key exchange: X25519 and P-256 (P-384 dropped; servers must accept one of these two).
//! - Certificate signatures: ECDSA P-256/P-384 and RSA PKCS#1 v1.5 / PSS, as ring's default
//!   minus Ed25519.
//!   Ed25519 is dropped: the CA/Browser Forum baseline requirements do not allow it.
//! - Client keys: RSA and ECDSA (P-256, P-384), not Ed25519.

use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite as cs, kx_group, sign};
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme;
use webpki::ring as alg;

static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    // For TLS 1.2 the curve is not fixed by the scheme; for TLS 1.3 it is.
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// Loads RSA and ECDSA client keys (ring's `any_supported_type` minus Ed25519).
#[derive(Debug)]
struct Keys;

impl KeyProvider for Keys {
    fn load_private_key(
        &self,
        der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        if let Ok(rsa) = sign::RsaSigningKey::new(&der) {
            return Ok(Arc::new(rsa));
        }
        sign::any_ecdsa_type(&der).map_err(|_| {
            rustls::Error::General("client key is neither RSA nor ECDSA (P-256, P-384)".into())
        })
    }
}

/// Randomness from the operating system, through ring.
#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf)
            .map_err(|_| GetRandomFailed)
    }
}

/// The provider (see the module documentation for what it offers and why).
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &Random,
        key_provider: &Keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CipherSuite, NamedGroup, ProtocolVersion};

    #[test]
    fn offers_aes_gcm_suites_and_two_groups() {
        let p = provider();
        let suites: Vec<CipherSuite> = p.cipher_suites.iter().map(|s| s.suite()).collect();
        assert!(suites.contains(&CipherSuite::TLS13_AES_128_GCM_SHA256));
        assert!(!suites.contains(&CipherSuite::TLS13_CHACHA20_POLY1305_SHA256));
        let tls12 = p
            .cipher_suites
            .iter()
            .filter(|s| s.version().version == ProtocolVersion::TLSv1_2)
            .count();
        assert_eq!(tls12, if cfg!(feature = "tls12") { 4 } else { 0 });
        let groups: Vec<NamedGroup> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(groups, [NamedGroup::X25519, NamedGroup::secp256r1]);
        let schemes = p.signature_verification_algorithms.supported_schemes();
        assert!(schemes.contains(&SignatureScheme::RSA_PSS_SHA256));
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP384_SHA384));
        assert!(!schemes.contains(&SignatureScheme::ED25519));
    }

    #[test]
    fn refuses_a_client_key_it_cannot_use() {
        let junk = PrivateKeyDer::Pkcs8(vec![0x30, 0x03, 0x02, 0x01, 0x00].into());
        let Err(err) = Keys.load_private_key(junk) else {
            panic!("junk key accepted")
        };
        assert!(err.to_string().contains("neither RSA nor ECDSA"), "{err}");
    }
}
