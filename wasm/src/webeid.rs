//! Web eID page-protocol compatibility: the `web-eid:*` window messages of the web-eid.js
//! library, version 2 (`src/models/message/ExtensionRequest.ts`, `ExtensionResponse.ts`,
//! `src/errors/*` in web-eid/web-eid.js), answered by Paraphe's own operations.
//!
//! Everything a Web eID page sends is checked here, as the page API's requests are in
//! [`crate::request`]; what comes out ([`Validated`]) is all the background uses. Paraphe's
//! error codes become Web eID ones in [`Code::from_paraphe`], the one mapping; errors are
//! serialized the way web-eid.js's `serializeError` does (`{name, message, code, …}`), so its
//! `deserializeError` rebuilds the right error class in the page.
//!
//! Unlike Paraphe's own API, unknown members are ignored rather than refused: the Web eID
//! extension reads only the members it knows, and a later web-eid.js 2.x may add some. Every
//! member that is used is checked.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_protocol::HashAlgorithm;
use serde::Serialize;
use serde_json::{Map, Value};

/// The web-eid.js major version whose messages Paraphe answers.
pub const COMPAT_MAJOR: u64 = 2;
/// What `status` reports as the extension's and the native application's versions: the Web
/// eID API level, with Paraphe's own version as SemVer build metadata.
pub const COMPAT_VERSION: &str = "2.0.0";
/// web-eid.js `config.DEFAULT_USER_INTERACTION_TIMEOUT`.
pub const DEFAULT_USER_INTERACTION_TIMEOUT_MS: u64 = 120_000;
/// The longest a consent window waits, whatever the page asks.
pub const MAX_USER_INTERACTION_TIMEOUT_MS: u64 = 10 * 60_000;
/// Largest request accepted, as JSON text (a certificate is a few KiB).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// web-eid.js `ErrorCode` (`src/errors/ErrorCode.ts`) with the class each one deserializes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    ActionTimeout,
    UserTimeout,
    VersionMismatch,
    VersionInvalid,
    ExtensionUnavailable,
    NativeUnavailable,
    UnknownError,
    ContextInsecure,
    UserCancelled,
    NativeInvalidArgument,
    NativeFatal,
    ActionPending,
    MissingParameter,
}

impl Code {
    pub const fn name(self) -> &'static str {
        match self {
            Self::ActionTimeout => "ERR_WEBEID_ACTION_TIMEOUT",
            Self::UserTimeout => "ERR_WEBEID_USER_TIMEOUT",
            Self::VersionMismatch => "ERR_WEBEID_VERSION_MISMATCH",
            Self::VersionInvalid => "ERR_WEBEID_VERSION_INVALID",
            Self::ExtensionUnavailable => "ERR_WEBEID_EXTENSION_UNAVAILABLE",
            Self::NativeUnavailable => "ERR_WEBEID_NATIVE_UNAVAILABLE",
            Self::UnknownError => "ERR_WEBEID_UNKNOWN_ERROR",
            Self::ContextInsecure => "ERR_WEBEID_CONTEXT_INSECURE",
            Self::UserCancelled => "ERR_WEBEID_USER_CANCELLED",
            Self::NativeInvalidArgument => "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
            Self::NativeFatal => "ERR_WEBEID_NATIVE_FATAL",
            Self::ActionPending => "ERR_WEBEID_ACTION_PENDING",
            Self::MissingParameter => "ERR_WEBEID_MISSING_PARAMETER",
        }
    }

    /// The error class's `name`, as `serializeError` records it.
    pub const fn class(self) -> &'static str {
        match self {
            Self::ActionTimeout => "ActionTimeoutError",
            Self::UserTimeout => "UserTimeoutError",
            Self::VersionMismatch => "VersionMismatchError",
            Self::VersionInvalid => "VersionInvalidError",
            Self::ExtensionUnavailable => "ExtensionUnavailableError",
            Self::NativeUnavailable => "NativeUnavailableError",
            Self::UnknownError => "UnknownError",
            Self::ContextInsecure => "ContextInsecureError",
            Self::UserCancelled => "UserCancelledError",
            Self::NativeInvalidArgument => "NativeInvalidArgumentError",
            Self::NativeFatal => "NativeFatalError",
            Self::ActionPending => "ActionPendingError",
            Self::MissingParameter => "MissingParameterError",
        }
    }

    /// A Paraphe error code (`docs/PAGE-API.md`, host codes of `docs/PROTOCOL.md`) as the Web
    /// eID code a web-eid.js site handles. Web eID's native application reports only
    /// `USER_CANCELLED` and a deliberately generic `NATIVE_FATAL`; Paraphe keeps its own code
    /// in the error's `paraphe` member for support.
    pub fn from_paraphe(code: &str) -> Self {
        match code {
            "USER_CANCELLED" => Self::UserCancelled,
            // Another request of the tab has its consent window open or waiting.
            "CONSENT_PENDING" => Self::ActionPending,
            "TIMEOUT" => Self::UserTimeout,
            "HOST_UNAVAILABLE" => Self::NativeUnavailable,
            "HOST_INCOMPATIBLE" => Self::VersionMismatch,
            "ORIGIN_NOT_ALLOWED" => Self::ContextInsecure,
            "EXTENSION_UNAVAILABLE" => Self::ExtensionUnavailable,
            "INVALID_REQUEST" | "INVALID_ARGUMENT" | "DIGEST_LENGTH_MISMATCH" | "UNSUPPORTED_ALGORITHM" => {
                Self::NativeInvalidArgument
            }
            "INTERNAL" => Self::UnknownError,
            // The card, the PIN, the token, the middleware, a certificate that can log in
            // asked for a raw signature (RAW_SIGNATURE_REFUSED): nothing the site can fix.
            _ => Self::NativeFatal,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::ActionTimeout,
            Self::UserTimeout,
            Self::VersionMismatch,
            Self::VersionInvalid,
            Self::ExtensionUnavailable,
            Self::NativeUnavailable,
            Self::UnknownError,
            Self::ContextInsecure,
            Self::UserCancelled,
            Self::NativeInvalidArgument,
            Self::NativeFatal,
            Self::ActionPending,
            Self::MissingParameter,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }
}

/// A serialized web-eid.js error: `{name, message, code}` plus class-specific members
/// (`requiresUpdate`, versions) and Paraphe's own code.
#[derive(Clone, Debug, PartialEq)]
pub struct WebEidError {
    pub code: Code,
    pub message: String,
    pub extra: Map<String, Value>,
}

impl WebEidError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), extra: Map::new() }
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// A Paraphe error (`{code, message}` from the background or the host) for a Web eID page.
    pub fn from_paraphe(code: &str, message: &str) -> Self {
        let mapped = Code::from_paraphe(code);
        let e = Self::new(mapped, message).with("paraphe", Value::String(code.to_owned()));
        if mapped == Code::VersionMismatch {
            e.with("requiresUpdate", serde_json::json!({ "extension": false, "nativeApp": true }))
        } else {
            e
        }
    }

    pub fn to_value(&self) -> Value {
        let mut o = self.extra.clone();
        o.insert("name".into(), Value::String(self.code.class().into()));
        o.insert("message".into(), Value::String(self.message.clone()));
        o.insert("code".into(), Value::String(self.code.name().into()));
        Value::Object(o)
    }

    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }
}

/// A request that passed validation, in the background's terms.
#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Validated {
    #[serde(rename_all = "camelCase")]
    Status { library_version: String },
    #[serde(rename_all = "camelCase")]
    Authenticate { library_version: String, challenge_nonce: String, timeout_ms: u64 },
    #[serde(rename_all = "camelCase")]
    GetSigningCertificate { library_version: String, timeout_ms: u64 },
    #[serde(rename_all = "camelCase")]
    Sign {
        library_version: String,
        timeout_ms: u64,
        /// SHA-256 of the DER certificate the page names: the token must hold this very one.
        fingerprint: String,
        /// Lowercase hex, for display.
        hex: String,
        /// Standard base64, for the host.
        base64: String,
        hash_algorithm: HashAlgorithm,
        /// As the page spelt it (`SHA-256`…), echoed in `signatureAlgorithm`.
        hash_function: String,
    },
}

/// Checks a `web-eid:*` request (JSON text). `extension` is this extension's version, for
/// the version-mismatch error.
pub fn validate(json: &str, extension: &str) -> Result<Validated, WebEidError> {
    let invalid = |m: String| WebEidError::new(Code::NativeInvalidArgument, m);
    if json.len() > MAX_REQUEST_BYTES {
        return Err(invalid(format!("the request is larger than {MAX_REQUEST_BYTES} bytes")));
    }
    let v: Value = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    let o = v.as_object().ok_or_else(|| invalid("the request is not an object".into()))?;
    let action = o.get("action").and_then(Value::as_str).unwrap_or_default();
    let library_version = check_library_version(o.get("libraryVersion"), extension)?;
    let timeout_ms = user_interaction_timeout(o.get("options"))?;
    match action {
        "web-eid:status" => Ok(Validated::Status { library_version }),
        "web-eid:authenticate" => {
            let nonce = required_string(o, "challengeNonce")?;
            paraphe_formats::webeid::check_nonce(nonce).map_err(|m| invalid(m.into()))?;
            Ok(Validated::Authenticate { library_version, challenge_nonce: nonce.to_owned(), timeout_ms })
        }
        "web-eid:get-signing-certificate" => Ok(Validated::GetSigningCertificate { library_version, timeout_ms }),
        "web-eid:sign" => {
            let certificate = required_string(o, "certificate")?;
            let hash = required_string(o, "hash")?;
            let hash_function = required_string(o, "hashFunction")?;
            let der = STANDARD
                .decode(certificate)
                .map_err(|_| invalid("certificate is not base64 (DER certificate expected)".into()))?;
            let hash_algorithm = hash_function_of(hash_function)?;
            let digest = STANDARD.decode(hash).map_err(|_| invalid("hash is not base64".into()))?;
            if digest.len() != hash_algorithm.digest_len() {
                return Err(invalid(format!(
                    "hash has {} bytes, {hash_function} makes {}",
                    digest.len(),
                    hash_algorithm.digest_len()
                )));
            }
            Ok(Validated::Sign {
                library_version,
                timeout_ms,
                fingerprint: paraphe_formats::x509::fingerprint(&der),
                hex: hex::encode(&digest),
                base64: STANDARD.encode(&digest),
                hash_algorithm,
                hash_function: hash_function.to_owned(),
            })
        }
        other => Err(invalid(format!("unknown action {other:?}"))),
    }
}

fn required_string<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a str, WebEidError> {
    match o.get(key) {
        None | Some(Value::Null) => Err(WebEidError::new(Code::MissingParameter, format!("{key} is required"))),
        Some(Value::String(s)) if s.is_empty() => {
            Err(WebEidError::new(Code::MissingParameter, format!("{key} is required")))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(WebEidError::new(Code::NativeInvalidArgument, format!("{key} must be a string"))),
    }
}

/// `SHA-256`, `SHA-384`, `SHA-512`: the hash functions Paraphe's host signs. web-eid.js also
/// names SHA-224 and SHA3-*, which `get-signing-certificate` never offers.
fn hash_function_of(name: &str) -> Result<HashAlgorithm, WebEidError> {
    match name {
        "SHA-256" => Ok(HashAlgorithm::Sha256),
        "SHA-384" => Ok(HashAlgorithm::Sha384),
        "SHA-512" => Ok(HashAlgorithm::Sha512),
        _ => Err(WebEidError::new(
            Code::NativeInvalidArgument,
            format!("hash function {name:?} is not supported (SHA-256, SHA-384, SHA-512)"),
        )),
    }
}

/// `options.userInteractionTimeout` in milliseconds, or web-eid.js's default (also for 0, as
/// the Web eID extension's `||` does), at most [`MAX_USER_INTERACTION_TIMEOUT_MS`].
fn user_interaction_timeout(options: Option<&Value>) -> Result<u64, WebEidError> {
    let invalid = |m: &str| WebEidError::new(Code::NativeInvalidArgument, m);
    let options = match options {
        None | Some(Value::Null) => return Ok(DEFAULT_USER_INTERACTION_TIMEOUT_MS),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid("options must be an object")),
    };
    if let Some(lang) = options.get("lang") {
        // Shown nowhere: the consent window speaks the browser's language.
        if !(lang.is_null() || lang.as_str().is_some_and(|l| l.len() <= 8)) {
            return Err(invalid("options.lang must be a language code"));
        }
    }
    match options.get("userInteractionTimeout") {
        None | Some(Value::Null) => Ok(DEFAULT_USER_INTERACTION_TIMEOUT_MS),
        Some(Value::Number(n)) => {
            let ms = n
                .as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .ok_or_else(|| invalid("options.userInteractionTimeout must be a positive number of milliseconds"))?;
            if ms < 1.0 {
                return Ok(DEFAULT_USER_INTERACTION_TIMEOUT_MS);
            }
            // Bounded above, so the cast cannot overflow.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let ms = ms.min(MAX_USER_INTERACTION_TIMEOUT_MS as f64).ceil() as u64;
            Ok(ms)
        }
        Some(_) => Err(invalid("options.userInteractionTimeout must be a number")),
    }
}

/// `(major, minor, patch)` of a SemVer 2.0 string, as the Web eID extension's `parseSemver`.
pub fn parse_semver(s: &str) -> Option<(u64, u64, u64)> {
    let identifiers_ok = |part: &str| {
        part.split('.').all(|id| !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    };
    let (rest, build) = s.split_once('+').map_or((s, None), |(r, b)| (r, Some(b)));
    let (core, pre) = rest.split_once('-').map_or((rest, None), |(c, p)| (c, Some(p)));
    if build.is_some_and(|b| !identifiers_ok(b)) || pre.is_some_and(|p| !identifiers_ok(p)) {
        return None;
    }
    let number = |p: &str| -> Option<u64> {
        let canonical = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
        canonical.then(|| p.parse().ok()).flatten()
    };
    match core.split('.').collect::<Vec<_>>()[..] {
        [a, b, c] => Some((number(a)?, number(b)?, number(c)?)),
        _ => None,
    }
}

/// The library's version must be SemVer (`VERSION_INVALID`) of a major version Paraphe
/// speaks (`VERSION_MISMATCH`, as the Web eID extension's `checkCompatibility` would say
/// when the extension is older than the library).
fn check_library_version(v: Option<&Value>, extension: &str) -> Result<String, WebEidError> {
    let s = match v {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => {
            return Err(WebEidError::new(Code::MissingParameter, "libraryVersion is required"));
        }
        Some(other) => return Err(WebEidError::new(Code::VersionInvalid, format!("Invalid SemVer string '{other}'"))),
    };
    let (major, _, _) = parse_semver(s)
        .ok_or_else(|| WebEidError::new(Code::VersionInvalid, format!("Invalid SemVer string '{s}'")))?;
    if major > COMPAT_MAJOR {
        let versions = versions(s, extension, None);
        let mut e = WebEidError::new(Code::VersionMismatch, "Update required for Web-eID extension and native app")
            .with("requiresUpdate", serde_json::json!({ "extension": true, "nativeApp": true }));
        if let Value::Object(o) = versions {
            e.extra.extend(o);
        }
        return Err(e);
    }
    Ok(s.to_owned())
}

/// SemVer build metadata from free text: `[0-9A-Za-z-]` identifiers separated by dots.
fn build_metadata(s: &str) -> String {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|id| !id.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join(".")
}

/// `{library, extension, nativeApp}` as `status` answers them: the Web eID API level Paraphe
/// implements, with Paraphe's versions as build metadata (`2.0.0+paraphe.0.1.0`).
pub fn versions(library: &str, extension: &str, host: Option<&str>) -> Value {
    let tag = |prefix: &str, v: &str| {
        let meta = build_metadata(v);
        if meta.is_empty() {
            format!("{COMPAT_VERSION}+{prefix}")
        } else {
            format!("{COMPAT_VERSION}+{prefix}.{meta}")
        }
    };
    let mut o = Map::new();
    o.insert("library".into(), Value::String(library.to_owned()));
    o.insert("extension".into(), Value::String(tag("paraphe", extension)));
    if let Some(h) = host {
        o.insert("nativeApp".into(), Value::String(tag("paraphe-host", h)));
    }
    Value::Object(o)
}

/// web-eid.js `SignatureAlgorithm` (`src/models/SignatureAlgorithm.ts`).
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureAlgorithm {
    pub crypto_algorithm: &'static str,
    pub hash_function: &'static str,
    pub padding_scheme: &'static str,
}

const fn hash_function_name(h: HashAlgorithm) -> &'static str {
    match h {
        HashAlgorithm::Sha1 => "SHA-1",
        HashAlgorithm::Sha256 => "SHA-256",
        HashAlgorithm::Sha384 => "SHA-384",
        HashAlgorithm::Sha512 => "SHA-512",
    }
}

/// What `sign` does with a key: RSA keys sign PKCS#1 v1.5 (the request names no padding,
/// so PSS is never offered), EC keys plain ECDSA with a raw `r‖s` signature, as Web eID.
pub fn signature_algorithm(key_type: &str, hash: HashAlgorithm) -> Option<SignatureAlgorithm> {
    let (crypto_algorithm, padding_scheme) = match key_type {
        "RSA" => ("RSA", "PKCS1.5"),
        "EC" => ("ECC", "NONE"),
        _ => return None,
    };
    Some(SignatureAlgorithm { crypto_algorithm, hash_function: hash_function_name(hash), padding_scheme })
}

/// `supportedSignatureAlgorithms` of `get-signing-certificate` for a key.
pub fn signature_algorithms(key_type: &str) -> Vec<SignatureAlgorithm> {
    [HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512]
        .into_iter()
        .filter_map(|h| signature_algorithm(key_type, h))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "12345678901234567890123456789012345678901234";
    const CERT: &[u8] = include_bytes!("../../fuzz/seeds/certificate/ec-p256-signing.der");

    fn code(r: Result<Validated, WebEidError>) -> Option<&'static str> {
        r.err().map(|e| e.code.name())
    }

    #[test]
    fn requests_as_web_eid_js_sends_them() {
        let status = validate(r#"{"action":"web-eid:status","libraryVersion":"2.1.0"}"#, "0.1.0");
        assert_eq!(status, Ok(Validated::Status { library_version: "2.1.0".into() }));
        let auth = validate(
            &format!(
                r#"{{"action":"web-eid:authenticate","libraryVersion":"2.1.0","challengeNonce":"{NONCE}","options":{{"userInteractionTimeout":1,"lang":"en"}}}}"#
            ),
            "0.1.0",
        );
        assert_eq!(
            auth,
            Ok(Validated::Authenticate {
                library_version: "2.1.0".into(),
                challenge_nonce: NONCE.into(),
                timeout_ms: 1
            })
        );
        let cert = validate(r#"{"action":"web-eid:get-signing-certificate","libraryVersion":"2.0.0"}"#, "0.1.0");
        assert_eq!(
            cert,
            Ok(Validated::GetSigningCertificate {
                library_version: "2.0.0".into(),
                timeout_ms: DEFAULT_USER_INTERACTION_TIMEOUT_MS
            })
        );
        let hash = STANDARD.encode([7u8; 48]);
        let sign = format!(
            r#"{{"action":"web-eid:sign","libraryVersion":"2.1.0","certificate":"{}","hash":"{hash}","hashFunction":"SHA-384","options":{{"userInteractionTimeout":999999999}}}}"#,
            STANDARD.encode(CERT)
        );
        let Ok(Validated::Sign { fingerprint, hash_algorithm, timeout_ms, hex, .. }) = validate(&sign, "0.1.0") else {
            panic!("valid sign request")
        };
        assert_eq!(fingerprint, paraphe_formats::x509::fingerprint(CERT));
        assert_eq!(hash_algorithm, HashAlgorithm::Sha384);
        assert_eq!(timeout_ms, MAX_USER_INTERACTION_TIMEOUT_MS);
        assert_eq!(hex, "07".repeat(48));
    }

    #[test]
    fn refusals_carry_web_eid_codes() {
        let sign = |cert: &str, hash: &str, f: &str| {
            format!(
                r#"{{"action":"web-eid:sign","libraryVersion":"2.1.0","certificate":"{cert}","hash":"{hash}","hashFunction":"{f}"}}"#
            )
        };
        let c = STANDARD.encode(CERT);
        let h32 = STANDARD.encode([1u8; 32]);
        let cases = [
            (r#"{"action":"web-eid:status"}"#.to_owned(), "ERR_WEBEID_MISSING_PARAMETER"),
            (r#"{"action":"web-eid:status","libraryVersion":"2.x"}"#.to_owned(), "ERR_WEBEID_VERSION_INVALID"),
            (r#"{"action":"web-eid:status","libraryVersion":"3.0.0"}"#.to_owned(), "ERR_WEBEID_VERSION_MISMATCH"),
            (
                r#"{"action":"web-eid:authenticate","libraryVersion":"2.1.0"}"#.to_owned(),
                "ERR_WEBEID_MISSING_PARAMETER",
            ),
            (
                r#"{"action":"web-eid:authenticate","libraryVersion":"2.1.0","challengeNonce":"short"}"#.to_owned(),
                "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
            ),
            (
                format!(
                    r#"{{"action":"web-eid:authenticate","libraryVersion":"2.1.0","challengeNonce":"{NONCE}","options":{{"userInteractionTimeout":"x"}}}}"#
                ),
                "ERR_WEBEID_NATIVE_INVALID_ARGUMENT",
            ),
            (sign(&c, &h32, "SHA-384"), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            (sign(&c, &h32, "SHA3-256"), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            (sign("not base64!", &h32, "SHA-256"), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            (sign("", &h32, "SHA-256"), "ERR_WEBEID_MISSING_PARAMETER"),
            (r#"{"action":"web-eid:nope","libraryVersion":"2.1.0"}"#.to_owned(), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            ("[]".to_owned(), "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
        ];
        for (json, want) in cases {
            assert_eq!(code(validate(&json, "0.1.0")), Some(want), "{json}");
        }
        assert!(validate(&sign(&c, &h32, "SHA-256"), "0.1.0").is_ok());
    }

    #[test]
    fn errors_serialize_as_web_eid_js_does() {
        let e = WebEidError::from_paraphe("USER_CANCELLED", "the person cancelled").to_value();
        assert_eq!(e["code"], "ERR_WEBEID_USER_CANCELLED");
        assert_eq!(e["name"], "UserCancelledError");
        assert_eq!(e["message"], "the person cancelled");
        assert_eq!(e["paraphe"], "USER_CANCELLED");
        for (ours, theirs) in [
            ("TIMEOUT", "ERR_WEBEID_USER_TIMEOUT"),
            ("HOST_UNAVAILABLE", "ERR_WEBEID_NATIVE_UNAVAILABLE"),
            ("ORIGIN_NOT_ALLOWED", "ERR_WEBEID_CONTEXT_INSECURE"),
            ("INVALID_REQUEST", "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"),
            ("NO_CERTIFICATE", "ERR_WEBEID_NATIVE_FATAL"),
            ("RAW_SIGNATURE_REFUSED", "ERR_WEBEID_NATIVE_FATAL"),
            ("PIN_LOCKED", "ERR_WEBEID_NATIVE_FATAL"),
            ("INTERNAL", "ERR_WEBEID_UNKNOWN_ERROR"),
            ("CONSENT_PENDING", "ERR_WEBEID_ACTION_PENDING"),
            ("USER_ACTIVATION_REQUIRED", "ERR_WEBEID_NATIVE_FATAL"),
        ] {
            assert_eq!(Code::from_paraphe(ours).name(), theirs);
        }
        let m = WebEidError::from_paraphe("HOST_INCOMPATIBLE", "old host").to_value();
        assert_eq!(m["requiresUpdate"]["nativeApp"], true);
        assert_eq!(Code::from_name("ERR_WEBEID_ACTION_PENDING"), Some(Code::ActionPending));
    }

    #[test]
    fn versions_are_semver_at_the_web_eid_api_level() {
        let v = versions("2.1.0", "0.1.0", Some("0.1.0 (debug)"));
        assert_eq!(v["extension"], "2.0.0+paraphe.0.1.0");
        assert_eq!(v["nativeApp"], "2.0.0+paraphe-host.0.1.0.debug");
        // Sites not allowed get no version of Paraphe's (background/webeid.js passes "").
        let hidden = versions("2.1.0", "", Some(""));
        assert_eq!(
            (hidden["extension"].as_str(), hidden["nativeApp"].as_str()),
            (Some("2.0.0+paraphe"), Some("2.0.0+paraphe-host"))
        );
        assert_eq!(parse_semver("2.0.0+paraphe").map(|v| v.0), Some(COMPAT_MAJOR));
        for s in [v["extension"].as_str(), v["nativeApp"].as_str()] {
            assert_eq!(parse_semver(s.unwrap_or_default()).map(|v| v.0), Some(COMPAT_MAJOR));
        }
        assert_eq!(parse_semver("2.1.0-beta.2"), Some((2, 1, 0)));
        for bad in ["2.1", "02.1.0", "2.1.0+", "2.1.0-", "v2.1.0", "2.1.0.4"] {
            assert_eq!(parse_semver(bad), None, "{bad}");
        }
    }

    #[test]
    fn signature_algorithms_follow_the_key() {
        let rsa = signature_algorithms("RSA");
        assert_eq!(rsa.len(), 3);
        assert!(rsa.iter().all(|a| a.crypto_algorithm == "RSA" && a.padding_scheme == "PKCS1.5"));
        let ec = serde_json::to_value(signature_algorithms("EC")).unwrap_or_default();
        assert_eq!(ec[0], serde_json::json!({"cryptoAlgorithm":"ECC","hashFunction":"SHA-256","paddingScheme":"NONE"}));
        assert!(signature_algorithms("Ed25519").is_empty());
    }
}
