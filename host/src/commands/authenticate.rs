//! `authenticate`: an origin-bound login token in Web eID's `web-eid:1.0` format. The card
//! signs `H(H(origin) || H(challengeNonce))` with the **authentication** key, never the
//! signing one: a phishing site gets a token bound to its own origin, which the real portal
//! refuses.

use super::encode_b64;
use crate::dispatch::Host;
use crate::error::{Error, Result};
use crate::token::SignMechanism;
use paraphe_formats::pkcs1;
use paraphe_formats::webeid::{self, Algorithm};
use paraphe_protocol::cert::Usage;
use paraphe_protocol::command::{AuthToken, AuthenticateArgs};
use paraphe_protocol::LoginPurpose;

pub fn run(host: &mut Host, args: &AuthenticateArgs) -> Result<AuthToken> {
    webeid::check_origin(&args.origin).map_err(|e| Error::InvalidArgument(e.into()))?;
    webeid::check_nonce(&args.challenge_nonce).map_err(|e| Error::InvalidArgument(e.into()))?;
    let mut key = host.sessions().get(&args.session, "authenticate", &[LoginPurpose::Authenticate])?;
    let info = key.certificate();
    if !info.usages.contains(&Usage::Authentication) {
        return Err(Error::KeyUsageNotAllowed("authenticate needs an authentication certificate".into()));
    }
    let alg = Algorithm::for_key(&info.key_type, info.curve.as_deref())
        .ok_or_else(|| Error::UnsupportedAlgorithm(format!("{} key for authentication", info.key_type)))?;
    let digest = webeid::digest_to_sign(alg, &args.origin, &args.challenge_nonce);
    let (mechanism, input) = match alg {
        Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => (SignMechanism::Ecdsa, digest),
        _ => (SignMechanism::RsaPkcs, pkcs1::digest_info(alg.hash(), &digest)),
    };
    let signature = key.sign(mechanism, &input)?;
    Ok(AuthToken {
        unverified_certificate: encode_b64(key.certificate_der()),
        algorithm: alg.name().to_owned(),
        signature: encode_b64(&signature),
        format: webeid::FORMAT.to_owned(),
        app_version: format!("https://paraphe.fr/releases/{}", env!("CARGO_PKG_VERSION")),
    })
}
