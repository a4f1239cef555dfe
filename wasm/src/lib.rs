//! Paraphe's WASM core, loaded by the extension's background (and its pages).
//!
//! Only the `#[wasm_bindgen]` surface lives in this file; the logic is plain Rust in the
//! modules below, unit-tested natively (`cargo test -p paraphe-wasm`). Structured values
//! cross the boundary as JSON text: the JS side does `JSON.parse`, which keeps this
//! surface small and free of a serde ↔ JsValue layer. Failures are thrown as the JSON
//! text of `{code, message}` (see `docs/PAGE-API.md` for the codes).

pub mod certs;
pub mod digest;
pub mod error;
pub mod host;
pub mod origin;
pub mod request;

use error::PageError;
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, SignatureScheme};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

fn thrown(e: &PageError) -> JsValue {
    JsValue::from_str(&e.to_json())
}

fn internal(message: String) -> JsValue {
    thrown(&PageError { code: "INTERNAL", message })
}

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

/// `login` request text. `pin` is absent for a PIN pad.
#[wasm_bindgen]
pub fn login_request(id: u32, certificate: &str, pin: Option<String>) -> Result<String, JsValue> {
    host::login(u64::from(id), certificate, pin, None).map_err(|m| thrown(&PageError::invalid(m)))
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

#[wasm_bindgen]
pub fn logout_request(id: u32, session: &str) -> Result<String, JsValue> {
    host::logout(u64::from(id), session).map_err(internal)
}

/// A document digest computed chunk by chunk.
#[wasm_bindgen]
pub struct Hasher {
    inner: Option<digest::StreamingHash>,
}

#[wasm_bindgen]
impl Hasher {
    #[wasm_bindgen(constructor)]
    pub fn new(algorithm: &str) -> Result<Hasher, JsValue> {
        Ok(Hasher { inner: Some(digest::StreamingHash::new(algorithm).map_err(|e| thrown(&e))?) })
    }

    pub fn update(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.inner.as_mut().ok_or_else(|| internal("update after finish".into()))?.update(chunk);
        Ok(())
    }

    /// A chunk sent through extension messaging, which carries text only in Chromium.
    pub fn update_base64(&mut self, chunk: &str) -> Result<(), JsValue> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(chunk)
            .map_err(|e| thrown(&PageError::invalid(e.to_string())))?;
        self.update(&bytes)
    }

    /// The digest, lowercase hex. The hasher cannot be used afterwards.
    pub fn finish(&mut self) -> Result<String, JsValue> {
        let h = self.inner.take().ok_or_else(|| internal("finish called twice".into()))?;
        Ok(hex::encode(h.finish()))
    }
}
