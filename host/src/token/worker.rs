//! Deadlines on every module call: the token backend lives on a thread of its own (the
//! module worker), and the conversation waits for each call's answer with a deadline.
//!
//! A PKCS#11 module can block for good: OpenSC 0.23, when a card is pulled out in the middle
//! of an operation, can wait forever on its own card mutex (`C_Sign` → `sc_unlock`). No
//! PKCS#11 function cancels another one (PKCS#11 3.0 §5.16 has `C_CancelFunction` as a
//! legacy stub), so a call that outlives its deadline is left where it is: the answer is
//! `MODULE_NOT_RESPONDING`, the worker is marked wedged (every later call fails at once
//! instead of queueing behind it), and the native-messaging loop asks the extension to
//! restart the host, then exits. The stuck thread is never joined.
//!
//! The deadline is per operation ([`Deadlines`]): a login or signature on a PIN pad waits for
//! the person, any other call does not. Two things shorten it ([`Signals`]): the card of the
//! call's reader reported removed (the module has nothing left to wait for), and the end of
//! the input (the browser closed the port: nobody waits for the answer).
//!
//! Errors that would reach the extension as `TOKEN_ERROR` (`CKR_GENERAL_ERROR`,
//! `CKR_DEVICE_ERROR`… what OpenSC answers while its card is leaving) are checked here, in
//! one place, against PC/SC: when the reader of the token's slot has no card (or had a
//! removal since the call began), the answer is `TOKEN_NOT_PRESENT`.

use super::{
    monitor, DecryptMechanism, Found, Hint, KeyRef, LoginWith, Plaintext, SignMechanism, TokenBackend, TokenRef,
};
use crate::error::{Error, Result};
use paraphe_protocol::cert::{CertificateEntry, ModuleInfo, TokenInfo};
use paraphe_protocol::{ErrorCode, Pin};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How long module calls may take. From the config file's `deadlines` and the environment
/// (`PARAPHE_DEADLINE_MS`, `PARAPHE_PIN_PAD_DEADLINE_MS`, `PARAPHE_REMOVED_DEADLINE_MS`,
/// which win).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Deadlines {
    /// Any call that needs no person: listing, login with a typed PIN, signature, decryption.
    pub call_ms: u64,
    /// A login or an always-authenticate signature on a token with a PIN pad (protected
    /// authentication path): the person types the PIN on the reader.
    pub pin_pad_ms: u64,
    /// Once the card of the call's reader is reported removed: the module has no card left
    /// to wait for.
    pub removed_ms: u64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self { call_ms: 10_000, pin_pad_ms: 120_000, removed_ms: 1_000 }
    }
}

impl Deadlines {
    /// The config file's values, overridden by the environment's. A value that is not a
    /// number of milliseconds is ignored (with a warning).
    pub fn with_environment(mut self) -> Self {
        for (name, field) in [
            ("PARAPHE_DEADLINE_MS", &mut self.call_ms),
            ("PARAPHE_PIN_PAD_DEADLINE_MS", &mut self.pin_pad_ms),
            ("PARAPHE_REMOVED_DEADLINE_MS", &mut self.removed_ms),
        ] {
            if let Ok(v) = std::env::var(name) {
                match v.trim().parse::<u64>() {
                    Ok(ms) if ms > 0 => *field = ms,
                    _ => log::warn!("{name}={v:?} ignored: a number of milliseconds is expected"),
                }
            }
        }
        self
    }

    fn call(&self) -> Duration {
        Duration::from_millis(self.call_ms)
    }
    fn pin_pad(&self) -> Duration {
        Duration::from_millis(self.pin_pad_ms)
    }
    fn removed(&self) -> Duration {
        Duration::from_millis(self.removed_ms)
    }
}

/// What the rest of the host tells a waiting call: cards removed (the card monitor) and the
/// end of the input (the request loop). Shared, lock-free for the waiter's hot path aside.
#[derive(Debug, Default)]
pub struct Signals {
    inner: Mutex<SignalState>,
}

#[derive(Debug, Default)]
struct SignalState {
    /// Readers whose card is out, since when (cleared when a card comes back).
    removed: HashMap<String, Instant>,
    input_ended: Option<Instant>,
}

/// How long a call may still run once the input ended: long enough for the logouts of a
/// normal end, short enough that the host exits within a second whatever a module does.
const AFTER_INPUT_END: Duration = Duration::from_millis(300);
/// How often a waiting call looks at the signals.
const TICK: Duration = Duration::from_millis(20);
/// How long PC/SC may take to report a card that is leaving (pcscd polls some readers).
const REMOVAL_SETTLE: Duration = Duration::from_millis(1_000);

impl Signals {
    fn state(&self) -> std::sync::MutexGuard<'_, SignalState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn card_removed(&self, reader: &str) {
        self.state().removed.insert(reader.to_owned(), Instant::now());
    }

    pub fn card_inserted(&self, reader: &str) {
        self.state().removed.remove(reader);
    }

    pub fn input_ended(&self) {
        self.state().input_ended.get_or_insert_with(Instant::now);
    }

    pub fn has_input_ended(&self) -> bool {
        self.state().input_ended.is_some()
    }

    /// When a call that began at `start` must have answered.
    fn limit(&self, start: Instant, deadline: Duration, removed: Duration, reader: Option<&str>) -> Instant {
        let s = self.state();
        let mut limit = start + deadline;
        let removal = match reader {
            Some(r) => s.removed.get(r).copied(),
            // Reader unknown (a login looking for its certificate): a removal during the call.
            None => s.removed.values().copied().filter(|t| *t + removed > start).max(),
        };
        if let Some(t) = removal {
            limit = limit.min(t.max(start) + removed);
        }
        if let Some(t) = s.input_ended {
            limit = limit.min(t.max(start) + AFTER_INPUT_END);
        }
        limit
    }

    /// Whether the monitor saw `reader`'s card go (and not come back).
    fn removed(&self, reader: &str) -> bool {
        self.state().removed.contains_key(reader)
    }
}

type Job = Box<dyn FnOnce(&mut (dyn TokenBackend + Send)) + Send>;

/// A [`TokenBackend`] whose calls run on the module worker thread, each with a deadline.
pub struct ModuleWorker {
    jobs: Option<Sender<Job>>,
    deadlines: Deadlines,
    signals: Arc<Signals>,
    /// Why the worker is stuck, once a call outlived its deadline.
    wedged: Option<String>,
    done: Option<mpsc::Receiver<()>>,
}

impl ModuleWorker {
    /// Moves `backend` to a new thread, `module-worker`.
    pub fn start(mut backend: Box<dyn TokenBackend + Send>, deadlines: Deadlines, signals: Arc<Signals>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (finished, done) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("module-worker".into()).spawn(move || {
            for job in queue {
                job(&mut *backend);
            }
            // The backend's Drop (C_Logout, C_CloseSession) runs here, on this thread.
            drop(backend);
            let _ = finished.send(());
        });
        let (jobs, wedged) = match spawned {
            Ok(_) => (Some(jobs), None),
            Err(e) => (None, Some(format!("module worker not started: {e}"))),
        };
        Self { jobs, deadlines, signals, wedged, done: Some(done) }
    }

    /// Runs `job` on the worker; waits for it until its deadline (shortened by a removal of
    /// `reader`'s card or the end of the input).
    fn run<T: Send + 'static>(
        &mut self,
        operation: &'static str,
        deadline: Duration,
        reader: Option<&str>,
        job: impl FnOnce(&mut (dyn TokenBackend + Send)) -> T + Send + 'static,
    ) -> Result<T> {
        if let Some(why) = &self.wedged {
            return Err(Error::ModuleNotResponding(why.clone()));
        }
        let jobs = self.jobs.as_ref().ok_or_else(|| Error::Internal("no module worker".into()))?;
        let (answer, answered) = mpsc::sync_channel(1);
        jobs.send(Box::new(move |b| {
            let _ = answer.send(job(b));
        }))
        .map_err(|_| Error::Internal("the module worker ended".into()))?;
        let start = Instant::now();
        loop {
            let limit = self.signals.limit(start, deadline, self.deadlines.removed(), reader);
            let now = Instant::now();
            if now >= limit {
                let waited = now - start;
                let why = if self.signals.has_input_ended() {
                    format!(
                        "{operation}: the input ended while the PKCS#11 module was still busy ({} ms)",
                        waited.as_millis()
                    )
                } else {
                    format!(
                        "{operation}: the PKCS#11 module did not answer within {:.1} s{}; the host must be restarted",
                        waited.as_secs_f64(),
                        if waited < deadline { ", after its card was removed" } else { "" }
                    )
                };
                log::error!("{why}");
                self.wedged = Some(why.clone());
                return Err(Error::ModuleNotResponding(why));
            }
            match answered.recv_timeout((limit - now).min(TICK)) {
                Ok(v) => return Ok(v),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Internal(format!("{operation}: the module worker failed")))
                }
            }
        }
    }

    /// An error that would say `TOKEN_ERROR` while the token's card is gone says
    /// `TOKEN_NOT_PRESENT` instead (see the module docs).
    fn truthful(&self, e: Error, reader: Option<&str>) -> Error {
        if crate::dispatch::to_wire(&e).code != ErrorCode::TokenError {
            return e;
        }
        let Some(reader) = reader else { return e };
        let gone = self.signals.removed(reader) || card_gone(reader) == Some(true);
        if gone {
            log::info!("{e}, and the card left {reader}: token not present");
            Error::TokenRemoved { reader: reader.to_owned(), error: e.to_string() }
        } else {
            e
        }
    }

    fn key_deadline(&self, key: &KeyRef, pin: Option<&Pin>) -> Duration {
        if key.always_authenticate && key.protected_authentication_path && pin.is_none() {
            self.deadlines.pin_pad()
        } else {
            self.deadlines.call()
        }
    }
}

/// Whether PC/SC says `reader`'s card is gone, asked on a thread of its own with a deadline
/// (pcscd can block too). `None`: not a PC/SC reader (SoftHSM), or no answer in time.
fn card_gone(reader: &str) -> Option<bool> {
    let (tx, rx) = mpsc::sync_channel(1);
    let name = reader.to_owned();
    std::thread::Builder::new()
        .name("pcsc-check".into())
        .spawn(move || {
            let _ = tx.send(monitor::card_gone(&name, REMOVAL_SETTLE));
        })
        .ok()?;
    rx.recv_timeout(REMOVAL_SETTLE + Duration::from_secs(1)).ok().flatten()
}

impl TokenBackend for ModuleWorker {
    fn modules(&mut self) -> Vec<ModuleInfo> {
        let d = self.deadlines.call();
        // The trait has no error here: a stuck module shows as no module at all; the next
        // call that can fail says MODULE_NOT_RESPONDING.
        self.run("modules", d, None, |b| b.modules()).unwrap_or_default()
    }

    fn tokens(&mut self) -> Result<Vec<TokenInfo>> {
        let d = self.deadlines.call();
        self.run("tokens", d, None, |b| b.tokens())?
    }

    fn certificates(&mut self) -> Result<Vec<CertificateEntry>> {
        let d = self.deadlines.call();
        self.run("certificates", d, None, |b| b.certificates())?
    }

    fn find(&mut self, fingerprint: &str, hint: Option<&Hint>) -> Result<Found> {
        let d = self.deadlines.call();
        let (fingerprint, hint) = (fingerprint.to_owned(), hint.cloned());
        self.run("find", d, None, move |b| b.find(&fingerprint, hint.as_ref()))?
    }

    fn login(&mut self, found: &Found, with: LoginWith) -> Result<KeyRef> {
        // On a PIN pad the person types the PIN there.
        let d = if matches!(with, LoginWith::PinPad) { self.deadlines.pin_pad() } else { self.deadlines.call() };
        let reader = found.reader.clone();
        let found = found.clone();
        let r = self.run("login", d, reader.as_deref(), move |b| b.login(&found, with))?;
        r.map_err(|e| self.truthful(e, reader.as_deref()))
    }

    fn sign(&mut self, key: &KeyRef, pin: Option<&Pin>, mechanism: SignMechanism, input: &[u8]) -> Result<Vec<u8>> {
        let (d, reader) = (self.key_deadline(key, pin), key.reader.clone());
        let (k, pin, input) = (key.clone(), pin.cloned(), input.to_vec());
        let r = self.run("sign", d, reader.as_deref(), move |b| b.sign(&k, pin.as_ref(), mechanism, &input))?;
        r.map_err(|e| self.truthful(e, reader.as_deref()))
    }

    fn decrypt(&mut self, key: &KeyRef, pin: Option<&Pin>, mech: DecryptMechanism, input: &[u8]) -> Result<Plaintext> {
        let (d, reader) = (self.key_deadline(key, pin), key.reader.clone());
        let (k, pin, input) = (key.clone(), pin.cloned(), Zeroizing::new(input.to_vec()));
        let r = self.run("decrypt", d, reader.as_deref(), move |b| b.decrypt(&k, pin.as_ref(), mech, &input))?;
        r.map_err(|e| self.truthful(e, reader.as_deref()))
    }

    fn close(&mut self, key: &KeyRef, logout: bool) -> Result<()> {
        let (d, reader) = (self.deadlines.call(), key.reader.clone());
        let k = key.clone();
        self.run(if logout { "logout" } else { "close" }, d, reader.as_deref(), move |b| b.close(&k, logout))?
    }

    fn absent(&mut self, tokens: &[TokenRef]) -> Vec<TokenRef> {
        let d = self.deadlines.call();
        let tokens = tokens.to_vec();
        // Called on a removal: a module stuck on that card waits for the removed deadline.
        self.run("absent", d, None, move |b| b.absent(&tokens)).unwrap_or_default()
    }

    fn add_module(&mut self, path: &Path) {
        let d = self.deadlines.call();
        let path = path.to_path_buf();
        if let Err(e) = self.run("add-module", d, None, move |b| b.add_module(&path)) {
            log::warn!("module not added: {e}");
        }
    }

    fn wedged(&self) -> Option<String> {
        self.wedged.clone()
    }
}

impl Drop for ModuleWorker {
    /// Lets the worker log out and close its sessions (CLI), unless it is stuck: then it is
    /// left behind, never joined.
    fn drop(&mut self) {
        self.jobs = None;
        if self.wedged.is_none() {
            if let Some(done) = self.done.take() {
                let _ = done.recv_timeout(Duration::from_millis(500));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::double::{TestToken, EC_SIGNING, PIN};
    use crate::token::NoToken;
    use paraphe_formats::x509;

    fn found(w: &mut ModuleWorker) -> Found {
        w.find(&x509::fingerprint(EC_SIGNING), None).unwrap_or_else(|e| panic!("{e}"))
    }

    fn short() -> Deadlines {
        Deadlines { call_ms: 50, pin_pad_ms: 50, removed_ms: 10 }
    }

    #[test]
    fn a_call_past_its_deadline_wedges_the_worker_and_later_calls_fail_at_once() {
        let token = TestToken::three_keys();
        let _stuck = token.hold("login");
        let mut w = ModuleWorker::start(Box::new(token), short(), Arc::default());
        let pin = Pin::new(PIN.into()).unwrap_or_else(|e| panic!("{e}"));
        let f = found(&mut w);
        let e = w.login(&f, LoginWith::Pin(pin)).err();
        assert!(matches!(e, Some(Error::ModuleNotResponding(_))), "{e:?}");
        assert!(w.wedged().is_some());
        let t = Instant::now();
        assert!(matches!(w.tokens(), Err(Error::ModuleNotResponding(_))));
        assert!(t.elapsed() < Duration::from_millis(50), "a wedged worker answers at once");
    }

    #[test]
    fn the_end_of_input_ends_a_waiting_call() {
        let token = TestToken::three_keys();
        let _stuck = token.hold("login");
        let signals = Arc::new(Signals::default());
        let long = Deadlines { call_ms: 600_000, pin_pad_ms: 600_000, removed_ms: 600_000 };
        let mut w = ModuleWorker::start(Box::new(token), long, Arc::clone(&signals));
        let f = found(&mut w);
        signals.input_ended();
        let e = w.login(&f, LoginWith::PinPad).err();
        assert!(matches!(e, Some(Error::ModuleNotResponding(_))), "{e:?}");
    }

    #[test]
    fn answers_in_time_pass_through() {
        let mut w = ModuleWorker::start(Box::new(NoToken), short(), Arc::default());
        assert!(matches!(w.tokens(), Err(Error::ModuleUnavailable(_))));
        assert!(w.wedged().is_none());
    }

    #[test]
    fn deadlines_parse_with_defaults() {
        let d: Deadlines = serde_json::from_str(r#"{"callMs": 2000}"#).unwrap_or_default();
        assert_eq!(d, Deadlines { call_ms: 2000, ..Deadlines::default() });
        assert!(serde_json::from_str::<Deadlines>(r#"{"callMS": 1}"#).is_err());
    }
}
