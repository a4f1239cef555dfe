//! `login`: the user consented and typed the PIN in the extension's window; log in to the
//! token holding the certificate's key and open a session for the batch.
//!
//! A wrong PIN is reported with the token's PIN state and never retried here: a card
//! locks after a few tries.

use crate::dispatch::{Host, LoginSession};
use crate::error::{Error, Result};
use paraphe_formats::x509;
use paraphe_protocol::command::{LoginArgs, LoginResult};
use std::time::{Duration, Instant};

pub fn run(host: &mut Host, args: LoginArgs) -> Result<LoginResult> {
    let fingerprint = args.certificate.to_ascii_lowercase();
    if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidArgument("certificate must be a SHA-256 fingerprint (64 hex digits)".into()));
    }
    if args.ttl_seconds == Some(0) {
        return Err(Error::InvalidArgument("ttlSeconds must be at least 1".into()));
    }
    let key = host.backend.login(&fingerprint, args.pin.as_ref())?;
    // Decoded once here rather than at every signature of a batch.
    let certificate = x509::summarize(&key.certificate, &[]).unwrap_or_default();
    let id = format!("s{}", host.next_session);
    host.next_session += 1;
    let result = LoginResult {
        session: id.clone(),
        always_authenticate: key.always_authenticate,
        protected_authentication_path: key.protected_authentication_path,
    };
    let pin = if key.always_authenticate { args.pin } else { None };
    let expires = args.ttl_seconds.map(|s| Instant::now() + Duration::from_secs(u64::from(s)));
    host.sessions.insert(id, LoginSession { key, pin, expires, certificate });
    Ok(result)
}
