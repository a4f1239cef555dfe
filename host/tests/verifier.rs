//! The relying-party verifier against tokens made by the real host on SoftHSM, and against
//! tampered ones, each refused for its own reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, demo, tmp, unb64, Host, PIN};
use paraphe_protocol::command::AuthToken;
use paraphe_verifier::{NonceStore, Verifier, VerifyError};
use serde_json::json;

const PORTAL: &str = "https://portail.testville.example";

fn der_of(pem_path: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(pem_path).unwrap();
    unb64(&text.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn tokens_from_the_host_verify_and_tampered_ones_do_not() {
    let kit = &demo();
    let verifier = Verifier::new(PORTAL, vec![der_of(&kit.pki("ca.crt"))]);
    let nonces = NonceStore::default();
    let mut host = Host::spawn(kit);
    let session = host.login(&kit.fingerprint("02"), PIN, "authenticate");
    let mut token_for = |origin: &str, nonce: &str| -> AuthToken {
        let t = host.ok("authenticate", json!({"session": session, "origin": origin, "challengeNonce": nonce}));
        serde_json::from_value(t).unwrap()
    };

    // The real thing.
    let nonce = nonces.issue();
    let token = token_for(PORTAL, &nonce);
    let who = verifier.verify(&token, &nonce, &nonces, now()).expect("valid token");
    assert_eq!(who.common_name.as_deref(), Some("Camille Martin"));
    // Replayed: the nonce is gone.
    assert_eq!(verifier.verify(&token, &nonce, &nonces, now()), Err(VerifyError::NonceUnknown));
    // A portal that refuses nonRepudiation certificates for login still takes a pure
    // authentication certificate (digitalSignature only).
    let strict = Verifier::new(PORTAL, vec![der_of(&kit.pki("ca.crt"))]).refuse_non_repudiation(true);
    let nonce = nonces.issue();
    let token = token_for(PORTAL, &nonce);
    assert!(strict.verify(&token, &nonce, &nonces, now()).is_ok());

    // Made for a phishing site that relays the portal's nonce.
    let nonce = nonces.issue();
    let relayed = token_for("https://portail-testville.phishing.example", &nonce);
    assert_eq!(verifier.verify(&relayed, &nonce, &nonces, now()), Err(VerifyError::SignatureMismatch));

    // Altered signature.
    let nonce = nonces.issue();
    let mut altered = token_for(PORTAL, &nonce);
    let mut sig = unb64(&altered.signature);
    sig[10] ^= 1;
    altered.signature = b64(&sig);
    assert_eq!(verifier.verify(&altered, &nonce, &nonces, now()), Err(VerifyError::SignatureMismatch));

    // Checked after the certificate expired.
    let nonce = nonces.issue();
    let token = token_for(PORTAL, &nonce);
    let later = now() + 4 * 365 * 86_400;
    assert!(matches!(verifier.verify(&token, &nonce, &nonces, later), Err(VerifyError::CertificateNotValidNow { .. })));

    // A portal that does not trust this CA.
    let stranger = Verifier::new(PORTAL, vec![der_of(&kit.pki("01.crt"))]);
    let nonce = nonces.issue();
    let token = token_for(PORTAL, &nonce);
    assert!(matches!(stranger.verify(&token, &nonce, &nonces, now()), Err(VerifyError::UntrustedCertificate(_))));

    // An unknown nonce (never issued by this server).
    let token = token_for(PORTAL, &b64(&[9u8; 32]));
    assert_eq!(verifier.verify(&token, &b64(&[9u8; 32]), &nonces, now()), Err(VerifyError::NonceUnknown));
    host.ok("logout", json!({"session": session}));
    assert!(host.finish().success());
}

#[test]
fn a_token_signed_with_the_signing_certificate_is_refused() {
    // The host never does this; a forger with the signing key might.
    let kit = &demo();
    let verifier = Verifier::new(PORTAL, vec![der_of(&kit.pki("ca.crt"))]);
    let nonces = NonceStore::default();
    let nonce = nonces.issue();
    let message = paraphe_formats::webeid::signed_message(paraphe_formats::webeid::Algorithm::RS256, PORTAL, &nonce);
    let msg_path = tmp("forged-message.bin");
    std::fs::write(&msg_path, &message).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(kit.pki("01.key"))
        .arg(&msg_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = AuthToken {
        unverified_certificate: b64(&der_of(&kit.pki("01.crt"))),
        algorithm: "RS256".into(),
        signature: b64(&out.stdout),
        format: "web-eid:1.0".into(),
        app_version: "https://example.invalid".into(),
    };
    assert!(matches!(verifier.verify(&token, &nonce, &nonces, now()), Err(VerifyError::WrongKeyUsage(_))));
}
