//! The PKCS#11 backend, on `cryptoki` (PKCS#11 3.0 §5: general purpose, slot and token,
//! session, object, signing and decryption function groups).

use super::registry::{self, ModuleSpec};
use super::{DecryptMechanism, Found, Hint, KeyRef, LoginWith, Plaintext, SignMechanism, TokenBackend, TokenRef};
use crate::error::{Error, Result};
use base64::Engine as _;
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use paraphe_formats::policies::PolicyHint;
use paraphe_formats::x509;
use paraphe_protocol::cert::{CertificateEntry, KeyPresence, ModuleInfo, TokenInfo};
use paraphe_protocol::{HashAlgorithm, Pin, PinStatus};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use zeroize::Zeroizing;

mod raw;

struct Module {
    spec: ModuleSpec,
    ctx: std::result::Result<Pkcs11, String>,
    library: Option<String>,
}

/// A certificate object as stored: CKA_VALUE, CKA_ID, CKA_LABEL.
struct StoredCert {
    der: Vec<u8>,
    cka_id: Vec<u8>,
    label: String,
}

/// A logged-in key's cryptoki objects: a PKCS#11 session of its own on the token and the
/// private-key object. They live here, on the module worker's thread; the session owner
/// (`session::Sessions`) holds the handle and decides when they end.
struct KeySession {
    token: TokenRef,
    session: Session,
    object: ObjectHandle,
}

pub struct Pkcs11Backend {
    specs: Vec<ModuleSpec>,
    /// Loaded on first use, so the host answers `hello` before touching any module.
    modules: Option<Vec<Module>>,
    hints: Vec<PolicyHint>,
    /// The logged-in keys, by the handle the session owner holds. The token's login lasts
    /// while one of its sessions is open (PKCS#11 3.0 §5.6 `C_Login`, `C_CloseSession`).
    keys: HashMap<u64, KeySession>,
    next_key: u64,
    /// Tokens whose last `C_Login` succeeded. Some modules (OpenSC 0.23) keep reporting the
    /// last failure's "final try" flags for the life of the process; a success resets the
    /// card's counter, so `tokens` clears those flags until the next failure.
    pin_ok: HashSet<TokenRef>,
}

impl Pkcs11Backend {
    pub fn new(specs: Vec<ModuleSpec>, hints: Vec<PolicyHint>) -> Self {
        Self { specs, modules: None, hints, keys: HashMap::new(), next_key: 1, pin_ok: HashSet::new() }
    }

    fn modules_loaded(&mut self) -> &[Module] {
        let specs = &self.specs;
        self.modules.get_or_insert_with(|| {
            specs
                .iter()
                .map(|spec| {
                    let ctx = registry::load(&spec.path);
                    match &ctx {
                        Ok(_) => log::debug!("loaded PKCS#11 module {}", spec.path.display()),
                        Err(e) => log::warn!("PKCS#11 module {} not loaded: {e}", spec.path.display()),
                    }
                    let library = ctx.as_ref().ok().and_then(|c| c.get_library_info().ok()).map(|i| {
                        let v = i.library_version();
                        format!("{} {} {}.{}", i.manufacturer_id(), i.library_description(), v.major(), v.minor())
                    });
                    Module { spec: spec.clone(), ctx, library }
                })
                .collect()
        })
    }

    fn loaded_contexts(&mut self) -> Result<Vec<(usize, Pkcs11)>> {
        let modules = self.modules_loaded();
        let ctxs: Vec<(usize, Pkcs11)> =
            modules.iter().enumerate().filter_map(|(i, m)| m.ctx.as_ref().ok().map(|c| (i, c.clone()))).collect();
        if ctxs.is_empty() {
            let why = if modules.is_empty() {
                "no PKCS#11 module configured or installed".to_owned()
            } else {
                modules
                    .iter()
                    .map(|m| format!("{}: {}", m.spec.path.display(), m.ctx.as_ref().err().map_or("", String::as_str)))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(Error::ModuleUnavailable(why));
        }
        Ok(ctxs)
    }

    /// The session to use on a slot: a logged-in key's if any (private objects show), else a
    /// fresh read-only one.
    fn with_session<T>(
        &mut self,
        module: usize,
        ctx: &Pkcs11,
        slot: Slot,
        f: impl FnOnce(&Session) -> Result<T>,
    ) -> Result<T> {
        let token = TokenRef { module, slot: slot.id() };
        if let Some(k) = self.keys.values().find(|k| k.token == token) {
            return f(&k.session);
        }
        let s = ctx.open_ro_session(slot)?;
        f(&s)
    }

    fn token_info(module_path: &str, ctx: &Pkcs11, slot: Slot) -> Result<TokenInfo> {
        let ti = ctx.get_token_info(slot)?;
        let si = ctx.get_slot_info(slot)?;
        let id = {
            let mut h = Sha256::new();
            for part in [module_path, ti.serial_number(), ti.label()] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            hex::encode(&h.finalize()[..8])
        };
        let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(TokenInfo {
            id,
            label: ti.label().trim().to_owned(),
            manufacturer: ti.manufacturer_id().trim().to_owned(),
            model: ti.model().trim().to_owned(),
            serial: ti.serial_number().trim().to_owned(),
            module: module_path.to_owned(),
            slot_description: si.slot_description().trim().to_owned(),
            login_required: ti.login_required(),
            protected_authentication_path: ti.protected_authentication_path(),
            pin: PinStatus::from_flags(ti.user_pin_count_low(), ti.user_pin_final_try(), ti.user_pin_locked()),
            min_pin_length: len(ti.min_pin_length()),
            max_pin_length: len(ti.max_pin_length()),
        })
    }

    /// Clears "count low"/"final try" on a slot whose last login succeeded (see `pin_ok`).
    fn fresh_pin_flags(&self, module: usize, slot: Slot, mut token: TokenInfo) -> TokenInfo {
        if self.pin_ok.contains(&TokenRef { module, slot: slot.id() }) && !token.pin.locked {
            token.pin = PinStatus::from_flags(false, false, false);
        }
        token
    }

    fn pin_status(ctx: &Pkcs11, slot: Slot) -> Option<PinStatus> {
        ctx.get_token_info(slot)
            .ok()
            .map(|ti| PinStatus::from_flags(ti.user_pin_count_low(), ti.user_pin_final_try(), ti.user_pin_locked()))
    }

    /// Every X.509 certificate on the token.
    fn read_certificates(session: &Session) -> Result<Vec<StoredCert>> {
        let handles = session.find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
        ])?;
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            let attrs = session.get_attributes(h, &[AttributeType::Value, AttributeType::Id, AttributeType::Label])?;
            let (mut der, mut id, mut label) = (Vec::new(), Vec::new(), String::new());
            for a in attrs {
                match a {
                    Attribute::Value(v) => der = v,
                    Attribute::Id(v) => id = v,
                    Attribute::Label(v) => label = String::from_utf8_lossy(&v).into_owned(),
                    _ => {}
                }
            }
            if !der.is_empty() {
                out.push(StoredCert { der, cka_id: id, label });
            }
        }
        Ok(out)
    }

    fn find_private_key(session: &Session, cka_id: &[u8]) -> Result<Option<(ObjectHandle, bool, super::KeyType)>> {
        let keys =
            session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(cka_id.to_vec())])?;
        let Some(&key) = keys.first() else {
            return Ok(None);
        };
        let mut always = false;
        let mut key_type = super::KeyType::Other(String::new());
        // Some modules refuse CKA_ALWAYS_AUTHENTICATE on keys that lack it: read one by one.
        if let Ok(attrs) = session.get_attributes(key, &[AttributeType::AlwaysAuthenticate]) {
            always = attrs.iter().any(|a| matches!(a, Attribute::AlwaysAuthenticate(true)));
        }
        if let Ok(attrs) = session.get_attributes(key, &[AttributeType::KeyType]) {
            for a in attrs {
                if let Attribute::KeyType(t) = a {
                    key_type = if t == KeyType::RSA {
                        super::KeyType::Rsa
                    } else if t == KeyType::EC {
                        super::KeyType::Ec
                    } else {
                        super::KeyType::Other(t.to_string())
                    };
                }
            }
        }
        Ok(Some((key, always, key_type)))
    }

    /// The certificate where the hint says: the token whose id is `hint.token`, the
    /// certificates with CKA_ID `hint.cka_id` (one, normally), and only if one of them has
    /// this fingerprint.
    fn find_at(&mut self, fingerprint: &str, hint: &Hint) -> Result<Option<Found>> {
        for (m, ctx) in self.loaded_contexts()? {
            let path = self.specs[m].path.display().to_string();
            for slot in initialized_slots(&ctx)? {
                let Ok(token) = Self::token_info(&path, &ctx, slot) else { continue };
                if token.id != hint.token {
                    continue;
                }
                let der = self.with_session(m, &ctx, slot, |s| {
                    let handles = s.find_objects(&[
                        Attribute::Class(ObjectClass::CERTIFICATE),
                        Attribute::CertificateType(CertificateType::X_509),
                        Attribute::Id(hint.cka_id.clone()),
                    ])?;
                    for h in handles {
                        for a in s.get_attributes(h, &[AttributeType::Value])? {
                            if let Attribute::Value(der) = a {
                                if x509::fingerprint(&der) == fingerprint {
                                    return Ok(Some(der));
                                }
                            }
                        }
                    }
                    Ok(None)
                })?;
                return Ok(der.map(|der| Found {
                    token: TokenRef { module: m, slot: slot.id() },
                    certificate: der,
                    cka_id: hint.cka_id.clone(),
                    reader: Some(token.slot_description.clone()).filter(|r| !r.is_empty()),
                    login_required: token.login_required,
                    protected_authentication_path: token.protected_authentication_path,
                }));
            }
        }
        Ok(None)
    }

    fn context_of(&self, module: usize) -> Result<Pkcs11> {
        self.modules
            .as_ref()
            .and_then(|ms| ms.get(module))
            .and_then(|m| m.ctx.as_ref().ok().cloned())
            .ok_or_else(|| Error::Internal("module index out of range".into()))
    }

    /// Adds the token's PIN state to a PIN error, so the user sees the tries left.
    fn with_pin_state(&self, e: Error, token: TokenRef) -> Error {
        match e {
            Error::Pkcs11 { failure, .. }
                if matches!(
                    failure.rv(),
                    RvError::PinIncorrect | RvError::PinLocked | RvError::PinLenRange | RvError::PinInvalid
                ) =>
            {
                let pin = self.context_of(token.module).ok().and_then(|c| Self::pin_status(&c, slot_of(token).ok()?));
                Error::Pkcs11 { failure, pin }
            }
            other => other,
        }
    }

    /// A card pulled out invalidates its sessions. If a card is back in the slot already,
    /// the user only needs to log in again: `TokenSessionEnded` (`SESSION_NOT_FOUND`). The
    /// session owner forgets the token's sessions either way.
    fn ended_if_back(&self, e: Error, token: TokenRef) -> Error {
        let Error::Pkcs11 { failure, .. } = &e else { return e };
        if !matches!(
            failure.rv(),
            RvError::DeviceRemoved | RvError::TokenNotPresent | RvError::SessionHandleInvalid | RvError::SessionClosed
        ) {
            return e;
        }
        if self.slot_has_token(token) {
            Error::TokenSessionEnded
        } else {
            e
        }
    }

    /// `C_Login` as user with `pin` (or the PIN pad), so that the token itself judges the
    /// PIN the person typed for this consent. A token logged in by a session this backend
    /// did not open answers `CKR_USER_ALREADY_LOGGED_IN`: that says nothing of this PIN, so
    /// the token is logged out and asked.
    fn user_login(&mut self, session: &Session, token: TokenRef, pin: Option<&Pin>) -> Result<()> {
        let auth = pin.map(|p| AuthPin::from(p.expose().to_owned()));
        let result = match session.login(UserType::User, auth.as_ref()) {
            Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                log::info!("token already logged in: logging out to check the PIN");
                let _ = session.logout();
                session.login(UserType::User, auth.as_ref())
            }
            other => other,
        };
        match result {
            Ok(()) => {
                self.pin_ok.insert(token);
                Ok(())
            }
            Err(e) => {
                self.pin_ok.remove(&token);
                Err(self.with_pin_state(Error::from(e), token))
            }
        }
    }

    /// One operation with a logged-in key: `once` (cryptoki's init and single part in one
    /// call) or, for a CKA_ALWAYS_AUTHENTICATE key, `init`, then `C_Login(CKU_CONTEXT_SPECIFIC)`,
    /// then the single part through the module's own function list, `raw` (PKCS#11 3.0
    /// §5.13, §4.9: cryptoki's one-shot calls leave no room for the login). A failure gets
    /// the token's PIN state.
    fn use_key<T>(
        &mut self,
        key: &KeyRef,
        pin: Option<&Pin>,
        init: impl FnOnce(&Session, ObjectHandle) -> cryptoki::error::Result<()>,
        raw: impl FnOnce(&std::path::Path, &Session) -> Result<T>,
        once: impl FnOnce(&Session, ObjectHandle) -> Result<T>,
    ) -> Result<T> {
        let k = self.keys.get(&key.handle).ok_or(Error::TokenSessionEnded)?;
        let (token, session, object) = (k.token, &k.session, k.object);
        let module = self.specs.get(token.module).ok_or_else(|| Error::Internal("module index out of range".into()))?;
        let result = if key.always_authenticate {
            init(session, object)
                .map_err(Error::from)
                .and_then(|()| Self::context_login(session, pin))
                .and_then(|()| raw(&module.path, session))
        } else {
            once(session, object)
        };
        result.map_err(|e| {
            let e = self.with_pin_state(e, token);
            self.ended_if_back(e, token)
        })
    }

    fn context_login(session: &Session, pin: Option<&Pin>) -> Result<()> {
        let auth = pin.map(|p| AuthPin::from(p.expose().to_owned()));
        session.login(UserType::ContextSpecific, auth.as_ref()).map_err(Error::from)
    }
}

/// The cryptoki slot of `token`.
fn slot_of(token: TokenRef) -> Result<Slot> {
    Slot::try_from(token.slot).map_err(Error::from)
}

/// Slots holding an initialised token. Uninitialised ones (SoftHSM always has a spare)
/// cannot hold keys and refuse sessions.
fn initialized_slots(ctx: &Pkcs11) -> Result<Vec<Slot>> {
    Ok(ctx
        .get_slots_with_token()?
        .into_iter()
        .filter(|s| ctx.get_token_info(*s).map(|t| t.token_initialized()).unwrap_or(true))
        .collect())
}

fn mgf(hash: HashAlgorithm) -> (MechanismType, PkcsMgfType) {
    match hash {
        HashAlgorithm::Sha1 => (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
        HashAlgorithm::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        HashAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        HashAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
    }
}

fn sign_mechanism(m: SignMechanism) -> Mechanism<'static> {
    match m {
        SignMechanism::RsaPkcs => Mechanism::RsaPkcs,
        SignMechanism::RsaPss(hash) => {
            let (hash_alg, mgf) = mgf(hash);
            // CK_ULONG: 32 bits on Windows (LLP64), 64 on Linux and macOS.
            let s_len = (hash.digest_len() as cryptoki_sys::CK_ULONG).into();
            Mechanism::RsaPkcsPss(PkcsPssParams { hash_alg, mgf, s_len })
        }
        SignMechanism::Ecdsa => Mechanism::Ecdsa,
    }
}

impl TokenBackend for Pkcs11Backend {
    fn modules(&mut self) -> Vec<ModuleInfo> {
        self.modules_loaded()
            .iter()
            .map(|m| ModuleInfo {
                path: m.spec.path.display().to_string(),
                name: m.spec.name.clone(),
                source: m.spec.source,
                loaded: m.ctx.is_ok(),
                error: m.ctx.as_ref().err().cloned(),
                library: m.library.clone(),
            })
            .collect()
    }

    fn tokens(&mut self) -> Result<Vec<TokenInfo>> {
        let mut out = Vec::new();
        for (m, ctx) in self.loaded_contexts()? {
            let path = self.specs[m].path.display().to_string();
            for slot in initialized_slots(&ctx)? {
                match Self::token_info(&path, &ctx, slot) {
                    Ok(t) => out.push(self.fresh_pin_flags(m, slot, t)),
                    Err(e) => log::warn!("token in slot {} unreadable: {e}", slot.id()),
                }
            }
        }
        Ok(out)
    }

    fn certificates(&mut self) -> Result<Vec<CertificateEntry>> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut out = Vec::new();
        for (m, ctx) in self.loaded_contexts()? {
            let path = self.specs[m].path.display().to_string();
            for slot in initialized_slots(&ctx)? {
                let token = match Self::token_info(&path, &ctx, slot) {
                    Ok(t) => t,
                    Err(e) => {
                        log::warn!("token in slot {} unreadable: {e}", slot.id());
                        continue;
                    }
                };
                let logged_in = self.keys.values().any(|k| k.token == TokenRef { module: m, slot: slot.id() });
                let hints = self.hints.clone();
                let entries = self.with_session(m, &ctx, slot, |s| {
                    let mut entries = Vec::new();
                    for StoredCert { der, cka_id, label } in Self::read_certificates(s)? {
                        let info = match x509::summarize(&der, &hints) {
                            Ok(i) => i,
                            Err(e) => {
                                log::warn!("certificate {label:?} on {} skipped: {e}", token.label);
                                continue;
                            }
                        };
                        let key = Self::find_private_key(s, &cka_id).unwrap_or(None);
                        let (private_key, always_authenticate) = match key {
                            Some((_, always, _)) => (KeyPresence::Present, Some(always)),
                            None if token.login_required && !logged_in => (KeyPresence::HiddenUntilLogin, None),
                            None => (KeyPresence::Absent, None),
                        };
                        entries.push(CertificateEntry {
                            fingerprint: x509::fingerprint(&der),
                            token: token.id.clone(),
                            token_label: token.label.clone(),
                            cka_id: hex::encode(&cka_id),
                            label,
                            certificate: b64.encode(&der),
                            private_key,
                            always_authenticate,
                            info,
                        });
                    }
                    Ok(entries)
                });
                match entries {
                    Ok(e) => out.extend(e),
                    Err(e) => log::warn!("certificates of {} unreadable: {e}", token.label),
                }
            }
        }
        Ok(out)
    }

    fn find(&mut self, fingerprint: &str, hint: Option<&Hint>) -> Result<Found> {
        if let Some(hint) = hint {
            match self.find_at(fingerprint, hint) {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => log::info!("the login's hint does not lead to the certificate: every token is searched"),
                Err(e) => log::warn!("the login's hint: {e}; every token is searched"),
            }
        }
        for (m, ctx) in self.loaded_contexts()? {
            for slot in initialized_slots(&ctx)? {
                let found = self
                    .with_session(m, &ctx, slot, |s| {
                        Ok(Self::read_certificates(s)?.into_iter().find(|c| x509::fingerprint(&c.der) == fingerprint))
                    })
                    // The token's flags only for the slot that holds it.
                    .and_then(|c| c.map(|c| Ok((c, ctx.get_token_info(slot)?))).transpose());
                match found {
                    Ok(Some((c, ti))) => {
                        let reader = ctx.get_slot_info(slot).ok().map(|i| i.slot_description().trim().to_owned());
                        return Ok(Found {
                            token: TokenRef { module: m, slot: slot.id() },
                            certificate: c.der,
                            cka_id: c.cka_id,
                            reader,
                            login_required: ti.login_required(),
                            protected_authentication_path: ti.protected_authentication_path(),
                        });
                    }
                    Ok(None) => {}
                    // A token that fails (removed meanwhile, not recognised) must not hide
                    // the others.
                    Err(e) => log::warn!("slot {} unreadable: {e}", slot.id()),
                }
            }
        }
        Err(Error::CertificateNotFound(fingerprint.to_owned()))
    }

    fn login(&mut self, found: &Found, with: LoginWith) -> Result<KeyRef> {
        let token = found.token;
        let ctx = self.context_of(token.module)?;
        let session = ctx.open_ro_session(slot_of(token)?)?;
        let logged_in_here = match &with {
            LoginWith::Live => false,
            LoginWith::Pin(pin) => {
                self.user_login(&session, token, Some(pin))?;
                true
            }
            LoginWith::PinPad => {
                self.user_login(&session, token, None)?;
                true
            }
        };
        let key = match Self::find_private_key(&session, &found.cka_id) {
            Ok(Some(key)) => key,
            other => {
                // No token login left behind for nothing.
                if logged_in_here {
                    let _ = session.logout();
                }
                other?;
                return Err(Error::PrivateKeyNotFound(x509::fingerprint(&found.certificate)));
            }
        };
        let (object, always_authenticate, key_type) = key;
        let handle = self.next_key;
        self.next_key += 1;
        self.keys.insert(handle, KeySession { token, session, object });
        Ok(KeyRef {
            handle,
            token,
            reader: found.reader.clone(),
            always_authenticate,
            protected_authentication_path: found.protected_authentication_path,
            key_type,
            certificate: found.certificate.clone(),
        })
    }

    fn sign(&mut self, key: &KeyRef, pin: Option<&Pin>, mechanism: SignMechanism, input: &[u8]) -> Result<Vec<u8>> {
        let mech = sign_mechanism(mechanism);
        self.use_key(
            key,
            pin,
            |s, h| s.sign_init(&mech, h),
            |module, s| raw::sign(module, s, input),
            |s, h| s.sign(&mech, h, input).map_err(Error::from),
        )
    }

    fn decrypt(&mut self, key: &KeyRef, pin: Option<&Pin>, mech: DecryptMechanism, input: &[u8]) -> Result<Plaintext> {
        let mech = match mech {
            DecryptMechanism::RsaPkcs => Mechanism::RsaPkcs,
            DecryptMechanism::RsaOaep(hash) => {
                let (hash_alg, mgf) = mgf(hash);
                Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash_alg, mgf, PkcsOaepSource::empty()))
            }
        };
        self.use_key(
            key,
            pin,
            |s, h| s.decrypt_init(&mech, h),
            |module, s| raw::decrypt(module, s, input),
            |s, h| s.decrypt(&mech, h, input).map(Zeroizing::new).map_err(Error::from),
        )
    }

    fn add_module(&mut self, path: &std::path::Path) {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let known = self.specs.iter().any(|s| s.path.canonicalize().unwrap_or_else(|_| s.path.clone()) == canonical);
        if known {
            return;
        }
        let spec = ModuleSpec {
            path: path.to_path_buf(),
            source: paraphe_protocol::cert::ModuleSource::Builtin,
            name: registry::known_name(path),
        };
        self.specs.push(spec.clone());
        if let Some(modules) = self.modules.as_mut() {
            let ctx = registry::load(&spec.path);
            let library =
                ctx.as_ref().ok().and_then(|c| c.get_library_info().ok()).map(|i| i.library_description().to_owned());
            modules.push(Module { spec, ctx, library });
        }
    }

    fn close(&mut self, key: &KeyRef, logout: bool) -> Result<()> {
        let Some(k) = self.keys.remove(&key.handle) else {
            return Ok(());
        };
        if logout {
            match k.session.logout() {
                Ok(()) | Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => {}
                Err(e) => log::warn!("C_Logout: {e}"),
            }
        }
        // Dropping the session closes it (`C_CloseSession`).
        Ok(())
    }

    fn absent(&mut self, tokens: &[TokenRef]) -> Vec<TokenRef> {
        tokens.iter().copied().filter(|t| !self.slot_has_token(*t)).collect()
    }
}

impl Pkcs11Backend {
    fn slot_has_token(&self, token: TokenRef) -> bool {
        let (Ok(ctx), Ok(slot)) = (self.context_of(token.module), slot_of(token)) else { return false };
        ctx.get_slot_info(slot).is_ok_and(|i| i.token_present())
    }
}

impl Drop for Pkcs11Backend {
    fn drop(&mut self) {
        for (_, k) in self.keys.drain() {
            let _ = k.session.logout();
        }
    }
}
