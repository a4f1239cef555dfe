//! The built host, spawned as a browser spawns it and spoken to over real framing, against
//! a SoftHSM token made by the test kit. Every signature is verified by openssl.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{b64, demo, openssl_digest, openssl_verify, tmp, unb64, Host, Kit, PIN};
use paraphe_formats::ecdsa::raw_to_der;
use serde_json::json;

#[test]
fn hello_comes_first_and_names_the_browser() {
    let kit = &demo();
    let host = Host::spawn(kit);
    assert_eq!(host.hello["event"], "hello");
    assert_eq!(host.hello["data"]["protocol"], 1);
    assert_eq!(host.hello["data"]["caller"], "chromium");
    assert!(host.finish().success());

    let ff =
        Host::spawn_with(kit, &["/home/u/.mozilla/native-messaging-hosts/fr.paraphe.host.json", "paraphe@paraphe.fr"]);
    assert_eq!(ff.hello["data"]["caller"], "firefox");
    assert!(ff.finish().success());
}

#[test]
fn lists_certificates_with_the_facts_users_choose_by() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let list = host.ok("list-certificates", json!({}));
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 4, "{list}");
    let by_id = |id: &str| certs.iter().find(|c| c["ckaId"] == id).unwrap().clone();

    let sign = by_id("01");
    assert_eq!(sign["fingerprint"], kit.fingerprint("01"));
    assert_eq!(sign["tokenLabel"], "Paraphe Demo");
    assert_eq!(sign["info"]["usages"], json!(["signing"]));
    assert_eq!(sign["info"]["keyUsage"], json!(["nonRepudiation"]));
    assert_eq!(sign["info"]["rgsLevel"], "**");
    assert_eq!(sign["info"]["qualified"]["qcCompliance"], true);
    assert_eq!(sign["info"]["qualified"]["qcSscd"], true);
    assert_eq!(sign["info"]["qualified"]["qcTypes"], json!(["esign"]));
    assert_eq!(sign["info"]["keyType"], "RSA");
    assert_eq!(sign["info"]["keyBits"], 2048);
    assert_eq!(sign["info"]["subjectCommonName"], "Camille Martin");
    assert_eq!(sign["info"]["issuerCommonName"], "AC Racine Paraphe Test");
    // SoftHSM keys are private objects: visible only after login.
    assert_eq!(sign["privateKey"], "hidden-until-login");

    let auth = by_id("02");
    assert_eq!(auth["info"]["usages"], json!(["authentication"]));
    assert!(auth["info"]["extendedKeyUsage"].as_array().unwrap().contains(&json!("clientAuth")));
    assert_eq!(by_id("03")["info"]["usages"], json!(["encryption"]));
    let ec = by_id("04");
    assert_eq!(ec["info"]["keyType"], "EC");
    assert_eq!(ec["info"]["curve"], "P-256");

    // Once logged in, the key shows, with its always-authenticate flag.
    let session = host.login(&kit.fingerprint("04"), PIN, "sign-raw");
    let list = host.ok("list-certificates", json!({}));
    let ec = list["certificates"].as_array().unwrap().iter().find(|c| c["ckaId"] == "04").unwrap().clone();
    assert_eq!(ec["privateKey"], "present");
    assert_eq!(ec["alwaysAuthenticate"], true);
    host.ok("logout", json!({"session": session}));

    let status = host.ok("status", json!({}));
    assert_eq!(status["modules"][0]["loaded"], true);
    assert_eq!(status["tokens"].as_array().unwrap().len(), 1, "uninitialised slots are not tokens");
    assert!(host.finish().success());
}

#[test]
fn signs_with_every_algorithm_and_openssl_verifies() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let data = tmp("document.pdf");
    std::fs::write(&data, b"%PDF-1.7 deliberation n 2026-118 du conseil municipal").unwrap();

    // SHA-1 only for structured signatures (legacy CMS, PES): a sign-structured session.
    let rsa = host.login(&kit.fingerprint("01"), PIN, "sign-structured");
    let rsa_pub = kit.pki("01.pub.pem");
    for hash in ["sha1", "sha256", "sha384", "sha512"] {
        let digest = openssl_digest(hash, &data);
        let r = host.ok("sign", json!({"session": rsa, "digest": b64(&digest), "hash": hash, "scheme": "rsa-pkcs1"}));
        let sig = unb64(r["signature"].as_str().unwrap());
        assert_eq!(sig.len(), 256);
        assert!(openssl_verify(hash, &rsa_pub, &data, &sig, &[]), "rsa-pkcs1 {hash}");
        if hash == "sha1" {
            continue;
        }
        let r = host.ok("sign", json!({"session": rsa, "digest": b64(&digest), "hash": hash, "scheme": "rsa-pss"}));
        let sig = unb64(r["signature"].as_str().unwrap());
        let pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"];
        assert!(openssl_verify(hash, &rsa_pub, &data, &sig, &pss), "rsa-pss {hash}");
    }
    host.ok("logout", json!({"session": rsa}));
    // A raw SHA-1 digest, which a page chose, is refused.
    let raw = host.login(&kit.fingerprint("01"), PIN, "sign-raw");
    let sha1 = openssl_digest("sha1", &data);
    let (code, error) =
        host.err("sign", json!({"session": raw, "digest": b64(&sha1), "hash": "sha1", "scheme": "rsa-pkcs1"}));
    assert_eq!(code, "UNSUPPORTED_ALGORITHM", "{error}");
    assert!(error["message"].as_str().unwrap().contains("SHA-1"), "{error}");
    host.ok("logout", json!({"session": raw}));

    // Key 04 has CKA_ALWAYS_AUTHENTICATE: each signature needs the context-specific login.
    let ec = host.login(&kit.fingerprint("04"), PIN, "sign-raw");
    let ec_pub = kit.pki("04.pub.pem");
    for hash in ["sha256", "sha384", "sha512"] {
        let digest = openssl_digest(hash, &data);
        let r = host.ok(
            "sign",
            json!({"session": ec, "digest": b64(&digest), "hash": hash, "scheme": "ecdsa", "ecdsaEncoding": "der"}),
        );
        assert!(
            openssl_verify(hash, &ec_pub, &data, &unb64(r["signature"].as_str().unwrap()), &[]),
            "ecdsa der {hash}"
        );
        let r = host.ok("sign", json!({"session": ec, "digest": b64(&digest), "hash": hash, "scheme": "ecdsa"}));
        let raw = unb64(r["signature"].as_str().unwrap());
        assert_eq!(raw.len(), 64, "P-256 raw r||s");
        assert!(openssl_verify(hash, &ec_pub, &data, &raw_to_der(&raw).unwrap(), &[]), "ecdsa raw {hash}");
    }
    host.ok("logout", json!({"session": ec}));
    assert!(host.finish().success());
}

#[test]
fn a_batch_is_one_login_then_many_signatures() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let session = host.login(&kit.fingerprint("01"), PIN, "sign-raw");
    let data = tmp("batch.txt");
    for i in 0..25 {
        std::fs::write(&data, format!("document {i}")).unwrap();
        let digest = openssl_digest("sha256", &data);
        let r = host
            .ok("sign", json!({"session": session, "digest": b64(&digest), "hash": "sha256", "scheme": "rsa-pkcs1"}));
        assert!(openssl_verify("sha256", &kit.pki("01.pub.pem"), &data, &unb64(r["signature"].as_str().unwrap()), &[]));
    }
    host.ok("logout", json!({"session": session}));
    let (code, _) =
        host.err("sign", json!({"session": session, "digest": b64(&[0; 32]), "hash": "sha256", "scheme": "rsa-pkcs1"}));
    assert_eq!(code, "SESSION_NOT_FOUND");
    assert!(host.finish().success());
}

/// `login`'s hint (token and CKA_ID as `list-certificates` gave them) on the real PKCS#11
/// backend: the certificate is found there; a hint that leads elsewhere is ignored.
#[test]
fn a_login_hint_finds_the_certificate_where_the_list_said() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let fingerprint = kit.fingerprint("01");
    let list = host.ok("list-certificates", json!({}));
    let entry = list["certificates"].as_array().unwrap().iter().find(|c| c["fingerprint"] == fingerprint).unwrap();
    let data = tmp("hint.txt");
    std::fs::write(&data, "a document").unwrap();
    let digest = openssl_digest("sha256", &data);
    for hint in
        [json!({"token": entry["token"], "ckaId": entry["ckaId"]}), json!({"token": entry["token"], "ckaId": "ff"})]
    {
        let login =
            host.ok("login", json!({"certificate": fingerprint, "pin": PIN, "purpose": "sign-raw", "hint": hint}));
        let session = login["session"].as_str().unwrap();
        let r = host
            .ok("sign", json!({"session": session, "digest": b64(&digest), "hash": "sha256", "scheme": "rsa-pkcs1"}));
        assert!(openssl_verify("sha256", &kit.pki("01.pub.pem"), &data, &unb64(r["signature"].as_str().unwrap()), &[]));
        host.ok("logout", json!({"session": session}));
    }
    assert!(host.finish().success());
}

#[test]
fn decrypts_a_wrapped_key_with_the_encryption_certificate() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let cek = tmp("cek.bin");
    std::fs::write(&cek, [7u8; 32]).unwrap();
    let session = host.login(&kit.fingerprint("03"), PIN, "decrypt");
    for (opts, args) in [
        (vec![], json!({"scheme": "rsa-pkcs1"})),
        (vec!["-pkeyopt", "rsa_padding_mode:oaep"], json!({"scheme": "rsa-oaep", "oaepHash": "sha1"})),
    ] {
        let wrapped = std::process::Command::new("openssl")
            .args(["pkeyutl", "-encrypt", "-certin", "-inkey"])
            .arg(kit.pki("03.crt"))
            .arg("-in")
            .arg(&cek)
            .args(&opts)
            .output()
            .unwrap();
        assert!(wrapped.status.success());
        let mut a = args.clone();
        a["session"] = json!(session);
        a["data"] = json!(b64(&wrapped.stdout));
        let r = host.ok("decrypt", a);
        assert_eq!(unb64(r["plaintext"].as_str().unwrap()), vec![7u8; 32], "{args}");
    }
    // SoftHSM 2.6 does OAEP with SHA-1 only: a clear error, not a crash.
    let (code, _) = host.err(
        "decrypt",
        json!({"session": session, "data": b64(&[1; 256]), "scheme": "rsa-oaep", "oaepHash": "sha256"}),
    );
    assert_eq!(code, "MECHANISM_NOT_SUPPORTED");
    // A decrypt session does not sign, and the encryption key does not sign at all.
    let (code, _) =
        host.err("sign", json!({"session": session, "digest": b64(&[0; 32]), "hash": "sha256", "scheme": "rsa-pkcs1"}));
    assert_eq!(code, "SESSION_PURPOSE_MISMATCH");
    host.ok("logout", json!({"session": session}));
    for purpose in ["sign-raw", "sign-structured", "authenticate"] {
        let (code, _) =
            host.err("login", json!({"certificate": kit.fingerprint("03"), "pin": PIN, "purpose": purpose}));
        assert_eq!(code, "KEY_USAGE_NOT_ALLOWED", "{purpose}");
    }
    assert!(host.finish().success());
}

#[test]
fn wrong_pin_is_reported_with_its_state_and_never_retried() {
    let kit = Kit::make("make-token.sh", "wrongpin");
    let mut host = Host::spawn(&kit);
    let fp = kit.fingerprint("01");
    let (code, error) = host.err("login", json!({"certificate": fp, "pin": "0000", "purpose": "sign-raw"}));
    assert_eq!(code, "PIN_INCORRECT");
    assert_eq!(error["function"], "C_Login");
    assert_eq!(error["retriable"], true);
    assert_eq!(error["pin"]["countLow"], true);
    // The host is alive and the right PIN works (and resets the counter).
    let session = host.login(&fp, PIN, "sign-raw");
    host.ok("logout", json!({"session": session}));
    let status = host.ok("status", json!({}));
    assert_eq!(status["tokens"][0]["pin"]["countLow"], false);
    assert!(host.finish().success());
}

#[test]
fn bad_inputs_get_documented_errors_and_the_host_stays_alive() {
    let kit = &demo();
    let mut host = Host::spawn(kit);

    host.send_frame(b"{not json");
    let r = host.read();
    assert_eq!(r["error"]["code"], "INVALID_JSON");
    assert_eq!(r["id"], serde_json::Value::Null);

    host.send_frame(br#"{"id": 41, "command": 5}"#);
    let r = host.read();
    assert_eq!((r["id"].clone(), r["error"]["code"].clone()), (json!(41), json!("INVALID_JSON")));

    assert_eq!(host.err("frobnicate", json!({})).0, "UNKNOWN_COMMAND");
    assert_eq!(host.err("list-certificates", json!({"verbose": true})).0, "INVALID_ARGUMENT");
    assert_eq!(
        host.err("login", json!({"certificate": "abc", "pin": PIN, "purpose": "sign-raw"})).0,
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        host.err("login", json!({"certificate": "ab".repeat(32), "pin": PIN, "purpose": "sign-raw"})).0,
        "CERTIFICATE_NOT_FOUND"
    );
    assert_eq!(
        host.err("login", json!({"certificate": kit.fingerprint("01"), "pin": "", "purpose": "sign-raw"})).0,
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        host.err("login", json!({"certificate": kit.fingerprint("01"), "purpose": "sign-raw"})).0,
        "PIN_REQUIRED"
    );
    // The PIN session policy is bounded: 1 s to 12 h.
    for ttl in [json!(0), json!(43_201), json!(4_294_967_295_u64), json!(-1), json!("3600")] {
        let (code, error) = host.err(
            "login",
            json!({"certificate": kit.fingerprint("01"), "pin": PIN, "ttlSeconds": ttl, "purpose": "sign-raw"}),
        );
        assert_eq!(code, "INVALID_ARGUMENT", "{ttl}: {error}");
    }
    let r = host.ok(
        "login",
        json!({"certificate": kit.fingerprint("01"), "pin": PIN, "ttlSeconds": 43_200, "purpose": "sign-raw"}),
    );
    host.ok("logout", json!({"session": r["session"]}));
    assert_eq!(
        host.err("login", json!({"certificate": kit.fingerprint("01"), "pin": PIN, "purpose": "sign-everything"})).0,
        "INVALID_ARGUMENT"
    );
    assert_eq!(host.err("login", json!({"certificate": kit.fingerprint("01"), "pin": PIN})).0, "INVALID_ARGUMENT");

    let session = host.login(&kit.fingerprint("01"), PIN, "sign-raw");
    let sign = |digest: Vec<u8>, hash: &str, scheme: &str| json!({"session": session, "digest": b64(&digest), "hash": hash, "scheme": scheme});
    assert_eq!(host.err("sign", sign(vec![0; 31], "sha256", "rsa-pkcs1")).0, "DIGEST_LENGTH_MISMATCH");
    assert_eq!(host.err("sign", sign(vec![0; 32], "sha384", "rsa-pkcs1")).0, "DIGEST_LENGTH_MISMATCH");
    assert_eq!(host.err("sign", sign(vec![0; 32], "md5", "rsa-pkcs1")).0, "INVALID_ARGUMENT");
    assert_eq!(host.err("sign", sign(vec![0; 32], "sha256", "ecdsa")).0, "UNSUPPORTED_ALGORITHM");
    assert_eq!(host.err("sign", sign(vec![0; 32], "sha256", "dsa")).0, "INVALID_ARGUMENT");
    assert_eq!(
        host.err("sign", json!({"session": session, "digest": "***", "hash": "sha256", "scheme": "rsa-pkcs1"})).0,
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        host.err("sign", json!({"session": "s999", "digest": b64(&[0; 32]), "hash": "sha256", "scheme": "rsa-pkcs1"}))
            .0,
        "SESSION_NOT_FOUND"
    );

    // An oversized frame is refused without being buffered, and the stream stays in step.
    let big = vec![b' '; 70 * 1024];
    host.send_frame(&big);
    let r = host.read();
    assert_eq!(r["error"]["code"], "FRAME_TOO_LARGE");
    let ok = host.ok("sign", sign(vec![1; 32], "sha256", "rsa-pkcs1"));
    assert!(ok["signature"].is_string());
    host.ok("logout", json!({"session": session}));

    // Input ending inside a frame: the host says so and exits cleanly.
    host.write_raw(&100u32.to_ne_bytes());
    host.write_raw(b"{\"id\":1");
    host.close_input();
    let r = host.read();
    assert_eq!(r["error"]["code"], "FRAME_TRUNCATED");
    assert!(host.try_read().is_none());
    assert!(host.child.wait().unwrap().success());
}

#[test]
fn truncated_length_prefix_ends_cleanly() {
    let mut host = Host::spawn(&demo());
    host.write_raw(&[5, 0]);
    host.close_input();
    assert_eq!(host.read()["error"]["code"], "FRAME_TRUNCATED");
    assert!(host.child.wait().unwrap().success());
}

#[test]
fn a_module_that_fails_to_load_is_reported_not_fatal() {
    let kit = &demo();
    let mut host = {
        let mut c = kit.command();
        c.env("PARAPHE_PKCS11_MODULES", "/nonexistent/libmissing.so");
        let mut child = c
            .arg("native")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take().unwrap());
        common::Host::from_parts(child, stdin, stdout)
    };
    let status = host.ok("status", json!({}));
    let modules = status["modules"].as_array().unwrap();
    assert_eq!(modules.len(), 2);
    assert_eq!(modules[0]["loaded"], false);
    assert_eq!(modules[0]["source"], "env");
    assert_eq!(modules[0]["error"], "file not found");
    assert_eq!(modules[1]["loaded"], true);
    assert_eq!(status["tokens"].as_array().unwrap().len(), 1);
    assert!(host.finish().success());
}

#[test]
fn authenticate_makes_an_origin_bound_web_eid_token() {
    let kit = &demo();
    let mut host = Host::spawn(kit);
    let origin = "https://portail.testville.example";
    let nonce = b64(&[42u8; 33]);
    let session = host.login(&kit.fingerprint("02"), PIN, "authenticate");
    let token = host.ok("authenticate", json!({"session": session, "origin": origin, "challengeNonce": nonce}));
    assert_eq!(token["format"], "web-eid:1.0");
    assert_eq!(token["algorithm"], "RS256");
    let cert = unb64(token["unverifiedCertificate"].as_str().unwrap());
    assert_eq!(cert, std::fs::read(kit.pki("02.crt")).map(|pem| pem_to_der(&pem)).unwrap());
    // The signed message is SHA-256(origin) || SHA-256(nonce), each hashed by openssl.
    let (o, n) = (tmp("origin.txt"), tmp("nonce.txt"));
    std::fs::write(&o, origin).unwrap();
    std::fs::write(&n, &nonce).unwrap();
    let msg = tmp("auth-message.bin");
    std::fs::write(&msg, [openssl_digest("sha256", &o), openssl_digest("sha256", &n)].concat()).unwrap();
    let sig = unb64(token["signature"].as_str().unwrap());
    assert!(openssl_verify("sha256", &kit.pki("02.pub.pem"), &msg, &sig, &[]));

    let (code, _) =
        host.err("authenticate", json!({"session": session, "origin": "http://evil.example", "challengeNonce": nonce}));
    assert_eq!(code, "INVALID_ARGUMENT");
    let (code, _) = host.err("authenticate", json!({"session": session, "origin": origin, "challengeNonce": "short"}));
    assert_eq!(code, "INVALID_ARGUMENT");
    host.ok("logout", json!({"session": session}));

    // Never with the signing key: refused at login, before any PIN reaches the token.
    let (code, _) =
        host.err("login", json!({"certificate": kit.fingerprint("01"), "pin": PIN, "purpose": "authenticate"}));
    assert_eq!(code, "KEY_USAGE_NOT_ALLOWED");
    // A signing session does not authenticate.
    let signing = host.login(&kit.fingerprint("01"), PIN, "sign-structured");
    let (code, _) = host.err("authenticate", json!({"session": signing, "origin": origin, "challengeNonce": nonce}));
    assert_eq!(code, "SESSION_PURPOSE_MISMATCH");
    host.ok("logout", json!({"session": signing}));
    assert!(host.finish().success());
}

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pem);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    unb64(&body)
}
