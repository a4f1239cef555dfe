//! The LiberSign compatibility adapter's logic: what iParapheur 4, s2low and Pastell send as
//! `signatureInformations`, turned into format [`Job`]s, and certificates in the shape their
//! wrappers read.
//!
//! Pages written for LiberSign are not ours: they send keys we do not use (`iddoc`, the typo
//! `pespuri` of old s2low templates…) and `null` for what they lack. Unknown keys are ignored
//! and never reach a format; every key we do use is type-checked and bounded.
//!
//! One `signatureInformations` entry may carry several digests, comma-separated in `hash` (and
//! the matching Ids in `pesid`): s2low signs every bordereau of a PES file that way and reads
//! the answer for that entry as the base64 signatures joined by commas, in the same order
//! (`HeliosSignature::injectSignature` splits it on `,`).
//!
//! iParapheur 4's `PADES` and `PADES-basic` are signed as `CMS` is, without co-signature: its
//! server prepares the PDF (signature dictionary, `/Contents` placeholder), sends the digest
//! of the `/ByteRange` as `hash` and writes the detached SignedData it gets back into
//! `/Contents`. Its own clients do exactly that for these formats (docs/LIBERSIGN.md, « PAdES »).

use crate::error::{PageCode, PageError};
use crate::formats::{Job, PesJob, Policy};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_formats::xades::{XadesFormat, XmlEncoding};
use paraphe_protocol::HashAlgorithm;
use serde::Serialize;
use serde_json::{Map, Value};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

/// Largest `signatureInformations` accepted, as JSON text (co-signed `.p7s` included).
pub const MAX_INFOS_BYTES: usize = 1024 * 1024;
/// Most digests signed under one consent (as for the page API).
pub const MAX_DIGESTS: usize = crate::request::MAX_DIGESTS;
/// Longest text field (policy description, city, role…).
const MAX_FIELD_CHARS: usize = 2048;

/// One digest to sign, in the order of the answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanEntry {
    /// Index in `signatureInformations`: entries with the same index are answered together.
    pub info: usize,
    /// `cms`, `pades` or `pes`: the consent window's wording and the answer's shape.
    pub kind: &'static str,
    /// The bordereau's Id (`pesid`) or the page's document id (`iddoc`), for display.
    pub label: Option<String>,
    /// The digest the server computed (of the document, or of the bordereau), lowercase hex.
    pub hex: String,
    pub hash_algorithm: HashAlgorithm,
    pub job: Job,
}

/// `signatureInformations` (JSON text: an array of objects) → the digests to sign, in order.
pub fn plan(json: &str) -> Result<Vec<PlanEntry>, PageError> {
    if json.len() > MAX_INFOS_BYTES {
        return Err(PageError::invalid(format!("signatureInformations is larger than {MAX_INFOS_BYTES} bytes")));
    }
    let infos: Vec<Map<String, Value>> = serde_json::from_str(json)
        .map_err(|e| PageError::invalid(format!("signatureInformations must be an array of objects: {e}")))?;
    if infos.is_empty() {
        return Err(PageError::invalid("signatureInformations is empty"));
    }
    let mut plan = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        let entries = entry(i, info)
            .map_err(|e| PageError { code: e.code, message: format!("signatureInformations[{i}]: {}", e.message) })?;
        plan.extend(entries);
        if plan.len() > MAX_DIGESTS {
            return Err(PageError::invalid(format!("more than {MAX_DIGESTS} digests")));
        }
    }
    Ok(plan)
}

/// A string field: absent, `null` and `""` are all "not given".
fn text(info: &Map<String, Value>, key: &str) -> Result<Option<String>, PageError> {
    match info.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_FIELD_CHARS && key != "p7s" => {
            Err(PageError::invalid(format!("{key} is longer than {MAX_FIELD_CHARS} characters")))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // iParapheur sends some ids as numbers.
        Some(Value::Number(n)) if key == "iddoc" => Ok(Some(n.to_string())),
        Some(_) => Err(PageError::invalid(format!("{key} must be a string"))),
    }
}

/// A comma-separated list (`hash`, `pesid`, `p7s`), each part trimmed and non-empty.
fn list(value: &str, key: &str) -> Result<Vec<String>, PageError> {
    let parts: Vec<String> = value.split(',').map(|p| p.trim().to_owned()).collect();
    if parts.iter().any(String::is_empty) {
        return Err(PageError::invalid(format!("{key} has an empty element")));
    }
    Ok(parts)
}

fn hex_digest(text: &str) -> Result<Vec<u8>, PageError> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PageError::invalid("hash must be hexadecimal"));
    }
    hex::decode(text).map_err(|e| PageError::invalid(format!("hash: {e}")))
}

fn hash_by_length(len: usize) -> Option<HashAlgorithm> {
    HashAlgorithm::ALL.into_iter().find(|h| h.digest_len() == len)
}

fn label(value: Option<String>) -> Result<Option<String>, PageError> {
    value.map(|v| crate::request::clean_name(&v)).transpose()
}

fn entry(info: usize, fields: &Map<String, Value>) -> Result<Vec<PlanEntry>, PageError> {
    let format = text(fields, "format")?.ok_or_else(|| PageError::invalid("format is missing"))?;
    let hashes = list(&text(fields, "hash")?.ok_or_else(|| PageError::invalid("hash is missing"))?, "hash")?;
    let pades = is_pades(&format);
    if format.eq_ignore_ascii_case("CMS") || pades {
        // Old wrappers put the literal text of a missing p7s. A PDF signature has one signer
        // (the earlier ones are in earlier revisions of the PDF): a `p7s` is not used there.
        let p7s = text(fields, "p7s")?.filter(|p| p != "null" && p != "undefined" && !pades);
        let cosign = match p7s {
            None => vec![None; hashes.len()],
            Some(p) => {
                let parts = list(&p, "p7s")?;
                if parts.len() != hashes.len() {
                    return Err(PageError::invalid("p7s must have one signature per hash"));
                }
                parts.into_iter().map(Some).collect()
            }
        };
        let doc = label(text(fields, "iddoc")?)?;
        return hashes
            .iter()
            .zip(cosign)
            .map(|(h, cosign)| {
                let digest = hex_digest(h)?;
                let hash_algorithm = hash_by_length(digest.len())
                    .ok_or_else(|| PageError::invalid("hash is neither a SHA-1 nor a SHA-2 digest"))?;
                let cosign = cosign.as_deref().map(cosigned_der).transpose()?;
                Ok(PlanEntry {
                    info,
                    kind: if pades { "pades" } else { "cms" },
                    label: doc.clone(),
                    hex: hex::encode(&digest),
                    hash_algorithm,
                    job: Job::Cades {
                        digest: STANDARD.encode(&digest),
                        hash_algorithm,
                        cosign,
                        scheme: None,
                        policy: None,
                    },
                })
            })
            .collect();
    }
    let Some(xades_format) = XadesFormat::from_name(&format) else {
        return Err(PageError {
            code: PageCode::UnsupportedFormat.name(),
            message: format!(
                "format {format:?} is not supported (CMS, PADES, PADES-basic, xades-env-1.2.2-sha256, XADES-env)"
            ),
        });
    };
    let ids = list(&text(fields, "pesid")?.ok_or_else(|| PageError::invalid("pesid is missing"))?, "pesid")?;
    if ids.len() != hashes.len() {
        return Err(PageError::invalid("pesid must have one Id per hash"));
    }
    let encoding = match text(fields, "pesencoding")? {
        None => XmlEncoding::Utf8,
        Some(label) => XmlEncoding::from_label(&label)
            .ok_or_else(|| PageError::invalid(format!("pesencoding {label:?} is not UTF-8 or ISO-8859-1")))?,
    };
    let policy = match text(fields, "pespolicyid")? {
        None => None,
        Some(identifier) => {
            let hash = text(fields, "pespolicyhash")?
                .ok_or_else(|| PageError::invalid("pespolicyhash is missing (pespolicyid is given)"))?;
            let bytes = STANDARD.decode(&hash).map_err(|_| PageError::invalid("pespolicyhash is not base64"))?;
            let hash_algorithm = hash_by_length(bytes.len())
                .ok_or_else(|| PageError::invalid("pespolicyhash is neither a SHA-1 nor a SHA-2 digest"))?;
            Some(Policy {
                identifier,
                description: text(fields, "pespolicydesc")?,
                hash,
                hash_algorithm,
                // Old s2low templates wrote `pespuri`.
                spuri: text(fields, "pesspuri")?.or(text(fields, "pespuri")?),
            })
        }
    };
    let (city, postal_code, country_name, claimed_role) = (
        text(fields, "pescity")?,
        text(fields, "pespostalcode")?,
        text(fields, "pescountryname")?,
        text(fields, "pesclaimedrole")?,
    );
    hashes
        .iter()
        .zip(ids)
        .map(|(h, id)| {
            let digest = hex_digest(h)?;
            let expected = xades_format.hash().digest_len();
            if digest.len() != expected {
                return Err(PageError::invalid(format!(
                    "a {} hash has {expected} bytes, this one has {}",
                    xades_format.name(),
                    digest.len()
                )));
            }
            Ok(PlanEntry {
                info,
                kind: "pes",
                label: label(Some(id.clone()))?,
                hex: hex::encode(&digest),
                hash_algorithm: xades_format.hash(),
                job: Job::Xades(Box::new(PesJob {
                    id,
                    digest: STANDARD.encode(&digest),
                    format: xades_format,
                    policy: policy.clone(),
                    city: city.clone(),
                    postal_code: postal_code.clone(),
                    country_name: country_name.clone(),
                    claimed_role: claimed_role.clone(),
                    encoding,
                })),
            })
        })
        .collect()
}

/// iParapheur 4's PDF signature formats (`PADES`, `PADES-basic`; any case).
fn is_pades(format: &str) -> bool {
    format.eq_ignore_ascii_case("PADES") || format.eq_ignore_ascii_case("PADES-basic")
}

/// The PEM label of LiberSign's CMS answers: what `openssl pkcs7 -in` reads (a `CMS` label
/// is refused there).
const PKCS7_LABEL: &str = "PKCS7";

/// The `p7s` to co-sign, as base64 DER. LiberSign's own answers (and so what a platform
/// stored and sends back) are base64 of a PEM document; base64 DER or BER and the PEM text
/// itself are taken too.
fn cosigned_der(p7s: &str) -> Result<String, PageError> {
    let bytes = if p7s.starts_with("-----BEGIN") {
        p7s.as_bytes().to_vec()
    } else {
        STANDARD.decode(p7s).map_err(|_| PageError::invalid("p7s is not base64"))?
    };
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok(STANDARD.encode(bytes));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| PageError::invalid("p7s is not a PEM document"))?;
    let body = pem_body(text).ok_or_else(|| PageError::invalid("p7s is not a PKCS7 or CMS PEM document"))?;
    let der = STANDARD.decode(body).map_err(|_| PageError::invalid("p7s: the PEM body is not base64"))?;
    Ok(STANDARD.encode(der))
}

/// The base64 between `-----BEGIN PKCS7-----` (or `CMS`, `PKCS #7 SIGNED DATA`) and its END
/// line, whitespace removed (RFC 7468 §2).
fn pem_body(text: &str) -> Option<String> {
    let text = text.trim_start();
    let label = text.strip_prefix("-----BEGIN ")?.split_once("-----")?.0;
    if !matches!(label, "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA") {
        return None;
    }
    let (_, rest) = text.split_once('\n')?;
    let (body, _) = rest.split_once(&format!("-----END {label}-----"))?;
    Some(body.chars().filter(|c| !c.is_ascii_whitespace()).collect())
}

/// A CMS answer as LiberSign gave it, and as s2low's `actes_transac_sign.php` reads it
/// (`base64_decode`, then `openssl pkcs7 -in` and `openssl smime -inform PEM`): base64 of a PEM
/// document `-----BEGIN PKCS7-----`, 64 characters a line, LF line ends, as OpenSSL writes it.
/// `der_base64` is the `.p7s` the format made.
pub fn cms_answer(der_base64: &str) -> Result<String, String> {
    let der = STANDARD.decode(der_base64).map_err(|e| format!("p7s: {e}"))?;
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {PKCS7_LABEL}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).map_err(|e| e.to_string())?);
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {PKCS7_LABEL}-----\n"));
    Ok(STANDARD.encode(pem))
}

/// A certificate as LiberSign's wrappers read it. The upper-case names are LiberSign's.
#[derive(Debug, Serialize)]
#[allow(non_snake_case)]
pub struct Certificate {
    /// SHA-256 fingerprint, lowercase hex: what `sign` names the certificate by (and what
    /// wrappers keep as the favourite in `localStorage["libersign-fav"]`).
    pub ID: String,
    pub CN: String,
    /// The issuer's distinguished name, most specific first (`CN=…, O=…, C=FR`).
    pub ISSUERDN: String,
    /// Milliseconds since the Unix epoch: wrappers pass them to `new Date(…)`.
    pub NOTBEFORE: i64,
    pub NOTAFTER: i64,
    pub EMAILADDRESS: String,
    /// `RGS` when an RGS level is known or the certificate is under an RGS-qualified French
    /// provider's policy arc, `EIDAS` when it is qualified (QcCompliance or an ETSI QCP
    /// policy): `formats::policies::verified_with` (the wrappers show an « RGS » badge).
    pub verifiedWith: Vec<&'static str>,
    /// The certificate, base64 DER. LiberSign v2's name for it: Pastell 4's page posts
    /// `PUBKEY` as `publicCertificateBase64` to Libriciel's crypto service (docs/LIBERSIGN.md).
    pub PUBKEY: String,
}

/// The signing certificates of a `list-certificates` result (JSON text), LiberSign-shaped.
pub fn certificates(list_json: &str, now_unix: i64) -> Result<Vec<Certificate>, String> {
    let choices = crate::certs::choices(list_json, crate::request::UsageFilter::Signing, now_unix)?;
    Ok(choices
        .into_iter()
        .filter_map(|c| {
            let der = STANDARD.decode(&c.certificate).ok()?;
            let (_, cert) = X509Certificate::from_der(&der).ok()?;
            let info = paraphe_formats::x509::summarize(&der, &[]).ok()?;
            let validity = cert.validity();
            // The built-in RGS/eIDAS table (`formats::policies`), with the host's configured level.
            let verified = paraphe_formats::policies::verified_with(&paraphe_protocol::cert::CertificateInfo {
                rgs_level: c.rgs_level.clone(),
                ..info.clone()
            });
            Some(Certificate {
                ID: c.fingerprint,
                CN: c.holder,
                ISSUERDN: distinguished_name(cert.issuer()),
                NOTBEFORE: validity.not_before.timestamp().saturating_mul(1000),
                NOTAFTER: validity.not_after.timestamp().saturating_mul(1000),
                EMAILADDRESS: info.email.unwrap_or_default(),
                verifiedWith: verified,
                PUBKEY: c.certificate,
            })
        })
        .collect())
}

/// `CN=…, OU=…, O=…, C=FR`: RFC 4514 order (the last RDN first), values escaped.
fn distinguished_name(name: &X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut rdns = Vec::new();
    for rdn in name.iter_rdn() {
        let mut parts = Vec::new();
        for attr in rdn.iter() {
            let Ok(value) = attr.as_str() else { return name.to_string() };
            let kind = x509_parser::objects::oid2abbrev(attr.attr_type(), registry)
                .map_or_else(|_| attr.attr_type().to_id_string(), str::to_owned);
            parts.push(format!("{kind}={}", escape(value)));
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    rdns.join(", ")
}

/// RFC 4514 §2.4 escaping of an attribute value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.chars().count() && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SHA1: &str = "cc78058a4d1967d4d0d26f5dcc4c8cd89defbb4e";
    const SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn pes(hash: &str, ids: &str) -> String {
        format!(
            r#"[{{"hash":"{hash}","pesid":"{ids}","pespolicyid":"urn:oid:1.2.250.1.131.1.5.18.21.1.7",
            "pespolicydesc":"Politique de signature Helios de la DGFiP","pespolicyhash":"roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=",
            "pesspuri":"https://www.collectivites-locales.gouv.fr/ps_helios_dgfip.pdf","pescity":"Saint-Étienne",
            "pespostalcode":"42000","pescountryname":"France","pesclaimedrole":"Ordonnateur","pesencoding":"iso-8859-1",
            "format":"xades-env-1.2.2-sha256","p7s":null,"iddoc":12}}]"#
        )
    }

    #[test]
    fn cms_as_s2low_sends_it() {
        let plan =
            plan(&format!(r#"[{{"hash":"{SHA1}","format":"CMS"}},{{"hash":"{SHA256}","format":"cms","p7s":"null"}}]"#))
                .unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!((plan[0].info, plan[0].kind, plan[0].hash_algorithm), (0, "cms", HashAlgorithm::Sha1));
        assert_eq!((plan[1].info, plan[1].hash_algorithm), (1, HashAlgorithm::Sha256));
        assert!(matches!(&plan[1].job, Job::Cades { cosign: None, .. }));
    }

    #[test]
    fn pades_as_iparapheur_sends_it() {
        // One dossier per entry, as iParapheur's batch sends them; a dossier with two main
        // documents has two digests. The server's fields for other formats come along, null.
        let infos = format!(
            r#"[{{"hash":"{SHA1}","format":"PADES","p7s":null,"pesid":null,"pesencoding":null,"iddoc":"DOS-1"}},
            {{"hash":"{SHA1},{SHA256}","format":"PADES-basic","p7s":"not used for a PDF"}}]"#
        );
        let plan = plan(&infos).unwrap();
        assert_eq!(plan.len(), 3);
        assert_eq!(
            plan.iter().map(|p| (p.info, p.kind)).collect::<Vec<_>>(),
            [(0, "pades"), (1, "pades"), (1, "pades")]
        );
        assert_eq!(plan[0].label.as_deref(), Some("DOS-1"));
        assert_eq!((plan[0].hex.as_str(), plan[0].hash_algorithm), (SHA1, HashAlgorithm::Sha1));
        assert_eq!(plan[2].hash_algorithm, HashAlgorithm::Sha256);
        // The same detached SignedData over the server's digest as for CMS, never a co-signature.
        for p in &plan {
            let Job::Cades { digest, hash_algorithm, cosign: None, scheme: None, policy: None } = &p.job else {
                panic!("{:?}", p.job)
            };
            assert_eq!(STANDARD.decode(digest).unwrap(), hex::decode(&p.hex).unwrap());
            assert_eq!(*hash_algorithm, p.hash_algorithm);
        }
        assert_eq!(super::plan(&infos.replace("PADES-basic", "pades-BASIC")).unwrap()[1].kind, "pades");
    }

    #[test]
    fn cms_answers_are_base64_of_pem_pkcs7() {
        let der: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let answer = String::from_utf8(STANDARD.decode(cms_answer(&STANDARD.encode(&der)).unwrap()).unwrap()).unwrap();
        let lines: Vec<&str> = answer.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PKCS7-----");
        assert_eq!(*lines.last().unwrap(), "-----END PKCS7-----");
        assert!(answer.ends_with("-----END PKCS7-----\n"));
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.len() <= 64));
        assert_eq!(lines[1].len(), 64);
        assert_eq!(STANDARD.decode(lines[1..lines.len() - 1].concat()).unwrap(), der);
        // Co-signing what was answered: the PEM comes back as DER.
        assert_eq!(cosigned_der(&STANDARD.encode(&answer)).unwrap(), STANDARD.encode(&der));
        assert_eq!(cosigned_der(&answer).unwrap(), STANDARD.encode(&der));
        assert_eq!(cosigned_der(&STANDARD.encode(&der)).unwrap(), STANDARD.encode(&der));
        let cms = answer.replace("PKCS7", "CMS");
        assert_eq!(cosigned_der(&cms).unwrap(), STANDARD.encode(&der));
        let other = answer.replace("PKCS7", "CERTIFICATE");
        assert!(cosigned_der(&other).is_err());
        assert!(cosigned_der("-----BEGIN PKCS7-----\nAAAA").is_err());
    }

    #[test]
    fn pes_with_two_bordereaux_in_one_entry() {
        let plan = plan(&pes(&format!("{SHA256}, {}", "ab".repeat(32)), "BORD-1,BORD-2")).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan.iter().map(|p| p.info).collect::<Vec<_>>(), [0, 0]);
        assert_eq!(plan[1].label.as_deref(), Some("BORD-2"));
        let Job::Xades(job) = &plan[1].job else { panic!("xades") };
        let PesJob { id, encoding, policy, city, .. } = &**job;
        assert_eq!((id.as_str(), *encoding), ("BORD-2", XmlEncoding::Iso8859_1));
        assert_eq!(policy.as_ref().unwrap().hash_algorithm, HashAlgorithm::Sha256);
        assert_eq!(city.as_deref(), Some("Saint-Étienne"));
        let legacy = pes(SHA1, "B").replace("xades-env-1.2.2-sha256", "XADES-env");
        assert_eq!(super::plan(&legacy).unwrap()[0].hash_algorithm, HashAlgorithm::Sha1);
    }

    #[test]
    fn refusals() {
        let cases = [
            "{}".to_owned(),
            "[]".to_owned(),
            r#"[{"hash":"ab"}]"#.to_owned(),
            format!(r#"[{{"hash":"{SHA1}","format":"PADES-T"}}]"#),
            format!(r#"[{{"hash":"{SHA1},","format":"CMS"}}]"#),
            format!(r#"[{{"hash":"{}","format":"CMS"}}]"#, "zz".repeat(20)),
            format!(r#"[{{"hash":"{}","format":"CMS"}}]"#, "ab".repeat(21)),
            format!(r#"[{{"hash":"{SHA1}","format":"CMS","p7s":"a,b"}}]"#),
            r#"[{"hash":{"x":1},"format":"CMS"}]"#.to_owned(),
            pes(SHA1, "B"),
            pes(SHA256, "B1,B2"),
            pes(SHA256, "B").replace("iso-8859-1", "windows-1252"),
            pes(SHA256, "B").replace("roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=", "AAAA"),
            pes(SHA256, "B\u{202e}"),
        ];
        for c in cases {
            assert!(plan(&c).is_err(), "{c}");
        }
        for format in ["PAdES/basic", "XAdES/detached", "PKCS#1/sha256"] {
            let e = plan(&format!(r#"[{{"hash":"{SHA1}","format":"{format}"}}]"#)).err().unwrap();
            assert_eq!(e.code, "UNSUPPORTED_FORMAT", "{format}");
        }
        let pades =
            format!(r#"[{{"hash":"{SHA1}","format":"PADES","p7s":"x"}},{{"hash":"ab","format":"PADES-basic"}}]"#);
        assert!(plan(&pades).err().unwrap().message.starts_with("signatureInformations[1]"));
        let many = format!(r#"[{{"hash":"{}","format":"CMS"}}]"#, vec![SHA1; MAX_DIGESTS + 1].join(","));
        assert!(plan(&many).is_err());
    }

    #[test]
    fn certificates_as_wrappers_read_them() {
        use paraphe_protocol::cert::{CertificateEntry, CertificateInfo, KeyPresence};
        use paraphe_protocol::command::CertificateList;
        let der = include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der");
        let entry = CertificateEntry {
            fingerprint: paraphe_formats::x509::fingerprint(der),
            token: "t1".into(),
            token_label: "Paraphe Demo".into(),
            cka_id: "04".into(),
            label: "x".into(),
            certificate: STANDARD.encode(der),
            private_key: KeyPresence::Present,
            always_authenticate: None,
            info: CertificateInfo { rgs_level: Some("**".into()), ..CertificateInfo::default() },
        };
        let list =
            serde_json::to_string(&CertificateList { certificates: vec![entry], tokens: vec![], modules: vec![] })
                .unwrap();
        let certs = certificates(&list, 1_700_000_000).unwrap();
        assert_eq!(certs.len(), 1);
        let c = &certs[0];
        assert_eq!(c.ID, paraphe_formats::x509::fingerprint(der));
        assert_eq!(c.CN, "Camille Martin (ECC)");
        assert!(c.ISSUERDN.starts_with("CN="), "{}", c.ISSUERDN);
        assert!(c.NOTBEFORE < c.NOTAFTER && c.NOTAFTER % 1000 == 0);
        // The host's level gives RGS; the certificate's QcCompliance gives EIDAS.
        assert_eq!(c.verifiedWith, ["RGS", "EIDAS"]);
        // LiberSign v2 (Pastell 4): the certificate itself, base64 DER.
        assert_eq!(STANDARD.decode(&c.PUBKEY).unwrap(), der);
        let json = serde_json::to_string(c).unwrap();
        for key in [
            "\"ID\"",
            "\"CN\"",
            "\"ISSUERDN\"",
            "\"NOTBEFORE\"",
            "\"NOTAFTER\"",
            "\"EMAILADDRESS\"",
            "\"verifiedWith\"",
            "\"PUBKEY\"",
        ] {
            assert!(json.contains(key), "{json}");
        }
    }

    #[test]
    fn dn_escaping() {
        assert_eq!(escape("Société Paraphe Test, Services"), r"Société Paraphe Test\, Services");
        assert_eq!(escape(" a "), r"\ a\ ");
    }
}
