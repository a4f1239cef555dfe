//! Verifies card login tokens (`web-eid:1.0`, as made by Paraphe's `authenticate` and by
//! Web eID) for a portal's back end.
//!
//! A login is: the server issues a nonce ([`NonceStore::issue`]), the page gets a token
//! from the card, the server checks it with [`Verifier::verify`]. Every check has its own
//! error, so logs say why a login was refused:
//!
//! 1. format: `web-eid:1.x`, known algorithm, base64 fields;
//! 2. nonce: issued by this server, not used before, not expired (single use: taken from
//!    the store whatever the outcome);
//! 3. certificate: parses, valid now, an authentication certificate (digitalSignature; EKU
//!    absent or with clientAuth; optionally without nonRepudiation,
//!    [`Verifier::refuse_non_repudiation`]), issued by a configured trusted CA (signature
//!    checked);
//! 4. signature over `H(origin) || H(nonce)` with the portal's own origin: a token made for
//!    another site (a phishing relay) fails here.

use base64::Engine as _;
use paraphe_formats::webeid::{self, Algorithm};
use paraphe_protocol::command::AuthToken;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use x509_parser::prelude::*;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Not a `web-eid:1` token, or a field is not what it should be.
    Format(String),
    /// An algorithm this verifier does not accept.
    UnsupportedAlgorithm(String),
    /// The nonce was never issued here, or was already used.
    NonceUnknown,
    /// The nonce was issued too long ago.
    NonceExpired,
    /// The certificate does not parse.
    CertificateInvalid(String),
    /// The certificate is not valid at the time of the check.
    CertificateNotValidNow { not_before: i64, not_after: i64, now: i64 },
    /// Not an authentication certificate (key usage or EKU).
    WrongKeyUsage(String),
    /// No configured trusted CA issued the certificate.
    UntrustedCertificate(String),
    /// The signature does not verify for this origin and nonce: the token was made for
    /// another site, or altered.
    SignatureMismatch,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format(m) => write!(f, "malformed token: {m}"),
            Self::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm {a}"),
            Self::NonceUnknown => f.write_str("challenge nonce unknown or already used"),
            Self::NonceExpired => f.write_str("challenge nonce expired"),
            Self::CertificateInvalid(m) => write!(f, "invalid certificate: {m}"),
            Self::CertificateNotValidNow { not_before, not_after, now } => {
                write!(f, "certificate not valid now ({now}): valid from {not_before} to {not_after}")
            }
            Self::WrongKeyUsage(m) => write!(f, "not an authentication certificate: {m}"),
            Self::UntrustedCertificate(m) => write!(f, "certificate not issued by a trusted CA: {m}"),
            Self::SignatureMismatch => {
                f.write_str("signature does not verify for this origin and nonce (token for another site, or altered)")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// Single-use challenge nonces with a time-to-live (default 5 minutes, as Web eID).
pub struct NonceStore {
    ttl: Duration,
    issued: Mutex<HashMap<String, Instant>>,
}

impl NonceStore {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, issued: Mutex::new(HashMap::new()) }
    }

    /// A fresh nonce: 32 random bytes, base64 (44 characters).
    pub fn issue(&self) -> String {
        let mut bytes = [0u8; 32];
        // SystemRandom only fails where the OS has no entropy source at all.
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
            bytes = [0u8; 32];
        }
        let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut issued = self.issued.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        issued.retain(|_, t| now.duration_since(*t) < self.ttl);
        issued.insert(nonce.clone(), now);
        nonce
    }

    /// Removes `nonce` from the store and says whether it was usable.
    pub fn take(&self, nonce: &str) -> Result<(), VerifyError> {
        let mut issued = self.issued.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match issued.remove(nonce) {
            None => Err(VerifyError::NonceUnknown),
            Some(t) if t.elapsed() >= self.ttl => Err(VerifyError::NonceExpired),
            Some(_) => Ok(()),
        }
    }
}

impl Default for NonceStore {
    fn default() -> Self {
        Self::new(Duration::from_secs(300))
    }
}

/// Who logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// RFC 4514 subject.
    pub subject: String,
    pub common_name: Option<String>,
    /// The certificate, DER.
    pub certificate: Vec<u8>,
}

/// A portal's verifier: its own origin and the CAs it trusts.
pub struct Verifier {
    origin: String,
    trusted: Vec<Vec<u8>>,
    refuse_non_repudiation: bool,
}

impl Verifier {
    /// `origin` is the portal's own (`https://host[:port]`); `trusted_cas` are DER CA
    /// certificates that issue its users' authentication certificates.
    pub fn new(origin: impl Into<String>, trusted_cas: Vec<Vec<u8>>) -> Self {
        Self { origin: origin.into(), trusted: trusted_cas, refuse_non_repudiation: false }
    }

    /// Refuse login tokens whose certificate has nonRepudiation (dual-use « authentification
    /// et signature » certificates). Such a key also makes signatures, and whatever signs
    /// digests with it for other purposes (software other than Paraphe, which refuses raw
    /// digests with login-capable keys) could be made to sign `H(H(origin) ‖ H(nonce))` for
    /// this portal. Portals whose users all have a separate authentication certificate
    /// should turn it on. Off by default: many RGS cards carry one dual-use certificate.
    pub fn refuse_non_repudiation(mut self, refuse: bool) -> Self {
        self.refuse_non_repudiation = refuse;
        self
    }

    /// Checks `token` against the nonce the server issued for this login, at unix time
    /// `now`. The nonce is consumed whatever the outcome.
    pub fn verify(
        &self,
        token: &AuthToken,
        nonce: &str,
        nonces: &NonceStore,
        now: i64,
    ) -> Result<Identity, VerifyError> {
        nonces.take(nonce)?;
        // `web-eid:1.0` and later minor versions, which keep these fields.
        if !token.format.starts_with("web-eid:1.") {
            return Err(VerifyError::Format(format!("format {:?}", token.format)));
        }
        let alg = parse_algorithm(&token.algorithm)?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let der = b64
            .decode(&token.unverified_certificate)
            .map_err(|e| VerifyError::Format(format!("unverifiedCertificate: {e}")))?;
        let sig = b64.decode(&token.signature).map_err(|e| VerifyError::Format(format!("signature: {e}")))?;
        let cert = certificate_valid_at(&der, now)?;
        check_authentication_usage(&cert)?;
        if self.refuse_non_repudiation {
            let ku = cert.key_usage().map_err(|e| VerifyError::CertificateInvalid(e.to_string()))?;
            if ku.is_some_and(|k| k.value.non_repudiation()) {
                return Err(VerifyError::WrongKeyUsage(
                    "nonRepudiation is set (a signature certificate), and this portal refuses those for login".into(),
                ));
            }
        }
        self.check_issuer(&cert, now)?;

        let message = webeid::signed_message(alg, &self.origin, nonce);
        let key = &cert.public_key().subject_public_key.data;
        UnparsedPublicKey::new(ring_algorithm(alg)?, key.as_ref())
            .verify(&message, &sig)
            .map_err(|_| VerifyError::SignatureMismatch)?;

        let subject = cert.subject().to_string();
        let common_name = cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok()).map(str::to_owned);
        drop(cert);
        Ok(Identity { subject, common_name, certificate: der })
    }

    fn check_issuer(&self, cert: &X509Certificate<'_>, now: i64) -> Result<(), VerifyError> {
        for ca_der in &self.trusted {
            let Ok((_, ca)) = X509Certificate::from_der(ca_der) else { continue };
            if ca.subject() != cert.issuer() {
                continue;
            }
            let v = ca.validity();
            if now < v.not_before.timestamp() || now > v.not_after.timestamp() {
                return Err(VerifyError::UntrustedCertificate("the issuing CA certificate is not valid now".into()));
            }
            return cert
                .verify_signature(Some(ca.public_key()))
                .map_err(|e| VerifyError::UntrustedCertificate(format!("signature by {} fails: {e}", ca.subject())));
        }
        Err(VerifyError::UntrustedCertificate(format!("issuer {} is not trusted", cert.issuer())))
    }
}

/// The certificate `der`, read, if it is valid at unix time `now`.
fn certificate_valid_at(der: &[u8], now: i64) -> Result<X509Certificate<'_>, VerifyError> {
    let cert = match X509Certificate::from_der(der) {
        Ok((_, cert)) => cert,
        Err(e) => return Err(VerifyError::CertificateInvalid(e.to_string())),
    };
    let validity = cert.validity();
    let (not_before, not_after) = (validity.not_before.timestamp(), validity.not_after.timestamp());
    if now < not_before || now > not_after {
        return Err(VerifyError::CertificateNotValidNow { not_before, not_after, now });
    }
    Ok(cert)
}

fn parse_algorithm(name: &str) -> Result<Algorithm, VerifyError> {
    [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ]
    .into_iter()
    .find(|a| a.name() == name)
    .ok_or_else(|| VerifyError::UnsupportedAlgorithm(name.to_owned()))
}

fn ring_algorithm(alg: Algorithm) -> Result<&'static dyn VerificationAlgorithm, VerifyError> {
    Ok(match alg {
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES512 => return Err(VerifyError::UnsupportedAlgorithm("ES512 (P-521)".into())),
    })
}

/// digitalSignature, and an EKU (if any) that allows clientAuth.
fn check_authentication_usage(cert: &X509Certificate<'_>) -> Result<(), VerifyError> {
    let ku = cert.key_usage().map_err(|e| VerifyError::CertificateInvalid(e.to_string()))?;
    if !ku.is_some_and(|k| k.value.digital_signature()) {
        return Err(VerifyError::WrongKeyUsage("digitalSignature is not set".into()));
    }
    let eku = cert.extended_key_usage().map_err(|e| VerifyError::CertificateInvalid(e.to_string()))?;
    if let Some(eku) = eku {
        if !(eku.value.client_auth || eku.value.any) {
            return Err(VerifyError::WrongKeyUsage("extended key usage lacks clientAuth".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_scheme_follows_the_key() {
        let ec = include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der");
        let rsa = include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der");
        let ed = include_bytes!("../../fuzz/seeds/certificate/ed25519-ca.der");
        assert_eq!(DocumentScheme::default_for(ec), Ok(DocumentScheme::EcdsaRaw));
        assert_eq!(DocumentScheme::default_for(rsa), Ok(DocumentScheme::RsaPkcs1Sha256));
        assert!(matches!(DocumentScheme::default_for(ed), Err(VerifyError::UnsupportedAlgorithm(_))));
        assert!(matches!(DocumentScheme::default_for(b"junk"), Err(VerifyError::CertificateInvalid(_))));
    }

    #[test]
    fn nonces_are_single_use_and_expire() {
        let store = NonceStore::new(Duration::from_millis(50));
        let n = store.issue();
        assert_eq!(n.len(), 44);
        assert_eq!(store.take(&n), Ok(()));
        assert_eq!(store.take(&n), Err(VerifyError::NonceUnknown));
        let old = store.issue();
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(store.take(&old), Err(VerifyError::NonceExpired));
        assert_eq!(store.take("never issued"), Err(VerifyError::NonceUnknown));
    }

    #[test]
    fn malformed_tokens_are_refused_for_what_they_are() {
        let store = NonceStore::default();
        let v = Verifier::new("https://portail.example", Vec::new());
        let token = AuthToken {
            unverified_certificate: "AAAA".into(),
            algorithm: "HS256".into(),
            signature: "AAAA".into(),
            format: "web-eid:1.0".into(),
            app_version: "x".into(),
        };
        let n = store.issue();
        assert!(matches!(v.verify(&token, &n, &store, 0), Err(VerifyError::UnsupportedAlgorithm(_))));
        let n = store.issue();
        let t = AuthToken { format: "web-eid:2.0".into(), ..token.clone() };
        assert!(matches!(v.verify(&t, &n, &store, 0), Err(VerifyError::Format(_))));
        let n = store.issue();
        let t = AuthToken { algorithm: "RS256".into(), ..token };
        assert!(matches!(v.verify(&t, &n, &store, 0), Err(VerifyError::CertificateInvalid(_))));
    }
}

/// How a document signature was made (Paraphe page API `scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32.
    RsaPssSha256,
    /// ECDSA P-256 or P-384 with SHA-256 / SHA-384, raw `r || s`.
    EcdsaRaw,
}

impl DocumentScheme {
    /// What the Paraphe page API produces by default for this certificate's key: PKCS#1
    /// v1.5 for RSA, raw ECDSA for EC (from the SubjectPublicKeyInfo algorithm, RFC 5480).
    pub fn default_for(certificate: &[u8]) -> Result<Self, VerifyError> {
        let cert = match X509Certificate::from_der(certificate) {
            Ok((_, cert)) => cert,
            Err(e) => return Err(VerifyError::CertificateInvalid(e.to_string())),
        };
        match cert.public_key().algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.113549.1.1.1" => Ok(Self::RsaPkcs1Sha256),
            "1.2.840.10045.2.1" => Ok(Self::EcdsaRaw),
            other => Err(VerifyError::UnsupportedAlgorithm(format!("key algorithm {other}"))),
        }
    }
}

impl Verifier {
    /// Checks that `certificate` (DER) is a signing certificate (nonRepudiation) issued by a
    /// trusted CA and valid at `now`, and that `signature` over `document` verifies with it.
    pub fn verify_document_signature(
        &self,
        certificate: &[u8],
        document: &[u8],
        signature: &[u8],
        scheme: DocumentScheme,
        now: i64,
    ) -> Result<Identity, VerifyError> {
        let cert = certificate_valid_at(certificate, now)?;
        let ku = cert.key_usage().map_err(|e| VerifyError::CertificateInvalid(e.to_string()))?;
        if !ku.is_some_and(|k| k.value.non_repudiation() || k.value.digital_signature()) {
            return Err(VerifyError::WrongKeyUsage("neither nonRepudiation nor digitalSignature".into()));
        }
        self.check_issuer(&cert, now)?;
        let key = cert.public_key();
        let alg: &'static dyn VerificationAlgorithm = match scheme {
            DocumentScheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            DocumentScheme::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
            DocumentScheme::EcdsaRaw if key.subject_public_key.data.len() > 65 => &signature::ECDSA_P384_SHA384_FIXED,
            DocumentScheme::EcdsaRaw => &signature::ECDSA_P256_SHA256_FIXED,
        };
        UnparsedPublicKey::new(alg, key.subject_public_key.data.as_ref())
            .verify(document, signature)
            .map_err(|_| VerifyError::SignatureMismatch)?;
        let subject = cert.subject().to_string();
        let common_name = cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok()).map(str::to_owned);
        drop(cert);
        Ok(Identity { subject, common_name, certificate: certificate.to_vec() })
    }
}
