//! `login`: the user consented and typed the PIN in the extension's window; log in to the
//! token holding the certificate's key and open a session for the batch.
//!
//! A session has a purpose (`LoginArgs.purpose`) and serves only the commands of that
//! purpose. What the certificate allows is checked before `C_Login`, so a refused login
//! spends no PIN try:
//!
//! - `authenticate`: an authentication certificate (digitalSignature, clientAuth or no EKU);
//! - `sign-structured`, `sign-raw`: a signature certificate (digitalSignature or
//!   nonRepudiation), and for `sign-raw` one that cannot log in anywhere
//!   ([`x509::can_log_in`]): `H(H(origin) ‖ H(nonce))` for another site is just a digest,
//!   so a raw signature by a login-capable key could stand as that site's login token;
//! - `decrypt`: an encryption certificate (keyEncipherment or dataEncipherment).
//!
//! A wrong PIN is reported with the token's PIN state and never retried here: a card
//! locks after a few tries.

use super::{may_decrypt, may_sign};
use crate::dispatch::Host;
use crate::error::{Error, Result};
use crate::session::{facts, Opening};
use crate::token::Hint;
use paraphe_formats::x509;
use paraphe_protocol::cert::{CertificateInfo, Usage};
use paraphe_protocol::command::{KeyHint, LoginArgs, LoginResult};
use paraphe_protocol::limits::MAX_SESSION_TTL_SECONDS;
use paraphe_protocol::LoginPurpose;
use std::time::Duration;

/// Whether a `sign-raw` session may use a key whose certificate can log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKeys {
    /// Native messaging: never (`RAW_SIGNATURE_REFUSED`).
    Refuse,
    /// The command line with `--allow-login-key`: the person at the terminal chose the
    /// digest themself.
    Allow,
}

pub fn run(host: &mut Host, args: LoginArgs) -> Result<LoginResult> {
    open(host, args, LoginKeys::Refuse)
}

/// `login`'s arguments from their JSON text, or an error that names what is wrong without
/// quoting any value: serde's messages quote what they got (``invalid type: integer
/// `1234` ``), and a PIN sent as a number would end up in the answer and in the log.
pub fn arguments(raw: &str) -> Result<LoginArgs> {
    serde_json::from_str(raw).map_err(|e| Error::InvalidArgument(describe(raw, &e)))
}

fn describe(raw: &str, e: &serde_json::Error) -> String {
    use serde_json::value::RawValue;
    const FIELDS: [&str; 5] = ["certificate", "pin", "ttlSeconds", "purpose", "hint"];
    let generic = "login takes {certificate, pin, ttlSeconds, purpose, hint}".to_owned();
    if e.is_syntax() || e.is_eof() {
        return generic;
    }
    let Ok(map) = serde_json::from_str::<std::collections::HashMap<String, &RawValue>>(raw) else {
        return generic;
    };
    if map.keys().any(|k| !FIELDS.contains(&k.as_str())) {
        return format!("unknown argument: {generic}");
    }
    for required in ["certificate", "purpose"] {
        if !map.contains_key(required) {
            return format!("{required} is missing");
        }
    }
    let bad = |name: &str| map.get(name).map(|v| v.get());
    if bad("certificate").is_some_and(|v| serde_json::from_str::<String>(v).is_err()) {
        return "certificate must be a string".into();
    }
    if let Some(v) = bad("pin") {
        if let Err(e) = serde_json::from_str::<Option<paraphe_protocol::Pin>>(v) {
            // A string: `Pin`'s own reasons (empty, too long, control characters) quote nothing.
            return if v.starts_with('"') { format!("pin: {e}") } else { "pin must be a string".into() };
        }
    }
    if bad("ttlSeconds").is_some_and(|v| serde_json::from_str::<Option<u32>>(v).is_err()) {
        return format!("ttlSeconds must be a whole number of seconds, 1 to {MAX_SESSION_TTL_SECONDS}");
    }
    if bad("purpose").is_some_and(|v| serde_json::from_str::<LoginPurpose>(v).is_err()) {
        return "purpose must be authenticate, sign-structured, sign-raw or decrypt".into();
    }
    if bad("hint").is_some_and(|v| serde_json::from_str::<Option<KeyHint>>(v).is_err()) {
        return "hint must be {token, ckaId}, as list-certificates gives them".into();
    }
    generic
}

/// `login` with the raw-signature rule chosen by the caller (see [`LoginKeys`]).
pub fn open(host: &mut Host, args: LoginArgs, login_keys: LoginKeys) -> Result<LoginResult> {
    let fingerprint = args.certificate.to_ascii_lowercase();
    if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidArgument("certificate must be a SHA-256 fingerprint (64 hex digits)".into()));
    }
    match args.ttl_seconds {
        Some(0) => return Err(Error::InvalidArgument("ttlSeconds must be at least 1".into())),
        Some(s) if s > MAX_SESSION_TTL_SECONDS => {
            return Err(Error::InvalidArgument(format!(
                "ttlSeconds must be at most {MAX_SESSION_TTL_SECONDS} (12 hours)"
            )))
        }
        _ => {}
    }
    let hint = args.hint.as_ref().map(hint).transpose()?;
    let purpose = args.purpose;
    let opened = host.sessions().open(Opening {
        fingerprint: &fingerprint,
        pin: args.pin,
        ttl: args.ttl_seconds.map(|s| Duration::from_secs(u64::from(s))),
        purpose,
        hint,
        admit: &|der: &[u8]| admit(purpose, &facts(der)?, login_keys),
    })?;
    Ok(LoginResult {
        session: opened.id,
        always_authenticate: opened.always_authenticate,
        protected_authentication_path: opened.protected_authentication_path,
    })
}

/// The hint's token id and CKA_ID, checked: as `list-certificates` gives them (a short id,
/// CKA_ID in hex).
fn hint(h: &KeyHint) -> Result<Hint> {
    let hex_only = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    if h.token.is_empty() || h.token.len() > 64 || !h.token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidArgument("hint.token must be a token id from list-certificates".into()));
    }
    if h.cka_id.len() > 2 * MAX_CKA_ID || h.cka_id.len() % 2 != 0 || !hex_only(&h.cka_id) {
        return Err(Error::InvalidArgument(format!("hint.ckaId must be hex, at most {MAX_CKA_ID} bytes")));
    }
    let cka_id = hex::decode(&h.cka_id).map_err(|_| Error::InvalidArgument("hint.ckaId must be hex".into()))?;
    Ok(Hint { token: h.token.clone(), cka_id })
}

/// Longest CKA_ID a hint may name. IDs are short (PIV: one byte; SHA-1 of the key: 20).
const MAX_CKA_ID: usize = 128;

/// Whether the certificate may serve `purpose` (module documentation).
pub(crate) fn admit(purpose: LoginPurpose, info: &CertificateInfo, login_keys: LoginKeys) -> Result<()> {
    match purpose {
        LoginPurpose::Authenticate if !info.usages.contains(&Usage::Authentication) => Err(Error::KeyUsageNotAllowed(
            "authenticate needs an authentication certificate (digitalSignature, with clientAuth or no EKU)".into(),
        )),
        LoginPurpose::SignStructured | LoginPurpose::SignRaw if !may_sign(info) => {
            Err(Error::KeyUsageNotAllowed("the certificate is not for signatures".into()))
        }
        LoginPurpose::SignRaw if login_keys == LoginKeys::Refuse && x509::can_log_in(info) => {
            Err(Error::RawSignatureRefused)
        }
        LoginPurpose::Decrypt if !may_decrypt(info) => {
            Err(Error::KeyUsageNotAllowed("the certificate is not for encryption".into()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paraphe_protocol::cert::KeyUsage;

    fn info(ku: &[&str], eku: &[&str]) -> CertificateInfo {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let mut usages = Vec::new();
        if ku.contains(&"nonRepudiation") {
            usages.push(Usage::Signing);
        }
        if ku.contains(&"digitalSignature") && (eku.is_empty() || eku.contains(&"clientAuth")) {
            usages.push(Usage::Authentication);
        }
        if ku.contains(&"keyEncipherment") {
            usages.push(Usage::Encryption);
        }
        let key_usage = ku.iter().filter_map(|x| KeyUsage::ALL.into_iter().find(|k| k.name() == *x)).collect();
        CertificateInfo { key_usage, extended_key_usage: s(eku), usages, ..CertificateInfo::default() }
    }

    fn code(r: Result<()>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(Error::KeyUsageNotAllowed(_)) => "KEY_USAGE_NOT_ALLOWED",
            Err(Error::RawSignatureRefused) => "RAW_SIGNATURE_REFUSED",
            Err(_) => "other",
        }
    }

    #[test]
    fn purposes_follow_the_certificate() {
        use LoginPurpose::*;
        let signing = info(&["nonRepudiation"], &[]);
        let auth = info(&["digitalSignature"], &["clientAuth", "emailProtection"]);
        let dual = info(&["digitalSignature", "nonRepudiation"], &["clientAuth", "emailProtection"]);
        let enc = info(&["keyEncipherment", "dataEncipherment"], &[]);
        let r = LoginKeys::Refuse;
        assert_eq!(code(admit(SignRaw, &signing, r)), "ok");
        assert_eq!(code(admit(SignStructured, &signing, r)), "ok");
        assert_eq!(code(admit(Authenticate, &signing, r)), "KEY_USAGE_NOT_ALLOWED");
        assert_eq!(code(admit(Decrypt, &signing, r)), "KEY_USAGE_NOT_ALLOWED");
        assert_eq!(code(admit(SignRaw, &auth, r)), "RAW_SIGNATURE_REFUSED");
        assert_eq!(code(admit(SignRaw, &auth, LoginKeys::Allow)), "ok");
        assert_eq!(code(admit(SignStructured, &auth, r)), "ok");
        assert_eq!(code(admit(Authenticate, &auth, r)), "ok");
        assert_eq!(code(admit(SignRaw, &dual, r)), "RAW_SIGNATURE_REFUSED");
        assert_eq!(code(admit(SignStructured, &dual, r)), "ok");
        assert_eq!(code(admit(Authenticate, &dual, r)), "ok");
        assert_eq!(code(admit(Decrypt, &enc, r)), "ok");
        assert_eq!(code(admit(SignRaw, &enc, r)), "KEY_USAGE_NOT_ALLOWED");
        assert_eq!(code(admit(Authenticate, &enc, r)), "KEY_USAGE_NOT_ALLOWED");
        // No extensions at all: anything goes by RFC 5280, so it can log in: no raw digest.
        assert_eq!(code(admit(SignRaw, &info(&[], &[]), r)), "RAW_SIGNATURE_REFUSED");
    }

    #[test]
    fn argument_errors_never_quote_a_value() {
        let fp = "ab".repeat(32);
        for (raw, expected) in [
            (format!(r#"{{"certificate":"{fp}","pin":918273,"purpose":"sign-raw"}}"#), "pin must be a string"),
            (format!(r#"{{"certificate":"{fp}","pin":[9,1,8,2,7,3],"purpose":"sign-raw"}}"#), "pin must be a string"),
            (format!(r#"{{"certificate":"{fp}","pin":{{"918273":1}},"purpose":"sign-raw"}}"#), "pin must be a string"),
            (format!(r#"{{"certificate":"{fp}","pin":"","purpose":"sign-raw"}}"#), "pin: the PIN is empty"),
            (format!(r#"{{"certificate":"{fp}","pim":"918273","purpose":"sign-raw"}}"#), "unknown argument"),
            (format!(r#"{{"certificate":"{fp}","918273":"x","purpose":"sign-raw"}}"#), "unknown argument"),
            (r#"{"certificate":918273,"purpose":"sign-raw"}"#.to_owned(), "certificate must be a string"),
            (format!(r#"{{"certificate":"{fp}","pin":"1","purpose":"918273"}}"#), "purpose must be"),
            (format!(r#"{{"certificate":"{fp}","pin":"1","ttlSeconds":-918273,"purpose":"sign-raw"}}"#), "ttlSeconds"),
            (format!(r#"{{"certificate":"{fp}","pin":"918273"}}"#), "purpose is missing"),
            (format!(r#"{{"certificate":"{fp}","pin":"918273","pin":"918273","purpose":"sign-raw"}}"#), "login takes"),
            (r#"{"pin":"918273""#.to_owned(), "login takes"),
            ("[918273]".to_owned(), "login takes"),
        ] {
            let message = match arguments(&raw) {
                Err(Error::InvalidArgument(m)) => m,
                other => panic!("{raw}: {other:?}"),
            };
            assert!(message.contains(expected), "{raw}: {message}");
            assert!(!message.contains("918273"), "{raw}: {message}");
        }
    }
}
