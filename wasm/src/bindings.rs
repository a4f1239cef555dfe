//! The core's `#[wasm_bindgen]` surface (feature `bindings`, on by default): what the
//! background calls, through `extension/src/background/core.js`. The logic is plain Rust in the
//! crate's modules; the files module (`files-wasm/`) uses those as a library, without this.

use crate::error::{internal, thrown, PageError};
use crate::formats::unix_seconds;
use crate::{certs, formats, host, libersign, origin, request, webeid};
use base64::Engine as _;
use paraphe_protocol::command::KeyHint;
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, LoginPurpose, SignatureScheme};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

fn wire_enum<T: DeserializeOwned>(name: &str) -> Result<T, JsValue> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| thrown(&PageError::invalid(e.to_string())))
}

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

/// The certificates of a `list-certificates` result (JSON text) fit for `usage`
/// (`signing`, `authentication`, `encryption`, `any`), decoded for display, as JSON text.
#[wasm_bindgen]
pub fn certificate_choices(list_json: &str, usage: &str, now_ms: f64) -> Result<String, JsValue> {
    let usage: request::UsageFilter = wire_enum(usage)?;
    // f64 milliseconds → whole seconds; `as` saturates, which is what we want here.
    #[allow(clippy::cast_possible_truncation)]
    let now = (now_ms / 1000.0).floor() as i64;
    let list = certs::choices(list_json, usage, now).map_err(internal)?;
    serde_json::to_string(&list).map_err(|e| internal(e.to_string()))
}

/// The SubjectPublicKeyInfo (base64 DER) of a certificate (base64 DER), for WebCrypto.
#[wasm_bindgen]
pub fn certificate_spki(certificate_base64: &str) -> Result<String, JsValue> {
    certs::subject_public_key_info(certificate_base64).map_err(internal)
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

// ---- Signature formats (formats.rs) and the LiberSign adapter (libersign.rs) -------------

/// Step 1 of a format: `job` (JSON text of a `formats::Job`), the signer's certificate (DER,
/// base64) and the time give `{digest, hashAlgorithm, scheme, state, timestamp}` (JSON text);
/// the card signs `digest` (base64) with `scheme`. `timestamp`: a time-stamp authority is
/// configured (CAdES and PAdES at baseline B-T; `timestamp` in the result says whether this
/// signature is finished by `format_finish_timestamped`).
#[wasm_bindgen]
pub fn format_prepare(
    job_json: &str,
    certificate_base64: &str,
    now_ms: f64,
    timestamp: bool,
) -> Result<String, JsValue> {
    use base64::Engine;
    let job: formats::Job =
        serde_json::from_str(job_json).map_err(|e| thrown(&PageError::invalid(format!("format job: {e}"))))?;
    let certificate = base64::engine::general_purpose::STANDARD
        .decode(certificate_base64)
        .map_err(|e| internal(format!("certificate: {e}")))?;
    let prepared =
        formats::prepare_timestamped(&job, &certificate, unix_seconds(now_ms), timestamp).map_err(|e| thrown(&e))?;
    serde_json::to_string(&prepared).map_err(|e| internal(e.to_string()))
}

/// Step 2 of a format: the signed object, base64, from the `state` (JSON text) that
/// `format_prepare` returned and the card's signature (base64).
#[wasm_bindgen]
pub fn format_finish(state_json: &str, signature_base64: &str) -> Result<String, JsValue> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let state: formats::State = serde_json::from_str(state_json).map_err(|e| internal(format!("format state: {e}")))?;
    let signature = engine.decode(signature_base64).map_err(|e| internal(format!("signature: {e}")))?;
    formats::finish(&state, &signature).map(|bytes| engine.encode(bytes)).map_err(|e| thrown(&e))
}

/// The format state (JSON text), the card's signature and the nonce (base64) of a B-T
/// signature, decoded: a bad one is the extension's fault (`INTERNAL`), never the page's.
fn timestamp_inputs(
    state_json: &str,
    signature_base64: &str,
    nonce_base64: &str,
) -> Result<(formats::State, Vec<u8>, Vec<u8>), JsValue> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let state = serde_json::from_str(state_json).map_err(|e| internal(format!("format state: {e}")))?;
    let signature = engine.decode(signature_base64).map_err(|e| internal(format!("signature: {e}")))?;
    let nonce = engine.decode(nonce_base64).map_err(|e| internal(format!("nonce: {e}")))?;
    Ok((state, signature, nonce))
}

/// The RFC 3161 `TimeStampReq` (DER, base64) for a signature whose `format_prepare` result
/// said `timestamp`: the `state` (JSON text), the card's signature and a nonce (8 to 32 random
/// bytes, base64) give what the background posts to the time-stamp authority.
#[wasm_bindgen]
pub fn format_timestamp_request(
    state_json: &str,
    signature_base64: &str,
    nonce_base64: &str,
) -> Result<String, JsValue> {
    let (state, signature, nonce) = timestamp_inputs(state_json, signature_base64, nonce_base64)?;
    formats::timestamp_request(&state, &signature, &nonce)
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .map_err(|e| thrown(&e))
}

/// Step 2 of a B-T signature: `format_finish` with the authority's response (base64 of the
/// `TimeStampResp` bytes) to `format_timestamp_request` with the same nonce. Throws
/// `TIMESTAMP_FAILED` unless it is a granted token for this request and signature.
#[wasm_bindgen]
pub fn format_finish_timestamped(
    state_json: &str,
    signature_base64: &str,
    response: &[u8],
    nonce_base64: &str,
) -> Result<String, JsValue> {
    let (state, signature, nonce) = timestamp_inputs(state_json, signature_base64, nonce_base64)?;
    formats::finish_timestamped(&state, &signature, response, &nonce)
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .map_err(|e| thrown(&e))
}

/// LiberSign `signatureInformations` (JSON text) → the digests to sign, in answer order, each
/// with its format job (JSON text of `[libersign::PlanEntry]`).
#[wasm_bindgen]
pub fn libersign_plan(infos_json: &str) -> Result<String, JsValue> {
    let plan = libersign::plan(infos_json).map_err(|e| thrown(&e))?;
    serde_json::to_string(&plan).map_err(|e| internal(e.to_string()))
}

/// The answer LiberSign gave for one signature of a `kind` (`cms`, `pades` or `pes`, from the
/// plan): for `cms` and `pades`, base64 of the PEM `-----BEGIN PKCS7-----` document of
/// `signature_base64` (the DER `.p7s`); for `pes`, the signature document as it is.
#[wasm_bindgen]
pub fn libersign_answer(kind: &str, signature_base64: &str) -> Result<String, JsValue> {
    match kind {
        "cms" | "pades" => libersign::cms_answer(signature_base64).map_err(internal),
        "pes" => Ok(signature_base64.to_owned()),
        _ => Err(internal(format!("libersign_answer: unknown kind {kind}"))),
    }
}

/// The signing certificates of a `list-certificates` result (JSON text), as LiberSign's
/// wrappers read them (JSON text).
#[wasm_bindgen]
pub fn libersign_certificates(list_json: &str, now_ms: f64) -> Result<String, JsValue> {
    let certs = libersign::certificates(list_json, unix_seconds(now_ms)).map_err(internal)?;
    serde_json::to_string(&certs).map_err(|e| internal(e.to_string()))
}
