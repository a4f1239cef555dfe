//! CAdES detached signatures: CMS SignedData built around a signature made elsewhere.
//!
//! Specifications: RFC 5652 (CMS) §5.1 SignedData, §5.3 SignerInfo, §5.4 the signed
//! attributes are what is signed, §11 the content-type, message-digest and signing-time
//! attributes; RFC 5035 (ESS signing-certificate-v2); ETSI EN 319 122-1 (CAdES baseline:
//! §5.2.9 signature-policy-identifier); RFC 5754, RFC 4055/4056 and RFC 5753/5758 for the
//! algorithm identifiers.
//!
//! The card signs a digest and nothing else, so signing is two steps:
//!
//! 1. [`prepare`] builds the signed attributes (content-type, signing-time, message-digest,
//!    signing-certificate-v2, and signature-policy-identifier when a policy is given) and
//!    returns the digest of their DER encoding, to be signed with the document's hash
//!    algorithm, plus a [`CadesState`] (serde, for the WASM core to keep in between).
//! 2. [`finish`] takes the signature the token made and returns the DER `ContentInfo`.
//!
//! The signed attributes are encoded once, in `prepare`, and written into the SignerInfo
//! from the state byte for byte, so what was hashed is what a verifier hashes.
//!
//! A co-signature ([`CadesRequest::cosign`], LiberSign's `p7s`) adds a SignerInfo and the
//! certificates to an existing detached SignedData, in DER or BER: BER is first rewritten
//! with definite lengths ([`ber::to_der`]); every certificate and SignerInfo already there is
//! kept byte for byte.

mod algorithm;
pub(crate) mod attributes;
pub mod ber;
pub(crate) mod certificate;
pub(crate) mod der;
pub mod envelope;
mod signed_data;
pub mod timestamp;

pub use der::DerError;

use crate::hash::digest;
use certificate::SignerCertificate;
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use serde::{Deserialize, Serialize};
use signed_data::SignedData;
use std::fmt;

/// A signature policy for the signature-policy-identifier attribute (CAdES-EPES).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// Dotted object identifier, e.g. `1.2.250.1.131.1.5.18.21.1.7`.
    pub oid: String,
    /// Digest of the policy document.
    pub hash: Vec<u8>,
    pub hash_algorithm: HashAlgorithm,
    /// Where the policy document can be read (`SPuri`).
    pub uri: Option<String>,
}

/// What to sign and with which certificate.
#[derive(Clone, Debug)]
pub struct CadesRequest {
    /// Digest of the document, made with `hash`.
    pub digest: Vec<u8>,
    /// The document's hash algorithm; it also hashes the signed attributes.
    pub hash: HashAlgorithm,
    pub scheme: SignatureScheme,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// Further certificates to include (intermediate CAs), DER.
    pub chain: Vec<Vec<u8>>,
    /// Signing time, Unix seconds (the caller's clock: this crate has none).
    pub signing_time: i64,
    pub policy: Option<SignaturePolicy>,
    /// An existing detached SignedData (`.p7s`, DER or BER) to add this signature to.
    pub cosign: Option<Vec<u8>>,
}

/// The result of [`prepare`].
#[derive(Clone, Debug)]
pub struct Prepared {
    /// What the token must sign: the digest of the signed attributes.
    pub digest: Vec<u8>,
    pub hash: HashAlgorithm,
    pub scheme: SignatureScheme,
    pub state: CadesState,
}

/// What [`finish`] needs, kept by the caller between the two steps. Serialises to JSON as
/// `{"version":1, "hash":"sha256", "scheme":"rsa-pkcs1", "signedAttributes":"<base64 DER>",
/// "signerIdentifier":"<base64 DER>", "certificates":["<base64 DER>", …],
/// "signatureLength":256, "cosign":"<base64 DER>"|null}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CadesState {
    version: u32,
    hash: HashAlgorithm,
    scheme: SignatureScheme,
    /// DER `SET OF Attribute`, exactly as hashed.
    #[serde(with = "b64")]
    signed_attributes: Vec<u8>,
    /// DER `IssuerAndSerialNumber` of the signer's certificate.
    #[serde(with = "b64")]
    signer_identifier: Vec<u8>,
    /// The signer's certificate first, then the chain.
    #[serde(with = "b64_list")]
    certificates: Vec<Vec<u8>>,
    /// Length of the signature the token returns (RSA modulus, or ECDSA `r || s`).
    signature_length: usize,
    /// The SignedData to co-sign, already DER.
    #[serde(with = "b64_option")]
    cosign: Option<Vec<u8>>,
}

const STATE_VERSION: u32 = 1;

impl CadesState {
    /// Length of the signature the token must return.
    pub fn signature_length(&self) -> usize {
        self.signature_length
    }

    /// The hash algorithm of the document digest and of the signed attributes.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }
}

/// Why a CAdES signature could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmsError {
    /// The document digest does not have the length of its hash algorithm.
    DigestLength { hash: HashAlgorithm, expected: usize, actual: usize },
    /// A certificate could not be read.
    Certificate(String),
    /// The signature scheme needs another kind of key than the certificate's.
    KeyMismatch { scheme: SignatureScheme, key: &'static str },
    /// The signing time is outside 1950–9999.
    SigningTime(i64),
    /// The signature policy is not usable.
    Policy(String),
    /// The SignedData to co-sign could not be read.
    Cosign(String),
    /// The SignedData to co-sign signs another document (its message digest differs).
    CosignOtherDocument,
    /// The token's signature does not have the expected length.
    SignatureLength { expected: usize, actual: usize },
    /// The state given to [`finish`] is not one [`prepare`] made.
    State(&'static str),
    /// The time-stamp could not be added ([`finish_timestamped`]).
    Timestamp(timestamp::TimestampError),
}

impl fmt::Display for CmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DigestLength { hash, expected, actual } => {
                write!(f, "a {} digest has {expected} bytes, this one has {actual}", hash.name())
            }
            Self::Certificate(why) => write!(f, "unreadable certificate: {why}"),
            Self::KeyMismatch { scheme, key } => write!(f, "{} needs another key than this {key} key", scheme.name()),
            Self::SigningTime(t) => write!(f, "signing time {t} is outside the years 1950 to 9999"),
            Self::Policy(why) => write!(f, "signature policy: {why}"),
            Self::Cosign(why) => write!(f, "the signature to co-sign is not a usable CMS SignedData: {why}"),
            Self::CosignOtherDocument => f.write_str("the signature to co-sign was made for another document"),
            Self::SignatureLength { expected, actual } => {
                write!(f, "the token returned a {actual}-byte signature, {expected} bytes were expected")
            }
            Self::State(why) => write!(f, "invalid signing state: {why}"),
            Self::Timestamp(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CmsError {}

/// Step 1: the signed attributes and the digest the token must sign.
pub fn prepare(request: &CadesRequest) -> Result<Prepared, CmsError> {
    prepare_with(request, true)
}

/// Step 1 for the CMS inside a PAdES signature (ETSI EN 319 142-1 §5.1): the same signed
/// attributes without signing-time, which PAdES forbids (the time is the signature
/// dictionary's `/M`). `request.signing_time` is not used; co-signing makes no sense here.
pub fn prepare_pades(request: &CadesRequest) -> Result<Prepared, CmsError> {
    if request.cosign.is_some() {
        return Err(CmsError::Cosign("a PAdES signature adds a signature to the PDF, not to a CMS".into()));
    }
    prepare_with(request, false)
}

fn prepare_with(request: &CadesRequest, signing_time_attribute: bool) -> Result<Prepared, CmsError> {
    let hash = request.hash;
    if request.digest.len() != hash.digest_len() {
        return Err(CmsError::DigestLength { hash, expected: hash.digest_len(), actual: request.digest.len() });
    }
    let signer = SignerCertificate::parse(&request.certificate).map_err(CmsError::Certificate)?;
    if !signer.key.fits(request.scheme) {
        return Err(CmsError::KeyMismatch { scheme: request.scheme, key: signer.key.name() });
    }
    for (i, cert) in request.chain.iter().enumerate() {
        match crate::asn1::single(cert, "data after the certificate") {
            Ok(t) if t.tag == der::tag::SEQUENCE => {}
            _ => return Err(CmsError::Certificate(format!("chain certificate {} is not DER", i + 1))),
        }
    }

    let (cosign, content_type) = match &request.cosign {
        None => (None, der::oid_arcs(algorithm::ID_DATA)),
        Some(p7s) => {
            let normalised = ber::to_der(p7s).map_err(|e| CmsError::Cosign(e.to_string()))?;
            let existing = SignedData::parse(&normalised).map_err(|e| CmsError::Cosign(e.to_string()))?;
            check_same_document(&existing, hash, &request.digest)?;
            let content_type = existing.content_type().map_err(|e| CmsError::Cosign(e.to_string()))?;
            (Some(normalised), content_type)
        }
    };

    let signed_attributes = attributes::encode(&attributes::Attributes {
        content_type: &content_type,
        message_digest: &request.digest,
        signing_time: signing_time_attribute.then_some(request.signing_time),
        signer: &signer,
        policy: request.policy.as_ref(),
    })?;
    let signer_identifier = der::sequence(&[signer.issuer, &der::tlv(der::tag::INTEGER, signer.serial)]);
    let mut certificates = vec![request.certificate.clone()];
    certificates.extend(request.chain.iter().cloned());

    Ok(Prepared {
        digest: digest(hash, &signed_attributes),
        hash,
        scheme: request.scheme,
        state: CadesState {
            version: STATE_VERSION,
            hash,
            scheme: request.scheme,
            signed_attributes,
            signer_identifier,
            certificates,
            signature_length: signer.key.signature_len(),
            cosign,
        },
    })
}

/// Step 2: the DER `ContentInfo` holding the SignedData, from the token's `signature`
/// (RSA as is; ECDSA as raw `r || s`, as PKCS#11 `CKM_ECDSA` returns it).
pub fn finish(state: &CadesState, signature: &[u8]) -> Result<Vec<u8>, CmsError> {
    finish_with(state, signature, None)
}

/// The SignerInfo's `signature` value (its content octets) for the token's `signature`: what a
/// signature time-stamp hashes ([`timestamp::request`]).
pub fn signature_value(state: &CadesState, signature: &[u8]) -> Result<Vec<u8>, CmsError> {
    if state.version != STATE_VERSION {
        return Err(CmsError::State("made by another version"));
    }
    if signature.len() != state.signature_length {
        return Err(CmsError::SignatureLength { expected: state.signature_length, actual: signature.len() });
    }
    match state.scheme {
        SignatureScheme::Ecdsa => {
            crate::ecdsa::raw_to_der(signature).ok_or(CmsError::State("ECDSA signature too long"))
        }
        SignatureScheme::RsaPkcs1 | SignatureScheme::RsaPss => Ok(signature.to_vec()),
    }
}

/// The RFC 3161 `TimeStampReq` for the signature-time-stamp of this signature (CAdES and
/// PAdES baseline B-T): [`timestamp::request`] over [`signature_value`].
pub fn timestamp_request(state: &CadesState, signature: &[u8], nonce: &[u8]) -> Result<Vec<u8>, CmsError> {
    timestamp::request(&signature_value(state, signature)?, nonce).map_err(CmsError::Timestamp)
}

/// Step 2 with a signature time-stamp: [`finish`], the SignerInfo carrying the authority's
/// token (from its `response` to [`timestamp_request`] with the same `nonce`, checked by
/// [`timestamp::token`]) as the unsigned attribute `id-aa-signatureTimeStampToken`.
pub fn finish_timestamped(
    state: &CadesState,
    signature: &[u8],
    response: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, CmsError> {
    let value = signature_value(state, signature)?;
    let token = timestamp::token(response, &value, nonce).map_err(CmsError::Timestamp)?;
    finish_with(state, signature, Some(&token))
}

fn finish_with(state: &CadesState, signature: &[u8], token: Option<&[u8]>) -> Result<Vec<u8>, CmsError> {
    let signature_value = signature_value(state, signature)?;
    if state.signed_attributes.first() != Some(&der::tag::SET) || state.certificates.is_empty() {
        return Err(CmsError::State("no signed attributes or no certificate"));
    }

    // RFC 5652 §5.3: inside SignerInfo the SET OF tag becomes [0] IMPLICIT.
    let mut signed_attrs = state.signed_attributes.clone();
    signed_attrs[0] = der::tag::context(0);
    let unsigned_attrs = token.map(timestamp::unsigned_attributes).unwrap_or_default();
    let signer_info = der::sequence(&[
        &der::small_integer(1), // sid is issuerAndSerialNumber
        &state.signer_identifier,
        &algorithm::digest_algorithm(state.hash),
        &signed_attrs,
        &algorithm::signature_algorithm(state.scheme, state.hash),
        &der::octet_string(&signature_value),
        &unsigned_attrs,
    ]);

    let mut signed_data = match &state.cosign {
        None => SignedData::detached(),
        Some(existing) => SignedData::parse(existing).map_err(|e| CmsError::Cosign(e.to_string()))?,
    };
    // Version 1 fits issuerAndSerialNumber signers over id-data; keep a higher one (RFC 5652 §5.1).
    signed_data.version = signed_data.version.max(1);
    signed_data.add_digest_algorithm(algorithm::digest_algorithm(state.hash));
    for cert in &state.certificates {
        signed_data.add_certificate(cert);
    }
    signed_data.signer_infos.push(signer_info);
    Ok(signed_data.encode())
}

/// Refuses to co-sign a SignedData whose signers signed another document, when one of them
/// used the same hash algorithm and so can be compared.
fn check_same_document(existing: &SignedData, hash: HashAlgorithm, digest: &[u8]) -> Result<(), CmsError> {
    let our_oid = algorithm::hash_oid_der(hash);
    for signer_info in &existing.signer_infos {
        let signer = signed_data::existing_signer(signer_info).map_err(|e| CmsError::Cosign(e.to_string()))?;
        if signer.digest_oid == our_oid && signer.message_digest.as_deref().is_some_and(|md| md != digest) {
            return Err(CmsError::CosignOtherDocument);
        }
    }
    Ok(())
}

pub(crate) mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        STANDARD.decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

mod b64_list {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|b| STANDARD.encode(b)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom)).collect()
    }
}

mod b64_option {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?.map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom)).transpose()
    }
}
