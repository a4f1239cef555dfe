//! `sign`: sign one digest with the session's key.
//!
//! The host checks what it can before the token is touched: digest length against the
//! hash, scheme against the key type, and the certificate's key usage.

use super::{decode_b64, encode_b64, session};
use crate::dispatch::Host;
use crate::error::{Error, Result};
use crate::token::SignMechanism;
use paraphe_formats::{ecdsa, pkcs1};
use paraphe_protocol::command::{SignArgs, SignResult};
use paraphe_protocol::{EcdsaEncoding, SignatureScheme};

pub fn run(host: &mut Host, args: &SignArgs) -> Result<SignResult> {
    let digest = decode_b64("digest", &args.digest, 64)?;
    let expected = args.hash.digest_len();
    if digest.len() != expected {
        return Err(Error::DigestLength { expected, got: digest.len() });
    }
    let s = session(host, &args.session)?;
    let key = s.key.clone();
    let pin = s.pin.clone();

    let key_usage = &s.certificate.key_usage;
    if !key_usage.is_empty() && !key_usage.iter().any(|k| k == "digitalSignature" || k == "nonRepudiation") {
        return Err(Error::KeyUsageNotAllowed("the certificate is not for signatures".into()));
    }
    let (mechanism, input) = match (args.scheme, key.key_type.as_str()) {
        (SignatureScheme::RsaPkcs1, "RSA") => (SignMechanism::RsaPkcs, pkcs1::digest_info(args.hash, &digest)),
        (SignatureScheme::RsaPss, "RSA") => (SignMechanism::RsaPss(args.hash), digest),
        (SignatureScheme::Ecdsa, "EC") => (SignMechanism::Ecdsa, digest),
        (scheme, key_type) => {
            return Err(Error::UnsupportedAlgorithm(format!("{} with a {key_type} key", scheme.name())))
        }
    };
    if args.ecdsa_encoding.is_some() && args.scheme != SignatureScheme::Ecdsa {
        return Err(Error::InvalidArgument("ecdsaEncoding applies to ecdsa only".into()));
    }
    let raw = host.backend.sign(&key, pin.as_ref(), mechanism, &input)?;
    let signature = match (args.scheme, args.ecdsa_encoding.unwrap_or_default()) {
        (SignatureScheme::Ecdsa, EcdsaEncoding::Der) => ecdsa::raw_to_der(&raw)
            .ok_or_else(|| Error::Internal("token returned a malformed ECDSA signature".into()))?,
        _ => raw,
    };
    Ok(SignResult { signature: encode_b64(&signature) })
}
