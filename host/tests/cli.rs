//! The command line (`list`, `sign`, `diagnose`) against SoftHSM tokens, including one made
//! "by someone else" with keys generated on the token (EC P-384, RSA-3072).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{demo, openssl_verify, tmp, unb64, Kit};
use serde_json::Value;
use std::io::Write;
use std::process::{Output, Stdio};

fn run(kit: &Kit, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child =
        kit.command().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.as_mut().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn foreign_token_lists_and_signs_with_p384_and_rsa3072() {
    let kit = &Kit::make("make-foreign-token.sh", "foreign");
    let out = run(kit, &["list", "--json"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = json(&out);
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2, "{list}");
    assert_eq!(list["tokens"][0]["label"], "Foreign Token");

    let data = tmp("foreign.txt");
    std::fs::write(&data, b"marche public 2026-042, acte d'engagement").unwrap();

    // Both keys can log in (a1 is dual use, a2 authentication): a raw digest is signed only
    // with --allow-login-key. Refused before C_Login: a wrong PIN is not even tried.
    let digest = hex::encode(common::openssl_digest("sha384", &data));
    let out = run(
        kit,
        &[
            "sign",
            "--cert",
            &kit.fingerprint("a1"),
            "--hash-alg",
            "sha384",
            "--digest",
            &digest,
            "--pin-stdin",
            "--json",
        ],
        Some("000000\n"),
    );
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["code"], "RAW_SIGNATURE_REFUSED");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-login-key"));
    let status = json(&run(kit, &["diagnose", "--json"], None));
    assert_eq!(status["tokens"][0]["pin"]["countLow"], false, "no PIN try spent: {status}");

    for (id, hash, bits) in [("a1", "sha384", 384), ("a2", "sha256", 3072), ("a2", "sha512", 3072)] {
        let fp = kit.fingerprint(id);
        let entry = certs.iter().find(|c| c["fingerprint"] == fp.as_str()).unwrap();
        assert_eq!(entry["info"]["keyBits"], bits);
        let digest = hex::encode(common::openssl_digest(hash, &data));
        let sig_path = tmp(&format!("foreign-{id}-{hash}.sig"));
        let sig_arg = sig_path.to_str().unwrap();
        let mut args = vec![
            "sign",
            "--cert",
            &fp,
            "--hash-alg",
            hash,
            "--digest",
            &digest,
            "--pin-stdin",
            "--allow-login-key",
            "--json",
            "--out",
            sig_arg,
        ];
        if id == "a1" {
            args.push("--ecdsa-der");
        }
        let out = run(kit, &args, Some("987654\n"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let reply = json(&out);
        let sig = std::fs::read(&sig_path).unwrap();
        assert_eq!(unb64(reply["signature"].as_str().unwrap()), sig);
        assert!(openssl_verify(hash, &kit.pki(&format!("{id}.pub.pem")), &data, &sig, &[]), "{id} {hash}");
    }
    // RSA-PSS on the 3072-bit key.
    let fp = kit.fingerprint("a2");
    let digest = hex::encode(common::openssl_digest("sha256", &data));
    let sig_path = tmp("foreign-pss.sig");
    let out = run(
        kit,
        &[
            "sign",
            "--cert",
            &fp,
            "--digest",
            &digest,
            "--pss",
            "--pin-stdin",
            "--allow-login-key",
            "--out",
            sig_path.to_str().unwrap(),
        ],
        Some("987654\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"];
    assert!(openssl_verify("sha256", &kit.pki("a2.pub.pem"), &data, &std::fs::read(&sig_path).unwrap(), &pss));
}

#[test]
fn human_output_is_french_or_english() {
    let kit = &demo();
    let mut cmd = kit.command();
    let out = cmd.env("LANG", "fr_FR.UTF-8").arg("list").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Jeton « Paraphe Demo »"), "{text}");
    assert!(text.contains("Empreinte SHA-256"), "{text}");
    assert!(text.contains("RGS **"), "{text}");
    let out = kit.command().arg("diagnose").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("PKCS#11 modules:") && text.contains("loaded"), "{text}");
    assert!(text.contains("Paraphe Demo"), "{text}");
}

#[test]
fn cli_errors_are_clear_and_json_is_stable() {
    let kit = &demo();
    let out = run(kit, &["sign", "--cert", &"00".repeat(32), "--digest", &"00".repeat(32), "--json"], None);
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["code"], "CERTIFICATE_NOT_FOUND");
    let out = run(
        kit,
        &["sign", "--cert", &kit.fingerprint("01"), "--digest", "00", "--pin-stdin", "--json"],
        Some("1234\n"),
    );
    assert_eq!(json(&out)["error"]["code"], "DIGEST_LENGTH_MISMATCH");
    // No raw SHA-1 signatures, even from the terminal.
    let out = run(
        kit,
        &[
            "sign",
            "--cert",
            &kit.fingerprint("01"),
            "--hash-alg",
            "sha1",
            "--digest",
            &"00".repeat(20),
            "--pin-stdin",
            "--json",
        ],
        Some("1234\n"),
    );
    assert_eq!(json(&out)["error"]["code"], "UNSUPPORTED_ALGORITHM");
    let out = run(kit, &["frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command frobnicate"));
    let out = run(kit, &["--version"], None);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("paraphe-host "));
}
