//! The signing module's exported surface, run in a JS engine (`wasm-bindgen-test-runner`, Node
//! by default), as scripts/test.sh runs it:
//!   CARGO_TARGET_DIR=target/wasm CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p paraphe-signing-wasm --target wasm32-unknown-unknown --test web
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn formats_through_the_boundary() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64.encode(include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der"));
    let plan = paraphe_signing_wasm::libersign_plan(&format!(r#"[{{"hash":"{}","format":"CMS"}}]"#, "ab".repeat(20)))
        .expect("valid");
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("JSON");
    let job = plan[0]["job"].to_string();
    let prepared = paraphe_signing_wasm::format_prepare(&job, &cert, 1_780_000_000_000.0, false).expect("prepared");
    let prepared: serde_json::Value = serde_json::from_str(&prepared).expect("JSON");
    assert_eq!(prepared["hashAlgorithm"], "sha1");
    let p7s =
        paraphe_signing_wasm::format_finish(&prepared["state"].to_string(), &b64.encode([1u8; 256])).expect("finished");
    assert!(b64.decode(p7s).expect("base64").starts_with(&[0x30]));
    // iParapheur 4's PAdES is a CMS over its server's digest (docs/LIBERSIGN.md); XAdES-T is not offered.
    assert!(paraphe_signing_wasm::libersign_plan(&format!(r#"[{{"hash":"{}","format":"PADES"}}]"#, "ab".repeat(20)))
        .is_ok());
    let e =
        paraphe_signing_wasm::libersign_plan(r#"[{"hash":"ab","format":"XADES-T"}]"#).err().and_then(|e| e.as_string());
    assert!(e.unwrap_or_default().contains("UNSUPPORTED_FORMAT"));
}

#[wasm_bindgen_test]
fn certificate_choices_say_which_can_log_in() {
    use base64::Engine;
    use paraphe_protocol::cert::{CertificateEntry, CertificateInfo, KeyPresence};
    use paraphe_protocol::command::CertificateList;
    let entry = |der: &[u8]| CertificateEntry {
        fingerprint: paraphe_formats::x509::fingerprint(der),
        token: "t1".into(),
        token_label: "Paraphe Demo".into(),
        cka_id: "01".into(),
        label: "x".into(),
        certificate: base64::engine::general_purpose::STANDARD.encode(der),
        private_key: KeyPresence::Present,
        always_authenticate: None,
        info: CertificateInfo::default(),
    };
    let list = CertificateList {
        certificates: vec![
            entry(include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der")),
            entry(include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der")),
        ],
        tokens: vec![],
        modules: vec![],
    };
    let json = serde_json::to_string(&list).expect("JSON");
    let out = paraphe_signing_wasm::certificate_choices(&json, "any", 1_700_000_000_000.0).expect("choices");
    let out: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let by_key =
        |k: &str| out.as_array().and_then(|a| a.iter().find(|c| c["keyType"] == k)).map(|c| c["loginCapable"].clone());
    assert_eq!(by_key("EC"), Some(serde_json::Value::Bool(false)), "nonRepudiation only: {out}");
    assert_eq!(by_key("RSA"), Some(serde_json::Value::Bool(true)), "digitalSignature + clientAuth: {out}");
}
