//! The core's `#[wasm_bindgen]` surface (feature `bindings`, on by default): what the
//! background calls, through `extension/src/background/core.js`. The logic is plain Rust in the
//! crate's modules; the files module (`files-wasm/`) and the signing module (`signing-wasm/`:
//! certificate display, formats, LiberSign, which the background instantiates on first use)
//! use those as a library, without this.

use crate::error::{internal, thrown, wire_enum, PageError};
use crate::{host, origin, request, webeid};
use paraphe_protocol::command::KeyHint;
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, LoginPurpose, SignatureScheme};
use wasm_bindgen::prelude::*;

/// The protocol version this core speaks, to compare with the host's `hello`.
#[wasm_bindgen]
pub fn protocol_version() -> u32 {
    paraphe_protocol::PROTOCOL_VERSION
}

/// Native-messaging name of the host.
#[wasm_bindgen]
pub fn host_name() -> String {
    paraphe_protocol::HOST_NAME.to_owned()
}

/// Throws `ORIGIN_NOT_ALLOWED` unless `origin` (from the browser) may use the page API.
#[wasm_bindgen]
pub fn check_origin(origin: &str, allow_loopback_http: bool) -> Result<(), JsValue> {
    origin::check(origin, allow_loopback_http).map_err(|e| thrown(&e))
}

/// Validates a page request (JSON text); returns the normalized request as JSON text.
#[wasm_bindgen]
pub fn validate_request(json: &str) -> Result<String, JsValue> {
    let v = request::validate(json).map_err(|e| thrown(&e))?;
    serde_json::to_string(&v).map_err(|e| internal(e.to_string()))
}

/// Checks a page request that carries files (`signDocument`, `signDocuments`, `decrypt`), each
/// File or Blob replaced by `{"blob": true}`, before the content script reads the files.
#[wasm_bindgen]
pub fn validate_files(json: &str) -> Result<(), JsValue> {
    request::validate_files(json).map_err(|e| thrown(&e))
}

/// `login` request text. `pin` is absent for a PIN pad; `ttl_seconds` keeps the login that
/// long (PIN session policy), absent: until `logout`. `purpose`: `authenticate`,
/// `sign-structured`, `sign-raw` or `decrypt` (the only use the host allows the session).
/// `token` and `cka_id`: the choice's, where `list-certificates` found the certificate (the
/// host reads that one certificate); either absent: no hint.
#[wasm_bindgen]
pub fn login_request(
    id: u32,
    certificate: &str,
    pin: Option<String>,
    ttl_seconds: Option<u32>,
    purpose: &str,
    token: Option<String>,
    cka_id: Option<String>,
) -> Result<String, JsValue> {
    let purpose: LoginPurpose = wire_enum(purpose)?;
    let hint = token.zip(cka_id).map(|(token, cka_id)| KeyHint { token, cka_id });
    host::login(u64::from(id), certificate, pin, ttl_seconds, purpose, hint).map_err(|m| thrown(&PageError::invalid(m)))
}

/// `sign` request text; `scheme` empty = the default for `key_type`.
#[wasm_bindgen]
pub fn sign_request(
    id: u32,
    session: &str,
    digest_base64: &str,
    hash: &str,
    scheme: &str,
    key_type: &str,
    ecdsa_encoding: &str,
) -> Result<String, JsValue> {
    let hash: HashAlgorithm = wire_enum(hash)?;
    let scheme: SignatureScheme = if scheme.is_empty() {
        host::default_scheme(key_type).ok_or_else(|| {
            thrown(&PageError { code: "UNSUPPORTED_ALGORITHM", message: format!("no scheme for {key_type} keys") })
        })?
    } else {
        wire_enum(scheme)?
    };
    let encoding: Option<EcdsaEncoding> =
        if ecdsa_encoding.is_empty() { None } else { Some(wire_enum(ecdsa_encoding)?) };
    host::sign(u64::from(id), session, digest_base64, hash, scheme, encoding).map_err(internal)
}

/// `authenticate` request text: a `web-eid:1.0` token for `origin` (from the browser).
#[wasm_bindgen]
pub fn authenticate_request(id: u32, session: &str, origin: &str, challenge_nonce: &str) -> Result<String, JsValue> {
    host::authenticate(u64::from(id), session, origin, challenge_nonce).map_err(|m| thrown(&PageError::invalid(m)))
}

#[wasm_bindgen]
pub fn logout_request(id: u32, session: &str) -> Result<String, JsValue> {
    host::logout(u64::from(id), session).map_err(internal)
}

// ---- Web eID page protocol (webeid.rs) ----------------------------------------------------
// These throw (and return) serialized web-eid.js errors, `{name, message, code, …}`.

/// Validates a `web-eid:*` request (JSON text); returns the normalized request as JSON text.
#[wasm_bindgen]
pub fn webeid_validate(json: &str, extension_version: &str) -> Result<String, JsValue> {
    let v = webeid::validate(json, extension_version).map_err(|e| JsValue::from_str(&e.to_json()))?;
    serde_json::to_string(&v)
        .map_err(|e| JsValue::from_str(&webeid::WebEidError::from_paraphe("INTERNAL", &e.to_string()).to_json()))
}

/// A Paraphe error (`code`, `message`) as a serialized web-eid.js error (JSON text). A code
/// that already is a Web eID one is kept.
#[wasm_bindgen]
pub fn webeid_error(code: &str, message: &str) -> String {
    match webeid::Code::from_name(code) {
        Some(c) => webeid::WebEidError::new(c, message).to_json(),
        None => webeid::WebEidError::from_paraphe(code, message).to_json(),
    }
}

/// `{library, extension, nativeApp}` for `status` (JSON text). `host`: undefined when the
/// host is unknown (no `nativeApp`); `extension` and `host` empty for a site that may not
/// learn Paraphe's versions (`2.0.0+paraphe`, `2.0.0+paraphe-host`).
#[wasm_bindgen]
pub fn webeid_versions(library: &str, extension: &str, host: Option<String>) -> String {
    webeid::versions(library, extension, host.as_deref()).to_string()
}

/// `supportedSignatureAlgorithms` for a key type (`RSA`, `EC`), as JSON text.
#[wasm_bindgen]
pub fn webeid_signature_algorithms(key_type: &str) -> String {
    serde_json::to_string(&webeid::signature_algorithms(key_type)).unwrap_or_else(|_| "[]".into())
}

/// `signatureAlgorithm` of a `sign` result (JSON text); `hash` is a wire name (`sha256`…).
#[wasm_bindgen]
pub fn webeid_signature_algorithm(key_type: &str, hash: &str) -> Result<String, JsValue> {
    let hash: HashAlgorithm = wire_enum(hash)?;
    let alg = webeid::signature_algorithm(key_type, hash)
        .ok_or_else(|| thrown(&PageError { code: "UNSUPPORTED_ALGORITHM", message: format!("{key_type} keys") }))?;
    serde_json::to_string(&alg).map_err(|e| internal(e.to_string()))
}
