//! Validation of what a page asks for.
//!
//! Everything a page sends is untrusted: it is parsed here with exact keys and types
//! (`deny_unknown_fields`), sizes are bounded, digests are decoded and their length checked
//! against their hash function. What comes out ([`Validated`]) is the only form the
//! background works with; it is re-serialized, so nothing unchecked rides along.

use crate::error::PageError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, SignatureScheme};
use serde::{Deserialize, Serialize};

/// Largest request a page may send, as JSON text.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Most digests signed under one consent.
pub const MAX_DIGESTS: usize = 500;
/// Longest document name shown in the consent window.
pub const MAX_NAME_CHARS: usize = 200;

// Optional fields may be left out: serde reads a missing `Option` field as `None`. The
// variants repeat their shared fields because `flatten` cannot go with `deny_unknown_fields`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum PageRequest {
    Ping {},
    Status {},
    ListCertificates {
        usage: Option<UsageFilter>,
    },
    #[serde(rename_all = "camelCase")]
    SignHash {
        hashes: Vec<PageDigest>,
        certificate: Option<String>,
        scheme: Option<SignatureScheme>,
        ecdsa_encoding: Option<EcdsaEncoding>,
        format: Option<SignatureFormat>,
        signature_policy: Option<PagePolicy>,
        /// PAdES only: the signature drawn on the last page.
        #[serde(default)]
        visible: Option<bool>,
    },
    /// Bytes prepared by the server (iParapheur 5, EU DSS `dataToSign`), hashed here.
    #[serde(rename_all = "camelCase")]
    SignData {
        data: DataField,
        hash_algorithm: Option<String>,
        name: Option<String>,
        certificate: Option<String>,
        scheme: Option<SignatureScheme>,
        ecdsa_encoding: Option<EcdsaEncoding>,
    },
    #[serde(rename_all = "camelCase")]
    Authenticate {
        challenge_nonce: String,
    },
}

/// `signData`'s `data`: one base64 string, or several `{data, name?}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum DataField {
    One(String),
    Many(Vec<DataItem>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataItem {
    data: String,
    name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UsageFilter {
    Signing,
    Authentication,
    Encryption,
    Any,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PageDigest {
    /// Hex (any case) or standard base64.
    digest: String,
    hash_algorithm: String,
    name: Option<String>,
    /// The document's size in bytes, shown in the consent window.
    size: Option<u64>,
}

/// What a signature is returned as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureFormat {
    /// The signature value over the digest (PKCS#1 v1.5, PSS or ECDSA), as the card made it.
    #[default]
    Raw,
    /// A detached CAdES `.p7s` (CMS SignedData with the signer's certificate) of the document
    /// whose digest is given, built by the WASM core (`formats::Job::Cades`).
    Cades,
    /// A detached XAdES baseline B-B « jeton » (`.xml`) of the document whose SHA-256 digest
    /// and name are given, its `Reference URI` the name (`formats::Job::Jeton`).
    Xades,
    /// PAdES: the signed PDF. Only from `signDocument(s)`, whose content script lays out each
    /// PDF in the hashing frame when the background asks (`formats::Job::Pades`); the digests
    /// are the files' own, shown in the consent window.
    Pades,
}

/// A CAdES signature policy identifier (`signaturePolicy`), as the page gives it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PagePolicy {
    /// Dotted object identifier.
    pub oid: String,
    /// Digest of the policy document, hex or base64.
    pub hash: String,
    pub hash_algorithm: String,
    pub uri: Option<String>,
}

/// A request that passed validation, in the background's own terms.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Validated {
    Ping,
    Status,
    ListCertificates {
        usage: UsageFilter,
    },
    #[serde(rename_all = "camelCase")]
    SignHash {
        items: Vec<Digest>,
        /// SHA-256 fingerprint, lowercase hex, when the page names a certificate.
        certificate: Option<String>,
        /// Absent: chosen from the key type (RSA → rsa-pkcs1, EC → ecdsa).
        scheme: Option<SignatureScheme>,
        ecdsa_encoding: Option<EcdsaEncoding>,
        format: SignatureFormat,
        /// CAdES only: the signature policy, its digest decoded to base64.
        policy: Option<crate::formats::CadesPolicy>,
        /// PAdES only: a visible signature on the last page (`formats::pdf::PadesRequest::visible`).
        visible: bool,
    },
    /// A `web-eid:1.0` login token for the sender's origin (`docs/PAGE-API.md`).
    #[serde(rename_all = "camelCase")]
    Authenticate {
        /// The server's challenge, base64, 44–128 characters.
        challenge_nonce: String,
    },
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// Lowercase hex, for display.
    pub hex: String,
    /// Standard base64, for the host.
    pub base64: String,
    pub hash_algorithm: HashAlgorithm,
    pub name: Option<String>,
    pub size: Option<u64>,
}

/// Most documents in one `signDocuments` (the digests they give go through [`MAX_DIGESTS`] too).
pub const MAX_DOCUMENTS: usize = 500;

/// The requests that carry files (`signDocument`, `signDocuments`, `decrypt`), checked before
/// the content script reads any file. A `File` or `Blob` cannot cross into the background, so
/// the content script stands in `{"blob": true}` for each one (`{"blob": false}` for whatever
/// the page put there instead); the rest is the page's request as plain data. What is left of
/// a signature request once its files are hashed is a `signHash`, which [`validate`] checks.
pub fn validate_files(json: &str) -> Result<(), PageError> {
    if json.len() > MAX_REQUEST_BYTES {
        return Err(PageError::invalid(format!("the request is larger than {MAX_REQUEST_BYTES} bytes")));
    }
    let request: serde_json::Value = serde_json::from_str(json).map_err(|e| PageError::invalid(e.to_string()))?;
    let is_blob = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.get("blob")).and_then(serde_json::Value::as_bool) == Some(true)
    };
    match request.get("type").and_then(serde_json::Value::as_str) {
        Some("signDocument") => {
            if !is_blob(request.get("file")) {
                return Err(PageError::invalid("each file must be a File or Blob"));
            }
        }
        Some("signDocuments") => {
            let documents = request.get("documents").and_then(serde_json::Value::as_array);
            let Some(documents) = documents.filter(|d| !d.is_empty() && d.len() <= MAX_DOCUMENTS) else {
                return Err(PageError::invalid(format!("documents must hold 1 to {MAX_DOCUMENTS} files")));
            };
            if request.get("name").is_some() {
                return Err(PageError::invalid("name goes in each document"));
            }
            if !documents.iter().all(|d| is_blob(d.get("file"))) {
                return Err(PageError::invalid("each file must be a File or Blob"));
            }
        }
        Some("decrypt") => {
            const KEYS: [&str; 3] = ["type", "file", "name"];
            let keys_known = request.as_object().is_some_and(|o| o.keys().all(|k| KEYS.contains(&k.as_str())));
            if !keys_known {
                return Err(PageError::invalid(format!("decrypt takes {}", KEYS.join(", "))));
            }
            if !is_blob(request.get("file")) {
                return Err(PageError::invalid("file must be a File or Blob"));
            }
            if let Some(name) = request.get("name") {
                // Characters as the page counts them (UTF-16 code units).
                if name.as_str().is_none_or(|n| n.encode_utf16().count() > MAX_NAME_CHARS) {
                    return Err(PageError::invalid(format!(
                        "name must be a string of at most {MAX_NAME_CHARS} characters"
                    )));
                }
            }
        }
        _ => return Err(PageError::invalid("not a request with files")),
    }
    Ok(())
}

pub fn validate(json: &str) -> Result<Validated, PageError> {
    if json.len() > MAX_REQUEST_BYTES {
        return Err(PageError::invalid(format!("the request is larger than {MAX_REQUEST_BYTES} bytes")));
    }
    let request: PageRequest = serde_json::from_str(json).map_err(|e| PageError::invalid(e.to_string()))?;
    Ok(match request {
        PageRequest::Ping {} => Validated::Ping,
        PageRequest::Status {} => Validated::Status,
        PageRequest::ListCertificates { usage } => {
            Validated::ListCertificates { usage: usage.unwrap_or(UsageFilter::Signing) }
        }
        PageRequest::SignHash { hashes, certificate, scheme, ecdsa_encoding, format, signature_policy, visible } => {
            if hashes.is_empty() {
                return Err(PageError::invalid("hashes is empty"));
            }
            if hashes.len() > MAX_DIGESTS {
                return Err(PageError::invalid(format!("more than {MAX_DIGESTS} hashes")));
            }
            let items = hashes
                .into_iter()
                .enumerate()
                .map(|(i, d)| digest(d).map_err(|e| PageError::invalid(format!("hashes[{i}]: {}", e.message))))
                .collect::<Result<Vec<_>, _>>()?;
            let certificate = certificate.map(|c| fingerprint(&c)).transpose()?;
            if ecdsa_encoding.is_some() && !matches!(scheme, None | Some(SignatureScheme::Ecdsa)) {
                return Err(PageError::invalid("ecdsaEncoding is for the ecdsa scheme only"));
            }
            let format = format.unwrap_or_default();
            if format == SignatureFormat::Cades && ecdsa_encoding.is_some() {
                return Err(PageError::invalid("ecdsaEncoding is for raw signatures (a .p7s holds DER)"));
            }
            if format == SignatureFormat::Pades {
                if ecdsa_encoding.is_some() || scheme.is_some() {
                    return Err(PageError::invalid(
                        "scheme and ecdsaEncoding are for raw and cades signatures (pades: the key's own)",
                    ));
                }
                if let Some(i) = items
                    .iter()
                    .position(|d| d.hash_algorithm == HashAlgorithm::Sha1 || d.name.is_none() || d.size.is_none())
                {
                    return Err(PageError::invalid(format!(
                        "hashes[{i}]: the pades format signs PDF files (signDocument, signDocuments), not SHA-1"
                    )));
                }
            }
            if format == SignatureFormat::Xades {
                if ecdsa_encoding.is_some() || scheme.is_some() {
                    return Err(PageError::invalid(
                        "scheme and ecdsaEncoding are for raw and cades signatures (xades: the key's own)",
                    ));
                }
                if let Some(i) =
                    items.iter().position(|d| d.hash_algorithm != HashAlgorithm::Sha256 || d.name.is_none())
                {
                    return Err(PageError::invalid(format!(
                        "hashes[{i}]: the xades format signs a named document's SHA-256 (name and sha256)"
                    )));
                }
            }
            let policy = match (format, signature_policy) {
                (_, None) => None,
                (SignatureFormat::Cades, Some(p)) => Some(policy(p)?),
                (SignatureFormat::Raw | SignatureFormat::Xades | SignatureFormat::Pades, Some(_)) => {
                    return Err(PageError::invalid("signaturePolicy is for the cades format only"))
                }
            };
            if visible.is_some() && format != SignatureFormat::Pades {
                return Err(PageError::invalid("visible is for the pades format only"));
            }
            let visible = visible.unwrap_or(false);
            Validated::SignHash { items, certificate, scheme, ecdsa_encoding, format, policy, visible }
        }
        PageRequest::SignData { data, hash_algorithm, name, certificate, scheme, ecdsa_encoding } => {
            let algorithm = hash_algorithm.unwrap_or_else(|| "sha256".to_owned());
            let items = match data {
                DataField::One(data) => vec![DataItem { data, name }],
                DataField::Many(items) if name.is_none() => items,
                DataField::Many(_) => return Err(PageError::invalid("name goes in each data item")),
            };
            if items.is_empty() || items.len() > MAX_DIGESTS {
                return Err(PageError::invalid(format!("data must hold 1 to {MAX_DIGESTS} items")));
            }
            let items = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    data_digest(item, &algorithm).map_err(|e| PageError::invalid(format!("data[{i}]: {}", e.message)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let certificate = certificate.map(|c| fingerprint(&c)).transpose()?;
            if ecdsa_encoding.is_some() && !matches!(scheme, None | Some(SignatureScheme::Ecdsa)) {
                return Err(PageError::invalid("ecdsaEncoding is for the ecdsa scheme only"));
            }
            // As Java's SHA256withECDSA, which EU DSS and iParapheur 5 expect: DER.
            let ecdsa_encoding = match scheme {
                None | Some(SignatureScheme::Ecdsa) => Some(ecdsa_encoding.unwrap_or(EcdsaEncoding::Der)),
                Some(_) => None,
            };
            Validated::SignHash {
                items,
                certificate,
                scheme,
                ecdsa_encoding,
                format: SignatureFormat::Raw,
                policy: None,
                visible: false,
            }
        }
        PageRequest::Authenticate { challenge_nonce } => {
            paraphe_formats::webeid::check_nonce(&challenge_nonce).map_err(PageError::invalid)?;
            Validated::Authenticate { challenge_nonce }
        }
    })
}

fn digest(d: PageDigest) -> Result<Digest, PageError> {
    let hash_algorithm = HashAlgorithm::from_name(&d.hash_algorithm)
        .ok_or_else(|| PageError::invalid(format!("unknown hashAlgorithm {:?}", d.hash_algorithm)))?;
    let bytes = decode_digest(&d.digest, hash_algorithm.digest_len())?;
    let name = d.name.map(|n| clean_name(&n)).transpose()?;
    Ok(Digest { hex: hex::encode(&bytes), base64: STANDARD.encode(&bytes), hash_algorithm, name, size: d.size })
}

/// The policy's object identifier and digest are checked here, before any window opens.
fn policy(p: PagePolicy) -> Result<crate::formats::CadesPolicy, PageError> {
    let bad = |what: &str| PageError::invalid(format!("signaturePolicy: {what}"));
    let hash_algorithm = HashAlgorithm::from_name(&p.hash_algorithm).ok_or_else(|| bad("unknown hashAlgorithm"))?;
    let dotted = p.oid.split('.').collect::<Vec<_>>();
    if dotted.len() < 2
        || p.oid.len() > 128
        || dotted.iter().any(|a| a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("oid is not a dotted object identifier"));
    }
    let hash = decode_digest(&p.hash, hash_algorithm.digest_len()).map_err(|e| bad(&e.message))?;
    if let Some(uri) = &p.uri {
        if uri.len() > 1024 || !uri.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("uri must be printable ASCII, at most 1024 characters"));
        }
    }
    Ok(crate::formats::CadesPolicy { oid: p.oid, hash: STANDARD.encode(hash), hash_algorithm, uri: p.uri })
}

/// `signData` bytes hashed here (SHA-256 by default; never SHA-1), to be signed as a digest.
fn data_digest(item: DataItem, algorithm: &str) -> Result<Digest, PageError> {
    let bytes = STANDARD.decode(&item.data).map_err(|_| PageError::invalid("data is not base64"))?;
    let mut hasher = crate::digest::StreamingHash::new(algorithm)?;
    let hash_algorithm =
        HashAlgorithm::from_name(algorithm).ok_or_else(|| PageError::invalid("unknown hashAlgorithm"))?;
    hasher.update(&bytes);
    let digest = hasher.finish();
    let name = item.name.map(|n| clean_name(&n)).transpose()?;
    let size = Some(bytes.len() as u64);
    Ok(Digest { hex: hex::encode(&digest), base64: STANDARD.encode(&digest), hash_algorithm, name, size })
}

/// Hex when the text is only hex digits, else standard base64; either way the decoded length
/// must be the hash function's. Not ambiguous in practice: base64 of 20, 32 and 64 bytes
/// ends in `=`, and 64 base64 characters (48 bytes) all falling in `[0-9a-fA-F]` has a
/// probability of about 1e-30.
pub fn decode_digest(text: &str, len: usize) -> Result<Vec<u8>, PageError> {
    let bytes = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| PageError::invalid(e.to_string()))?
    } else {
        STANDARD.decode(text).map_err(|_| PageError::invalid("digest is neither hex nor base64"))?
    };
    if bytes.len() != len {
        return Err(PageError::invalid(format!("digest has {} bytes, the hash algorithm makes {len}", bytes.len())));
    }
    Ok(bytes)
}

fn fingerprint(text: &str) -> Result<String, PageError> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(PageError::invalid("certificate must be a SHA-256 fingerprint, 64 hex digits"))
    }
}

/// Document names are shown to the person who consents: no control characters (which
/// could fake line breaks), no bidi overrides (which could reverse `fdp.exe`), bounded.
pub(crate) fn clean_name(name: &str) -> Result<String, PageError> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(PageError::invalid(format!("name is longer than {MAX_NAME_CHARS} characters")));
    }
    if name
        .chars()
        .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c))
    {
        return Err(PageError::invalid("name contains control or bidi characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    /// Each of `bads` is refused as an invalid request.
    fn assert_refused<S: AsRef<str>>(bads: impl IntoIterator<Item = S>) {
        for bad in bads {
            let bad = bad.as_ref();
            assert_eq!(validate(bad).err().map(|e| e.code), Some("INVALID_REQUEST"), "{bad}");
        }
    }

    /// `req`, which holds `"format":"<format>"`, with `field` added after it.
    fn with_field(req: &str, format: &str, field: &str) -> String {
        let f = format!(r#""format":"{format}""#);
        req.replace(&f, &format!("{f},{field}"))
    }

    /// A signature policy the formats other than CAdES refuse.
    fn policy_field() -> String {
        format!(r#""signaturePolicy":{{"oid":"1.2.3","hash":"{H}","hashAlgorithm":"sha256"}}"#)
    }

    fn files_error(json: &str) -> String {
        validate_files(json).expect_err(json).message
    }

    #[test]
    fn files_sign_document() {
        validate_files(r#"{"type":"signDocument","file":{"blob":true},"name":"a.pdf","format":"cades"}"#)
            .expect("valid");
        assert_eq!(files_error(r#"{"type":"signDocument","file":{"blob":false}}"#), "each file must be a File or Blob");
        assert_eq!(files_error(r#"{"type":"signDocument"}"#), "each file must be a File or Blob");
    }

    #[test]
    fn files_sign_documents() {
        let doc = r#"{"file":{"blob":true},"name":"a.pdf"}"#;
        validate_files(&format!(r#"{{"type":"signDocuments","documents":[{doc},{doc}]}}"#)).expect("valid");
        let many = vec![doc; MAX_DOCUMENTS].join(",");
        validate_files(&format!(r#"{{"type":"signDocuments","documents":[{many}]}}"#)).expect("500 documents");
        let too_many = vec![doc; MAX_DOCUMENTS + 1].join(",");
        for bad in [
            r#"{"type":"signDocuments","documents":[]}"#.to_owned(),
            r#"{"type":"signDocuments","documents":{}}"#.to_owned(),
            r#"{"type":"signDocuments"}"#.to_owned(),
            format!(r#"{{"type":"signDocuments","documents":[{too_many}]}}"#),
        ] {
            assert_eq!(files_error(&bad), "documents must hold 1 to 500 files", "{bad}");
        }
        // Checked in this order, as the page sees the first problem.
        assert_eq!(
            files_error(&format!(r#"{{"type":"signDocuments","documents":[{doc}],"name":"x"}}"#)),
            "name goes in each document"
        );
        assert_eq!(
            files_error(&format!(r#"{{"type":"signDocuments","documents":[{doc},"a.pdf"]}}"#)),
            "each file must be a File or Blob"
        );
        assert_eq!(
            files_error(r#"{"type":"signDocuments","documents":[{"file":{"blob":false}}],"name":null}"#),
            "name goes in each document"
        );
    }

    #[test]
    fn files_decrypt() {
        validate_files(r#"{"type":"decrypt","file":{"blob":true}}"#).expect("valid");
        validate_files(r#"{"type":"decrypt","file":{"blob":true},"name":"offre.pdf.p7m"}"#).expect("valid");
        assert_eq!(files_error(r#"{"type":"decrypt","file":{"blob":true},"x":1}"#), "decrypt takes type, file, name");
        assert_eq!(files_error(r#"{"type":"decrypt","file":"a"}"#), "file must be a File or Blob");
        let long = "é".repeat(MAX_NAME_CHARS + 1);
        for name in ["null", "3", &format!("\"{long}\"")] {
            assert_eq!(
                files_error(&format!(r#"{{"type":"decrypt","file":{{"blob":true}},"name":{name}}}"#)),
                "name must be a string of at most 200 characters"
            );
        }
        let longest = "é".repeat(MAX_NAME_CHARS);
        validate_files(&format!(r#"{{"type":"decrypt","file":{{"blob":true}},"name":"{longest}"}}"#)).expect("200");
    }

    #[test]
    fn files_other_requests_refused() {
        for bad in [r#"{"type":"signHash"}"#, "[]", "{}", "null"] {
            assert_eq!(validate_files(bad).expect_err(bad).code, "INVALID_REQUEST");
        }
    }

    #[test]
    fn sign_hash_accepts_hex_and_base64() {
        let hex_req =
            format!(r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256","name":"a.pdf"}}]}}"#);
        let Ok(Validated::SignHash { items, .. }) = validate(&hex_req) else { panic!("valid") };
        assert_eq!(items[0].hex, H);
        assert_eq!(items[0].base64, "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=");
        let b64_req = r#"{"type":"signHash","hashes":[{"digest":"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=","hashAlgorithm":"SHA-256"}]}"#;
        let Ok(Validated::SignHash { items, .. }) = validate(b64_req) else { panic!("valid") };
        assert_eq!(items[0].hex, H);
    }

    #[test]
    fn refuses_what_is_not_exact() {
        let cases = [
            r#"{"type":"signHash","hashes":[]}"#.to_owned(),
            format!(r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha384"}}]}}"#),
            format!(r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"md5"}}]}}"#),
            format!(r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256","extra":1}}]}}"#),
            format!(r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256"}}],"pin":"1234"}}"#),
            format!(
                r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256","name":"a\u202Efdp.exe"}}]}}"#
            ),
            format!(
                r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256"}}],"certificate":"xyz"}}"#
            ),
            format!(
                r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256"}}],"scheme":"rsa-pss","ecdsaEncoding":"der"}}"#
            ),
            r#"{"type":"signHash","hashes":[{"digest":12,"hashAlgorithm":"sha256"}]}"#.to_owned(),
            r#"{"type":"login","pin":"1234"}"#.to_owned(),
            r#"{"type":"status","x":1}"#.to_owned(),
            r#"[]"#.to_owned(),
        ];
        for c in cases {
            let r = validate(&c);
            assert_eq!(r.as_ref().err().map(|e| e.code), Some("INVALID_REQUEST"), "{c}: {r:?}");
        }
    }

    #[test]
    fn bounds_the_size() {
        let big = format!(r#"{{"type":"status","x":"{}"}}"#, "a".repeat(MAX_REQUEST_BYTES));
        assert!(validate(&big).is_err());
    }

    #[test]
    fn authenticate_checks_the_nonce() {
        let nonce = "A".repeat(43) + "=";
        assert_eq!(
            validate(&format!(r#"{{"type":"authenticate","challengeNonce":"{nonce}"}}"#)),
            Ok(Validated::Authenticate { challenge_nonce: nonce.clone() })
        );
        assert_refused([
            format!(r#"{{"type":"authenticate","challengeNonce":"{}"}}"#, "A".repeat(43)),
            format!(r#"{{"type":"authenticate","challengeNonce":"{}"}}"#, "A".repeat(129)),
            format!(r#"{{"type":"authenticate","challengeNonce":"{}"}}"#, "A!".repeat(30)),
            format!(r#"{{"type":"authenticate","challengeNonce":"{nonce}","origin":"https://evil.test"}}"#),
            r#"{"type":"authenticate"}"#.to_owned(),
        ]);
    }

    #[test]
    fn sign_data_hashes_the_bytes() {
        // base64("test"): the digest is SHA-256("test").
        let Ok(Validated::SignHash { items, ecdsa_encoding, .. }) =
            validate(r#"{"type":"signData","data":"dGVzdA==","name":"toBeSigned"}"#)
        else {
            panic!("valid")
        };
        assert_eq!(items[0].hex, H);
        assert_eq!(items[0].name.as_deref(), Some("toBeSigned"));
        assert_eq!(ecdsa_encoding, Some(EcdsaEncoding::Der), "DER by default, as SHA256withECDSA");
        let many = r#"{"type":"signData","data":[{"data":"dGVzdA=="},{"data":"","name":"b"}],"hashAlgorithm":"sha512","scheme":"rsa-pkcs1"}"#;
        let Ok(Validated::SignHash { items, ecdsa_encoding, .. }) = validate(many) else { panic!("valid") };
        assert_eq!((items.len(), items[1].hash_algorithm), (2, HashAlgorithm::Sha512));
        assert_eq!(ecdsa_encoding, None);
        assert_refused([
            r#"{"type":"signData","data":"%%"}"#,
            r#"{"type":"signData","data":[]}"#,
            r#"{"type":"signData","data":"dGVzdA==","hashAlgorithm":"sha1"}"#,
            r#"{"type":"signData","data":[{"data":"dGVzdA==","x":1}]}"#,
            r#"{"type":"signData","data":[{"data":"dGVzdA=="}],"name":"a"}"#,
            r#"{"type":"signData","data":"dGVzdA==","scheme":"rsa-pss","ecdsaEncoding":"raw"}"#,
            r#"{"type":"signData","data":42}"#,
        ]);
    }

    #[test]
    fn xades_format() {
        let req = format!(
            r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256","name":"a.pdf"}}],"format":"xades"}}"#
        );
        let Ok(Validated::SignHash { format, .. }) = validate(&req) else { panic!("valid") };
        assert_eq!(format, SignatureFormat::Xades);
        assert_refused([
            req.replace(r#","name":"a.pdf""#, ""),
            with_field(&req, "xades", r#""scheme":"rsa-pss""#),
            with_field(&req, "xades", r#""ecdsaEncoding":"raw""#),
            with_field(&req, "xades", &policy_field()),
        ]);
    }

    #[test]
    fn pades_format() {
        let req = format!(
            r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256","name":"a.pdf","size":12}}],"format":"pades"}}"#
        );
        let Ok(Validated::SignHash { format, visible: false, .. }) = validate(&req) else { panic!("valid") };
        assert_eq!(format, SignatureFormat::Pades);
        let shown = with_field(&req, "pades", r#""visible":true"#);
        let Ok(Validated::SignHash { visible: true, .. }) = validate(&shown) else { panic!("visible") };
        let plain = req.replace(r#""format":"pades""#, r#""format":"cades""#);
        assert_refused([
            with_field(&plain, "cades", r#""visible":true"#),
            with_field(&plain, "cades", r#""visible":false"#),
            with_field(&req, "pades", r#""visible":"yes""#),
        ]);
        assert_refused([
            req.replace(r#","size":12"#, ""),
            req.replace(r#","name":"a.pdf""#, ""),
            with_field(&req, "pades", r#""scheme":"rsa-pss""#),
            with_field(&req, "pades", &policy_field()),
        ]);
    }

    #[test]
    fn cades_format_and_policy() {
        let req = format!(
            r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256","name":"a.pdf","size":12}}],"format":"cades","signaturePolicy":{{"oid":"1.2.250.1.131.1.5.18.21.1.7","hash":"{H}","hashAlgorithm":"sha256"}}}}"#
        );
        let Ok(Validated::SignHash { items, format, policy, .. }) = validate(&req) else { panic!("valid") };
        assert_eq!((format, items[0].size), (SignatureFormat::Cades, Some(12)));
        let policy = policy.expect("policy");
        assert_eq!(
            (policy.oid.as_str(), policy.hash.as_str()),
            ("1.2.250.1.131.1.5.18.21.1.7", items[0].base64.as_str())
        );
        let plain = format!(r#"{{"type":"signHash","hashes":[{{"digest":"{H}","hashAlgorithm":"sha256"}}]}}"#);
        let Ok(Validated::SignHash { format, policy: None, .. }) = validate(&plain) else { panic!("valid") };
        assert_eq!(format, SignatureFormat::Raw);
        assert_refused([
            req.replace(r#""format":"cades","#, ""),
            req.replace("1.2.250", "1..250"),
            req.replace("1.2.250.1.131.1.5.18.21.1.7", "urn:oid:1.2"),
            req.replace(&format!(r#""hash":"{H}""#), r#""hash":"00""#),
            with_field(&req, "cades", r#""ecdsaEncoding":"raw""#),
            req.replace(r#""format":"cades""#, r#""format":"xades""#),
            req.replace(r#""size":12"#, r#""size":-1"#),
        ]);
    }

    #[test]
    fn simple_requests() {
        assert_eq!(validate(r#"{"type":"ping"}"#), Ok(Validated::Ping));
        assert_eq!(
            validate(r#"{"type":"listCertificates"}"#),
            Ok(Validated::ListCertificates { usage: UsageFilter::Signing })
        );
    }
}
