//! Certificate facts for display and choice (RFC 5280 §4.2 extensions, ETSI EN 319 412-5
//! QCStatements).

use crate::policies::{self, PolicyHint};
use paraphe_protocol::cert::{CertificateInfo, KeyUsage, PolicyInfo, QualifiedStatus, Usage};
use sha2::{Digest, Sha256};
use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::der_parser::der::parse_der;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// `id-pe-qcStatements` (RFC 3739 §3.2.6).
const OID_QC_STATEMENTS: &str = "1.3.6.1.5.5.7.1.3";
const OID_QC_COMPLIANCE: &str = "0.4.0.1862.1.1";
const OID_QC_SSCD: &str = "0.4.0.1862.1.4";
const OID_QC_TYPE: &str = "0.4.0.1862.1.6";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a valid X.509 certificate: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

/// SHA-256 of the DER certificate, lowercase hex: how the protocol names certificates.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The certificate `der` consists of, nothing after it.
fn parse(der: &[u8]) -> Result<X509Certificate<'_>, ParseError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| ParseError(e.to_string()))?;
    if !rest.is_empty() {
        return Err(ParseError(format!("{} bytes after the certificate", rest.len())));
    }
    Ok(cert)
}

/// Decodes the facts of a DER certificate. `hints` name policies and give RGS levels.
pub fn summarize(der: &[u8], hints: &[PolicyHint]) -> Result<CertificateInfo, ParseError> {
    let cert = parse(der)?;
    let tbs = &cert.tbs_certificate;
    let (key_type, key_bits, curve) = key_facts(&cert);
    let key_usage = key_usage_names(&cert);
    let extended_key_usage = eku_names(&cert);
    let policies: Vec<PolicyInfo> =
        policy_oids(&cert).into_iter().map(|oid| PolicyInfo { name: policies::name_of(&oid, hints), oid }).collect();
    // A policy's level (configured or built in), else the one the issuing CA's name states.
    let issuer_common_name = first_attr(tbs.issuer.iter_common_name());
    let rgs_level = policies
        .iter()
        .find_map(|p| policies::rgs_level_of(&p.oid, hints))
        .or_else(|| issuer_common_name.as_deref().and_then(policies::rgs_level_in_name).map(|l| l.as_str().to_owned()));
    let usages = classify(&key_usage, &extended_key_usage);
    let is_ca = cert.basic_constraints().ok().flatten().is_some_and(|bc| bc.value.ca);

    Ok(CertificateInfo {
        subject: tbs.subject.to_string(),
        subject_common_name: first_attr(tbs.subject.iter_common_name()),
        organization: first_attr(tbs.subject.iter_organization()),
        email: email(&cert),
        issuer: tbs.issuer.to_string(),
        issuer_common_name,
        serial_number: serial_hex(tbs.raw_serial()),
        serial_number_decimal: serial_decimal(tbs.raw_serial()),
        not_before: rfc3339(tbs.validity.not_before.timestamp()),
        not_after: rfc3339(tbs.validity.not_after.timestamp()),
        key_type,
        key_bits,
        curve,
        key_usage,
        extended_key_usage,
        usages,
        policies,
        rgs_level,
        qualified: qc_statements(&cert),
        is_ca,
    })
}

fn first_attr<'a>(mut it: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>) -> Option<String> {
    it.next().and_then(|a| a.as_str().ok()).map(str::to_owned)
}

fn email(cert: &X509Certificate<'_>) -> Option<String> {
    if let Some(e) = first_attr(cert.subject().iter_email()) {
        return Some(e);
    }
    let san = cert.subject_alternative_name().ok().flatten()?;
    san.value.general_names.iter().find_map(|n| match n {
        GeneralName::RFC822Name(e) => Some((*e).to_owned()),
        _ => None,
    })
}

/// The SubjectPublicKeyInfo of a DER certificate (RFC 5280 §4.1.2.7), its bytes as they
/// are in the certificate: what WebCrypto imports as `spki`.
pub fn subject_public_key_info(der: &[u8]) -> Result<&[u8], ParseError> {
    Ok(parse(der)?.tbs_certificate.subject_pki.raw)
}

fn key_facts(cert: &X509Certificate<'_>) -> (String, u32, Option<String>) {
    let spki = cert.public_key();
    let bits = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), bits(rsa.key_size()), None),
        Ok(PublicKey::EC(ec)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|oid| curve_name(&oid));
            ("EC".into(), bits(ec.key_size()), curve)
        }
        _ => (spki.algorithm.algorithm.to_id_string(), 0, None),
    }
}

fn curve_name(oid: &Oid<'_>) -> String {
    match oid.to_id_string().as_str() {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        other => other.into(),
    }
}

fn key_usage_names(cert: &X509Certificate<'_>) -> Vec<KeyUsage> {
    let Ok(Some(ku)) = cert.key_usage() else {
        return Vec::new();
    };
    let ku = ku.value;
    KeyUsage::ALL
        .into_iter()
        .filter(|k| match k {
            KeyUsage::DigitalSignature => ku.digital_signature(),
            KeyUsage::NonRepudiation => ku.non_repudiation(),
            KeyUsage::KeyEncipherment => ku.key_encipherment(),
            KeyUsage::DataEncipherment => ku.data_encipherment(),
            KeyUsage::KeyAgreement => ku.key_agreement(),
            KeyUsage::KeyCertSign => ku.key_cert_sign(),
            KeyUsage::CrlSign => ku.crl_sign(),
            KeyUsage::EncipherOnly => ku.encipher_only(),
            KeyUsage::DecipherOnly => ku.decipher_only(),
        })
        .collect()
}

fn eku_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(eku)) = cert.extended_key_usage() else {
        return Vec::new();
    };
    let eku = eku.value;
    let mut out: Vec<String> = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name.to_owned())
    .collect();
    out.extend(eku.other.iter().map(Oid::to_id_string));
    out
}

/// Signing: nonRepudiation. Authentication: digitalSignature with clientAuth, or with no
/// EKU at all. Encryption: key or data encipherment. Dual-use certificates get several.
fn classify(key_usage: &[KeyUsage], eku: &[String]) -> Vec<Usage> {
    let has = |k: KeyUsage| key_usage.contains(&k);
    let mut out = Vec::new();
    if has(KeyUsage::NonRepudiation) {
        out.push(Usage::Signing);
    }
    let client_auth_ok = eku.is_empty() || eku.iter().any(|e| e == "clientAuth" || e == "anyExtendedKeyUsage");
    if has(KeyUsage::DigitalSignature) && client_auth_ok {
        out.push(Usage::Authentication);
    }
    if has(KeyUsage::KeyEncipherment) || has(KeyUsage::DataEncipherment) {
        out.push(Usage::Encryption);
    }
    out
}

/// Whether a validator could accept a signature by this certificate's key as a login
/// (`web-eid:1.0` tokens, TLS client authentication): an EKU with clientAuth (or any), or no
/// EKU with digitalSignature or no key usage at all. Such a key must never sign a digest a
/// page chose: `H(H(origin) ‖ H(nonce))` for another site is just a digest (SECURITY.md).
/// Wider than [`Usage::Authentication`] on purpose: it is what lax validators accept, not
/// what a certificate is meant for.
pub fn can_log_in(info: &CertificateInfo) -> bool {
    let eku_client = info.extended_key_usage.iter().any(|e| e == "clientAuth" || e == "anyExtendedKeyUsage");
    let ku_signature = info.key_usage.is_empty() || info.key_usage.contains(&KeyUsage::DigitalSignature);
    eku_client || (info.extended_key_usage.is_empty() && ku_signature)
}

fn policy_oids(cert: &X509Certificate<'_>) -> Vec<String> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => Some(p.iter().map(|pi| oid_string(&pi.policy_id)).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

/// `QCStatements ::= SEQUENCE OF QCStatement`, `QCStatement ::= SEQUENCE { statementId OID,
/// statementInfo ANY OPTIONAL }` (RFC 3739 §3.2.6); QcType's info is `SEQUENCE OF OID`
/// (ETSI EN 319 412-5 §4.2.3). Unknown or malformed statements are ignored.
fn qc_statements(cert: &X509Certificate<'_>) -> QualifiedStatus {
    let mut status = QualifiedStatus::default();
    let Some(ext) = cert.extensions().iter().find(|e| e.oid.to_id_string() == OID_QC_STATEMENTS) else {
        return status;
    };
    let Ok((_, seq)) = parse_der(ext.value) else {
        return status;
    };
    let BerObjectContent::Sequence(statements) = &seq.content else {
        return status;
    };
    for statement in statements {
        let BerObjectContent::Sequence(parts) = &statement.content else {
            continue;
        };
        let Some(id) = parts.first().and_then(|p| p.as_oid().ok()).map(Oid::to_id_string) else {
            continue;
        };
        match id.as_str() {
            OID_QC_COMPLIANCE => status.qc_compliance = true,
            OID_QC_SSCD => status.qc_sscd = true,
            OID_QC_TYPE => {
                if let Some(BerObjectContent::Sequence(types)) = parts.get(1).map(|p| &p.content) {
                    for t in types {
                        if let Ok(oid) = t.as_oid() {
                            let name = match oid.to_id_string().as_str() {
                                "0.4.0.1862.1.6.1" => "esign".to_owned(),
                                "0.4.0.1862.1.6.2" => "eseal".to_owned(),
                                "0.4.0.1862.1.6.3" => "web".to_owned(),
                                other => other.to_owned(),
                            };
                            status.qc_types.push(name);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    status
}

/// Dotted form of an OID, including arcs too large for 64 bits (UUID-based `2.25.<uuid>`
/// OIDs, X.667), which `Oid::to_id_string` prints as hex. X.690 §8.19: base-128 arcs, the
/// first encoding 40 × arc1 + arc2.
pub fn oid_string(oid: &Oid<'_>) -> String {
    let bytes = oid.as_bytes();
    let mut arcs: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new(); // big-endian base-256 accumulator
    for b in bytes {
        // current = current * 128 + (b & 0x7f)
        let mut carry = u32::from(b & 0x7f);
        for byte in current.iter_mut().rev() {
            let v = u32::from(*byte) * 128 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            current.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
        if b & 0x80 == 0 {
            arcs.push(std::mem::take(&mut current));
        }
    }
    let mut parts: Vec<String> = Vec::with_capacity(arcs.len() + 1);
    for (i, arc) in arcs.iter().enumerate() {
        if i == 0 {
            // The first subidentifier packs two arcs; it is small except under 2.x.
            let v = arc.iter().fold(0u128, |acc, b| acc.saturating_mul(256).saturating_add(u128::from(*b)));
            let (a, b) = if v < 80 { (v / 40, v - (v / 40) * 40) } else { (2, v - 80) };
            parts.push(a.to_string());
            parts.push(b.to_string());
        } else {
            parts.push(serial_decimal(arc));
        }
    }
    parts.join(".")
}

fn serial_hex(raw: &[u8]) -> String {
    let trimmed: &[u8] = match raw.iter().position(|b| *b != 0) {
        Some(i) => &raw[i..],
        None => &[0],
    };
    hex::encode(trimmed)
}

/// Big-endian unsigned bytes to decimal, by repeated division by 10.
fn serial_decimal(raw: &[u8]) -> String {
    let mut num: Vec<u8> = raw.iter().copied().skip_while(|b| *b == 0).collect();
    if num.is_empty() {
        return "0".into();
    }
    let mut digits = Vec::new();
    while !num.is_empty() {
        let mut rem: u32 = 0;
        let mut next = Vec::with_capacity(num.len());
        for b in &num {
            let cur = (rem << 8) | u32::from(*b);
            let q = cur / 10;
            rem = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(u8::try_from(q).unwrap_or(0));
            }
        }
        digits.push(char::from(b'0' + u8::try_from(rem).unwrap_or(0)));
        num = next;
    }
    digits.iter().rev().collect()
}

/// Unix seconds to `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, H. Hinnant's days-to-civil).
pub fn rfc3339(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, (secs % 3600) / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_serials() {
        assert_eq!(serial_decimal(&[0x00]), "0");
        assert_eq!(serial_decimal(&[0x01, 0x00]), "256");
        assert_eq!(serial_decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "18446744073709551615");
        assert_eq!(serial_hex(&[0x00, 0x0a, 0xbc]), "0abc");
    }

    #[test]
    fn big_oid_arcs() {
        // 2.25.329800735698586629295641978511506172918.2.2
        let der: [u8; 22] = [
            0x69, 0x83, 0xf0, 0x9d, 0xa7, 0xeb, 0xcf, 0xde, 0xe0, 0xc7, 0xa1, 0xa7, 0xb2, 0xc0, 0x94, 0x8c, 0xc8, 0xf9,
            0xd7, 0x76, 0x02, 0x02,
        ];
        let oid = Oid::new(std::borrow::Cow::Borrowed(&der));
        assert_eq!(oid_string(&oid), "2.25.329800735698586629295641978511506172918.2.2");
        let small = Oid::from(&[1, 2, 250, 1, 86]).expect("oid");
        assert_eq!(oid_string(&small), "1.2.250.1.86");
        let qc = Oid::from(&[0, 4, 0, 194_112, 1, 2]).expect("oid");
        assert_eq!(oid_string(&qc), "0.4.0.194112.1.2");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn subject_public_key_info_is_openssls() {
        // SHA-256 of `openssl x509 -inform DER -in F -noout -pubkey | openssl pkey -pubin -outform DER`.
        let certificates: [(&[u8], &str); 3] = [
            (
                include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der"),
                "47ff19d0c1ca0ceb0080fa1b62fd8c16b5b9e00e71bdc4cf3d63144151091506",
            ),
            (
                include_bytes!("../../fuzz/seeds/certificate/ed25519-ca.der"),
                "65bf53c3a68c66deecd60634ab76e07be7f2ade5fe5401d904d9efafb126c5a3",
            ),
            (
                include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der"),
                "f4a38ddd31243cd3ed39e150e66a62666fad4d954eb5d1e9f1e97805a3f93f8c",
            ),
        ];
        for (der, sha256) in certificates {
            let spki = subject_public_key_info(der).expect("a certificate");
            assert_eq!(hex::encode(Sha256::digest(spki)), sha256);
        }
        let mut trailing = certificates[0].0.to_vec();
        trailing.push(0);
        assert!(subject_public_key_info(&trailing).is_err());
        assert!(subject_public_key_info(b"not a certificate").is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(summarize(b"not a certificate", &[]).is_err());
        assert!(summarize(&[], &[]).is_err());
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    /// Key usage bits by their wire names.
    fn k(v: &[&str]) -> Vec<KeyUsage> {
        v.iter().filter_map(|x| KeyUsage::ALL.into_iter().find(|k| k.name() == *x)).collect()
    }

    #[test]
    fn login_capable_keys() {
        let info = |ku: &[&str], eku: &[&str]| CertificateInfo {
            key_usage: k(ku),
            extended_key_usage: s(eku),
            ..CertificateInfo::default()
        };
        // RGS signature certificates: nonRepudiation only, no EKU or emailProtection.
        assert!(!can_log_in(&info(&["nonRepudiation"], &[])));
        assert!(!can_log_in(&info(&["nonRepudiation"], &["emailProtection"])));
        // Dual use (« authentification et signature »), authentication, and the lax cases.
        assert!(can_log_in(&info(&["digitalSignature", "nonRepudiation"], &[])));
        assert!(can_log_in(&info(&["digitalSignature"], &["clientAuth"])));
        assert!(can_log_in(&info(&["nonRepudiation"], &["clientAuth", "emailProtection"])));
        assert!(can_log_in(&info(&[], &[])));
        assert!(can_log_in(&info(&["keyEncipherment"], &["anyExtendedKeyUsage"])));
        assert!(!can_log_in(&info(&["digitalSignature"], &["emailProtection"])));
    }

    #[test]
    fn classification() {
        assert_eq!(classify(&k(&["nonRepudiation"]), &[]), vec![Usage::Signing]);
        assert_eq!(classify(&k(&["digitalSignature"]), &s(&["clientAuth"])), vec![Usage::Authentication]);
        assert!(classify(&k(&["digitalSignature"]), &s(&["emailProtection"])).is_empty());
        assert_eq!(
            classify(&k(&["digitalSignature", "nonRepudiation", "keyEncipherment"]), &[]),
            vec![Usage::Signing, Usage::Authentication, Usage::Encryption]
        );
    }
}
