//! Paraphe's WASM for signing (`paraphe_signing`): the certificate display of the choices the
//! consent window shows (`certs.rs` over x509-parser), the signature formats (`formats.rs`:
//! CAdES, XAdES, PAdES from a layout, B-T time-stamps) and LiberSign's plan and answers
//! (`libersign.rs`), all called by the background through `extension/src/background/core.js`.
//!
//! A module of its own so that the core the background instantiates at every start of its
//! service worker (`wasm/`, `paraphe_wasm`: page requests, origins, host requests, Web eID,
//! `Hasher`, `PliDecryptor`) stays small: `core.js` imports this module's glue statically (a
//! module service worker may not `import()`), and instantiates its WASM on the first call that
//! needs it (`signing()`), i.e. the first certificate listing or signature since the worker
//! started. The logic is plain Rust in the core's crate used as a library (feature `bindings`
//! off); the same conventions: JSON text across the boundary, failures thrown as the JSON text
//! of `{code, message}`.

use base64::Engine as _;
use paraphe_wasm::error::{internal, thrown, wire_enum, PageError};
use paraphe_wasm::formats::unix_seconds;
use paraphe_wasm::{certs, formats, libersign, request};
use wasm_bindgen::prelude::*;

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
