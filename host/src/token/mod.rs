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

/// A private key the user logged in to. Opaque to commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRef {
    /// Backend-assigned handle of the logged-in key.
    pub handle: u64,
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

/// What decides, from the certificate (DER) a login found, whether that login may go on
/// (`commands::login`: the session's purpose against the certificate). Shared and `Send` so
/// that the module worker can run it on its own thread, between finding the key and
/// `C_Login`.
pub type Admit = std::sync::Arc<dyn Fn(&[u8]) -> Result<()> + Send + Sync>;

/// Everything the host does with a token.
pub trait TokenBackend {
    /// Modules tried, loaded or not, and why not.
    fn modules(&mut self) -> Vec<ModuleInfo>;
    /// Tokens present in every loaded module.
    fn tokens(&mut self) -> Result<Vec<TokenInfo>>;
    /// Every certificate on every token present.
    fn certificates(&mut self) -> Result<Vec<CertificateEntry>>;
    /// Logs in to the token holding `fingerprint`'s key (user PIN, or the protected
    /// authentication path when `pin` is `None`) and finds the key. Never retries.
    ///
    /// `admit` sees the certificate (DER) once it is found and before any PIN reaches the
    /// token: its error ends the login with no PIN try spent.
    ///
    /// A PIN is always judged by the token: when the token is logged in already with another
    /// PIN (or through its PIN pad), the backend logs out first, which ends the other keys'
    /// logins on that token (see [`TokenBackend::ended`]).
    fn login(&mut self, fingerprint: &str, pin: Option<&Pin>, admit: &Admit) -> Result<KeyRef>;
    /// The handles of keys whose login the backend ended by itself since the last call
    /// (a login with another PIN logged the token out).
    fn ended(&mut self) -> Vec<u64> {
        Vec::new()
    }
    /// Signs `input` with the key. `pin` is the context-specific PIN for keys with
    /// CKA_ALWAYS_AUTHENTICATE.
    fn sign(&mut self, key: &KeyRef, pin: Option<&Pin>, mechanism: SignMechanism, input: &[u8]) -> Result<Vec<u8>>;
    /// Decrypts (unwraps) `input` with the key.
    fn decrypt(&mut self, key: &KeyRef, pin: Option<&Pin>, mech: DecryptMechanism, input: &[u8]) -> Result<Plaintext>;
    /// Logs out of the key's token and closes its session.
    fn logout(&mut self, key: &KeyRef) -> Result<()>;
    /// Drops the sessions of tokens no longer present; returns the handles of the keys
    /// that went with them.
    fn forget_removed(&mut self) -> Vec<u64>;
    /// Loads one more module (a card was inserted that needs it), unless already there.
    fn add_module(&mut self, path: &std::path::Path);
    /// The PC/SC reader of the slot the last `login`, `sign` or `decrypt` used (its slot
    /// description), when the module names one: where to ask whether the card is still there.
    fn reader_in_use(&mut self) -> Option<String> {
        None
    }
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
    fn login(&mut self, _: &str, _: Option<&Pin>, _: &Admit) -> Result<KeyRef> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn sign(&mut self, _: &KeyRef, _: Option<&Pin>, _: SignMechanism, _: &[u8]) -> Result<Vec<u8>> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn decrypt(&mut self, _: &KeyRef, _: Option<&Pin>, _: DecryptMechanism, _: &[u8]) -> Result<Plaintext> {
        Err(crate::error::Error::ModuleUnavailable("no token backend".into()))
    }
    fn logout(&mut self, _: &KeyRef) -> Result<()> {
        Ok(())
    }
    fn forget_removed(&mut self) -> Vec<u64> {
        Vec::new()
    }
    fn add_module(&mut self, _: &std::path::Path) {}
}
