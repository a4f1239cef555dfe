//! `sign`: sign one digest with the session's key.
//!
//! The host checks what it can before the token is touched: the session's purpose
//! (`sign-structured` or `sign-raw`), digest length against the hash, no raw SHA-1, scheme
//! against the key type, and the certificate's key usage.

use super::{decode_b64, encode_b64, may_sign};
use crate::dispatch::Host;
use crate::error::{Error, Result};
use crate::token::{KeyType, SignMechanism};
use paraphe_formats::{ecdsa, pkcs1};
use paraphe_protocol::command::{SignArgs, SignResult};
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, LoginPurpose, SignatureScheme};

pub fn run(host: &mut Host, args: &SignArgs) -> Result<SignResult> {
    let digest = decode_b64("digest", &args.digest, 64)?;
    let expected = args.hash.digest_len();
    if digest.len() != expected {
        return Err(Error::DigestLength { expected, got: digest.len() });
    }
    let mut key = host.sessions().get(&args.session, "sign", &[LoginPurpose::SignStructured, LoginPurpose::SignRaw])?;
    // SHA-1 collisions are practical: a page-chosen SHA-1 digest could be the hash of another
    // document. Legacy structures (s2low's CMS acts, PES `XADES-env`) still need it; there the
    // extension built what is hashed.
    if key.purpose() == LoginPurpose::SignRaw && args.hash == HashAlgorithm::Sha1 {
        return Err(Error::UnsupportedAlgorithm(
            "SHA-1 is signed only inside structured signatures (legacy CMS and PES), never as a raw digest".into(),
        ));
    }
    if !may_sign(key.certificate()) {
        return Err(Error::KeyUsageNotAllowed("the certificate is not for signatures".into()));
    }
    let (mechanism, input) = match (args.scheme, key.key_type()) {
        (SignatureScheme::RsaPkcs1, KeyType::Rsa) => (SignMechanism::RsaPkcs, pkcs1::digest_info(args.hash, &digest)),
        (SignatureScheme::RsaPss, KeyType::Rsa) => (SignMechanism::RsaPss(args.hash), digest),
        (SignatureScheme::Ecdsa, KeyType::Ec) => (SignMechanism::Ecdsa, digest),
        (
            scheme @ (SignatureScheme::RsaPkcs1 | SignatureScheme::RsaPss),
            key_type @ (KeyType::Ec | KeyType::Other(_)),
        )
        | (scheme @ SignatureScheme::Ecdsa, key_type @ (KeyType::Rsa | KeyType::Other(_))) => {
            return Err(Error::UnsupportedAlgorithm(format!("{} with a {} key", scheme.name(), key_type.name())))
        }
    };
    if args.ecdsa_encoding.is_some() && args.scheme != SignatureScheme::Ecdsa {
        return Err(Error::InvalidArgument("ecdsaEncoding applies to ecdsa only".into()));
    }
    let raw = key.sign(mechanism, &input)?;
    let signature = match (args.scheme, args.ecdsa_encoding.unwrap_or_default()) {
        (SignatureScheme::Ecdsa, EcdsaEncoding::Der) => ecdsa::raw_to_der(&raw)
            .ok_or_else(|| Error::Internal("token returned a malformed ECDSA signature".into()))?,
        _ => raw,
    };
    Ok(SignResult { signature: encode_b64(&signature) })
}
