//! Request → command → response, and the one place where internal errors become wire
//! errors ([`to_wire`]).

use crate::commands;
use crate::error::{Error, Result};
use crate::token::middleware::{self, Middleware};
use crate::token::monitor::{self, CardEvent};
use crate::token::worker::Signals;
use crate::token::{KeyRef, TokenBackend};
use cryptoki::context::Function;
use cryptoki::error::RvError;
use paraphe_protocol::cert::CertificateInfo;
use paraphe_protocol::command::{Command, HelloInfo};
use paraphe_protocol::{ErrorCode, LoginPurpose, Pin, RawRequest, RequestId, Response, WireError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// A login session: the consent token the extension got for one batch.
pub struct LoginSession {
    pub key: KeyRef,
    /// Kept only for keys that need the PIN at every use; zeroized when dropped.
    pub pin: Option<Pin>,
    pub expires: Option<Instant>,
    /// The certificate's facts, decoded once at login (key usage, usages, curve).
    pub certificate: CertificateInfo,
    /// What the session may be used for: the only commands it serves.
    pub purpose: LoginPurpose,
}

/// The host's state for one native-messaging conversation (one browser port).
pub struct Host {
    pub backend: Box<dyn TokenBackend + Send>,
    pub sessions: HashMap<String, LoginSession>,
    pub next_session: u64,
    pub caller: String,
    /// Administrators' extra middleware entries (config file), for ATR matching.
    pub middleware: Vec<Middleware>,
    /// Load the module an inserted card needs. Off when the configuration pins the module
    /// list (`builtinModules: false`).
    pub auto_modules: bool,
    /// Readers and cards from the card monitor's events; `None` until it reports (or
    /// without a monitor), when `status` asks PC/SC directly.
    pub pcsc_view: Option<monitor::View>,
    /// Shared with the module worker: removed cards and the end of the input shorten the
    /// deadline of the call in progress (token/worker.rs).
    pub signals: Arc<Signals>,
}

impl Host {
    pub fn new(backend: Box<dyn TokenBackend + Send>, caller: &str, middleware: Vec<Middleware>) -> Self {
        Self {
            backend,
            sessions: HashMap::new(),
            next_session: 1,
            caller: caller.to_owned(),
            middleware,
            auto_modules: true,
            pcsc_view: None,
            signals: Arc::default(),
        }
    }

    /// A reader or card changed. A removed card ends the sessions on it (and forgets the
    /// PIN kept for always-authenticate keys); an inserted card whose middleware is
    /// installed gets that module loaded.
    pub fn on_card_event(&mut self, event: &CardEvent) {
        self.pcsc_view.get_or_insert_with(monitor::View::default).apply(event);
        match event {
            CardEvent::CardRemoved { .. } | CardEvent::ReaderRemoved { .. } => {
                let gone = self.backend.forget_removed();
                self.sessions.retain(|_, s| !gone.contains(&s.key.handle));
            }
            CardEvent::CardInserted { atr, .. } if self.auto_modules => {
                let wanted =
                    middleware::for_atr(atr, &self.middleware).map(|(m, _)| m).or_else(|| middleware::fallback());
                if let Some(path) = wanted.and_then(|m| m.modules.here().into_iter().find(|p| Path::new(p).exists())) {
                    self.backend.add_module(Path::new(&path));
                }
            }
            CardEvent::CardInserted { .. } | CardEvent::ReaderAdded { .. } | CardEvent::Unavailable { .. } => {}
        }
    }

    pub fn hello(&self) -> HelloInfo {
        HelloInfo {
            protocol: paraphe_protocol::PROTOCOL_VERSION,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            os: std::env::consts::OS.to_owned(),
            caller: self.caller.clone(),
        }
    }

    /// Answers one frame. Never fails: every problem becomes an error response.
    pub fn handle(&mut self, frame: &[u8]) -> Response {
        self.expire_sessions();
        let request: RawRequest<'_> = match serde_json::from_slice(frame) {
            Ok(r) => r,
            Err(e) => {
                let id = serde_json::from_slice::<RequestId>(frame).ok().map(|r| r.id);
                return Response::error(id, to_wire(&Error::InvalidJson(e.to_string())));
            }
        };
        let id = request.id;
        let mut result = self.run(&request);
        // A module call outlived its deadline where the backend could not say so (`modules()`
        // has no error): the answer must not look complete.
        if let (Ok(_), Some(why)) = (&result, self.backend.wedged()) {
            result = Err(Error::ModuleNotResponding(why));
        }
        match result {
            Ok(value) => Response::ok(id, value),
            Err(e) => {
                crate::log::info(&format!("request {id} ({}) failed: {e}", request.command));
                Response::error(Some(id), to_wire(&e))
            }
        }
    }

    fn run(&mut self, request: &RawRequest<'_>) -> Result<serde_json::Value> {
        let command =
            Command::from_name(request.command).ok_or_else(|| Error::UnknownCommand(request.command.to_owned()))?;
        let raw = request.arguments.map_or("{}", |a| a.get());
        match command {
            Command::Hello => reply(commands::hello::run(self, &args(raw)?)),
            Command::Status => reply(commands::status::run(self, &args(raw)?)),
            Command::ListCertificates => reply(commands::list_certificates::run(self, &args(raw)?)),
            Command::Login => reply(commands::login::run(self, commands::login::arguments(raw)?)),
            Command::Sign => reply(commands::sign::run(self, &args(raw)?)),
            Command::Decrypt => reply(commands::decrypt::run(self, &args(raw)?)),
            Command::Logout => reply(commands::logout::run(self, &args(raw)?)),
            Command::Authenticate => reply(commands::authenticate::run(self, &args(raw)?)),
            Command::TlsStatus => reply(commands::tls_status::run(self, &args(raw)?)),
            Command::TlsRegister => reply(commands::tls_register::run(self, &args(raw)?)),
        }
    }

    /// Drops the sessions whose key the backend logged out by itself (to have another PIN
    /// checked by the token, which ends every login on that token).
    pub fn forget_ended(&mut self) {
        let gone = self.backend.ended();
        if !gone.is_empty() {
            self.sessions.retain(|_, s| !gone.contains(&s.key.handle));
        }
    }

    /// Ends sessions whose time-to-live has passed (PIN session policy).
    fn expire_sessions(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> =
            self.sessions.iter().filter(|(_, s)| s.expires.is_some_and(|t| t <= now)).map(|(k, _)| k.clone()).collect();
        for id in expired {
            if let Some(s) = self.sessions.remove(&id) {
                commands::logout::end(self, &s.key);
            }
        }
    }

    /// Ends every session, logging out of the tokens (port closed, card removed).
    pub fn end_all_sessions(&mut self) {
        let all: Vec<String> = self.sessions.keys().cloned().collect();
        for id in all {
            if let Some(s) = self.sessions.remove(&id) {
                commands::logout::end(self, &s.key);
            }
        }
    }
}

fn args<T: DeserializeOwned>(raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| Error::InvalidArgument(e.to_string()))
}

fn reply<T: Serialize>(result: Result<T>) -> Result<serde_json::Value> {
    result.and_then(|r| serde_json::to_value(r).map_err(|e| Error::Internal(e.to_string())))
}

/// The only mapping from internal errors to wire errors. No wildcard arm on [`Error`]: a
/// new internal error must decide its wire code here.
pub fn to_wire(e: &Error) -> WireError {
    let code = match e {
        Error::InvalidJson(_) => ErrorCode::InvalidJson,
        Error::UnknownCommand(_) => ErrorCode::UnknownCommand,
        Error::InvalidArgument(_) => ErrorCode::InvalidArgument,
        Error::UnsupportedAlgorithm(_) => ErrorCode::UnsupportedAlgorithm,
        Error::DigestLength { .. } => ErrorCode::DigestLengthMismatch,
        Error::CertificateNotFound(_) => ErrorCode::CertificateNotFound,
        Error::PrivateKeyNotFound(_) => ErrorCode::PrivateKeyNotFound,
        Error::PinRequired => ErrorCode::PinRequired,
        Error::SessionNotFound(_) | Error::TokenSessionEnded => ErrorCode::SessionNotFound,
        Error::KeyUsageNotAllowed(_) => ErrorCode::KeyUsageNotAllowed,
        Error::RawSignatureRefused => ErrorCode::RawSignatureRefused,
        Error::SessionPurposeMismatch { .. } => ErrorCode::SessionPurposeMismatch,
        // Not INVALID_ARGUMENT for some token answers and TOKEN_ERROR for others: one code.
        Error::UnwrapFailed => ErrorCode::TokenError,
        Error::ModuleUnavailable(_) => ErrorCode::ModuleUnavailable,
        // SoftHSM 2.6 answers an OAEP hash it does not do with CKR_ARGUMENTS_BAD at init.
        Error::Pkcs11 { rv: RvError::ArgumentsBad, function: Function::DecryptInit | Function::SignInit, .. } => {
            ErrorCode::MechanismNotSupported
        }
        Error::Pkcs11 { rv, .. } => pkcs11_code(*rv),
        Error::Cryptoki(_) => ErrorCode::TokenError,
        Error::ModuleNotResponding(_) => ErrorCode::ModuleNotResponding,
        Error::TokenRemoved { .. } => ErrorCode::TokenNotPresent,
        Error::ToolMissing(_) => ErrorCode::ToolMissing,
        Error::ToolFailed(_) => ErrorCode::ToolFailed,
        Error::Internal(_) => ErrorCode::Internal,
    };
    let mut wire = WireError::new(code, e.to_string());
    if let Error::Pkcs11 { function, pin, .. } = e {
        wire.function = Some(crate::error::c_name(*function));
        wire.pin = *pin;
    }
    if let Error::UnwrapFailed = e {
        wire.function = Some(crate::error::c_name(Function::Decrypt));
    }
    wire
}

/// PKCS#11 return values (PKCS#11 3.0 §5.1) the user can act on get their own code.
fn pkcs11_code(rv: RvError) -> ErrorCode {
    match rv {
        RvError::PinIncorrect => ErrorCode::PinIncorrect,
        RvError::PinLocked => ErrorCode::PinLocked,
        RvError::PinLenRange | RvError::PinInvalid => ErrorCode::PinInvalid,
        RvError::DeviceRemoved
        | RvError::TokenNotPresent
        | RvError::SessionHandleInvalid
        | RvError::SessionClosed
        | RvError::TokenNotRecognized => ErrorCode::TokenNotPresent,
        RvError::FunctionCanceled => ErrorCode::UserCancelled,
        RvError::MechanismInvalid | RvError::MechanismParamInvalid => ErrorCode::MechanismNotSupported,
        RvError::KeyFunctionNotPermitted | RvError::KeyTypeInconsistent => ErrorCode::KeyUsageNotAllowed,
        RvError::UserNotLoggedIn => ErrorCode::SessionNotFound,
        RvError::DataLenRange | RvError::EncryptedDataLenRange | RvError::EncryptedDataInvalid => {
            ErrorCode::InvalidArgument
        }
        _ => ErrorCode::TokenError,
    }
}
