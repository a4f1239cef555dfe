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
pub mod formats;
pub mod host;
pub mod libersign;
pub mod origin;
pub mod pli;
pub mod request;
pub mod webeid;
pub mod zip;

use error::PageError;
use paraphe_protocol::command::KeyHint;
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, LoginPurpose, SignatureScheme};
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

/// Unix seconds from `Date.now()` milliseconds (`as` saturates, which is what we want).
#[allow(clippy::cast_possible_truncation)]
fn unix_seconds(now_ms: f64) -> i64 {
    (now_ms / 1000.0).floor() as i64
}

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

/// The RFC 3161 `TimeStampReq` (DER, base64) for a signature whose `format_prepare` result
/// said `timestamp`: the `state` (JSON text), the card's signature and a nonce (8 to 32 random
/// bytes, base64) give what the background posts to the time-stamp authority.
#[wasm_bindgen]
pub fn format_timestamp_request(
    state_json: &str,
    signature_base64: &str,
    nonce_base64: &str,
) -> Result<String, JsValue> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let state: formats::State = serde_json::from_str(state_json).map_err(|e| internal(format!("format state: {e}")))?;
    let signature = engine.decode(signature_base64).map_err(|e| internal(format!("signature: {e}")))?;
    let nonce = engine.decode(nonce_base64).map_err(|e| internal(format!("nonce: {e}")))?;
    formats::timestamp_request(&state, &signature, &nonce).map(|bytes| engine.encode(bytes)).map_err(|e| thrown(&e))
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
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let state: formats::State = serde_json::from_str(state_json).map_err(|e| internal(format!("format state: {e}")))?;
    let signature = engine.decode(signature_base64).map_err(|e| internal(format!("signature: {e}")))?;
    let nonce = engine.decode(nonce_base64).map_err(|e| internal(format!("nonce: {e}")))?;
    formats::finish_timestamped(&state, &signature, response, &nonce)
        .map(|bytes| engine.encode(bytes))
        .map_err(|e| thrown(&e))
}

/// Step 1 of a PAdES signature: the whole PDF (bytes), the signer's certificate (DER, base64),
/// the hash algorithm's name and the time give `{digest, hashAlgorithm, scheme, state}` (JSON
/// text) as `format_prepare` does; `format_finish` then returns the incremental update
/// (base64), to append to the PDF.
#[wasm_bindgen]
pub fn pades_prepare(
    pdf: &[u8],
    certificate_base64: &str,
    hash_algorithm: &str,
    now_ms: f64,
) -> Result<String, JsValue> {
    use base64::Engine;
    let hash = paraphe_protocol::HashAlgorithm::from_name(hash_algorithm)
        .ok_or_else(|| thrown(&PageError::invalid(format!("unknown hash algorithm {hash_algorithm:?}"))))?;
    let certificate = base64::engine::general_purpose::STANDARD
        .decode(certificate_base64)
        .map_err(|e| internal(format!("certificate: {e}")))?;
    let prepared = formats::prepare_pades(pdf, &certificate, hash, unix_seconds(now_ms)).map_err(|e| thrown(&e))?;
    serde_json::to_string(&prepared).map_err(|e| internal(e.to_string()))
}

/// A PDF for PAdES in the hashing frame (`hashing/hashing.js`), never held whole: the file
/// streams by once through `hash` (all of it, in order: the digest shown in the consent
/// window, and the start of the byte-range digest), and the reader keeps only the parts it
/// asks for (`missing` → `fill`: the tail, the cross-reference sections, the objects the
/// update rewrites). `missing` also checks the PDF (before the consent window); `layout`
/// makes the PAdES job once the certificate is chosen. `free()` it when done.
#[wasm_bindgen]
pub struct PdfInput {
    sparse: paraphe_formats::pdf::Sparse,
    hasher: paraphe_formats::hash::Hasher,
    hashed: usize,
}

/// `{"offset":N,"length":N}`: the bytes the reader needs next.
fn need_json(offset: usize, length: usize) -> String {
    format!(r#"{{"offset":{offset},"length":{length}}}"#)
}

#[wasm_bindgen]
impl PdfInput {
    /// A PDF of `size` bytes, hashed with `algorithm` (`sha256`, `sha384`, `sha512`).
    #[wasm_bindgen(constructor)]
    pub fn new(size: f64, algorithm: &str) -> Result<PdfInput, JsValue> {
        // f64 → usize: checked first, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let size = if size.is_finite() && size >= 0.0 && size <= (1u64 << 40) as f64 {
            size as usize
        } else {
            return Err(thrown(&PageError::invalid(format!("the PDF is too large to sign here ({size} bytes)"))));
        };
        let hash = HashAlgorithm::from_name(algorithm)
            .filter(|h| *h != HashAlgorithm::Sha1)
            .ok_or_else(|| thrown(&PageError::invalid(format!("PAdES cannot hash with {algorithm:?}"))))?;
        Ok(PdfInput {
            sparse: paraphe_formats::pdf::Sparse::new(size),
            hasher: paraphe_formats::hash::Hasher::new(hash),
            hashed: 0,
        })
    }

    /// The next bytes of the whole file, in order.
    pub fn hash(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.hashed += chunk.len();
        if self.hashed > self.sparse.size() {
            return Err(thrown(&PageError::invalid("the file changed while it was read")));
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// The file's bytes from `offset`, as the reader asked.
    pub fn fill(&mut self, offset: f64, bytes: &[u8]) {
        // Offsets come from `missing`, below the file's size.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.sparse.insert(offset as usize, bytes);
    }

    /// Checks the PDF: undefined when it can be signed, `{"offset","length"}` (JSON text) when
    /// the reader needs those bytes first; throws `PDF_INVALID`, `PDF_ENCRYPTED` or `PDF_CERTIFIED`.
    pub fn missing(&self) -> Result<Option<String>, JsValue> {
        let need = formats::pdf_check_sparse(&self.sparse).map_err(|e| thrown(&e))?;
        Ok(need.map(|(offset, length)| need_json(offset, length)))
    }

    fn whole(&self) -> Result<(), JsValue> {
        if self.hashed == self.sparse.size() {
            Ok(())
        } else {
            Err(thrown(&PageError::invalid("the file changed while it was read")))
        }
    }

    /// The whole file's digest, lowercase hex.
    pub fn digest(&self) -> Result<String, JsValue> {
        self.whole()?;
        Ok(hex::encode(self.hasher.clone().finish()))
    }

    /// Bytes of the file held (the parts the reader asked for).
    pub fn held(&self) -> f64 {
        self.sparse.held() as f64
    }

    /// The PAdES job (JSON text of `formats::Job::Pades`) for the signer's certificate (DER,
    /// base64), or `{"need":{"offset","length"}}` when the reader needs more bytes first.
    /// `visible`: the signature drawn in the bottom-right corner of the last page; `timestamp`:
    /// room for a signature time-stamp (B-T, a time-stamp authority configured).
    pub fn layout(
        &self,
        certificate_base64: &str,
        now_ms: f64,
        visible: bool,
        timestamp: bool,
    ) -> Result<String, JsValue> {
        use base64::Engine;
        self.whole()?;
        let certificate = base64::engine::general_purpose::STANDARD
            .decode(certificate_base64)
            .map_err(|e| thrown(&PageError::invalid(format!("certificate: {e}"))))?;
        match formats::pdf_layout_sparse(
            &self.sparse,
            self.hasher.clone(),
            &certificate,
            unix_seconds(now_ms),
            visible,
            timestamp,
        ) {
            Ok(Ok(layout)) => {
                serde_json::to_string(&formats::Job::Pades(Box::new(layout))).map_err(|e| internal(e.to_string()))
            }
            Ok(Err((offset, length))) => Ok(format!(r#"{{"need":{}}}"#, need_json(offset, length))),
            Err(e) => Err(thrown(&e)),
        }
    }
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

/// Opening a pli (CMS EnvelopedData / AuthEnvelopedData) chunk by chunk; see `pli.rs` for
/// the order of calls. Plaintext is complete only once `finish` returned.
#[wasm_bindgen]
pub struct PliDecryptor {
    inner: pli::Pli,
}

#[wasm_bindgen]
impl PliDecryptor {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> PliDecryptor {
        PliDecryptor { inner: pli::Pli::new() }
    }

    /// Feeds ciphertext; returns the plaintext it yields (none before the key is set).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<u8>, JsValue> {
        self.inner.feed(chunk).map_err(|e| thrown(&e))
    }

    /// `feed` for chunks that crossed extension messaging as base64; returns base64.
    pub fn feed_base64(&mut self, chunk: &str) -> Result<String, JsValue> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(chunk)
            .map_err(|e| thrown(&PageError::invalid(e.to_string())))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.feed(&bytes)?))
    }

    /// The header as JSON text once the bytes before the content were fed, else undefined.
    pub fn header(&self) -> Option<String> {
        self.inner.header_json()
    }

    /// Fingerprints (JSON array) of the certificates among `choices_json` the pli is for.
    pub fn match_certificates(&mut self, choices_json: &str) -> Result<String, JsValue> {
        self.inner.match_certificates(choices_json).map_err(|e| thrown(&e))
    }

    /// The host `decrypt` request for the wrapped key of `fingerprint`'s recipient.
    pub fn decrypt_request(&self, id: u32, session: &str, fingerprint: &str) -> Result<String, JsValue> {
        self.inner.decrypt_request(u64::from(id), session, fingerprint).map_err(|e| thrown(&e))
    }

    /// The host's `plaintext` (the content-encryption key, base64).
    pub fn set_key_base64(&mut self, key: &str) -> Result<(), JsValue> {
        self.inner.set_key_base64(key).map_err(|e| thrown(&e))
    }

    /// `set_key_base64` for a page that decrypts the bulk with WebCrypto AES: the WebCrypto
    /// parameters as JSON, or undefined when the cipher has no WebCrypto form (3DES), see
    /// `pli::Pli::set_key_external_base64`.
    pub fn set_key_external_base64(&mut self, key: &str) -> Result<Option<String>, JsValue> {
        self.inner.set_key_external_base64(key).map_err(|e| thrown(&e))
    }

    /// End of input: the last plaintext, or the error (integrity, padding, truncation).
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        self.inner.finish().map_err(|e| thrown(&e))
    }

    /// `finish` with base64 output.
    pub fn finish_base64(&mut self) -> Result<String, JsValue> {
        use base64::Engine;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.finish()?))
    }

    /// Input bytes consumed so far.
    pub fn consumed(&self) -> f64 {
        self.inner.consumed() as f64
    }
}

/// The CRC-32 of a zip member, fed chunk by chunk as the output streams by (`formats::zip`).
#[wasm_bindgen]
pub struct Crc32 {
    inner: paraphe_formats::zip::Crc32,
}

#[wasm_bindgen]
impl Crc32 {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Crc32 {
        Crc32 { inner: paraphe_formats::zip::Crc32::new() }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
    }

    /// The CRC-32 of what was fed so far.
    pub fn value(&self) -> u32 {
        self.inner.value()
    }
}

/// A zip of stored members (`zip.rs`): built from `[{name, size, crc32}]` (JSON text) and the
/// local date and time, it gives the bytes before each member (`header(i)`) and after the last
/// (`trailer()`). Throws `{code, message, tooLarge}` (JSON text) for what it refuses.
#[wasm_bindgen]
pub struct ZipArchive {
    inner: paraphe_formats::zip::Archive,
}

#[wasm_bindgen]
impl ZipArchive {
    #[wasm_bindgen(constructor)]
    pub fn new(
        members_json: &str,
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Result<ZipArchive, JsValue> {
        let inner = zip::archive(members_json, [year, month, day, hour, minute, second])
            .map_err(|e| JsValue::from_str(&e.to_json()))?;
        Ok(ZipArchive { inner })
    }

    /// What goes right before member `index`.
    pub fn header(&self, index: usize) -> Option<Vec<u8>> {
        self.inner.headers.get(index).cloned()
    }

    /// The central directory and its end record, after the last member.
    pub fn trailer(&self) -> Vec<u8> {
        self.inner.trailer.clone()
    }

    /// The whole archive's length.
    pub fn size(&self) -> f64 {
        // Below 2^32: what needs more is refused (no ZIP64).
        self.inner.size as f64
    }
}
