//! `decrypt`: unwrap a content-encryption key (CMS KeyTransRecipientInfo, RFC 5652 §6.2.1)
//! with the session's RSA key. Only the wrapped key crosses native messaging; the content
//! is decrypted in the extension.

use super::{decode_b64, encode_b64, may_decrypt};
use crate::dispatch::Host;
use crate::error::{Error, Fault, Result};
use crate::token::{DecryptMechanism, KeyType};
use paraphe_protocol::command::{DecryptArgs, DecryptResult, DecryptScheme};
use paraphe_protocol::{HashAlgorithm, LoginPurpose};

pub fn run(host: &mut Host, args: &DecryptArgs) -> Result<DecryptResult> {
    let data = decode_b64("data", &args.data, 1024)?;
    if data.is_empty() {
        return Err(Error::InvalidArgument("data is empty".into()));
    }
    let mut key = host.sessions().get(&args.session, "decrypt", &[LoginPurpose::Decrypt])?;
    match key.key_type() {
        KeyType::Rsa => {}
        other @ (KeyType::Ec | KeyType::Other(_)) => {
            return Err(Error::UnsupportedAlgorithm(format!("RSA key transport with a {} key", other.name())))
        }
    }
    if !may_decrypt(key.certificate()) {
        return Err(Error::KeyUsageNotAllowed("the certificate is not for encryption".into()));
    }
    let mechanism = match (args.scheme, args.oaep_hash) {
        (DecryptScheme::RsaPkcs1, None) => DecryptMechanism::RsaPkcs,
        (DecryptScheme::RsaPkcs1, Some(_)) => {
            return Err(Error::InvalidArgument("oaepHash applies to rsa-oaep only".into()))
        }
        (DecryptScheme::RsaOaep, hash) => DecryptMechanism::RsaOaep(hash.unwrap_or(HashAlgorithm::Sha1)),
    };
    let plaintext = key.decrypt(mechanism, &data).map_err(uniform)?;
    Ok(DecryptResult { plaintext: encode_b64(&plaintext) })
}

/// Every failure of `C_Decrypt` that can depend on the data (bad padding, wrong length, a
/// token's general error…) becomes one error, [`Error::UnwrapFailed`], with one message:
/// telling them apart would let whoever sends wrapped keys learn about the plaintext
/// (Bleichenbacher's padding oracle). What does not depend on the data stays distinct: the
/// token gone, the login gone, PIN errors (context-specific login), cancellation, and
/// failures of `C_DecryptInit` (mechanism, key). The token's own answer goes to the log.
fn uniform(e: Error) -> Error {
    match e {
        Error::Pkcs11 { failure, .. }
            if failure.is_decrypt()
                && !matches!(
                    failure.fault(),
                    Fault::TokenGone
                        | Fault::UserNotLoggedIn
                        | Fault::PinIncorrect
                        | Fault::PinLocked
                        | Fault::PinExpired
                        | Fault::Cancelled
                ) =>
        {
            log::info!("C_Decrypt failed: {:?}", failure.rv());
            Error::UnwrapFailed
        }
        other => other,
    }
}
