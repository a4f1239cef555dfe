//! Request → command → response, and the one place where internal errors become wire
//! errors ([`to_wire`]).

use crate::commands;
use crate::error::{Error, Fault, Result};
use crate::session::Sessions;
use crate::token::middleware::{self, Middleware};
use crate::token::monitor::{self, CardEvent};
use crate::token::worker::{Deadlines, ModuleWorker, Signals};
use crate::token::{self, TokenBackend};
use paraphe_protocol::command::{Command, HelloInfo};
use paraphe_protocol::{ErrorCode, RawRequest, RequestId, Response, WireError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The host's state for one native-messaging conversation (one browser port), or for one
/// command of the CLI.
pub struct Host {
    /// The token backend and the login sessions on it: their one owner.
    sessions: Sessions,
    caller: String,
    /// Administrators' extra middleware entries (config file), for ATR matching.
    middleware: Vec<Middleware>,
    /// Load the module an inserted card needs. Off when the configuration pins the module
    /// list (`builtinModules: false`).
    auto_modules: bool,
    /// Readers and cards from the card monitor's events; `None` until it reports (or
    /// without a monitor), when `status` asks PC/SC directly.
    pcsc_view: Option<monitor::View>,
    /// Shared with the module worker: removed cards and the end of the input shorten the
    /// deadline of the call in progress (token/worker.rs).
    signals: Arc<Signals>,
}

impl Host {
    /// A host on `backend` as it is (no module worker, no deadlines): fuzzing, benchmarks
    /// and unit tests.
    pub fn new(backend: Box<dyn TokenBackend + Send>, caller: &str, middleware: Vec<Middleware>) -> Self {
        Self {
            sessions: Sessions::new(backend),
            caller: caller.to_owned(),
            middleware,
            auto_modules: true,
            pcsc_view: None,
            signals: Arc::default(),
        }
    }

    /// The host the product runs, for native messaging and the CLI alike: the PKCS#11
    /// backend with modules from every source (`token::from_environment`), on the module
    /// worker (deadlines; the signals tell it about removed cards and the end of the input).
    pub fn start(caller: &str, modules: &[PathBuf]) -> Self {
        let (backend, middleware, auto_modules, deadlines) = token::from_environment(modules);
        let mut host = Self::on_worker(Box::new(backend), deadlines, caller, middleware);
        host.auto_modules = auto_modules;
        host
    }

    /// A host whose module calls run on the module worker, with `deadlines`.
    pub(crate) fn on_worker(
        backend: Box<dyn TokenBackend + Send>,
        deadlines: Deadlines,
        caller: &str,
        middleware: Vec<Middleware>,
    ) -> Self {
        let signals = Arc::new(Signals::default());
        let worker = ModuleWorker::start(backend, deadlines, Arc::clone(&signals));
        let mut host = Self::new(Box::new(worker), caller, middleware);
        host.signals = signals;
        host
    }

    /// Who started the host: `chromium`, `firefox`, `cli`…
    pub fn caller(&self) -> &str {
        &self.caller
    }

    pub fn signals(&self) -> &Arc<Signals> {
        &self.signals
    }

    pub fn middleware(&self) -> &[Middleware] {
        &self.middleware
    }

    /// Why the module worker can take no more calls, if so.
    pub fn wedged(&self) -> Option<String> {
        self.sessions.wedged()
    }

    /// The login sessions and, through them, the token backend.
    pub(crate) fn sessions(&mut self) -> &mut Sessions {
        &mut self.sessions
    }

    pub(crate) fn pcsc_view(&self) -> Option<&monitor::View> {
        self.pcsc_view.as_ref()
    }

    /// A reader or card changed. A removed card ends the sessions on it (and forgets the
    /// PIN kept for always-authenticate keys); an inserted card whose middleware is
    /// installed gets that module loaded.
    pub fn on_card_event(&mut self, event: &CardEvent) {
        self.pcsc_view.get_or_insert_with(monitor::View::default).apply(event);
        match event {
            CardEvent::CardRemoved { .. } | CardEvent::ReaderRemoved { .. } => self.sessions.card_removed(),
            CardEvent::CardInserted { atr, .. } if self.auto_modules => {
                let wanted =
                    middleware::for_atr(atr, &self.middleware).map(|(m, _)| m).or_else(|| middleware::fallback());
                if let Some(path) = wanted.and_then(|m| m.modules.here().into_iter().find(|p| Path::new(p).exists())) {
                    self.sessions.backend().add_module(Path::new(&path));
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
        self.handle_at(frame, Instant::now())
    }

    /// [`Host::handle`] as if it were `now` for the sessions' time-to-live (unit tests).
    pub(crate) fn handle_at(&mut self, frame: &[u8], now: Instant) -> Response {
        self.sessions.expire(now);
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
        if let (Ok(_), Some(why)) = (&result, self.sessions.wedged()) {
            result = Err(Error::ModuleNotResponding(why));
        }
        match result {
            Ok(value) => Response::ok(id, value),
            Err(e) => {
                log::info!("request {id} ({}) failed: {e}", request.command);
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

    /// Ends every session, logging out of the tokens (port closed, host stuck, CLI done).
    pub fn end_all_sessions(&mut self) {
        self.sessions.end_all();
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
        Error::Pkcs11 { failure, .. } => pkcs11_code(failure.fault()),
        Error::Cryptoki(_) => ErrorCode::TokenError,
        Error::ModuleNotResponding(_) => ErrorCode::ModuleNotResponding,
        Error::TokenRemoved { .. } => ErrorCode::TokenNotPresent,
        Error::ToolMissing(_) => ErrorCode::ToolMissing,
        Error::ToolFailed(_) => ErrorCode::ToolFailed,
        Error::Internal(_) => ErrorCode::Internal,
    };
    let mut wire = WireError::new(code, e.to_string());
    if let Error::Pkcs11 { failure, pin } = e {
        wire.function = Some(failure.function_name());
        wire.pin = *pin;
    }
    if let Error::UnwrapFailed = e {
        wire.function = Some(crate::error::UNWRAP_FUNCTION.to_owned());
    }
    wire
}

/// PKCS#11 failures (PKCS#11 3.0 §5.1) the user can act on get their own code. No wildcard
/// arm: a new [`Fault`] must decide its wire code here.
fn pkcs11_code(fault: Fault) -> ErrorCode {
    match fault {
        Fault::PinIncorrect => ErrorCode::PinIncorrect,
        Fault::PinLocked => ErrorCode::PinLocked,
        Fault::PinInvalid => ErrorCode::PinInvalid,
        Fault::TokenGone | Fault::TokenNotRecognized => ErrorCode::TokenNotPresent,
        Fault::Cancelled => ErrorCode::UserCancelled,
        // SoftHSM 2.6 answers an OAEP hash it does not do with CKR_ARGUMENTS_BAD at init.
        Fault::MechanismRefused | Fault::MechanismArgumentsRefused => ErrorCode::MechanismNotSupported,
        Fault::KeyRefused => ErrorCode::KeyUsageNotAllowed,
        Fault::UserNotLoggedIn => ErrorCode::SessionNotFound,
        Fault::DataRefused => ErrorCode::InvalidArgument,
        Fault::PinExpired | Fault::Other => ErrorCode::TokenError,
    }
}
