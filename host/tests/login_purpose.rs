//! What a login session is for, enforced by the host against the real SoftHSM tokens of the
//! test kit: a consent given for one use cannot be spent on another, a raw signature by a key
//! that can log in is refused before any PIN reaches the token, and a second login on a
//! logged-in token has its PIN judged by the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, demo, openssl_verify, tmp, unb64, Host, Kit, PIN};
use paraphe_formats::webeid::{self, Algorithm};
use paraphe_protocol::command::AuthToken;
use paraphe_verifier::{NonceStore, Verifier, VerifyError};
use serde_json::json;

const FOREIGN_PIN: &str = "987654";
const SITE_A: &str = "https://parapheur.site-a.example";
const SITE_B: &str = "https://portail.site-b.example";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn der_of(pem_path: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(pem_path).unwrap();
    unb64(&text.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
}

/// The attack of issue #19 at the host: a page on site A asks for a raw signature of exactly
/// the digest site B's login token signs, `H(H(origin B) ‖ H(nonce))`, with the dual-use key
/// (digitalSignature + nonRepudiation, clientAuth) of the foreign token.
#[test]
fn a_raw_signature_cannot_become_another_sites_login_token() {
    let kit = Kit::make("make-foreign-token.sh", "purpose-attack");
    let dual = kit.fingerprint("a1"); // EC P-384: ES384
    let verifier_b = Verifier::new(SITE_B, vec![der_of(&kit.pki("ca.crt"))]);
    let nonces_b = NonceStore::default();
    let nonce = nonces_b.issue();
    let digest = webeid::digest_to_sign(Algorithm::ES384, SITE_B, &nonce);
    let mut host = Host::spawn(&kit);

    // 1. sign-raw with the dual-use key: refused at login, before C_Login. A wrong PIN shows
    //    it: not PIN_INCORRECT, and the token's counter untouched.
    let (code, error) = host.err("login", json!({"certificate": dual, "pin": "000000", "purpose": "sign-raw"}));
    assert_eq!(code, "RAW_SIGNATURE_REFUSED", "{error}");
    assert_eq!(error["retriable"], false);
    let status = host.ok("status", json!({}));
    assert_eq!(status["tokens"][0]["pin"]["countLow"], false, "no PIN try spent: {status}");
    let (code, _) = host.err("login", json!({"certificate": dual, "pin": FOREIGN_PIN, "purpose": "sign-raw"}));
    assert_eq!(code, "RAW_SIGNATURE_REFUSED");

    // 2. An authenticate session (the person consented to log in to site A) cannot sign.
    let auth = host.login(&dual, FOREIGN_PIN, "authenticate");
    let (code, error) =
        host.err("sign", json!({"session": auth, "digest": b64(&digest), "hash": "sha384", "scheme": "ecdsa"}));
    assert_eq!(code, "SESSION_PURPOSE_MISMATCH", "{error}");
    // It makes tokens bound to the origin it is given: site A's token fails at site B.
    let token: AuthToken = serde_json::from_value(
        host.ok("authenticate", json!({"session": auth, "origin": SITE_A, "challengeNonce": nonce})),
    )
    .unwrap();
    assert_eq!(token.algorithm, "ES384");
    assert_eq!(verifier_b.verify(&token, &nonce, &nonces_b, now()), Err(VerifyError::SignatureMismatch));
    // Made for site B (the browser-reported origin), it verifies there; a verifier that
    // refuses nonRepudiation certificates for login refuses this dual-use one.
    let nonce = nonces_b.issue();
    let token: AuthToken = serde_json::from_value(
        host.ok("authenticate", json!({"session": auth, "origin": SITE_B, "challengeNonce": nonce})),
    )
    .unwrap();
    assert!(verifier_b.verify(&token, &nonce, &nonces_b, now()).is_ok());
    let strict = Verifier::new(SITE_B, vec![der_of(&kit.pki("ca.crt"))]).refuse_non_repudiation(true);
    let nonce = nonces_b.issue();
    let token: AuthToken = serde_json::from_value(
        host.ok("authenticate", json!({"session": auth, "origin": SITE_B, "challengeNonce": nonce})),
    )
    .unwrap();
    assert!(matches!(strict.verify(&token, &nonce, &nonces_b, now()), Err(VerifyError::WrongKeyUsage(_))));
    host.ok("logout", json!({"session": auth}));
    assert!(host.finish().success());
}

/// Every purpose against every command, on the demo token's four keys.
#[test]
fn a_session_serves_only_its_purpose() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let origin = "https://portail.testville.example";
    let nonce = b64(&[42u8; 33]);
    let sign = |s: &str| json!({"session": s, "digest": b64(&[1; 32]), "hash": "sha256", "scheme": "rsa-pkcs1"});
    let decrypt = |s: &str| json!({"session": s, "data": b64(&[1; 256]), "scheme": "rsa-pkcs1"});
    let authenticate = |s: &str| json!({"session": s, "origin": origin, "challengeNonce": nonce});

    // What each certificate may be logged in for (01 signing, 02 authentication, 03
    // encryption); refusals come before C_Login.
    let cases = [
        ("01", "sign-raw", "ok"),
        ("01", "sign-structured", "ok"),
        ("01", "authenticate", "KEY_USAGE_NOT_ALLOWED"),
        ("01", "decrypt", "KEY_USAGE_NOT_ALLOWED"),
        ("02", "sign-raw", "RAW_SIGNATURE_REFUSED"),
        ("02", "sign-structured", "ok"),
        ("02", "authenticate", "ok"),
        ("02", "decrypt", "KEY_USAGE_NOT_ALLOWED"),
        ("03", "decrypt", "ok"),
        ("03", "sign-raw", "KEY_USAGE_NOT_ALLOWED"),
    ];
    for (id, purpose, want) in cases {
        let resp = host.call("login", json!({"certificate": kit.fingerprint(id), "pin": PIN, "purpose": purpose}));
        let got = resp["error"]["code"].as_str().unwrap_or("ok");
        assert_eq!(got, want, "{id} for {purpose}: {resp}");
        if let Some(s) = resp["result"]["session"].as_str() {
            host.ok("logout", json!({"session": s}));
        }
    }

    let raw = host.login(&kit.fingerprint("01"), PIN, "sign-raw");
    let structured = host.login(&kit.fingerprint("02"), PIN, "sign-structured");
    let auth = host.login(&kit.fingerprint("02"), PIN, "authenticate");
    let dec = host.login(&kit.fingerprint("03"), PIN, "decrypt");
    assert!(host.ok("sign", sign(&raw))["signature"].is_string());
    assert!(host.ok("sign", sign(&structured))["signature"].is_string());
    assert_eq!(host.ok("authenticate", authenticate(&auth))["format"], "web-eid:1.0");
    for (command, args) in [
        ("sign", sign(&auth)),
        ("sign", sign(&dec)),
        ("authenticate", authenticate(&raw)),
        ("authenticate", authenticate(&structured)),
        ("authenticate", authenticate(&dec)),
        ("decrypt", decrypt(&raw)),
        ("decrypt", decrypt(&structured)),
        ("decrypt", decrypt(&auth)),
    ] {
        let (code, error) = host.err(command, args.clone());
        assert_eq!(code, "SESSION_PURPOSE_MISMATCH", "{command} {args}: {error}");
    }
    for s in [raw, structured, auth, dec] {
        host.ok("logout", json!({"session": s}));
    }
    assert!(host.finish().success());
}

/// Issue #19, finding 4: after a signature with key 01 (the token logged in), a login for
/// key 02 on the same token with a wrong PIN must fail, not ride on the live login.
#[test]
fn a_second_login_on_a_logged_in_token_has_its_pin_checked() {
    let kit = Kit::make("make-token.sh", "relogin");
    let mut host = Host::spawn(&kit);
    let data = tmp("relogin.txt");
    std::fs::write(&data, b"deliberation 2026-119").unwrap();
    let digest = common::openssl_digest("sha256", &data);
    let sign = |s: &str| json!({"session": s, "digest": b64(&digest), "hash": "sha256", "scheme": "rsa-pkcs1"});

    let first = host.login(&kit.fingerprint("01"), PIN, "sign-raw");
    host.ok("sign", sign(&first));
    let (code, error) =
        host.err("login", json!({"certificate": kit.fingerprint("02"), "pin": "0000", "purpose": "authenticate"}));
    assert_eq!(code, "PIN_INCORRECT", "{error}");
    assert_eq!(error["function"], "C_Login");
    // Checking that PIN logged the token out: the first session ended with it.
    let (code, _) = host.err("sign", sign(&first));
    assert_eq!(code, "SESSION_NOT_FOUND");

    // The right PIN for both keys: one token login, both sessions live.
    let first = host.login(&kit.fingerprint("01"), PIN, "sign-raw");
    let second = host.login(&kit.fingerprint("02"), PIN, "authenticate");
    let r = host.ok("sign", sign(&first));
    assert!(openssl_verify("sha256", &kit.pki("01.pub.pem"), &data, &unb64(r["signature"].as_str().unwrap()), &[]));
    host.ok("authenticate", json!({"session": second, "origin": SITE_A, "challengeNonce": b64(&[5u8; 33])}));
    // The same key again with a wrong PIN: refused too, and both end.
    let (code, _) =
        host.err("login", json!({"certificate": kit.fingerprint("01"), "pin": "12345", "purpose": "sign-raw"}));
    assert_eq!(code, "PIN_INCORRECT");
    assert_eq!(host.err("sign", sign(&first)).0, "SESSION_NOT_FOUND");
    let args = json!({"session": second, "origin": SITE_A, "challengeNonce": b64(&[5u8; 33])});
    assert_eq!(host.err("authenticate", args).0, "SESSION_NOT_FOUND");
    assert!(host.finish().success());
}

/// A PIN sent as a number (or any non-string) is never quoted back, in the answer or in the
/// log, whatever the log level.
#[test]
fn a_pin_of_the_wrong_type_is_never_echoed_or_logged() {
    let kit = &demo();
    let log = tmp("pin-echo.log");
    let _ = std::fs::remove_file(&log);
    let mut child = kit
        .command()
        .arg("native")
        .env("PARAPHE_LOG", "debug")
        .env("PARAPHE_LOG_FILE", &log)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take().unwrap());
    let mut host = Host::from_parts(child, stdin, stdout);
    let fp = kit.fingerprint("01");
    for pin in [json!(918_273), json!(918_273.5), json!([918_273]), json!({"918273": true}), json!("918273\u{7}")] {
        let (code, error) = host.err("login", json!({"certificate": fp, "pin": pin, "purpose": "sign-raw"}));
        assert_eq!(code, "INVALID_ARGUMENT");
        assert!(!error.to_string().contains("918273"), "{error}");
    }
    let (code, error) = host.err("login", json!({"certificate": fp, "pin": "918273", "purpose": "sign-raw"}));
    assert_eq!(code, "PIN_INCORRECT", "{error}");
    assert!(host.finish().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("failed"), "the failures are logged: {text}");
    assert!(!text.contains("918273"), "{text}");
}

/// Whatever goes wrong when the token unwraps a key, the answer is the same: no padding
/// oracle. Only what does not depend on the data (mechanism, session) differs.
#[test]
fn every_unwrap_failure_looks_the_same() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let session = host.login(&kit.fingerprint("03"), PIN, "decrypt");
    let wrapped_for = |id: &str, opts: &[&str]| -> Vec<u8> {
        let cek = tmp("oracle-cek.bin");
        std::fs::write(&cek, [9u8; 16]).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkeyutl", "-encrypt", "-certin", "-inkey"])
            .arg(kit.pki(&format!("{id}.crt")))
            .arg("-in")
            .arg(&cek)
            .args(opts)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let oaep = ["-pkeyopt", "rsa_padding_mode:oaep"];
    let mut flipped = wrapped_for("03", &[]);
    flipped[100] ^= 0x40;
    let inputs = [
        ("pkcs1, another key's", wrapped_for("01", &[]), "rsa-pkcs1"),
        ("pkcs1, random", vec![0x5a; 256], "rsa-pkcs1"),
        ("pkcs1, altered", flipped, "rsa-pkcs1"),
        ("pkcs1, zeros", vec![0; 256], "rsa-pkcs1"),
        ("pkcs1, short", vec![0x5a; 255], "rsa-pkcs1"),
        ("pkcs1, long", vec![0x5a; 257], "rsa-pkcs1"),
        ("pkcs1, one byte", vec![1], "rsa-pkcs1"),
        ("pkcs1, above the modulus", vec![0xff; 256], "rsa-pkcs1"),
        ("oaep, another key's", wrapped_for("01", &oaep), "rsa-oaep"),
        ("oaep, pkcs1 padding", wrapped_for("03", &[]), "rsa-oaep"),
        ("oaep, random", vec![0x5a; 256], "rsa-oaep"),
        ("oaep, short", vec![0x5a; 128], "rsa-oaep"),
    ];
    let mut answers = Vec::new();
    for (what, data, scheme) in &inputs {
        let resp = host.call("decrypt", json!({"session": session, "data": b64(data), "scheme": scheme}));
        // A block that decrypts to a valid padding by chance (about 1 in 100 000 for the
        // random PKCS#1 ones, with fresh keys each run) is not a failure to compare.
        if let Some(error) = resp.get("error") {
            answers.push((what, error.clone()));
        }
    }
    assert!(answers.len() >= 6, "{answers:?}");
    let first = answers[0].1.clone();
    assert_eq!(first["code"], "TOKEN_ERROR", "{first}");
    assert_eq!(first["function"], "C_Decrypt", "{first}");
    for (what, error) in &answers {
        assert_eq!(error, &first, "{what}");
    }
    // The right input still works, and a mechanism the token lacks is told apart (it does
    // not depend on the data).
    let ok =
        host.ok("decrypt", json!({"session": session, "data": b64(&wrapped_for("03", &[])), "scheme": "rsa-pkcs1"}));
    assert_eq!(unb64(ok["plaintext"].as_str().unwrap()), [9u8; 16]);
    let (code, _) = host.err(
        "decrypt",
        json!({"session": session, "data": b64(&[1; 256]), "scheme": "rsa-oaep", "oaepHash": "sha256"}),
    );
    assert_eq!(code, "MECHANISM_NOT_SUPPORTED");
    host.ok("logout", json!({"session": session}));
    assert!(host.finish().success());
}
