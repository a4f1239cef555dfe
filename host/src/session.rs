//! Login sessions: the one owner of the token backend and of the sessions opened on it.
//!
//! A login session is the consent token the extension got for one batch (`login`). Its
//! whole life is here: [`Sessions::open`] logs in to the token and opens it,
//! [`Sessions::get`] hands a command its [`LoggedInKey`] after the purpose check,
//! [`Sessions::end`] ends it (`logout`), [`Sessions::expire`] ends those whose time-to-live
//! has passed, [`Sessions::card_removed`] forgets those whose card left, and
//! [`Sessions::end_all`] ends the rest when the conversation ends. The token is logged out
//! when the last session on a key ends; a session whose login the backend ended by itself
//! (another PIN checked on the same token, card removed) is forgotten without a logout.
//!
//! Model: rustls's `SigningKey` → `Signer` (a logged-in key is a value a command signs with)
//! and web-eid-app's `CommandSession`.

use crate::error::{Error, Result};
use crate::token::{Admit, DecryptMechanism, KeyRef, KeyType, Plaintext, SignMechanism, TokenBackend};
use paraphe_formats::x509;
use paraphe_protocol::cert::CertificateInfo;
use paraphe_protocol::{LoginPurpose, Pin};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One login session.
struct LoginSession {
    key: KeyRef,
    /// Kept only for keys that need the PIN at every use; zeroized when dropped.
    pin: Option<Pin>,
    expires: Option<Instant>,
    /// The certificate's facts, decoded once at login (key usage, usages, curve).
    certificate: CertificateInfo,
    /// What the session may be used for: the only commands it serves.
    purpose: LoginPurpose,
}

/// What `login` asks for.
pub struct Opening<'a> {
    /// The certificate's SHA-256 fingerprint (lowercase hex).
    pub fingerprint: &'a str,
    pub pin: Option<Pin>,
    /// The session's time-to-live; `None`: until `logout` or the end of the conversation.
    pub ttl: Option<Duration>,
    pub purpose: LoginPurpose,
    /// Whether the certificate may serve the purpose, checked before any PIN reaches the token.
    pub admit: Admit,
}

/// What a new session is.
#[derive(Debug)]
pub struct Opened {
    pub id: String,
    pub always_authenticate: bool,
    pub protected_authentication_path: bool,
}

/// The token backend and the login sessions opened on it.
pub struct Sessions {
    backend: Box<dyn TokenBackend + Send>,
    open: HashMap<String, LoginSession>,
    next: u64,
}

/// A live session's key, ready to use: what `sign`, `decrypt` and `authenticate` work with.
/// It carries the PIN the session kept (always-authenticate keys) to the backend; the
/// command never sees it.
pub struct LoggedInKey<'a> {
    session: &'a LoginSession,
    backend: &'a mut (dyn TokenBackend + Send),
}

impl LoggedInKey<'_> {
    pub fn key_type(&self) -> &KeyType {
        &self.session.key.key_type
    }

    /// The certificate's facts, as decoded at login.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.session.certificate
    }

    /// The certificate (DER) the user chose the key by.
    pub fn certificate_der(&self) -> &[u8] {
        &self.session.key.certificate
    }

    pub fn purpose(&self) -> LoginPurpose {
        self.session.purpose
    }

    pub fn sign(&mut self, mechanism: SignMechanism, input: &[u8]) -> Result<Vec<u8>> {
        self.backend.sign(&self.session.key, self.session.pin.as_ref(), mechanism, input)
    }

    pub fn decrypt(&mut self, mechanism: DecryptMechanism, input: &[u8]) -> Result<Plaintext> {
        self.backend.decrypt(&self.session.key, self.session.pin.as_ref(), mechanism, input)
    }
}

impl Sessions {
    pub fn new(backend: Box<dyn TokenBackend + Send>) -> Self {
        Self { backend, open: HashMap::new(), next: 1 }
    }

    /// The backend, for what needs no login (modules, tokens, certificates, new modules).
    pub fn backend(&mut self) -> &mut (dyn TokenBackend + Send) {
        &mut *self.backend
    }

    /// Why the backend can take no more calls, if so (module worker past a deadline).
    pub fn wedged(&self) -> Option<String> {
        self.backend.wedged()
    }

    /// Logs in to the token holding the certificate's key and opens a session.
    pub fn open(&mut self, o: Opening<'_>) -> Result<Opened> {
        let key = self.backend.login(o.fingerprint, o.pin.as_ref(), &o.admit);
        // Checking another PIN may have ended the token's other logins.
        self.forget_ended();
        let key = key?;
        // Decoded once here rather than at every signature of a batch.
        let certificate = facts(&key.certificate)?;
        let id = format!("s{}", self.next);
        self.next += 1;
        let opened = Opened {
            id: id.clone(),
            always_authenticate: key.always_authenticate,
            protected_authentication_path: key.protected_authentication_path,
        };
        let pin = if key.always_authenticate { o.pin } else { None };
        let expires = o.ttl.map(|ttl| Instant::now() + ttl);
        self.open.insert(id, LoginSession { key, pin, expires, certificate, purpose: o.purpose });
        Ok(opened)
    }

    /// The live session named `id` if it was opened for one of `purposes`; else
    /// `SESSION_NOT_FOUND` or `SESSION_PURPOSE_MISMATCH`.
    pub fn get(&mut self, id: &str, command: &'static str, purposes: &[LoginPurpose]) -> Result<LoggedInKey<'_>> {
        let session = self.open.get(id).ok_or_else(|| Error::SessionNotFound(id.to_owned()))?;
        if !purposes.contains(&session.purpose) {
            return Err(Error::SessionPurposeMismatch { purpose: session.purpose, command });
        }
        Ok(LoggedInKey { session, backend: &mut *self.backend })
    }

    /// Ends the session `id` (nothing if there is none).
    pub fn end(&mut self, id: &str) {
        if let Some(s) = self.open.remove(id) {
            self.log_out_unless_used(&s.key);
        }
    }

    /// Ends the sessions whose time-to-live has passed at `now` (PIN session policy).
    pub fn expire(&mut self, now: Instant) {
        let expired: Vec<String> =
            self.open.iter().filter(|(_, s)| s.expires.is_some_and(|t| t <= now)).map(|(k, _)| k.clone()).collect();
        for id in expired {
            self.end(&id);
        }
    }

    /// A card or reader went away: forgets the sessions on the tokens no longer present
    /// (their PKCS#11 sessions are gone with the card; the kept PINs are zeroized).
    pub fn card_removed(&mut self) {
        let gone = self.backend.forget_removed();
        self.open.retain(|_, s| !gone.contains(&s.key.handle));
    }

    /// Ends every session, logging out of the tokens (port closed, host stuck).
    pub fn end_all(&mut self) {
        let all: Vec<String> = self.open.keys().cloned().collect();
        for id in all {
            self.end(&id);
        }
    }

    /// Forgets the sessions whose key the backend logged out by itself (to have another PIN
    /// checked by the token, which ends every login on that token).
    fn forget_ended(&mut self) {
        let gone = self.backend.ended();
        if !gone.is_empty() {
            self.open.retain(|_, s| !gone.contains(&s.key.handle));
        }
    }

    /// Logs out of `key`'s token unless another session still uses that key.
    fn log_out_unless_used(&mut self, key: &KeyRef) {
        if self.open.values().any(|s| s.key.handle == key.handle) {
            return;
        }
        if let Err(e) = self.backend.logout(key) {
            log::warn!("logout: {e}");
        }
    }

    /// How many sessions are open (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }
}

/// The certificate's facts, or `KEY_USAGE_NOT_ALLOWED` when it cannot be read.
pub fn facts(der: &[u8]) -> Result<CertificateInfo> {
    x509::summarize(der, &[]).map_err(|e| Error::KeyUsageNotAllowed(format!("the certificate cannot be read: {e}")))
}
