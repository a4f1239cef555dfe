//! The exported surface, run in a JS engine: `wasm-bindgen-test-runner` (Node by default).
//!   CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p paraphe-wasm --target wasm32-unknown-unknown
#![cfg(target_arch = "wasm32")]

use paraphe_wasm::{check_origin, sign_request, validate_request, webeid_error, webeid_validate, Hasher};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn hasher_streams() {
    let mut h = Hasher::new("sha256").expect("known");
    h.update(b"te").expect("open");
    h.update(b"st").expect("open");
    assert_eq!(h.finish().expect("once"), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert!(h.finish().is_err());
}

#[wasm_bindgen_test]
fn errors_are_thrown_as_json() {
    let e = validate_request(r#"{"type":"nope"}"#).err().and_then(|e| e.as_string()).unwrap_or_default();
    assert!(e.contains("\"code\":\"INVALID_REQUEST\""), "{e}");
    let e = check_origin("http://portal.test", true).err().and_then(|e| e.as_string()).unwrap_or_default();
    assert!(e.contains("ORIGIN_NOT_ALLOWED"), "{e}");
}

#[wasm_bindgen_test]
fn default_scheme_follows_the_key() {
    let s = sign_request(1, "s", "AA==", "sha256", "", "EC", "der").expect("valid");
    assert!(s.contains(r#""scheme":"ecdsa","ecdsaEncoding":"der""#), "{s}");
}

#[wasm_bindgen_test]
fn web_eid_errors_are_serialized_web_eid_js_errors() {
    let e = webeid_validate(r#"{"action":"web-eid:authenticate","libraryVersion":"2.1.0"}"#, "0.1.0")
        .err()
        .and_then(|e| e.as_string())
        .unwrap_or_default();
    assert!(
        e.contains(r#""code":"ERR_WEBEID_MISSING_PARAMETER""#) && e.contains(r#""name":"MissingParameterError""#),
        "{e}"
    );
    let e = webeid_error("PIN_LOCKED", "blocked");
    assert!(e.contains(r#""code":"ERR_WEBEID_NATIVE_FATAL""#) && e.contains(r#""paraphe":"PIN_LOCKED""#), "{e}");
    assert!(webeid_error("ERR_WEBEID_USER_TIMEOUT", "late").contains("UserTimeoutError"));
}
