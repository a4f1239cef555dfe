//! « Vérifier une signature » in WASM, loaded by the verify page only (`extension/src/verify`).
//!
//! A module of its own, not a part of the core (`wasm/`): the verification needs the `rsa`,
//! `p256` and `p384` crates (`paraphe-formats`' feature `verify`), which the background never
//! uses and would otherwise load with every start of the service worker. Same conventions as
//! the core: the logic is plain Rust in [`verify`], unit-tested natively; the report crosses
//! the boundary as JSON text; failures are thrown as the JSON text of `{code, message}`
//! (`INVALID_REQUEST`, as `docs/PAGE-API.md` names it). The XML parser of XAdES jetons
//! (`roxmltree`) is in this module only, as are the RSA and EC crates.

pub mod verify;

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The thrown value: the JSON text of `{code, message}`, as the core's `PageError`.
#[derive(Serialize)]
struct Thrown<'a> {
    code: &'static str,
    message: &'a str,
}

fn invalid(message: &str) -> JsValue {
    let text = serde_json::to_string(&Thrown { code: "INVALID_REQUEST", message })
        .unwrap_or_else(|_| r#"{"code":"INTERNAL","message":"unserializable error"}"#.to_owned());
    JsValue::from_str(&text)
}

/// A detached `.p7s` over `content`; `anchors_json` is a JSON array of base64 CA certificate
/// files the person added. Returns the report (JSON text); throws `INVALID_REQUEST` for a file
/// that is not a signature.
#[wasm_bindgen]
pub fn verify_cades(p7s: &[u8], content: &[u8], anchors_json: &str, now_unix: f64) -> Result<String, JsValue> {
    #[allow(clippy::cast_possible_truncation)]
    verify::cades(p7s, content, anchors_json, now_unix as i64).map_err(|e| invalid(&e))
}

/// A detached XAdES jeton (`.xml`) over the file the person gave, matched with the jeton's
/// file reference by `file_name`; as [`verify_cades`].
#[wasm_bindgen]
pub fn verify_xades(
    jeton: &[u8],
    file_name: &str,
    content: &[u8],
    anchors_json: &str,
    now_unix: f64,
) -> Result<String, JsValue> {
    #[allow(clippy::cast_possible_truncation)]
    verify::xades(jeton, file_name, content, anchors_json, now_unix as i64).map_err(|e| invalid(&e))
}

/// Every signature of a PDF, as [`verify_cades`].
#[wasm_bindgen]
pub fn verify_pdf(pdf: &[u8], anchors_json: &str, now_unix: f64) -> Result<String, JsValue> {
    #[allow(clippy::cast_possible_truncation)]
    verify::pdf(pdf, anchors_json, now_unix as i64).map_err(|e| invalid(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thrown_is_the_page_error_json() {
        let text =
            serde_json::to_string(&Thrown { code: "INVALID_REQUEST", message: "not a \"PDF\"" }).unwrap_or_default();
        assert_eq!(text, r#"{"code":"INVALID_REQUEST","message":"not a \"PDF\""}"#);
    }
}
