//! Signature formats built around a signature the card makes: CAdES detached SignedData
//! (`paraphe_formats::cms`), PES V2 XAdES enveloped (`paraphe_formats::xades`) and PAdES
//! baseline B-B or B-T (`paraphe_formats::pdf`: [`Job::Pades`] is a layout made where the PDF is,
//! by [`pdf_layout`]; [`prepare_pades`] takes the whole PDF at once).
//!
//! The card signs a digest and nothing else, so every format is two steps, and the
//! background keeps what is in between:
//!
//! 1. [`prepare`] takes a [`Job`] (what to sign, in a format's terms), the signer's
//!    certificate and the time, and returns the digest the card must sign with the scheme
//!    to use, plus a [`State`];
//! 2. the background has the host sign that digest;
//! 3. [`finish`] takes the state and the card's signature and returns the signed object's
//!    bytes (a DER `.p7s`, or the XML document LiberSign returns for PES).
//!
//! Jobs and states cross the JS boundary as JSON; the background never looks inside them.
//!
//! Baseline B-T (a time-stamp authority configured, [`prepare_timestamped`]): CAdES and PAdES
//! states then finish only with a signature time-stamp: after the card signed, the background
//! sends [`timestamp_request`]'s RFC 3161 request to the authority and hands its response to
//! [`finish_timestamped`], which checks it (`TIMESTAMP_FAILED` otherwise) and adds the token.

use crate::error::{PageCode, PageError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_formats::cms::{self, CadesRequest, CadesState, CmsError};
use paraphe_formats::pdf::{self, PadesRequest, PadesState};
use paraphe_formats::xades::{
    self, PesSignatureRequest, ProductionPlace, XadesFormat, XadesPolicy, XadesState, XmlEncoding,
};
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use serde::{Deserialize, Serialize};

/// What to sign, in one format's terms. Built by an adapter (`libersign::plan`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
// Externally tagged (`{"cades": {…}}`): internal tags would make serde buffer the content,
// which costs ~20 KB of WASM for nothing here.
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Job {
    /// A detached CAdES signature of a document known by its digest (RFC 5652).
    #[serde(rename_all = "camelCase")]
    Cades {
        /// The document's digest, base64.
        digest: String,
        hash_algorithm: HashAlgorithm,
        /// An existing `.p7s` (base64, DER or BER) to add this signature to.
        #[serde(default)]
        cosign: Option<String>,
        /// `rsa-pss` for RSASSA-PSS; absent: the key's default (PKCS#1 v1.5 or ECDSA).
        #[serde(default)]
        scheme: Option<SignatureScheme>,
        /// The signature policy identifier attribute (CAdES-EPES).
        #[serde(default)]
        policy: Option<CadesPolicy>,
    },
    /// A PES V2 `ds:Signature` (boxed: it is much larger than a CAdES job).
    Xades(Box<PesJob>),
    /// A detached XAdES baseline B-B « jeton » of a file known by its name and SHA-256.
    #[serde(rename_all = "camelCase")]
    Jeton {
        file_name: String,
        /// SHA-256 of the file, base64.
        digest: String,
        #[serde(default)]
        mime_type: Option<String>,
    },
    /// A PAdES signature of a PDF whose update was laid out by [`pdf_layout`] (in the
    /// hashing frame, where the PDF is) for the same certificate; the signed attributes
    /// are built here around its byte-range digest.
    Pades(Box<pdf::Layout>),
}

/// A PES V2 `ds:Signature` for the element with Id `id`, whose exclusive canonical form has
/// digest `digest` (computed by the server).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PesJob {
    pub id: String,
    /// Base64.
    pub digest: String,
    pub format: XadesFormat,
    #[serde(default)]
    pub policy: Option<Policy>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_name: Option<String>,
    #[serde(default)]
    pub claimed_role: Option<String>,
    pub encoding: XmlEncoding,
}

/// `xad:SignaturePolicyId`, as the page gives it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    pub identifier: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Digest of the policy document, base64.
    pub hash: String,
    pub hash_algorithm: HashAlgorithm,
    #[serde(default)]
    pub spuri: Option<String>,
}

/// A CAdES signature policy: `SignaturePolicyId` with the policy document's digest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CadesPolicy {
    /// Dotted object identifier.
    pub oid: String,
    /// Digest of the policy document, base64.
    pub hash: String,
    pub hash_algorithm: HashAlgorithm,
    #[serde(default)]
    pub uri: Option<String>,
}

/// What [`finish`] needs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    Cades(CadesState),
    /// A CAdES signature finished with a signature time-stamp only (baseline B-T).
    CadesT(CadesState),
    Xades(XadesState),
    Pades(PadesState),
    Jeton(XadesState),
}

/// The result of [`prepare`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prepared {
    /// What the card signs, base64.
    pub digest: String,
    pub hash_algorithm: HashAlgorithm,
    pub scheme: SignatureScheme,
    pub state: State,
    /// The signature is finished with a time-stamp ([`timestamp_request`] then
    /// [`finish_timestamped`]; [`finish`] refuses it): CAdES and PAdES when one was asked for.
    pub timestamp: bool,
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>, PageError> {
    STANDARD.decode(text).map_err(|_| PageError::invalid(format!("{field} is not base64")))
}

/// The scheme a format signs with for this key: PKCS#1 v1.5 for RSA (what CAdES and XML-DSig
/// validators expect), ECDSA for EC keys.
fn scheme_for(certificate: &[u8]) -> Result<SignatureScheme, PageError> {
    let info = paraphe_formats::x509::summarize(certificate, &[])
        .map_err(|e| PageError { code: "INTERNAL", message: format!("unreadable certificate: {}", e.0) })?;
    crate::host::default_scheme(&info.key_type).ok_or_else(|| PageError {
        code: "UNSUPPORTED_ALGORITHM",
        message: format!("cannot sign with a {} key", info.key_type),
    })
}

/// Unix seconds from `Date.now()` milliseconds (`as` saturates, which is what we want).
#[allow(clippy::cast_possible_truncation)]
pub fn unix_seconds(now_ms: f64) -> i64 {
    (now_ms / 1000.0).floor() as i64
}

/// Step 1: the digest the card must sign. `signing_time` is Unix seconds.
pub fn prepare(job: &Job, certificate: &[u8], signing_time: i64) -> Result<Prepared, PageError> {
    prepare_timestamped(job, certificate, signing_time, false)
}

/// [`prepare`]; `timestamp`: a time-stamp authority is configured, so CAdES and PAdES
/// signatures are made at baseline B-T (PAdES: `/Contents` has room for the token). XAdES
/// (PES, jetons) stays B-B: [`Prepared::timestamp`] says which.
pub fn prepare_timestamped(
    job: &Job,
    certificate: &[u8],
    signing_time: i64,
    timestamp: bool,
) -> Result<Prepared, PageError> {
    let scheme = scheme_for(certificate)?;
    match job {
        Job::Cades { digest, hash_algorithm, cosign, scheme: asked, policy } => {
            let policy = policy
                .as_ref()
                .map(|p| {
                    Ok::<_, PageError>(cms::SignaturePolicy {
                        oid: p.oid.clone(),
                        hash: decode("policy hash", &p.hash)?,
                        hash_algorithm: p.hash_algorithm,
                        uri: p.uri.clone(),
                    })
                })
                .transpose()?;
            let request = CadesRequest {
                digest: decode("digest", digest)?,
                hash: *hash_algorithm,
                scheme: asked.unwrap_or(scheme),
                certificate: certificate.to_vec(),
                chain: Vec::new(),
                signing_time,
                policy,
                cosign: cosign.as_deref().map(|p| decode("p7s", p)).transpose()?,
            };
            let prepared = cms::prepare(&request).map_err(|e| PageError::invalid(e.to_string()))?;
            Ok(Prepared {
                digest: STANDARD.encode(&prepared.digest),
                hash_algorithm: prepared.hash,
                scheme: prepared.scheme,
                state: if timestamp { State::CadesT(prepared.state) } else { State::Cades(prepared.state) },
                timestamp,
            })
        }
        Job::Jeton { file_name, digest, mime_type } => {
            let request = xades::detached::DetachedRequest {
                file_name: file_name.clone(),
                digest: decode("digest", digest)?,
                mime_type: mime_type.clone(),
                certificate: certificate.to_vec(),
                signing_time,
            };
            let prepared = xades::detached::prepare(&request).map_err(|e| PageError::invalid(e.to_string()))?;
            Ok(Prepared {
                digest: STANDARD.encode(&prepared.digest),
                hash_algorithm: prepared.hash,
                scheme: prepared.scheme,
                state: State::Jeton(prepared.state),
                timestamp: false,
            })
        }
        Job::Pades(layout) => {
            let request =
                PadesRequest { timestamp, ..pades_request(certificate, layout.hash_algorithm, signing_time)? };
            let prepared = pdf::prepare_layout((**layout).clone(), &request).map_err(pdf_error)?;
            Ok(Prepared {
                digest: STANDARD.encode(&prepared.digest),
                hash_algorithm: prepared.hash,
                scheme: prepared.scheme,
                state: State::Pades(prepared.state),
                timestamp,
            })
        }
        Job::Xades(pes) => {
            let PesJob { id, digest, format, policy, city, postal_code, country_name, claimed_role, encoding } = &**pes;
            let policy = policy
                .as_ref()
                .map(|p| {
                    Ok::<_, PageError>(XadesPolicy {
                        identifier: p.identifier.clone(),
                        description: p.description.clone(),
                        hash: decode("pespolicyhash", &p.hash)?,
                        hash_algorithm: p.hash_algorithm,
                        spuri: p.spuri.clone(),
                    })
                })
                .transpose()?;
            let request = PesSignatureRequest {
                id: id.clone(),
                digest: decode("digest", digest)?,
                format: *format,
                certificate: certificate.to_vec(),
                signing_time,
                policy,
                production_place: ProductionPlace {
                    city: city.clone(),
                    postal_code: postal_code.clone(),
                    country_name: country_name.clone(),
                },
                claimed_role: claimed_role.clone(),
                encoding: *encoding,
            };
            let prepared = xades::prepare(&request).map_err(|e| PageError::invalid(e.to_string()))?;
            Ok(Prepared {
                digest: STANDARD.encode(&prepared.digest),
                hash_algorithm: prepared.hash,
                scheme: prepared.scheme,
                state: State::Xades(prepared.state),
                timestamp: false,
            })
        }
    }
}

/// A PDF error as pages see it: `PDF_INVALID`, `PDF_ENCRYPTED`, `PDF_CERTIFIED`; a state
/// that does not fit is `INVALID_REQUEST`.
pub fn pdf_error(e: pdf::PdfError) -> PageError {
    use pdf::PdfError::{
        Cms, ContentsTooSmall, Encrypted, Malformed, Need, NoChangesAllowed, NotPdf, State, Unsupported,
    };
    let code = match e {
        NotPdf | Malformed(_) | Unsupported(_) => PageCode::PdfInvalid,
        Encrypted => PageCode::PdfEncrypted,
        NoChangesAllowed => PageCode::PdfCertified,
        Cms(_) | ContentsTooSmall { .. } | State(_) => PageCode::InvalidRequest,
        Need { .. } => PageCode::Internal,
    };
    PageError { code: code.name(), message: e.to_string() }
}

/// A PAdES request for this certificate: invisible, B-B. Callers set `visible` (the signature
/// drawn on the last page: only the layout reads it, the CMS is the same either way) and
/// `timestamp` (room for a signature time-stamp, B-T) with struct update syntax.
fn pades_request(certificate: &[u8], hash: HashAlgorithm, signing_time: i64) -> Result<PadesRequest, PageError> {
    if hash == HashAlgorithm::Sha1 {
        return Err(PageError::invalid("PAdES signs with SHA-256, SHA-384 or SHA-512"));
    }
    Ok(PadesRequest {
        hash,
        scheme: scheme_for(certificate)?,
        certificate: certificate.to_vec(),
        chain: Vec::new(),
        signing_time,
        visible: false,
        timestamp: false,
    })
}

/// What PAdES refuses of a PDF (not a PDF, damaged, encrypted, certified with no change
/// allowed), before anyone is asked to sign it.
pub fn pdf_check(pdf: &[u8]) -> Result<(), PageError> {
    pdf::check(pdf).map_err(pdf_error)
}

/// The PDF's part of a PAdES signature, where the PDF is: the update laid out for this
/// certificate (`/M` = `signing_time`; `visible`: drawn on the last page; `timestamp`: room
/// for a signature time-stamp, B-T) and the byte ranges hashed. It becomes a [`Job::Pades`], which [`prepare`] turns into what the card signs.
pub fn pdf_layout(
    pdf: &[u8],
    certificate: &[u8],
    hash: HashAlgorithm,
    signing_time: i64,
    visible: bool,
    timestamp: bool,
) -> Result<pdf::Layout, PageError> {
    pdf::layout(pdf, &PadesRequest { visible, timestamp, ..pades_request(certificate, hash, signing_time)? })
        .map_err(pdf_error)
}

/// [`pdf_layout`] of a sparse file ([`pdf::Sparse`]) whose bytes `file_hash` hashed, all
/// of them in order: what the hashing frame does, so that a large PDF is never held whole.
/// `Ok(Err((offset, length)))`: the reader needs those bytes first. `visible` and `timestamp`
/// as for [`pdf_layout`].
pub fn pdf_layout_sparse(
    pdf: &pdf::Sparse,
    file_hash: paraphe_formats::hash::Hasher,
    certificate: &[u8],
    signing_time: i64,
    visible: bool,
    timestamp: bool,
) -> Result<Result<pdf::Layout, (usize, usize)>, PageError> {
    let request =
        PadesRequest { visible, timestamp, ..pades_request(certificate, file_hash.algorithm(), signing_time)? };
    match pdf::layout_source(pdf::Source::Sparse(pdf), file_hash, &request) {
        Ok(layout) => Ok(Ok(layout)),
        Err(pdf::PdfError::Need { offset, length }) => Ok(Err((offset, length))),
        Err(e) => Err(pdf_error(e)),
    }
}

/// [`pdf_check`] of a sparse file: `Ok(Some((offset, length)))` when the reader needs those
/// bytes first.
pub fn pdf_check_sparse(pdf: &pdf::Sparse) -> Result<Option<(usize, usize)>, PageError> {
    match pdf::check_source(pdf::Source::Sparse(pdf)) {
        Ok(()) => Ok(None),
        Err(pdf::PdfError::Need { offset, length }) => Ok(Some((offset, length))),
        Err(e) => Err(pdf_error(e)),
    }
}

/// Step 1 of PAdES at once: `pdf` is the whole file (read once, never copied: the byte
/// ranges are hashed in place). The state holds the incremental update; [`finish`] returns
/// it with the CMS in place, and the signed PDF is `pdf` followed by it.
pub fn prepare_pades(
    pdf: &[u8],
    certificate: &[u8],
    hash: HashAlgorithm,
    signing_time: i64,
) -> Result<Prepared, PageError> {
    let layout = pdf_layout(pdf, certificate, hash, signing_time, false, false)?;
    prepare(&Job::Pades(Box::new(layout)), certificate, signing_time)
}

/// Step 2: the signed object, from the card's signature (RSA as is, ECDSA raw `r || s`).
/// CAdES gives the DER `ContentInfo`; PES gives the standalone XML document whose root's
/// first child is the `ds:Signature`, in the encoding asked: what LiberSign returned and
/// what s2low reads (`documentElement.firstChild` of the decoded document). PAdES gives the
/// incremental update to append to the PDF; a jeton the standalone UTF-8 XML document.
pub fn finish(state: &State, signature: &[u8]) -> Result<Vec<u8>, PageError> {
    let failed = |message: String| PageError { code: "INTERNAL", message };
    match state {
        State::Cades(s) => cms::finish(s, signature).map_err(|e| failed(e.to_string())),
        State::CadesT(_) => Err(failed("a time-stamp was asked for: finish_timestamped".into())),
        State::Xades(s) => {
            xades::finish(s, signature).map(|x| x.libersign_document()).map_err(|e| failed(e.to_string()))
        }
        State::Pades(s) => pdf::finish(s, signature).map_err(|e| failed(e.to_string())),
        State::Jeton(s) => xades::finish(s, signature).map(|x| x.jeton()).map_err(|e| failed(e.to_string())),
    }
}

/// A failure after the card signed, on the time-stamp path, as pages see it: the time-stamp
/// authority's answer refused (or the request not made) is `TIMESTAMP_FAILED`; anything else
/// is a state or signature that does not fit, `INTERNAL`. No wildcard: a new error decides.
fn timestamp_error(e: &CmsError) -> PageError {
    let code = match e {
        CmsError::Timestamp(_) => PageCode::TimestampFailed,
        CmsError::DigestLength { .. }
        | CmsError::Certificate(_)
        | CmsError::KeyMismatch { .. }
        | CmsError::SigningTime(_)
        | CmsError::Policy(_)
        | CmsError::Cosign(_)
        | CmsError::CosignOtherDocument
        | CmsError::SignatureLength { .. }
        | CmsError::State(_) => PageCode::Internal,
    };
    PageError { code: code.name(), message: e.to_string() }
}

/// [`timestamp_error`] for PAdES: the CMS's own errors as above, the PDF's `INTERNAL`.
fn pdf_timestamp_error(e: pdf::PdfError) -> PageError {
    use pdf::PdfError::{
        Cms, ContentsTooSmall, Encrypted, Malformed, Need, NoChangesAllowed, NotPdf, State, Unsupported,
    };
    match e {
        Cms(e) => timestamp_error(&e),
        NotPdf
        | Malformed(_)
        | Unsupported(_)
        | Encrypted
        | NoChangesAllowed
        | ContentsTooSmall { .. }
        | State(_)
        | Need { .. } => PageError { code: PageCode::Internal.name(), message: e.to_string() },
    }
}

/// The RFC 3161 `TimeStampReq` (DER) for a B-T signature ([`Prepared::timestamp`]): SHA-256 of
/// the signature value the card's `signature` gives, certReq, `nonce` (8 to 32 random bytes,
/// the caller's: the core has no randomness) as the nonce.
pub fn timestamp_request(state: &State, signature: &[u8], nonce: &[u8]) -> Result<Vec<u8>, PageError> {
    match state {
        State::CadesT(s) => cms::timestamp_request(s, signature, nonce).map_err(|e| timestamp_error(&e)),
        State::Pades(s) => pdf::timestamp_request(s, signature, nonce).map_err(pdf_timestamp_error),
        State::Cades(_) | State::Xades(_) | State::Jeton(_) => {
            Err(PageError { code: PageCode::Internal.name(), message: "no time-stamp for this format".into() })
        }
    }
}

/// Step 2 of a B-T signature: [`finish`] with the authority's `response` to
/// [`timestamp_request`] (same `nonce`), checked and added as the signature time-stamp. A
/// response that is not a granted token for this request and signature is `TIMESTAMP_FAILED`.
pub fn finish_timestamped(
    state: &State,
    signature: &[u8],
    response: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, PageError> {
    match state {
        State::CadesT(s) => cms::finish_timestamped(s, signature, response, nonce).map_err(|e| timestamp_error(&e)),
        State::Pades(s) => pdf::finish_timestamped(s, signature, response, nonce).map_err(pdf_timestamp_error),
        State::Cades(_) | State::Xades(_) | State::Jeton(_) => {
            Err(PageError { code: PageCode::Internal.name(), message: "no time-stamp for this format".into() })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RSA_SIGNING: &[u8] = include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der");
    const EC_SIGNING: &[u8] = include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der");

    fn cades(hash_algorithm: HashAlgorithm, len: usize) -> Job {
        Job::Cades { digest: STANDARD.encode(vec![7; len]), hash_algorithm, cosign: None, scheme: None, policy: None }
    }

    #[test]
    fn cades_two_steps_through_json() {
        let job: Job = serde_json::from_str(&serde_json::to_string(&cades(HashAlgorithm::Sha1, 20)).unwrap()).unwrap();
        let prepared = prepare(&job, RSA_SIGNING, 1_780_000_000).unwrap();
        assert_eq!(prepared.hash_algorithm, HashAlgorithm::Sha1);
        assert_eq!(prepared.scheme, SignatureScheme::RsaPkcs1);
        assert_eq!(STANDARD.decode(&prepared.digest).unwrap().len(), 20);
        let state: State = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
        let p7s = finish(&state, &[1; 256]).unwrap();
        assert_eq!(p7s[0], 0x30);
        assert!(finish(&state, &[1; 64]).is_err(), "wrong signature length");
    }

    #[test]
    fn ec_keys_sign_with_ecdsa() {
        let prepared = prepare(&cades(HashAlgorithm::Sha256, 32), EC_SIGNING, 1_780_000_000).unwrap();
        assert_eq!(prepared.scheme, SignatureScheme::Ecdsa);
        assert!(finish(&prepared.state, &[1; 64]).is_ok());
    }

    #[test]
    fn xades_document_in_the_encoding_asked() {
        let job = Job::Xades(Box::new(PesJob {
            id: "BORD-1".into(),
            digest: STANDARD.encode([3; 32]),
            format: XadesFormat::EnvelopedSha256,
            policy: Some(Policy {
                identifier: "urn:oid:1.2.250.1.131.1.5.18.21.1.7".into(),
                description: Some("Politique de signature Helios de la DGFiP".into()),
                hash: STANDARD.encode([9; 32]),
                hash_algorithm: HashAlgorithm::Sha256,
                spuri: None,
            }),
            city: Some("Saint-Étienne".into()),
            postal_code: None,
            country_name: Some("France".into()),
            claimed_role: Some("Ordonnateur".into()),
            encoding: XmlEncoding::Iso8859_1,
        }));
        let job: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        let prepared = prepare(&job, RSA_SIGNING, 1_780_000_000).unwrap();
        assert_eq!(prepared.hash_algorithm, HashAlgorithm::Sha256);
        let doc = finish(&prepared.state, &[1; 256]).unwrap();
        assert!(doc.starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"));
        assert!(doc.windows(3).any(|w| w == b"\xc9ti"), "É as one ISO-8859-1 byte");
        assert!(doc.windows(25).any(|w| w == b"<xad:SigningTime>2026-05-"));
    }

    const PDF: &[u8] = include_bytes!("../../fuzz/seeds/pdf/object-streams.pdf");

    #[test]
    fn pades_update_through_json() {
        let prepared = prepare_pades(PDF, RSA_SIGNING, HashAlgorithm::Sha256, 1_780_000_000).unwrap();
        assert_eq!(STANDARD.decode(&prepared.digest).unwrap().len(), 32);
        let state: State = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
        let update = finish(&state, &[1; 256]).unwrap();
        let signed = [PDF, &update].concat();
        assert!(String::from_utf8_lossy(&update).contains("/SubFilter /ETSI.CAdES.detached"));
        assert!(prepare_pades(&signed, EC_SIGNING, HashAlgorithm::Sha256, 1_780_000_000).is_ok(), "signed again");
        let refused = prepare_pades(b"not a pdf", RSA_SIGNING, HashAlgorithm::Sha256, 0).err().unwrap();
        assert_eq!((refused.code, refused.message.as_str()), ("PDF_INVALID", "not a PDF file"));
        // The layout crosses as JSON, and the signed attributes are built from it.
        let layout = pdf_layout(PDF, RSA_SIGNING, HashAlgorithm::Sha256, 1_780_000_000, false, false).unwrap();
        let job: Job = serde_json::from_str(&serde_json::to_string(&Job::Pades(Box::new(layout))).unwrap()).unwrap();
        let prepared = prepare(&job, RSA_SIGNING, 1_780_000_000).unwrap();
        assert_eq!(STANDARD.decode(&prepared.digest).unwrap().len(), 32);
        assert!(finish(&prepared.state, &[1; 256]).is_ok());
        let Job::Pades(mut moved) = job else { unreachable!() };
        moved.contents_at += 1;
        let e = prepare(&Job::Pades(moved), RSA_SIGNING, 0).err().unwrap();
        assert_eq!(e.code, "INVALID_REQUEST");
        assert_eq!(pdf_check(PDF), Ok(()));
        assert_eq!(pdf_check(b"%PDF-1.7 garbage").err().map(|e| e.code), Some("PDF_INVALID"));
    }

    #[test]
    fn b_t_needs_a_time_stamp() {
        // PAdES: room for the token, finished only with one.
        let layout = pdf_layout(PDF, RSA_SIGNING, HashAlgorithm::Sha256, 1_780_000_000, false, true).unwrap();
        let small = pdf_layout(PDF, RSA_SIGNING, HashAlgorithm::Sha256, 1_780_000_000, false, false).unwrap();
        assert!(layout.contents_length > small.contents_length);
        let refused = prepare_timestamped(&Job::Pades(Box::new(small)), RSA_SIGNING, 1_780_000_000, true);
        assert_eq!(refused.err().map(|e| e.code), Some("INVALID_REQUEST"), "a B-B layout for a B-T signature");
        let pades = prepare_timestamped(&Job::Pades(Box::new(layout)), RSA_SIGNING, 1_780_000_000, true).unwrap();
        let cades_t = prepare_timestamped(&cades(HashAlgorithm::Sha256, 32), RSA_SIGNING, 1_780_000_000, true).unwrap();
        let jeton = Job::Jeton { file_name: "a.txt".into(), digest: STANDARD.encode([1; 32]), mime_type: None };
        assert!(!prepare_timestamped(&jeton, RSA_SIGNING, 1_780_000_000, true).unwrap().timestamp, "XAdES stays B-B");
        for prepared in [pades, cades_t] {
            assert!(prepared.timestamp);
            let state: State = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
            assert_eq!(finish(&state, &[1; 256]).err().map(|e| e.code), Some("INTERNAL"), "never B-B");
            let request = timestamp_request(&state, &[1; 256], &[9; 16]).unwrap();
            assert_eq!(request[0], 0x30);
            let e = finish_timestamped(&state, &[1; 256], b"<html>", &[9; 16]).err().unwrap();
            assert_eq!(e.code, "TIMESTAMP_FAILED", "{e}");
            let e = timestamp_request(&state, &[1; 256], &[9; 2]).err().unwrap();
            assert_eq!(e.code, "TIMESTAMP_FAILED", "{e}");
        }
        let b_b = prepare(&cades(HashAlgorithm::Sha256, 32), RSA_SIGNING, 1_780_000_000).unwrap();
        assert!(!b_b.timestamp);
        assert_eq!(timestamp_request(&b_b.state, &[1; 256], &[9; 16]).err().map(|e| e.code), Some("INTERNAL"));
    }

    #[test]
    fn jeton_through_json() {
        let job = r#"{"jeton":{"fileName":"rapport annuel.pdf","digest":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=","mimeType":"application/pdf"}}"#;
        let job: Job = serde_json::from_str(job).unwrap();
        let prepared = prepare(&job, EC_SIGNING, 1_780_000_000).unwrap();
        assert_eq!(prepared.scheme, SignatureScheme::Ecdsa);
        let state: State = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
        let jeton = String::from_utf8(finish(&state, &[1; 64]).unwrap()).unwrap();
        assert!(jeton.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ds:Signature "));
        assert!(jeton.contains(r#"URI="rapport%20annuel.pdf""#));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            prepare(&cades(HashAlgorithm::Sha256, 20), RSA_SIGNING, 0).err().map(|e| e.code),
            Some("INVALID_REQUEST")
        );
        let bad = Job::Cades {
            digest: "%%".into(),
            hash_algorithm: HashAlgorithm::Sha256,
            cosign: None,
            scheme: None,
            policy: None,
        };
        assert!(prepare(&bad, RSA_SIGNING, 0).is_err());
        let cosign = Job::Cades {
            digest: STANDARD.encode([7; 32]),
            hash_algorithm: HashAlgorithm::Sha256,
            cosign: Some(STANDARD.encode(b"not a p7s")),
            scheme: None,
            policy: None,
        };
        assert_eq!(prepare(&cosign, RSA_SIGNING, 1_780_000_000).err().map(|e| e.code), Some("INVALID_REQUEST"));
        assert!(serde_json::from_str::<Job>(r#"{"cades":{"digest":"AA==","hashAlgorithm":"sha256","x":1}}"#).is_err());
        let pes = r#"{"xades":{"id":"B","digest":"AA==","format":"XADES-env","encoding":"UTF-8"}}"#;
        assert!(serde_json::from_str::<Job>(pes).is_ok());
        assert!(serde_json::from_str::<Job>(&pes.replace(r#""id""#, r#""x":1,"id""#)).is_err());
    }
}
