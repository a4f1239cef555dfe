//! The exported surface, run in a JS engine: `wasm-bindgen-test-runner` (Node by default).
//!   CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p paraphe-wasm --target wasm32-unknown-unknown
#![cfg(target_arch = "wasm32")]

use paraphe_wasm::{check_origin, sign_request, validate_request, Hasher};
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
