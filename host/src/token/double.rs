//! A test double for [`TokenBackend`]: tokens and keys in memory, no PKCS#11 at all, so
//! that dispatch, the error mapping, login purposes, expiry, card removal and the module
//! worker's deadlines have fast unit tests (model: rustls's `test_provider`,
//! authenticator-rs's virtual device). What the real tokens do is tested against SoftHSM
//! and the virtual card (`host/tests/`); this double follows the same rules where the
//! command layer can see them:
//!
//! - `find` finds a certificate by its fingerprint on a present token;
//! - a login refuses a wrong PIN with `CKR_PIN_INCORRECT` (the correct one is [`PIN`]), and
//!   a `C_Login` on a token logged in already with `CKR_USER_ALREADY_LOGGED_IN` (the session
//!   owner must have ended that token's sessions first); a login without `C_Login` on a
//!   token not logged in finds no private key;
//! - every login hands out a new key handle (its own session); the token is logged out by
//!   `close` with `logout`, or when its last session closes (PKCS#11 3.0 §5.6
//!   `C_CloseSession`), or when it is taken out ([`TestToken::remove`]);
//! - signatures and decryptions check the key's session is there and its card too, and,
//!   for always-authenticate keys, the PIN given along.
//!
//! The test keeps a clone of the [`TestToken`] to script it ([`TestToken::fail_next`],
//! [`TestToken::hold`]) and to read what the host asked of it ([`TestToken::journal`]).

use super::{
    DecryptMechanism, Found, Hint, KeyRef, KeyType, LoginWith, Plaintext, SignMechanism, TokenBackend, TokenRef,
};
use crate::error::{Error, Pkcs11Failure, Result};
use cryptoki::context::Function;
use cryptoki::error::RvError;
use paraphe_formats::x509;
use paraphe_protocol::cert::{CertificateEntry, KeyPresence, ModuleInfo, ModuleSource, TokenInfo};
use paraphe_protocol::{Pin, PinStatus};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use zeroize::Zeroizing;

/// The PIN every token of the double takes.
pub const PIN: &str = "1234";

/// An RSA 2048 authentication certificate (digitalSignature; clientAuth, emailProtection).
pub const RSA_AUTHENTICATION: &[u8] = include_bytes!("../../../fuzz/seeds/certificate/rsa-2048-authentication.der");
/// An ECDSA P-256 signing certificate (nonRepudiation only).
pub const EC_SIGNING: &[u8] = include_bytes!("../../../fuzz/seeds/certificate/ec-p256-signing.der");
/// An RSA 2048 encryption certificate (keyEncipherment, dataEncipherment).
pub const RSA_ENCRYPTION: &[u8] = include_bytes!("testdata/rsa-encryption.der");

/// One key on a token of the double, with its certificate.
#[derive(Clone, Debug)]
pub struct TestKey {
    pub certificate: Vec<u8>,
    pub key_type: KeyType,
    pub always_authenticate: bool,
    /// The token has a PIN pad (protected authentication path): a login needs no PIN.
    pub pin_pad: bool,
    /// Which token (and reader) holds it.
    pub token: usize,
}

impl TestKey {
    pub fn new(certificate: &[u8], key_type: KeyType) -> Self {
        Self { certificate: certificate.to_vec(), key_type, always_authenticate: false, pin_pad: false, token: 0 }
    }

    pub fn fingerprint(&self) -> String {
        x509::fingerprint(&self.certificate)
    }
}

#[derive(Default)]
struct State {
    keys: Vec<TestKey>,
    /// Tokens taken out of their reader.
    removed: Vec<usize>,
    /// Logged-in key handles (each its own session) → index in `keys`.
    logged_in: HashMap<u64, usize>,
    /// Tokens logged in (user), by index.
    token_login: HashSet<usize>,
    /// How many certificate values `find` read.
    certificates_read: usize,
    next: u64,
    journal: Vec<String>,
    /// The next failure of an operation (`login`, `sign`, `decrypt`, `tokens`…).
    failures: HashMap<&'static str, Error>,
    /// Operations that wait until their sender says go (or is dropped).
    holds: HashMap<&'static str, mpsc::Receiver<()>>,
}

/// The double. Clones share one state: keep one to script and inspect it while the host
/// owns another.
#[derive(Clone, Default)]
pub struct TestToken(Arc<Mutex<State>>);

impl TestToken {
    /// Tokens holding `keys`.
    pub fn with(keys: Vec<TestKey>) -> Self {
        let t = Self::default();
        t.state().keys = keys;
        t.state().next = 1;
        t
    }

    /// The usual three: an RSA authentication key, an EC signing key and an RSA encryption
    /// key, all on token 0.
    pub fn three_keys() -> Self {
        Self::with(vec![
            TestKey::new(RSA_AUTHENTICATION, KeyType::Rsa),
            TestKey::new(EC_SIGNING, KeyType::Ec),
            TestKey::new(RSA_ENCRYPTION, KeyType::Rsa),
        ])
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `token` out of its reader.
    pub fn remove(&self, token: usize) {
        let mut s = self.state();
        s.removed.push(token);
        s.token_login.remove(&token);
    }

    /// The next call of `operation` fails with `error`.
    pub fn fail_next(&self, operation: &'static str, error: Error) {
        self.state().failures.insert(operation, error);
    }

    /// The next call of `operation` waits until the returned sender sends or is dropped (a
    /// slowed or stuck module, from a known point).
    pub fn hold(&self, operation: &'static str) -> mpsc::Sender<()> {
        let (go, wait) = mpsc::channel();
        self.state().holds.insert(operation, wait);
        go
    }

    /// What the host asked, in order (`login <fingerprint prefix>`, `sign <handle>`,
    /// `logout <handle>`…). Never a PIN: `pin` or `no pin` says whether one came.
    pub fn journal(&self) -> Vec<String> {
        self.state().journal.clone()
    }

    /// How many certificates `find` read (CKA_VALUE), all calls together.
    pub fn certificates_read(&self) -> usize {
        self.state().certificates_read
    }

    /// How many keys are logged in.
    pub fn logged_in(&self) -> usize {
        self.state().logged_in.len()
    }

    /// Records the call, waits if held, and fails if told to.
    fn enter(&self, operation: &'static str, what: String) -> Result<()> {
        let hold = {
            let mut s = self.state();
            s.journal.push(what);
            s.holds.remove(operation)
        };
        if let Some(wait) = hold {
            let _ = wait.recv();
        }
        match self.state().failures.remove(operation) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The logged-in key `key` if its token is present.
    fn live(&self, key: &KeyRef, function: Function) -> Result<TestKey> {
        let s = self.state();
        let k = s.logged_in.get(&key.handle).map(|i| s.keys[*i].clone());
        match k {
            Some(k) if !s.removed.contains(&k.token) => Ok(k),
            Some(_) => Err(Error::pkcs11(RvError::DeviceRemoved, function)),
            None => Err(Error::pkcs11(RvError::UserNotLoggedIn, function)),
        }
    }

    fn context_pin(k: &TestKey, pin: Option<&Pin>, function: Function) -> Result<()> {
        match pin {
            _ if !k.always_authenticate => Ok(()),
            None if k.pin_pad => Ok(()),
            Some(p) if p.expose() == PIN => Ok(()),
            None => Err(Error::PinRequired),
            Some(_) => Err(Error::pkcs11(RvError::PinIncorrect, function)),
        }
    }
}

/// How the host names `token`.
fn token_ref(token: usize) -> TokenRef {
    TokenRef { module: 0, slot: u64::try_from(token).unwrap_or(u64::MAX) }
}

/// The reader (slot description) of `token`.
pub fn reader(token: usize) -> String {
    format!("Test reader {token}")
}

fn token_info(token: usize, pin_pad: bool) -> TokenInfo {
    TokenInfo {
        id: format!("test-token-{token}"),
        label: format!("Test token {token}"),
        manufacturer: "Paraphe".into(),
        model: "test double".into(),
        serial: format!("{token}"),
        module: "test-double".into(),
        slot_description: reader(token),
        login_required: true,
        protected_authentication_path: pin_pad,
        pin: PinStatus::default(),
        min_pin_length: 4,
        max_pin_length: 64,
    }
}

impl TokenBackend for TestToken {
    fn modules(&mut self) -> Vec<ModuleInfo> {
        vec![ModuleInfo {
            path: "test-double".into(),
            name: Some("Test double".into()),
            source: ModuleSource::Builtin,
            loaded: true,
            error: None,
            library: None,
        }]
    }

    fn tokens(&mut self) -> Result<Vec<TokenInfo>> {
        self.enter("tokens", "tokens".into())?;
        let s = self.state();
        let mut tokens: Vec<TokenInfo> = Vec::new();
        for k in s.keys.iter().filter(|k| !s.removed.contains(&k.token)) {
            if !tokens.iter().any(|t| t.id == format!("test-token-{}", k.token)) {
                tokens.push(token_info(k.token, k.pin_pad));
            }
        }
        Ok(tokens)
    }

    fn certificates(&mut self) -> Result<Vec<CertificateEntry>> {
        self.enter("certificates", "certificates".into())?;
        let s = self.state();
        let mut out = Vec::new();
        for (i, k) in s.keys.iter().enumerate().filter(|(_, k)| !s.removed.contains(&k.token)) {
            out.push(CertificateEntry {
                fingerprint: k.fingerprint(),
                token: format!("test-token-{}", k.token),
                token_label: format!("Test token {}", k.token),
                cka_id: format!("{i:02x}"),
                label: format!("key {i}"),
                certificate: crate::commands::encode_b64(&k.certificate),
                private_key: KeyPresence::Present,
                always_authenticate: Some(k.always_authenticate),
                info: x509::summarize(&k.certificate, &[]).map_err(|e| Error::Internal(e.to_string()))?,
            });
        }
        Ok(out)
    }

    fn find(&mut self, fingerprint: &str, hint: Option<&Hint>) -> Result<Found> {
        let what =
            format!("find {}{}", &fingerprint[..fingerprint.len().min(8)], if hint.is_some() { " hint" } else { "" });
        self.enter("find", what)?;
        let mut s = self.state();
        let present = |s: &State, k: &TestKey| k.fingerprint() == fingerprint && !s.removed.contains(&k.token);
        // The hint's token and CKA_ID (the key's index) first: one certificate read.
        let hinted = hint.and_then(|h| {
            let index = usize::from(*h.cka_id.first()?);
            let k = s.keys.get(index)?;
            (h.cka_id.len() == 1 && h.token == format!("test-token-{}", k.token) && present(&s, k)).then_some(index)
        });
        let read = match hinted {
            Some(_) => 1,
            None => s.keys.iter().filter(|k| !s.removed.contains(&k.token)).count(),
        };
        s.certificates_read += read;
        let k = match hinted {
            Some(index) => s.keys.get(index).map(|k| (index, k)),
            None => s.keys.iter().enumerate().find(|(_, k)| present(&s, k)),
        };
        let (index, k) = k.ok_or_else(|| Error::CertificateNotFound(fingerprint.to_owned()))?;
        Ok(Found {
            token: token_ref(k.token),
            certificate: k.certificate.clone(),
            cka_id: vec![u8::try_from(index).unwrap_or(u8::MAX)],
            reader: Some(reader(k.token)),
            login_required: true,
            protected_authentication_path: k.pin_pad,
        })
    }

    fn login(&mut self, found: &Found, with: LoginWith) -> Result<KeyRef> {
        let how = match &with {
            LoginWith::Live => "live",
            LoginWith::Pin(_) => "pin",
            LoginWith::PinPad => "pin pad",
        };
        self.enter("login", format!("login {} {how}", &x509::fingerprint(&found.certificate)[..8]))?;
        let mut s = self.state();
        let index = usize::from(found.cka_id.first().copied().unwrap_or(u8::MAX));
        let k = s.keys.get(index).cloned().ok_or_else(|| Error::Internal("no such key".into()))?;
        if s.removed.contains(&k.token) {
            return Err(Error::pkcs11(RvError::TokenNotPresent, Function::OpenSession));
        }
        match with {
            LoginWith::Live if !s.token_login.contains(&k.token) => {
                // A session that is not logged in sees no private key.
                return Err(Error::PrivateKeyNotFound(x509::fingerprint(&k.certificate)));
            }
            LoginWith::Live => {}
            LoginWith::Pin(_) | LoginWith::PinPad if s.token_login.contains(&k.token) => {
                return Err(Error::pkcs11(RvError::UserAlreadyLoggedIn, Function::Login));
            }
            LoginWith::Pin(p) if p.expose() != PIN => {
                let failure = Pkcs11Failure::new(RvError::PinIncorrect, Function::Login);
                return Err(Error::Pkcs11 { failure, pin: Some(PinStatus::from_flags(true, false, false)) });
            }
            LoginWith::Pin(_) | LoginWith::PinPad => {
                s.token_login.insert(k.token);
            }
        }
        let handle = s.next;
        s.next += 1;
        s.logged_in.insert(handle, index);
        Ok(KeyRef {
            handle,
            token: found.token,
            reader: found.reader.clone(),
            always_authenticate: k.always_authenticate,
            protected_authentication_path: k.pin_pad,
            key_type: k.key_type,
            certificate: k.certificate,
        })
    }

    fn sign(&mut self, key: &KeyRef, pin: Option<&Pin>, mechanism: SignMechanism, input: &[u8]) -> Result<Vec<u8>> {
        self.enter("sign", format!("sign {} {mechanism:?} {} bytes", key.handle, input.len()))?;
        let k = self.live(key, Function::Sign)?;
        Self::context_pin(&k, pin, Function::Login)?;
        Ok(match mechanism {
            // r and s: 32 bytes each, neither zero.
            SignMechanism::Ecdsa => vec![0x11; 64],
            SignMechanism::RsaPkcs | SignMechanism::RsaPss(_) => vec![0x22; 256],
        })
    }

    fn decrypt(&mut self, key: &KeyRef, pin: Option<&Pin>, mech: DecryptMechanism, input: &[u8]) -> Result<Plaintext> {
        self.enter("decrypt", format!("decrypt {} {mech:?} {} bytes", key.handle, input.len()))?;
        let k = self.live(key, Function::Decrypt)?;
        Self::context_pin(&k, pin, Function::Login)?;
        Ok(Zeroizing::new(vec![0x33; 32]))
    }

    fn close(&mut self, key: &KeyRef, logout: bool) -> Result<()> {
        let what = format!("{} {}", if logout { "logout" } else { "close" }, key.handle);
        self.enter(if logout { "logout" } else { "close" }, what)?;
        let mut s = self.state();
        let Some(index) = s.logged_in.remove(&key.handle) else { return Ok(()) };
        let token = s.keys[index].token;
        let others = s.logged_in.values().any(|i| s.keys[*i].token == token);
        if logout || !others {
            s.token_login.remove(&token);
        }
        Ok(())
    }

    fn absent(&mut self, tokens: &[TokenRef]) -> Vec<TokenRef> {
        let mut s = self.state();
        let gone: Vec<TokenRef> =
            tokens.iter().copied().filter(|t| s.removed.iter().any(|r| token_ref(*r) == *t)).collect();
        s.journal.push(format!("absent {:?}", gone.iter().map(|t| t.slot).collect::<Vec<_>>()));
        gone
    }

    fn add_module(&mut self, path: &std::path::Path) {
        self.state().journal.push(format!("add-module {}", path.display()));
    }
}
