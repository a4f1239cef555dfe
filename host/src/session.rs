//! Login sessions: the one owner of the token backend and of the sessions opened on it.
//!
//! A login session is the consent token the extension got for one batch (`login`). Its
//! whole life is here: [`Sessions::open`] logs in to the token and opens it,
//! [`Sessions::get`] hands a command its [`LoggedInKey`] after the purpose check,
//! [`Sessions::end`] ends it (`logout`), [`Sessions::expire`] ends those whose time-to-live
//! has passed, [`Sessions::card_removed`] forgets those whose card left, and
//! [`Sessions::end_all`] ends the rest when the conversation ends. Every rule about the
//! token's logins lives here too: a second login on a logged-in token with the very same
//! PIN needs no `C_Login`, any other PIN ends the token's sessions first; the token is logged
//! out when its last session ends; the sessions of a token whose card went (card removed, or
//! a use that found the token's sessions gone) are forgotten without a logout.
//!
//! The backend keeps only cryptoki objects: each logged-in key owns a PKCS#11 session of its
//! own, on the module worker's thread; a session here holds the key's handle ([`KeyRef`])
//! and the PIN the token accepted (a `Pin`, zeroized when the session ends), the one place
//! where the host keeps PINs.
//!
//! Model: rustls's `SigningKey` → `Signer` (a logged-in key is a value a command signs with)
//! and web-eid-app's `CommandSession`.

use crate::error::{Error, Fault, Result};
use crate::token::{
    DecryptMechanism, Hint, KeyRef, KeyType, LoginWith, Plaintext, SignMechanism, TokenBackend, TokenRef,
};
use paraphe_formats::x509;
use paraphe_protocol::cert::CertificateInfo;
use paraphe_protocol::{LoginPurpose, Pin};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// One login session: its logged-in key (the key's PKCS#11 session stays on the module
/// worker; this is its handle) and what was decided at login.
struct LoginSession {
    key: KeyRef,
    /// The PIN the token accepted for its live login (zeroized when dropped); `None` for a
    /// PIN pad login or a token that needs none. Given to the backend before each use of an
    /// always-authenticate key, and compared with the PIN of the next login on the token.
    pin: Option<Pin>,
    expires: Option<Instant>,
    /// The certificate's facts, decoded once at login (key usage, usages, curve).
    certificate: CertificateInfo,
    /// What the session may be used for: the only commands it serves.
    purpose: LoginPurpose,
}

impl LoginSession {
    /// The kept PIN, for always-authenticate keys only: the backend gives it to the token
    /// before each use (`C_Login(CKU_CONTEXT_SPECIFIC)`).
    fn kept_pin(&self) -> Option<&Pin> {
        if self.key.always_authenticate {
            self.pin.as_ref()
        } else {
            None
        }
    }
}

/// What `login` asks for.
pub struct Opening<'a> {
    /// The certificate's SHA-256 fingerprint (lowercase hex).
    pub fingerprint: &'a str,
    pub pin: Option<Pin>,
    /// The session's time-to-live; `None`: until `logout` or the end of the conversation.
    pub ttl: Option<Duration>,
    pub purpose: LoginPurpose,
    /// Where `list-certificates` found the certificate, if the extension said.
    pub hint: Option<Hint>,
    /// Whether the certificate (DER) may serve the purpose, checked before any PIN reaches
    /// the token.
    pub admit: &'a dyn Fn(&[u8]) -> Result<()>,
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
    /// Tokens whose PKCS#11 sessions a key's use found gone with the card: their sessions
    /// are forgotten before the sessions are next touched.
    gone: Vec<TokenRef>,
}

/// A live session's key, ready to use: what `sign`, `decrypt` and `authenticate` work with.
/// It carries the PIN the session kept (always-authenticate keys) to the backend; the
/// command never sees it.
pub struct LoggedInKey<'a> {
    session: &'a LoginSession,
    backend: &'a mut (dyn TokenBackend + Send),
    /// Where a use that found the token's sessions gone says so ([`Sessions::gone`]).
    gone: &'a mut Vec<TokenRef>,
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
        let session = self.session;
        let r = self.backend.sign(&session.key, session.kept_pin(), mechanism, input);
        self.note(r)
    }

    pub fn decrypt(&mut self, mechanism: DecryptMechanism, input: &[u8]) -> Result<Plaintext> {
        let session = self.session;
        let r = self.backend.decrypt(&session.key, session.kept_pin(), mechanism, input);
        self.note(r)
    }

    /// When the token's sessions are gone (card pulled out, maybe put back), every session
    /// on that token is forgotten: the next request on them is `SESSION_NOT_FOUND`.
    fn note<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.as_ref().is_err_and(token_gone) {
            self.gone.push(self.session.key.token);
        }
        result
    }
}

/// Whether `e` says the key's PKCS#11 session is gone with its card.
fn token_gone(e: &Error) -> bool {
    match e {
        Error::TokenSessionEnded => true,
        Error::Pkcs11 { failure, .. } => failure.fault() == Fault::TokenGone,
        _ => false,
    }
}

impl Sessions {
    pub fn new(backend: Box<dyn TokenBackend + Send>) -> Self {
        Self { backend, open: HashMap::new(), next: 1, gone: Vec::new() }
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
    ///
    /// Every PIN is judged by the token. The one exception: the token is logged in already
    /// (another session) with this very PIN, compared in constant time; then no `C_Login`.
    /// Any other PIN, or a PIN pad, ends the token's other sessions first (the last one logs
    /// the token out), whatever the outcome of the login: `CKR_USER_ALREADY_LOGGED_IN` is
    /// never taken as a verified PIN.
    pub fn open(&mut self, o: Opening<'_>) -> Result<Opened> {
        self.settle();
        let found = self.backend.find(o.fingerprint, o.hint.as_ref())?;
        (o.admit)(&found.certificate)?;
        let with = if !found.login_required {
            LoginWith::Live
        } else if o.pin.is_none() && !found.protected_authentication_path {
            return Err(Error::PinRequired);
        } else {
            let on_token: Vec<&LoginSession> = self.open.values().filter(|s| s.key.token == found.token).collect();
            let live = match &o.pin {
                Some(typed) => on_token.iter().any(|s| s.pin.as_ref().is_some_and(|live| same_pin(typed, live))),
                None => false,
            };
            if live {
                LoginWith::Live
            } else {
                if !on_token.is_empty() {
                    // Logged in with another PIN, or on the PIN pad: that login says nothing
                    // of this PIN.
                    log::info!("token logged in with another PIN: its sessions end, the token judges this one");
                    self.end_token(found.token);
                }
                match &o.pin {
                    Some(pin) => LoginWith::Pin(pin.clone()),
                    None => LoginWith::PinPad,
                }
            }
        };
        let key = self.backend.login(&found, with)?;
        // Decoded once here rather than at every signature of a batch.
        let certificate = match facts(&key.certificate) {
            Ok(c) => c,
            Err(e) => {
                self.close(&key);
                return Err(e);
            }
        };
        let id = format!("s{}", self.next);
        self.next += 1;
        let opened = Opened {
            id: id.clone(),
            always_authenticate: key.always_authenticate,
            protected_authentication_path: key.protected_authentication_path,
        };
        let pin = if found.login_required { o.pin } else { None };
        let expires = o.ttl.map(|ttl| Instant::now() + ttl);
        self.open.insert(id, LoginSession { key, pin, expires, certificate, purpose: o.purpose });
        Ok(opened)
    }

    /// The live session named `id` if it was opened for one of `purposes`; else
    /// `SESSION_NOT_FOUND` or `SESSION_PURPOSE_MISMATCH`.
    pub fn get(&mut self, id: &str, command: &'static str, purposes: &[LoginPurpose]) -> Result<LoggedInKey<'_>> {
        self.settle();
        let session = self.open.get(id).ok_or_else(|| Error::SessionNotFound(id.to_owned()))?;
        if !purposes.contains(&session.purpose) {
            return Err(Error::SessionPurposeMismatch { purpose: session.purpose, command });
        }
        Ok(LoggedInKey { session, backend: &mut *self.backend, gone: &mut self.gone })
    }

    /// Ends the session `id` (nothing if there is none): closes its key's session, and logs
    /// the token out when no other session is logged in on it.
    pub fn end(&mut self, id: &str) {
        self.settle();
        if let Some(s) = self.open.remove(id) {
            self.close(&s.key);
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
    /// (their PKCS#11 sessions are gone with the card: closed, no logout; the kept PINs are
    /// zeroized).
    pub fn card_removed(&mut self) {
        self.settle();
        let mut tokens: Vec<TokenRef> = self.open.values().map(|s| s.key.token).collect();
        tokens.sort_by_key(|t| (t.module, t.slot));
        tokens.dedup();
        if tokens.is_empty() {
            return;
        }
        for token in self.backend.absent(&tokens) {
            self.forget_token(token);
        }
    }

    /// Ends every session, logging out of the tokens (port closed, host stuck).
    pub fn end_all(&mut self) {
        let all: Vec<String> = self.open.keys().cloned().collect();
        for id in all {
            self.end(&id);
        }
    }

    /// Forgets the sessions on the tokens a key's use found gone.
    fn settle(&mut self) {
        for token in std::mem::take(&mut self.gone) {
            self.forget_token(token);
        }
    }

    /// Ends every session on `token`, the last one logging the token out.
    fn end_token(&mut self, token: TokenRef) {
        let ids: Vec<String> = self.open.iter().filter(|(_, s)| s.key.token == token).map(|(k, _)| k.clone()).collect();
        for id in ids {
            self.end(&id);
        }
    }

    /// Forgets every session on `token`, whose card went: no logout (there is no token to
    /// log out of), the keys' sessions closed.
    fn forget_token(&mut self, token: TokenRef) {
        let ids: Vec<String> = self.open.iter().filter(|(_, s)| s.key.token == token).map(|(k, _)| k.clone()).collect();
        for id in ids {
            if let Some(s) = self.open.remove(&id) {
                if let Err(e) = self.backend.close(&s.key, false) {
                    log::warn!("closing the session of a removed card: {e}");
                }
            }
        }
    }

    /// Closes `key`'s session, logging the token out unless another session is logged in
    /// on it.
    fn close(&mut self, key: &KeyRef) {
        let last = !self.open.values().any(|s| s.key.token == key.token);
        if let Err(e) = self.backend.close(key, last) {
            log::warn!("logout: {e}");
        }
    }

    /// How many sessions are open (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }
}

/// Whether two PINs are the same, in a time that depends on neither (both are padded to
/// `Pin::MAX_LEN` bytes plus their length, and every byte is compared).
fn same_pin(a: &Pin, b: &Pin) -> bool {
    let padded = |p: &Pin| {
        let mut buf = Zeroizing::new([0u8; Pin::MAX_LEN + 1]);
        let bytes = p.expose().as_bytes();
        let n = bytes.len().min(Pin::MAX_LEN);
        buf[..n].copy_from_slice(&bytes[..n]);
        buf[Pin::MAX_LEN] = u8::try_from(bytes.len()).unwrap_or(u8::MAX);
        buf
    };
    let (x, y) = (padded(a), padded(b));
    let diff = x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q));
    std::hint::black_box(diff) == 0
}

/// The certificate's facts, or `KEY_USAGE_NOT_ALLOWED` when it cannot be read.
pub fn facts(der: &[u8]) -> Result<CertificateInfo> {
    x509::summarize(der, &[]).map_err(|e| Error::KeyUsageNotAllowed(format!("the certificate cannot be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_pin_compares_whole_pins() {
        let p = |s: &str| Pin::new(s.to_owned()).expect("pin");
        assert!(same_pin(&p("1234"), &p("1234")));
        assert!(!same_pin(&p("1234"), &p("0000")));
        assert!(!same_pin(&p("1234"), &p("12345")));
        assert!(!same_pin(&p("1234"), &p("123")));
        assert!(same_pin(&p(&"9".repeat(64)), &p(&"9".repeat(64))));
        assert!(!same_pin(&p(&"9".repeat(64)), &p(&"9".repeat(63))));
    }
}
