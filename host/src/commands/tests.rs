//! The command layer on the token double (`token::double`): requests in as frames, answers
//! out as the wire has them, so dispatch, the error mapping (`dispatch::to_wire`), login
//! purposes, expiry, card removal and the module worker's deadlines are all in the path.
//! The same rules against real tokens: `host/tests/` (SoftHSM, the virtual card).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::dispatch::Host;
use crate::error::Error;
use crate::token::double::{self, TestKey, TestToken, EC_SIGNING, PIN, RSA_AUTHENTICATION, RSA_ENCRYPTION};
use crate::token::monitor::CardEvent;
use crate::token::worker::Deadlines;
use crate::token::KeyType;
use cryptoki::context::Function;
use cryptoki::error::RvError;
use paraphe_formats::x509;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A host on the double, and the double to script it.
fn host_on(token: &TestToken) -> Host {
    Host::new(Box::new(token.clone()), "test", Vec::new())
}

fn fp(der: &[u8]) -> String {
    x509::fingerprint(der)
}

fn b64(bytes: &[u8]) -> String {
    super::encode_b64(bytes)
}

/// The answer to `command` as the wire has it.
fn call_at(host: &mut Host, command: &str, arguments: Value, now: Instant) -> Value {
    let frame = json!({"id": 7, "command": command, "arguments": arguments}).to_string();
    serde_json::to_value(host.handle_at(frame.as_bytes(), now)).unwrap()
}

fn call(host: &mut Host, command: &str, arguments: Value) -> Value {
    call_at(host, command, arguments, Instant::now())
}

fn ok(host: &mut Host, command: &str, arguments: Value) -> Value {
    let answer = call(host, command, arguments);
    assert!(answer["error"].is_null(), "{command}: {answer}");
    answer["result"].clone()
}

/// The error code of `answer` (`ok` when there is none).
fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("ok")
}

fn login(host: &mut Host, certificate: &[u8], purpose: &str) -> String {
    let result = ok(host, "login", json!({"certificate": fp(certificate), "pin": PIN, "purpose": purpose}));
    result["session"].as_str().unwrap().to_owned()
}

fn sign_ecdsa(session: &str) -> Value {
    json!({"session": session, "digest": b64(&[5; 32]), "hash": "sha256", "scheme": "ecdsa"})
}

#[test]
fn requests_that_never_reach_the_token() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let answer: Value = serde_json::to_value(host.handle(b"{\"id\": 3, \"command\": ")).unwrap();
    assert_eq!((code(&answer), answer["id"].as_u64()), ("INVALID_JSON", None));
    let answer: Value = serde_json::to_value(host.handle(br#"{"id": 3, "command": 4}"#)).unwrap();
    assert_eq!((code(&answer), answer["id"].as_u64()), ("INVALID_JSON", Some(3)));
    assert_eq!(code(&call(&mut host, "format-disk", json!({}))), "UNKNOWN_COMMAND");
    assert_eq!(code(&call(&mut host, "sign", json!({"session": 1}))), "INVALID_ARGUMENT");
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa("s1"))), "SESSION_NOT_FOUND");
    let short = json!({"session": "s1", "digest": b64(&[5; 20]), "hash": "sha256", "scheme": "ecdsa"});
    assert_eq!(code(&call(&mut host, "sign", short)), "DIGEST_LENGTH_MISMATCH");
    assert_eq!(ok(&mut host, "hello", json!({}))["caller"], "test");
    assert!(token.journal().is_empty(), "{:?}", token.journal());
}

#[test]
fn status_and_certificates_come_from_the_backend() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let list = ok(&mut host, "list-certificates", json!({}));
    let fingerprints: Vec<&str> =
        list["certificates"].as_array().unwrap().iter().map(|c| c["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(fingerprints, [fp(RSA_AUTHENTICATION), fp(EC_SIGNING), fp(RSA_ENCRYPTION)]);
    assert_eq!(list["tokens"].as_array().map(Vec::len), Some(1));
    token.fail_next("tokens", Error::pkcs11(RvError::DeviceError, Function::GetTokenInfo));
    let answer = call(&mut host, "status", json!({}));
    assert_eq!(code(&answer), "TOKEN_ERROR");
    assert_eq!(answer["error"]["function"], "C_GetTokenInfo");
}

/// What each certificate may be logged in for; a refusal comes before the PIN is checked.
#[test]
fn login_purposes_follow_the_certificate() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    for (certificate, purpose, want) in [
        (RSA_AUTHENTICATION, "authenticate", "ok"),
        (RSA_AUTHENTICATION, "sign-structured", "ok"),
        (RSA_AUTHENTICATION, "sign-raw", "RAW_SIGNATURE_REFUSED"),
        (RSA_AUTHENTICATION, "decrypt", "KEY_USAGE_NOT_ALLOWED"),
        (EC_SIGNING, "sign-raw", "ok"),
        (EC_SIGNING, "sign-structured", "ok"),
        (EC_SIGNING, "authenticate", "KEY_USAGE_NOT_ALLOWED"),
        (EC_SIGNING, "decrypt", "KEY_USAGE_NOT_ALLOWED"),
        (RSA_ENCRYPTION, "decrypt", "ok"),
        (RSA_ENCRYPTION, "sign-raw", "KEY_USAGE_NOT_ALLOWED"),
        (RSA_ENCRYPTION, "authenticate", "KEY_USAGE_NOT_ALLOWED"),
    ] {
        // A wrong PIN shows the refusal came first: it would say PIN_INCORRECT.
        let pin = if want == "ok" { PIN } else { "999999" };
        let answer = call(&mut host, "login", json!({"certificate": fp(certificate), "pin": pin, "purpose": purpose}));
        assert_eq!(code(&answer), want, "{purpose}: {answer}");
        if let Some(s) = answer["result"]["session"].as_str() {
            ok(&mut host, "logout", json!({"session": s}));
        }
    }
    assert_eq!(token.logged_in(), 0);
}

#[test]
fn login_failures_map_to_their_codes() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let args = |pin: Option<&str>| json!({"certificate": fp(EC_SIGNING), "pin": pin, "purpose": "sign-raw"});
    let answer = call(&mut host, "login", args(Some("999999")));
    assert_eq!(code(&answer), "PIN_INCORRECT");
    assert_eq!(answer["error"]["function"], "C_Login");
    assert_eq!(answer["error"]["pin"]["countLow"], true);
    assert!(!answer.to_string().contains("999999"));
    assert_eq!(code(&call(&mut host, "login", args(None))), "PIN_REQUIRED");
    let unknown = json!({"certificate": "ab".repeat(32), "pin": PIN, "purpose": "sign-raw"});
    assert_eq!(code(&call(&mut host, "login", unknown)), "CERTIFICATE_NOT_FOUND");
    let short = json!({"certificate": "abcd", "pin": PIN, "purpose": "sign-raw"});
    assert_eq!(code(&call(&mut host, "login", short)), "INVALID_ARGUMENT");
    let ttl = json!({"certificate": fp(EC_SIGNING), "pin": PIN, "purpose": "sign-raw", "ttlSeconds": 0});
    assert_eq!(code(&call(&mut host, "login", ttl)), "INVALID_ARGUMENT");
    assert_eq!(token.logged_in(), 0);
    assert!(token.journal().iter().all(|l| !l.contains(PIN) && !l.contains("999999")), "{:?}", token.journal());
}

/// A session serves only the commands of its purpose, with the checks of each command.
#[test]
fn a_session_serves_only_its_purpose() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    let auth = login(&mut host, RSA_AUTHENTICATION, "authenticate");
    let structured = login(&mut host, RSA_AUTHENTICATION, "sign-structured");
    let dec = login(&mut host, RSA_ENCRYPTION, "decrypt");
    let decrypt = |s: &str| json!({"session": s, "data": b64(&[1; 256]), "scheme": "rsa-pkcs1"});
    let authenticate =
        |s: &str| json!({"session": s, "origin": "https://portail.example", "challengeNonce": b64(&[42; 33])});

    // ECDSA comes out as the token made it (r ‖ s) unless DER is asked for.
    assert_eq!(ok(&mut host, "sign", sign_ecdsa(&raw))["signature"], b64(&[0x11; 64]));
    let mut der_args = sign_ecdsa(&raw);
    der_args["ecdsaEncoding"] = json!("der");
    let der = ok(&mut host, "sign", der_args)["signature"].as_str().unwrap().to_owned();
    assert!(der.starts_with("MEQCIBER"), "{der}");
    let sha1 = json!({"session": raw, "digest": b64(&[5; 20]), "hash": "sha1", "scheme": "ecdsa"});
    assert_eq!(code(&call(&mut host, "sign", sha1)), "UNSUPPORTED_ALGORITHM");
    let rsa_on_ec = json!({"session": raw, "digest": b64(&[5; 32]), "hash": "sha256", "scheme": "rsa-pkcs1"});
    assert_eq!(code(&call(&mut host, "sign", rsa_on_ec)), "UNSUPPORTED_ALGORITHM");
    assert_eq!(code(&call(&mut host, "decrypt", decrypt(&raw))), "SESSION_PURPOSE_MISMATCH");
    assert_eq!(code(&call(&mut host, "authenticate", authenticate(&raw))), "SESSION_PURPOSE_MISMATCH");

    let token_ = ok(&mut host, "authenticate", authenticate(&auth));
    assert_eq!((token_["algorithm"].as_str(), token_["format"].as_str()), (Some("RS256"), Some("web-eid:1.0")));
    assert_eq!(token_["unverifiedCertificate"], b64(RSA_AUTHENTICATION));
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&auth))), "SESSION_PURPOSE_MISMATCH");
    let bad_origin = json!({"session": auth, "origin": "http://portail.example", "challengeNonce": b64(&[42; 33])});
    assert_eq!(code(&call(&mut host, "authenticate", bad_origin)), "INVALID_ARGUMENT");

    let pss = json!({"session": structured, "digest": b64(&[5; 48]), "hash": "sha384", "scheme": "rsa-pss"});
    assert_eq!(ok(&mut host, "sign", pss)["signature"], b64(&[0x22; 256]));
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&structured))), "UNSUPPORTED_ALGORITHM");
    assert_eq!(code(&call(&mut host, "authenticate", authenticate(&structured))), "SESSION_PURPOSE_MISMATCH");

    assert_eq!(ok(&mut host, "decrypt", decrypt(&dec))["plaintext"], b64(&[0x33; 32]));
    let oaep = json!({"session": dec, "data": b64(&[1; 256]), "scheme": "rsa-pkcs1", "oaepHash": "sha256"});
    assert_eq!(code(&call(&mut host, "decrypt", oaep)), "INVALID_ARGUMENT");
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&dec))), "SESSION_PURPOSE_MISMATCH");

    let journal = token.journal();
    assert!(journal.contains(&"sign 1 Ecdsa 32 bytes".to_owned()), "{journal:?}");
    assert!(journal.contains(&"sign 3 RsaPss(Sha384) 48 bytes".to_owned()), "{journal:?}");
}

/// Token errors reach the wire through `to_wire`; those of `C_Decrypt` that depend on the
/// data all say the same (no padding oracle).
#[test]
fn token_errors_map_to_wire_codes() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    let dec = login(&mut host, RSA_ENCRYPTION, "decrypt");
    let pkcs11 = Error::pkcs11;
    for (rv, want) in [
        (RvError::FunctionCanceled, "USER_CANCELLED"),
        (RvError::UserNotLoggedIn, "SESSION_NOT_FOUND"),
        (RvError::KeyFunctionNotPermitted, "KEY_USAGE_NOT_ALLOWED"),
        (RvError::MechanismInvalid, "MECHANISM_NOT_SUPPORTED"),
        (RvError::GeneralError, "TOKEN_ERROR"),
    ] {
        token.fail_next("sign", pkcs11(rv, Function::Sign));
        let answer = call(&mut host, "sign", sign_ecdsa(&raw));
        assert_eq!(code(&answer), want, "{rv:?}: {answer}");
        assert_eq!(answer["error"]["function"], "C_Sign");
    }
    let decrypt = json!({"session": dec, "data": b64(&[1; 256]), "scheme": "rsa-oaep", "oaepHash": "sha256"});
    let mut unwrap_messages = Vec::new();
    for rv in [RvError::EncryptedDataInvalid, RvError::EncryptedDataLenRange, RvError::GeneralError] {
        token.fail_next("decrypt", pkcs11(rv, Function::Decrypt));
        let answer = call(&mut host, "decrypt", decrypt.clone());
        assert_eq!((code(&answer), answer["error"]["function"].as_str()), ("TOKEN_ERROR", Some("C_Decrypt")));
        unwrap_messages.push(answer["error"]["message"].clone());
    }
    assert!(unwrap_messages.windows(2).all(|w| w[0] == w[1]), "{unwrap_messages:?}");
    token.fail_next("decrypt", pkcs11(RvError::ArgumentsBad, Function::DecryptInit));
    assert_eq!(code(&call(&mut host, "decrypt", decrypt.clone())), "MECHANISM_NOT_SUPPORTED");
    token.fail_next("decrypt", pkcs11(RvError::DeviceRemoved, Function::Decrypt));
    assert_eq!(code(&call(&mut host, "decrypt", decrypt.clone())), "TOKEN_NOT_PRESENT");
    // The token's sessions went with the card: every session on it is forgotten, closed
    // without a logout.
    assert_eq!(code(&call(&mut host, "decrypt", decrypt)), "SESSION_NOT_FOUND");
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&raw))), "SESSION_NOT_FOUND");
    assert_eq!(token.logged_in(), 0);
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    token.fail_next("sign", pkcs11(RvError::DeviceRemoved, Function::Sign));
    let answer = call(&mut host, "sign", sign_ecdsa(&raw));
    assert_eq!((code(&answer), answer["error"]["function"].as_str()), ("TOKEN_NOT_PRESENT", Some("C_Sign")));
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&raw))), "SESSION_NOT_FOUND");
    assert!(!token.journal().iter().any(|l| l.starts_with("logout")), "{:?}", token.journal());
}

#[test]
fn logout_ends_the_session_and_the_token_login() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    ok(&mut host, "logout", json!({"session": raw}));
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&raw))), "SESSION_NOT_FOUND");
    // An unknown or ended session is no error.
    ok(&mut host, "logout", json!({"session": raw}));
    assert_eq!(token.journal().iter().filter(|l| l.starts_with("logout")).count(), 1, "{:?}", token.journal());
    assert_eq!(token.logged_in(), 0);
    // The end of the conversation ends what is left.
    let _a = login(&mut host, EC_SIGNING, "sign-raw");
    let _b = login(&mut host, RSA_ENCRYPTION, "decrypt");
    host.end_all_sessions();
    assert_eq!(token.logged_in(), 0);
    assert_eq!(host.sessions().len(), 0);
}

#[test]
fn a_session_ends_when_its_time_to_live_has_passed() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let args = json!({"certificate": fp(EC_SIGNING), "pin": PIN, "purpose": "sign-raw", "ttlSeconds": 60});
    let s = ok(&mut host, "login", args)["session"].as_str().unwrap().to_owned();
    let forever = login(&mut host, EC_SIGNING, "sign-raw");
    let now = Instant::now();
    assert_eq!(code(&call_at(&mut host, "sign", sign_ecdsa(&s), now + Duration::from_secs(59))), "ok");
    let later = now + Duration::from_secs(61);
    assert_eq!(code(&call_at(&mut host, "sign", sign_ecdsa(&s), later)), "SESSION_NOT_FOUND");
    assert_eq!(code(&call_at(&mut host, "sign", sign_ecdsa(&forever), later)), "ok");
    assert_eq!(token.logged_in(), 1, "the expired session's key was logged out");
}

#[test]
fn a_removed_card_ends_its_sessions_without_a_logout() {
    let mut keys = vec![TestKey::new(EC_SIGNING, KeyType::Ec), TestKey::new(RSA_ENCRYPTION, KeyType::Rsa)];
    keys[1].token = 1;
    let token = TestToken::with(keys);
    let mut host = host_on(&token);
    let on_0 = login(&mut host, EC_SIGNING, "sign-raw");
    let on_1 = login(&mut host, RSA_ENCRYPTION, "decrypt");
    token.remove(0);
    host.on_card_event(&CardEvent::CardRemoved { reader: double::reader(0) });
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&on_0))), "SESSION_NOT_FOUND");
    let decrypt = json!({"session": on_1, "data": b64(&[1; 256]), "scheme": "rsa-pkcs1"});
    assert_eq!(code(&call(&mut host, "decrypt", decrypt)), "ok");
    assert!(!token.journal().iter().any(|l| l.starts_with("logout")), "{:?}", token.journal());
    // Put back, the card needs a new login.
    let status = ok(&mut host, "status", json!({}));
    assert_eq!(status["tokens"].as_array().map(Vec::len), Some(1));
}

/// Always-authenticate keys: the session keeps the PIN and gives it along at every use.
#[test]
fn an_always_authenticate_key_gets_the_kept_pin() {
    let mut key = TestKey::new(EC_SIGNING, KeyType::Ec);
    key.always_authenticate = true;
    let token = TestToken::with(vec![key]);
    let mut host = host_on(&token);
    let answer = call(&mut host, "login", json!({"certificate": fp(EC_SIGNING), "pin": PIN, "purpose": "sign-raw"}));
    assert_eq!(answer["result"]["alwaysAuthenticate"], true);
    let s = answer["result"]["session"].as_str().unwrap();
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(s))), "ok");
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(s))), "ok");
}

fn short() -> Deadlines {
    Deadlines { call_ms: 50, pin_pad_ms: 50, removed_ms: 10 }
}

/// A module call past its deadline: `MODULE_NOT_RESPONDING`, and every later request fails
/// at once (the worker is never joined).
#[test]
fn a_stuck_module_call_wedges_the_host() {
    let token = TestToken::three_keys();
    let mut host = Host::on_worker(Box::new(token.clone()), short(), "test", Vec::new());
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    let _stuck = token.hold("sign");
    let answer = call(&mut host, "sign", sign_ecdsa(&raw));
    assert_eq!(code(&answer), "MODULE_NOT_RESPONDING", "{answer}");
    assert!(host.wedged().is_some());
    assert_eq!(code(&call(&mut host, "status", json!({}))), "MODULE_NOT_RESPONDING");
    assert_eq!(code(&call(&mut host, "list-certificates", json!({}))), "MODULE_NOT_RESPONDING");
}

/// A removal of the call's card shortens its deadline from the long one to `removed_ms`.
#[test]
fn a_removed_card_shortens_the_deadline() {
    let token = TestToken::three_keys();
    let long = Deadlines { call_ms: 600_000, pin_pad_ms: 600_000, removed_ms: 10 };
    let mut host = Host::on_worker(Box::new(token.clone()), long, "test", Vec::new());
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    let _stuck = token.hold("sign");
    host.signals().card_removed(&double::reader(0));
    let answer = call(&mut host, "sign", sign_ecdsa(&raw));
    assert_eq!(code(&answer), "MODULE_NOT_RESPONDING", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("after its card was removed"), "{answer}");
}

/// The end of the input (the browser closed the port) ends a waiting call.
#[test]
fn the_end_of_input_ends_a_waiting_login() {
    let token = TestToken::three_keys();
    let long = Deadlines { call_ms: 600_000, pin_pad_ms: 600_000, removed_ms: 600_000 };
    let mut host = Host::on_worker(Box::new(token.clone()), long, "test", Vec::new());
    let _stuck = token.hold("login");
    host.signals().input_ended();
    let answer = call(&mut host, "login", json!({"certificate": fp(EC_SIGNING), "pin": PIN, "purpose": "sign-raw"}));
    assert_eq!(code(&answer), "MODULE_NOT_RESPONDING", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("input ended"), "{answer}");
}

/// A token error while the card is leaving says `TOKEN_NOT_PRESENT` (module worker).
#[test]
fn a_token_error_on_a_removed_card_says_not_present() {
    let token = TestToken::three_keys();
    let mut host = Host::on_worker(Box::new(token.clone()), Deadlines::default(), "test", Vec::new());
    let raw = login(&mut host, EC_SIGNING, "sign-raw");
    host.signals().card_removed(&double::reader(0));
    token.fail_next("sign", Error::pkcs11(RvError::GeneralError, Function::Sign));
    let answer = call(&mut host, "sign", sign_ecdsa(&raw));
    assert_eq!(code(&answer), "TOKEN_NOT_PRESENT", "{answer}");
}

/// Every PIN is judged by the token: the very PIN of the token's live login needs no
/// `C_Login`; another one ends the token's other sessions (the last one logging the token
/// out) and goes to the token, whatever the outcome. Other tokens are left alone.
#[test]
fn a_second_login_on_a_logged_in_token_has_its_pin_judged() {
    let mut keys = vec![
        TestKey::new(EC_SIGNING, KeyType::Ec),
        TestKey::new(RSA_AUTHENTICATION, KeyType::Rsa),
        TestKey::new(RSA_ENCRYPTION, KeyType::Rsa),
    ];
    keys[2].token = 1;
    let token = TestToken::with(keys);
    let mut host = host_on(&token);
    let first = login(&mut host, EC_SIGNING, "sign-raw");
    let same = login(&mut host, RSA_AUTHENTICATION, "authenticate");
    let elsewhere = login(&mut host, RSA_ENCRYPTION, "decrypt");
    let logins: Vec<String> = token.journal().into_iter().filter(|l| l.starts_with("login")).collect();
    assert!(logins[0].ends_with(" pin") && logins[1].ends_with(" live") && logins[2].ends_with(" pin"), "{logins:?}");
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&first))), "ok");

    let wrong = json!({"certificate": fp(RSA_AUTHENTICATION), "pin": "999999", "purpose": "authenticate"});
    assert_eq!(code(&call(&mut host, "login", wrong)), "PIN_INCORRECT");
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&first))), "SESSION_NOT_FOUND");
    let authenticate = json!({"session": same, "origin": "https://portail.example", "challengeNonce": b64(&[42; 33])});
    assert_eq!(code(&call(&mut host, "authenticate", authenticate)), "SESSION_NOT_FOUND");
    let journal = token.journal();
    assert_eq!(journal.iter().filter(|l| l.starts_with("logout")).count(), 1, "{journal:?}");
    let decrypt = json!({"session": elsewhere, "data": b64(&[1; 256]), "scheme": "rsa-pkcs1"});
    assert_eq!(code(&call(&mut host, "decrypt", decrypt)), "ok");
    assert_eq!(token.logged_in(), 1);
    // The right PIN now goes to the token again (it is logged out).
    login(&mut host, EC_SIGNING, "sign-raw");
    assert!(token.journal().last().is_some_and(|l| l.ends_with(" pin")), "{:?}", token.journal());
}

/// `login`'s hint (the certificate's token and CKA_ID from `list-certificates`): the one
/// certificate there is read; a hint that leads elsewhere is ignored (every token searched);
/// a malformed one is refused before the token is touched.
#[test]
fn a_login_hint_reads_one_certificate_and_never_decides() {
    let token = TestToken::three_keys();
    let mut host = host_on(&token);
    let list = ok(&mut host, "list-certificates", json!({}));
    let entry = list["certificates"].as_array().unwrap().iter().find(|c| c["fingerprint"] == fp(EC_SIGNING)).unwrap();
    let hint = json!({"token": entry["token"], "ckaId": entry["ckaId"]});
    assert_eq!((hint["token"].as_str(), hint["ckaId"].as_str()), (Some("test-token-0"), Some("01")));
    let before = token.certificates_read();
    let args = |hint: Value| json!({"certificate": fp(EC_SIGNING), "pin": PIN, "purpose": "sign-raw", "hint": hint});
    let s = ok(&mut host, "login", args(hint))["session"].as_str().unwrap().to_owned();
    assert_eq!(token.certificates_read() - before, 1);
    assert_eq!(code(&call(&mut host, "sign", sign_ecdsa(&s))), "ok");
    // The hint names another key's CKA_ID: the fingerprint decides.
    let before = token.certificates_read();
    let s = ok(&mut host, "login", args(json!({"token": "test-token-0", "ckaId": "00"})))["session"].clone();
    assert!(s.is_string());
    assert_eq!(token.certificates_read() - before, 3);
    assert!(token.journal().iter().any(|l| l.starts_with("find") && l.ends_with(" hint")), "{:?}", token.journal());
    let finds = token.journal().iter().filter(|l| l.starts_with("find")).count();
    for bad in [
        json!({"token": "", "ckaId": "01"}),
        json!({"token": "test token", "ckaId": "01"}),
        json!({"token": "ab", "ckaId": "0"}),
        json!({"token": "ab", "ckaId": "zz"}),
        json!({"token": "ab"}),
        json!({"token": "ab", "ckaId": "01", "slot": 1}),
        json!("ab:01"),
    ] {
        let answer = call(&mut host, "login", args(bad.clone()));
        assert_eq!(code(&answer), "INVALID_ARGUMENT", "{bad}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains("hint"), "{bad}: {answer}");
    }
    assert_eq!(token.journal().iter().filter(|l| l.starts_with("find")).count(), finds);
}
