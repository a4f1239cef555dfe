//! Requests to the native host, built from the protocol crate's own types so that the
//! extension cannot send something the host would not parse.

use paraphe_protocol::command::{AuthenticateArgs, KeyHint, LoginArgs, LogoutArgs, SignArgs};
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, LoginPurpose, Pin, SignatureScheme};
use serde::Serialize;

#[derive(Serialize)]
struct Request<'a, A: Serialize> {
    id: u64,
    command: &'a str,
    arguments: A,
}

fn to_json<A: Serialize>(id: u64, command: &str, arguments: A) -> Result<String, String> {
    serde_json::to_string(&Request { id, command, arguments }).map_err(|e| e.to_string())
}

/// `pin` is `None` for a protected authentication path (PIN pad). `hint`: where
/// `list-certificates` found the certificate, so that the host reads that one certificate.
pub fn login(
    id: u64,
    certificate: &str,
    pin: Option<String>,
    ttl_seconds: Option<u32>,
    purpose: LoginPurpose,
    hint: Option<KeyHint>,
) -> Result<String, String> {
    let pin = pin.map(Pin::new).transpose().map_err(str::to_owned)?;
    to_json(id, "login", LoginArgs { certificate: certificate.to_owned(), pin, ttl_seconds, purpose, hint })
}

pub fn sign(
    id: u64,
    session: &str,
    digest_base64: &str,
    hash: HashAlgorithm,
    scheme: SignatureScheme,
    ecdsa_encoding: Option<EcdsaEncoding>,
) -> Result<String, String> {
    to_json(
        id,
        "sign",
        SignArgs {
            session: session.to_owned(),
            digest: digest_base64.to_owned(),
            hash,
            scheme,
            ecdsa_encoding: if scheme == SignatureScheme::Ecdsa { ecdsa_encoding } else { None },
        },
    )
}

pub fn logout(id: u64, session: &str) -> Result<String, String> {
    to_json(id, "logout", LogoutArgs { session: session.to_owned() })
}

/// `authenticate` for the session's authentication key. The origin is the one the browser
/// reported for the requesting frame; both it and the nonce are checked here as the host
/// checks them, so a malformed request never reaches the token.
pub fn authenticate(id: u64, session: &str, origin: &str, challenge_nonce: &str) -> Result<String, String> {
    paraphe_formats::webeid::check_origin(origin)?;
    paraphe_formats::webeid::check_nonce(challenge_nonce)?;
    to_json(
        id,
        "authenticate",
        AuthenticateArgs {
            session: session.to_owned(),
            origin: origin.to_owned(),
            challenge_nonce: challenge_nonce.to_owned(),
        },
    )
}

/// The scheme used when the page does not name one: PKCS#1 v1.5 for RSA (what CMS, XAdES
/// and PAdES validators expect by default), ECDSA for EC keys.
pub fn default_scheme(key_type: &str) -> Option<SignatureScheme> {
    match key_type {
        "RSA" => Some(SignatureScheme::RsaPkcs1),
        "EC" => Some(SignatureScheme::Ecdsa),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_the_wire_contract() {
        let l = login(1, "ab", Some("1234".into()), None, LoginPurpose::SignStructured, None).expect("valid");
        assert_eq!(
            l,
            r#"{"id":1,"command":"login","arguments":{"certificate":"ab","pin":"1234","purpose":"sign-structured"}}"#
        );
        let hint = KeyHint { token: "3f1c9a0be2d4c871".into(), cka_id: "01".into() };
        let l = login(1, "ab", None, None, LoginPurpose::SignRaw, Some(hint)).expect("valid");
        assert_eq!(
            l,
            r#"{"id":1,"command":"login","arguments":{"certificate":"ab","purpose":"sign-raw","hint":{"token":"3f1c9a0be2d4c871","ckaId":"01"}}}"#
        );
        assert!(login(1, "ab", Some(String::new()), None, LoginPurpose::SignRaw, None).is_err());
        let s = sign(2, "s1", "AA==", HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, Some(EcdsaEncoding::Der))
            .expect("valid");
        assert_eq!(
            s,
            r#"{"id":2,"command":"sign","arguments":{"session":"s1","digest":"AA==","hash":"sha256","scheme":"rsa-pkcs1"}}"#
        );
        assert_eq!(logout(3, "s1").expect("valid"), r#"{"id":3,"command":"logout","arguments":{"session":"s1"}}"#);
        let nonce = "A".repeat(44);
        assert_eq!(
            authenticate(4, "s1", "https://portail.example.fr", &nonce).expect("valid"),
            format!(
                r#"{{"id":4,"command":"authenticate","arguments":{{"session":"s1","origin":"https://portail.example.fr","challengeNonce":"{nonce}"}}}}"#
            )
        );
        assert!(authenticate(5, "s1", "http://portail.example.fr", &nonce).is_err());
        assert!(authenticate(6, "s1", "https://portail.example.fr", "short").is_err());
    }
}
