//! `decrypt`: unwrap a content-encryption key (CMS KeyTransRecipientInfo, RFC 5652 §6.2.1)
//! with the session's RSA key. Only the wrapped key crosses native messaging; the content
//! is decrypted in the extension.

use super::{decode_b64, encode_b64, session};
use crate::dispatch::Host;
use crate::error::{Error, Result};
use crate::token::DecryptMechanism;
use paraphe_protocol::command::{DecryptArgs, DecryptResult, DecryptScheme};
use paraphe_protocol::HashAlgorithm;

pub fn run(host: &mut Host, args: &DecryptArgs) -> Result<DecryptResult> {
    let data = decode_b64("data", &args.data, 1024)?;
    if data.is_empty() {
        return Err(Error::InvalidArgument("data is empty".into()));
    }
    let s = session(host, &args.session)?;
    let key = s.key.clone();
    let pin = s.pin.clone();
    if key.key_type != "RSA" {
        return Err(Error::UnsupportedAlgorithm(format!("RSA key transport with a {} key", key.key_type)));
    }
    let key_usage = &s.certificate.key_usage;
    if !key_usage.is_empty() && !key_usage.iter().any(|k| k == "keyEncipherment" || k == "dataEncipherment") {
        return Err(Error::KeyUsageNotAllowed("the certificate is not for encryption".into()));
    }
    let mechanism = match (args.scheme, args.oaep_hash) {
        (DecryptScheme::RsaPkcs1, None) => DecryptMechanism::RsaPkcs,
        (DecryptScheme::RsaPkcs1, Some(_)) => {
            return Err(Error::InvalidArgument("oaepHash applies to rsa-oaep only".into()))
        }
        (DecryptScheme::RsaOaep, hash) => DecryptMechanism::RsaOaep(hash.unwrap_or(HashAlgorithm::Sha1)),
    };
    let plaintext = host.backend.decrypt(&key, pin.as_ref(), mechanism, &data)?;
    Ok(DecryptResult { plaintext: encode_b64(&plaintext) })
}
