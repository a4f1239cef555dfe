//! Token access behind a small trait, so commands never name a backend.
//!
//! The PKCS#11 backend ([`pkcs11::Pkcs11Backend`]) is the one the product uses; modules
//! come from [`registry`]. Tests of the command layer use the test double in [`double`]
//! (a scripted token with no PKCS#11 at all).

#[cfg(test)]
pub mod double;
pub mod middleware;
pub mod monitor;
pub mod pkcs11;
pub mod registry;
pub mod winreg;
pub mod worker;

use crate::error::Result;
use paraphe_protocol::cert::{CertificateEntry, ModuleInfo, TokenInfo};
use paraphe_protocol::{HashAlgorithm, Pin};
use zeroize::Zeroizing;

/// A token in its slot: which loaded module, which slot. A handle: the cryptoki objects stay
/// with the backend (on the module worker's thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenRef {
    pub module: usize,
    pub slot: u64,
}

/// A certificate found on a present token, with what a login to its key needs.
#[derive(Clone, Debug)]
pub struct Found {
    pub token: TokenRef,
    /// The certificate (DER).
    pub certificate: Vec<u8>,
    /// CKA_ID, shared by the certificate and its private key.
    pub cka_id: Vec<u8>,
    /// The slot description: for OpenSC and most middleware, the PC/SC reader's name (where
    /// to ask whether the card is still there).
    pub reader: Option<String>,
    /// CKF_LOGIN_REQUIRED.
    pub login_required: bool,
    /// CKF_PROTECTED_AUTHENTICATION_PATH: the PIN is typed on the reader.
    pub protected_authentication_path: bool,
}

/// Where the certificate should be (`login`'s `hint`, as `list-certificates` reported it):
/// the token's id ([`TokenInfo::id`]) and the CKA_ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    pub token: String,
    pub cka_id: Vec<u8>,
}

/// How [`TokenBackend::login`] gets the token logged in. The session owner decides
/// (`session::Sessions::open`): it holds the PIN of every live login.
pub enum LoginWith {
    /// No `C_Login`: the token needs none, or is logged in already with the very PIN the
    /// person typed.
    Live,
    /// `C_Login` as user with this PIN.
    Pin(Pin),
    /// `C_Login` as user on the token's PIN pad (protected authentication path).
    PinPad,
}

/// A private key the user logged in to: a handle (the key's own PKCS#11 session and object
/// stay with the backend) and the facts the commands and deadlines need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRef {
    /// Backend-assigned handle of the logged-in key.
    pub handle: u64,
    pub token: TokenRef,
    /// The reader of the token's slot, when the module names one ([`Found::reader`]).
    pub reader: Option<String>,
    pub always_authenticate: bool,
    pub protected_authentication_path: bool,
    pub key_type: KeyType,
    /// The certificate (DER) the user chose the key by.
    pub certificate: Vec<u8>,
}

/// The private key's type (`CKA_KEY_TYPE`, PKCS#11 3.0 §4.8): what decides the mechanisms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `CKK_RSA`.
    Rsa,
    /// `CKK_EC` (ECDSA).
    Ec,
    /// Anything else, by its PKCS#11 name: the host signs nothing with it.
    Other(String),
}

impl KeyType {
    /// `RSA`, `EC`, or the PKCS#11 name.
    pub fn name(&self) -> &str {
        match self {
            KeyType::Rsa => "RSA",
            KeyType::Ec => "EC",
            KeyType::Other(name) => name,
        }
    }
}

/// What the token computes. The command layer builds its input (DigestInfo for
/// PKCS#1 v1.5) and converts its output (ECDSA to DER).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignMechanism {
    /// `CKM_RSA_PKCS` over a DigestInfo.
    RsaPkcs,
    /// `CKM_RSA_PKCS_PSS` over a digest, MGF1 with the same hash, salt = digest length.
    RsaPss(HashAlgorithm),
    /// `CKM_ECDSA` over a digest; raw `r || s`.
    Ecdsa,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecryptMechanism {
    /// `CKM_RSA_PKCS`.
    RsaPkcs,
    /// `CKM_RSA_PKCS_OAEP`, MGF1 over the same hash, empty label.
    RsaOaep(HashAlgorithm),
}

/// What a decryption gives back: zeroized when dropped.
pub type Plaintext = Zeroizing<Vec<u8>>;

/// Everything the host does with a token. The backend keeps the cryptoki objects (the
/// modules, each logged-in key's session) and no rule about them: when a key is no longer
/// used, when a token is logged out, what a removed card ends, is decided by the one owner
/// of the login sessions (`session::Sessions`), which holds [`KeyRef`]s.
pub trait TokenBackend {
    /// Modules tried, loaded or not, and why not.
    fn modules(&mut self) -> Vec<ModuleInfo>;
    /// Tokens present in every loaded module.
    fn tokens(&mut self) -> Result<Vec<TokenInfo>>;
    /// Every certificate on every token present.
    fn certificates(&mut self) -> Result<Vec<CertificateEntry>>;
    /// The certificate whose SHA-256 fingerprint is `fingerprint`, on the first present
    /// token that holds it. With a `hint`, that token's certificates with that CKA_ID are
    /// read first, and every token's only when the hint does not lead to the certificate.
    fn find(&mut self, fingerprint: &str, hint: Option<&Hint>) -> Result<Found>;
    /// Opens a PKCS#11 session of the key's own on `found`'s token, logs in as `with` says
    /// (never retried) and finds the private key with the certificate's CKA_ID. A failure
    /// leaves nothing open, and no token login this call made.
    fn login(&mut self, found: &Found, with: LoginWith) -> Result<KeyRef>;
    /// Signs `input` with the key. `pin` is the context-specific PIN for keys with
    /// CKA_ALWAYS_AUTHENTICATE.
    fn sign(&mut self, key: &KeyRef, pin: Option<&Pin>, mechanism: SignMechanism, input: &[u8]) -> Result<Vec<u8>>;
    /// Decrypts (unwraps) `input` with the key.
    fn decrypt(&mut self, key: &KeyRef, pin: Option<&Pin>, mech: DecryptMechanism, input: &[u8]) -> Result<Plaintext>;
    /// Closes the key's session; with `logout`, logs the token out first (`C_Logout`: the
    /// last key logged in on it).
    fn close(&mut self, key: &KeyRef, logout: bool) -> Result<()>;
    /// Those of `tokens` that are no longer in their slot.
    fn absent(&mut self, tokens: &[TokenRef]) -> Vec<TokenRef>;
    /// Loads one more module (a card was inserted that needs it), unless already there.
    fn add_module(&mut self, path: &std::path::Path);
    /// Why the backend can take no more calls (a module call outlived its deadline), if so.
    fn wedged(&self) -> Option<String> {
        None
    }
}

/// The PKCS#11 backend with modules from every source: `--module` paths, the
/// `PARAPHE_PKCS11_MODULES` list, the config file and the built-in list.
/// Also returns the administrators' extra middleware entries, whether modules may be
/// added as cards come (not when the configuration pins the list), and the deadlines of
/// module calls (config file, then environment).
pub fn from_environment(
    cli_modules: &[std::path::PathBuf],
) -> (pkcs11::Pkcs11Backend, Vec<middleware::Middleware>, bool, worker::Deadlines) {
    let loaded = crate::config::load();
    for f in &loaded.files {
        if let Some(e) = &f.error {
            log::warn!("config file {} ignored: {e}", f.path.display());
        }
    }
    let env = std::env::var("PARAPHE_PKCS11_MODULES").ok();
    let specs = registry::resolve(cli_modules, env.as_deref(), &loaded.config.modules, loaded.config.builtin_modules);
    let auto = loaded.config.builtin_modules;
    let deadlines = loaded.config.deadlines.with_environment();
    (pkcs11::Pkcs11Backend::new(specs, loaded.config.policy_hints()), loaded.config.middleware, auto, deadlines)
}

/// A backend with no token at all: every operation fails with `MODULE_UNAVAILABLE`. For
/// driving the framing and dispatch without a PKCS#11 module (fuzzing).
#[derive(Debug, Default)]
pub struct NoToken;

impl TokenBackend for NoToken {
    fn modules(&mut self) -> Vec<ModuleInfo> {
        Vec::new()
    }
    fn tokens(&mut self) -> Result<Vec<TokenInfo>> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn certificates(&mut self) -> Result<Vec<CertificateEntry>> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn find(&mut self, _: &str, _: Option<&Hint>) -> Result<Found> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn login(&mut self, _: &Found, _: LoginWith) -> Result<KeyRef> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn sign(&mut self, _: &KeyRef, _: Option<&Pin>, _: SignMechanism, _: &[u8]) -> Result<Vec<u8>> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn decrypt(&mut self, _: &KeyRef, _: Option<&Pin>, _: DecryptMechanism, _: &[u8]) -> Result<Plaintext> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn close(&mut self, _: &KeyRef, _: bool) -> Result<()> {
        Ok(())
    }
    fn absent(&mut self, _: &[TokenRef]) -> Vec<TokenRef> {
        Vec::new()
    }
    fn add_module(&mut self, _: &std::path::Path) {}
}
