//! Certificates as the consent window and the popup show them.
//!
//! The host's `list-certificates` already carries decoded facts, but the extension decodes
//! each DER certificate again with the same code (`paraphe_formats::x509`): what a person
//! is shown is derived from the certificate bytes that will be used, not from a summary.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_protocol::cert::{CertificateEntry, KeyPresence, Usage};
use paraphe_protocol::command::CertificateList;
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::request::UsageFilter;

/// Certificates expiring within this many days get a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub fingerprint: String,
    pub token: String,
    pub token_label: String,
    /// CKA_ID, hex: with `token`, where the certificate is (`login`'s `hint`).
    pub cka_id: String,
    pub label: String,
    pub holder: String,
    pub organization: Option<String>,
    pub issuer: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub expired: bool,
    /// notBefore is still to come: the certificate is not valid yet.
    pub not_yet_valid: bool,
    pub expires_soon: bool,
    pub rgs_level: Option<String>,
    pub qualified: bool,
    pub key_type: String,
    pub key_bits: u32,
    pub curve: Option<String>,
    pub usages: Vec<Usage>,
    pub has_private_key: bool,
    pub always_authenticate: bool,
    /// The certificate can log in (`formats::x509::can_log_in`: clientAuth, or a dual-use key
    /// with no EKU): a `web-eid:1.0` token is only a signature over a digest, so such a key
    /// never signs a digest or data the page chose (`docs/SECURITY.md`, « Dual-use keys »).
    pub login_capable: bool,
    /// DER, base64: what the page receives with the signature.
    pub certificate: String,
}

/// Decodes the host's list and keeps the certificates fit for `usage` (not CA certificates,
/// with a private key or one hidden until login). Certificates that do not parse are
/// dropped: nothing is offered that cannot be shown.
pub fn choices(list_json: &str, usage: UsageFilter, now_unix: i64) -> Result<Vec<Choice>, String> {
    let list: CertificateList = serde_json::from_str(list_json).map_err(|e| e.to_string())?;
    let mut out: Vec<Choice> = list
        .certificates
        .iter()
        .filter_map(|entry| choice(entry, now_unix))
        .filter(|c| match usage {
            UsageFilter::Any => true,
            UsageFilter::Signing => c.has_private_key && c.usages.contains(&Usage::Signing),
            UsageFilter::Authentication => c.has_private_key && c.usages.contains(&Usage::Authentication),
            UsageFilter::Encryption => c.usages.contains(&Usage::Encryption),
        })
        .collect();
    // Valid ones first, then the longest-lived: the likeliest choice on top.
    out.sort_by_key(|c| (c.expired, -c.days_left));
    Ok(out)
}

fn choice(entry: &CertificateEntry, now_unix: i64) -> Option<Choice> {
    let der = STANDARD.decode(&entry.certificate).ok()?;
    if paraphe_formats::x509::fingerprint(&der) != entry.fingerprint {
        return None;
    }
    let info = paraphe_formats::x509::summarize(&der, &[]).ok()?;
    if info.is_ca {
        return None;
    }
    let (_, cert) = X509Certificate::from_der(&der).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let days_left = (not_after - now_unix).div_euclid(86_400);
    Some(Choice {
        fingerprint: entry.fingerprint.clone(),
        token: entry.token.clone(),
        token_label: entry.token_label.clone(),
        cka_id: entry.cka_id.clone(),
        label: entry.label.clone(),
        holder: info.subject_common_name.clone().unwrap_or_else(|| info.subject.clone()),
        organization: info.organization.clone(),
        issuer: info.issuer_common_name.clone().unwrap_or_else(|| info.issuer.clone()),
        not_before: info.not_before.clone(),
        not_after: info.not_after.clone(),
        days_left,
        expired: not_after < now_unix,
        not_yet_valid: cert.validity().not_before.timestamp() > now_unix,
        expires_soon: days_left < EXPIRY_WARNING_DAYS,
        // The host knows the configured RGS hints; the extension has none of its own.
        rgs_level: info.rgs_level.clone().or_else(|| entry.info.rgs_level.clone()),
        qualified: info.qualified.qc_compliance,
        key_type: info.key_type.clone(),
        key_bits: info.key_bits,
        curve: info.curve.clone(),
        usages: info.usages.clone(),
        has_private_key: entry.private_key != KeyPresence::Absent,
        always_authenticate: entry.always_authenticate.unwrap_or(false),
        login_capable: paraphe_formats::x509::can_log_in(&info),
        certificate: entry.certificate.clone(),
    })
}

/// The SubjectPublicKeyInfo (DER, base64) of a certificate (DER, base64): the key
/// WebCrypto imports to check « Tester ma carte »'s test signature.
pub fn subject_public_key_info(certificate_base64: &str) -> Result<String, String> {
    let der = STANDARD.decode(certificate_base64).map_err(|e| format!("certificate: {e}"))?;
    let spki = paraphe_formats::x509::subject_public_key_info(&der).map_err(|e| e.to_string())?;
    Ok(STANDARD.encode(spki))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paraphe_protocol::cert::CertificateInfo;

    const EC_SIGNING: &[u8] = include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der");
    const RSA_AUTH: &[u8] = include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der");
    const CA: &[u8] = include_bytes!("../../fuzz/seeds/certificate/ed25519-ca.der");

    fn entry(der: &[u8], fingerprint: Option<&str>) -> CertificateEntry {
        CertificateEntry {
            fingerprint: fingerprint.map_or_else(|| paraphe_formats::x509::fingerprint(der), str::to_owned),
            token: "t1".into(),
            token_label: "Paraphe Demo".into(),
            cka_id: "01".into(),
            label: "x".into(),
            certificate: STANDARD.encode(der),
            private_key: KeyPresence::Present,
            always_authenticate: None,
            info: CertificateInfo::default(),
        }
    }

    fn list(entries: Vec<CertificateEntry>) -> String {
        serde_json::to_string(&CertificateList { certificates: entries, tokens: vec![], modules: vec![] })
            .unwrap_or_default()
    }

    #[test]
    fn keeps_signing_certificates_decoded_from_der() {
        let json = list(vec![entry(EC_SIGNING, None), entry(RSA_AUTH, None), entry(CA, None)]);
        let now = 1_700_000_000;
        let signing = choices(&json, UsageFilter::Signing, now).expect("parses");
        assert_eq!(signing.len(), 1);
        assert_eq!(signing[0].holder, "Camille Martin (ECC)");
        assert_eq!(signing[0].key_type, "EC");
        assert!(!signing[0].expired);
        assert!(!signing[0].login_capable, "a nonRepudiation-only key cannot log in");
        let before = choices(&json, UsageFilter::Signing, 0).expect("parses");
        assert!(before[0].not_yet_valid, "in 1970 the certificate is not valid yet");
        assert!(before[0].not_before.starts_with("20"), "{}", before[0].not_before);
        // The day before it expires, it is valid.
        let last_day = (before[0].days_left - 1) * 86_400;
        let valid = choices(&json, UsageFilter::Signing, last_day).expect("parses");
        assert!(!valid[0].not_yet_valid && !valid[0].expired);
        let any = choices(&json, UsageFilter::Any, now).expect("parses");
        assert_eq!(any.len(), 2, "the CA certificate is never offered");
        let auth = choices(&json, UsageFilter::Authentication, now).expect("parses");
        assert!(auth[0].login_capable, "an authentication key can log in");
    }

    #[test]
    fn subject_public_key_info_for_webcrypto() {
        let spki = STANDARD.decode(subject_public_key_info(&STANDARD.encode(EC_SIGNING)).expect("spki")).expect("b64");
        let (_, cert) = X509Certificate::from_der(EC_SIGNING).expect("certificate");
        assert_eq!(spki, cert.public_key().raw);
        assert!(subject_public_key_info("not base64!").is_err());
        assert!(subject_public_key_info(&STANDARD.encode(b"not a certificate")).is_err());
    }

    #[test]
    fn drops_a_certificate_whose_fingerprint_lies_and_flags_expiry() {
        let json = list(vec![entry(EC_SIGNING, Some(&"0".repeat(64)))]);
        assert!(choices(&json, UsageFilter::Any, 0).expect("parses").is_empty());
        let json = list(vec![entry(EC_SIGNING, None)]);
        let far_future = 4_000_000_000;
        let c = choices(&json, UsageFilter::Any, far_future).expect("parses");
        assert!(c[0].expired && c[0].expires_soon);
    }
}
