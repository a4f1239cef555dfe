//! Reader and card events from PC/SC, without polling: one thread blocks in
//! `SCardGetStatusChange` on every reader plus the PnP notification pseudo-reader
//! (`\\?PnP?\Notification`), which wakes it when a reader comes or goes.
//!
//! Where no PC/SC service runs (`SCARD_E_NO_SERVICE`), the host says so once and keeps
//! working with PKCS#11 alone.

use super::middleware::{self, Middleware};
use paraphe_protocol::command::{MiddlewareMatch, ReaderStatus};
use pcsc::{Context, Error as PcscError, ReaderState, Scope, State, PNP_NOTIFICATION};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::time::{Duration, Instant};

/// Something that happened to readers or cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardEvent {
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    CardInserted {
        reader: String,
        atr: Vec<u8>,
    },
    CardRemoved {
        reader: String,
    },
    /// No PC/SC service: no events will come.
    Unavailable {
        message: String,
    },
}

impl CardEvent {
    pub fn name(&self) -> &'static str {
        match self {
            CardEvent::ReaderAdded { .. } => "reader-added",
            CardEvent::ReaderRemoved { .. } => "reader-removed",
            CardEvent::CardInserted { .. } => "card-inserted",
            CardEvent::CardRemoved { .. } => "card-removed",
            CardEvent::Unavailable { .. } => "pcsc-unavailable",
        }
    }

    /// The event's `data` on the wire (docs/PROTOCOL.md, "Events").
    pub fn data(&self, extra: &[Middleware]) -> Value {
        match self {
            CardEvent::ReaderAdded { reader }
            | CardEvent::ReaderRemoved { reader }
            | CardEvent::CardRemoved { reader } => {
                json!({ "reader": reader })
            }
            CardEvent::CardInserted { reader, atr } => {
                serde_json::to_value(reader_status(reader, Some(atr), extra)).unwrap_or(Value::Null)
            }
            CardEvent::Unavailable { message } => json!({ "message": message }),
        }
    }
}

/// One reader as the wire shows it (`card-inserted` data, `status` readers): its card, and
/// the middleware that card's ATR calls for (OpenSC when none matches) and whether it is here.
pub fn reader_status(reader: &str, atr: Option<&[u8]>, extra: &[Middleware]) -> ReaderStatus {
    let Some(atr) = atr else {
        return ReaderStatus { reader: reader.to_owned(), atr: None, card: None, middleware: None };
    };
    let (m, card) = match middleware::for_atr(atr, extra) {
        Some((m, e)) => (Some(m), Some(e.card.clone())),
        None => (middleware::fallback(), None),
    };
    let middleware = m.map(|m| {
        let module = m.modules.here().into_iter().find(|p| std::path::Path::new(p).exists());
        MiddlewareMatch {
            id: m.id.clone(),
            name: m.name.clone(),
            install: m.install.clone(),
            installed: module.is_some(),
            module,
            fallback: card.is_none(),
            loaded: None,
        }
    });
    ReaderStatus { reader: reader.to_owned(), atr: Some(middleware::atr_hex(atr)), card, middleware }
}

/// What a reader holds: `None` when empty, else the card's ATR.
pub type Snapshot = BTreeMap<String, Option<Vec<u8>>>;

/// The readers and cards the monitor has reported so far, or why PC/SC is unavailable:
/// kept by the host from the events it applies, for `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub readers: Snapshot,
    pub unavailable: Option<String>,
}

impl View {
    pub fn apply(&mut self, event: &CardEvent) {
        match event {
            CardEvent::ReaderAdded { reader } => {
                self.readers.entry(reader.clone()).or_insert(None);
            }
            CardEvent::ReaderRemoved { reader } => {
                self.readers.remove(reader);
            }
            CardEvent::CardInserted { reader, atr } => {
                self.readers.insert(reader.clone(), Some(atr.clone()));
            }
            CardEvent::CardRemoved { reader } => {
                self.readers.insert(reader.clone(), None);
            }
            CardEvent::Unavailable { message } => {
                self.readers.clear();
                self.unavailable = Some(message.clone());
            }
        }
    }
}

/// The events that turn `before` into `after`.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<CardEvent> {
    let mut out = Vec::new();
    for (reader, card) in before {
        match (card, after.get(reader)) {
            (_, None) => {
                if card.is_some() {
                    out.push(CardEvent::CardRemoved { reader: reader.clone() });
                }
                out.push(CardEvent::ReaderRemoved { reader: reader.clone() });
            }
            (Some(_), Some(None)) => out.push(CardEvent::CardRemoved { reader: reader.clone() }),
            (None, Some(Some(atr))) => out.push(CardEvent::CardInserted { reader: reader.clone(), atr: atr.clone() }),
            (Some(old), Some(Some(new))) if old != new => {
                out.push(CardEvent::CardRemoved { reader: reader.clone() });
                out.push(CardEvent::CardInserted { reader: reader.clone(), atr: new.clone() });
            }
            _ => {}
        }
    }
    for (reader, card) in after {
        if !before.contains_key(reader) {
            out.push(CardEvent::ReaderAdded { reader: reader.clone() });
            if let Some(atr) = card {
                out.push(CardEvent::CardInserted { reader: reader.clone(), atr: atr.clone() });
            }
        }
    }
    out
}

fn is_pnp(state: &ReaderState) -> bool {
    state.name() == PNP_NOTIFICATION()
}

fn snapshot(states: &[ReaderState]) -> Snapshot {
    states
        .iter()
        .filter(|s| !is_pnp(s))
        .filter(|s| !s.event_state().intersects(State::UNKNOWN | State::IGNORE))
        .map(|s| {
            let card = s.event_state().contains(State::PRESENT).then(|| s.atr().to_vec());
            (s.name().to_string_lossy().into_owned(), card)
        })
        .collect()
}

/// Reader states for every current reader plus the PnP pseudo-reader, carrying over what
/// we already knew so only real changes wake us.
fn states_for(ctx: &Context, previous: &[ReaderState]) -> Result<Vec<ReaderState>, PcscError> {
    let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    // pcsc-lite answers "no readers" with an error: that is an empty list, not an outage.
    let names = match ctx.list_readers_owned() {
        Err(PcscError::NoReadersAvailable) => Vec::new(),
        other => other?,
    };
    for name in names {
        let known = previous.iter().find(|s| s.name() == name.as_c_str()).map(ReaderState::event_state);
        states.push(ReaderState::new(name, known.unwrap_or(State::UNAWARE)));
    }
    Ok(states)
}

/// How long a one-off PC/SC question may take: pcscd can block too (a reader stuck in a
/// transmit holds its lock).
const PCSC_DEADLINE: Duration = Duration::from_secs(2);

/// Runs `f` on a thread of its own and waits for it until `deadline`; `None` past it (the
/// thread is left to finish or not).
fn within<T: Send + 'static>(deadline: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("pcsc-call".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .ok()?;
    rx.recv_timeout(deadline).ok()
}

/// The readers and cards present now (for diagnostics), or why PC/SC is unavailable.
pub fn readers_now() -> Result<Snapshot, String> {
    within(PCSC_DEADLINE, readers_now_blocking)
        .unwrap_or_else(|| Err(format!("PC/SC: no answer within {} s", PCSC_DEADLINE.as_secs())))
}

/// Whether `reader`'s card is gone: the reader is empty now, or its card leaves (or is
/// swapped) within `settle` (pcscd notices a removal when it next polls the reader).
/// `None` when PC/SC does not know the reader (a software token's slot) or does not answer
/// within `settle` and a second.
pub fn card_gone(reader: &str, settle: Duration) -> Option<bool> {
    let reader = CString::new(reader).ok()?;
    within(settle + Duration::from_secs(1), move || card_gone_blocking(reader, settle)).flatten()
}

fn card_gone_blocking(reader: CString, settle: Duration) -> Option<bool> {
    let ctx = Context::establish(Scope::User).ok()?;
    let mut states = [ReaderState::new(reader, State::UNAWARE)];
    ctx.get_status_change(Duration::ZERO, &mut states).ok()?;
    let first = states[0].event_state();
    if first.intersects(State::UNKNOWN | State::IGNORE) {
        return None;
    }
    if first.contains(State::EMPTY) {
        return Some(true);
    }
    let count = states[0].event_count();
    let until = Instant::now() + settle;
    loop {
        states[0].sync_current_state();
        let left = until.saturating_duration_since(Instant::now());
        match ctx.get_status_change(left, &mut states) {
            Ok(()) => {
                let now = states[0].event_state();
                // The event count moves on insertions and removals only (pcsc-lite), not on
                // the in-use flags that a transaction changes.
                if now.intersects(State::EMPTY | State::UNKNOWN) || states[0].event_count() != count {
                    return Some(true);
                }
            }
            Err(PcscError::Timeout) => return Some(false),
            Err(PcscError::UnknownReader) => return Some(true),
            Err(_) => return None,
        }
        if Instant::now() >= until {
            return Some(false);
        }
    }
}

fn readers_now_blocking() -> Result<Snapshot, String> {
    let ctx = Context::establish(Scope::User).map_err(|e| format!("PC/SC: {e}"))?;
    let mut states = states_for(&ctx, &[]).map_err(|e| format!("PC/SC: {e}"))?;
    match ctx.get_status_change(std::time::Duration::ZERO, &mut states) {
        Ok(()) | Err(PcscError::Timeout) => Ok(snapshot(&states)),
        Err(e) => Err(format!("PC/SC: {e}")),
    }
}

/// Runs until the PC/SC service goes away; sends every event to `emit`, starting with
/// one `ReaderAdded`/`CardInserted` per reader and card already there.
pub fn run(mut emit: impl FnMut(CardEvent)) {
    let ctx = match Context::establish(Scope::User) {
        Ok(c) => c,
        Err(e) => {
            emit(CardEvent::Unavailable { message: format!("PC/SC: {e}") });
            return;
        }
    };
    let mut known = Snapshot::new();
    let mut states: Vec<ReaderState> = Vec::new();
    loop {
        states = match states_for(&ctx, &states) {
            Ok(s) => s,
            Err(e) => {
                emit(CardEvent::Unavailable { message: format!("PC/SC: {e}") });
                return;
            }
        };
        // Learn the current state of new readers without blocking.
        if let Err(e) = ctx.get_status_change(std::time::Duration::ZERO, &mut states) {
            if e != PcscError::Timeout {
                emit(CardEvent::Unavailable { message: format!("PC/SC: {e}") });
                return;
            }
        }
        let now = snapshot(&states);
        for event in diff(&known, &now) {
            emit(event);
        }
        known = now;
        for s in &mut states {
            s.sync_current_state();
        }
        // Block until something changes: a card, a reader, or the reader list (PnP).
        match ctx.get_status_change(None, &mut states) {
            Ok(()) | Err(PcscError::Timeout) => {}
            Err(PcscError::ServiceStopped | PcscError::NoService) => {
                emit(CardEvent::Unavailable { message: "PC/SC service stopped".into() });
                return;
            }
            Err(e) => {
                log::warn!("SCardGetStatusChange: {e}");
                // A reader vanished between listing and waiting: list again.
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(entries: &[(&str, Option<&[u8]>)]) -> Snapshot {
        entries.iter().map(|(r, a)| ((*r).to_owned(), a.map(<[u8]>::to_vec))).collect()
    }

    #[test]
    fn diffs_become_events() {
        let empty = snap(&[]);
        let reader = snap(&[("R0", None)]);
        let card = snap(&[("R0", Some(&[0x3B, 0x01]))]);
        assert_eq!(diff(&empty, &reader), vec![CardEvent::ReaderAdded { reader: "R0".into() }]);
        assert_eq!(diff(&reader, &card), vec![CardEvent::CardInserted { reader: "R0".into(), atr: vec![0x3B, 0x01] }]);
        assert_eq!(diff(&card, &reader), vec![CardEvent::CardRemoved { reader: "R0".into() }]);
        assert_eq!(
            diff(&card, &empty),
            vec![CardEvent::CardRemoved { reader: "R0".into() }, CardEvent::ReaderRemoved { reader: "R0".into() }]
        );
        assert_eq!(
            diff(&empty, &card),
            vec![
                CardEvent::ReaderAdded { reader: "R0".into() },
                CardEvent::CardInserted { reader: "R0".into(), atr: vec![0x3B, 0x01] }
            ]
        );
        assert!(diff(&card, &card).is_empty());
    }

    #[test]
    fn inserted_card_names_its_middleware() {
        let atr = vec![
            0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0x80, 0x65, 0xB0, 0x85, 0x03, 0x00, 0xEF, 0x12, 0x0F, 0xFE, 0x82,
            0x90, 0x00,
        ];
        let data = CardEvent::CardInserted { reader: "R0".into(), atr }.data(&[]);
        assert_eq!(data["middleware"]["id"], "idprime");
        assert_eq!(data["middleware"]["fallback"], false);
        assert_eq!(data["atr"], "3B 7F 96 00 00 80 31 80 65 B0 85 03 00 EF 12 0F FE 82 90 00");
        let unknown = CardEvent::CardInserted { reader: "R0".into(), atr: vec![0x3B, 0x00] }.data(&[]);
        assert_eq!(unknown["middleware"]["id"], "opensc");
        assert_eq!(unknown["middleware"]["fallback"], true);
        assert_eq!(unknown["card"], Value::Null);
    }

    #[test]
    fn the_view_follows_events() {
        let mut view = View::default();
        view.apply(&CardEvent::ReaderAdded { reader: "R0".into() });
        view.apply(&CardEvent::CardInserted { reader: "R0".into(), atr: vec![0x3B, 0x00] });
        assert_eq!(view.readers, snap(&[("R0", Some(&[0x3B, 0x00]))]));
        view.apply(&CardEvent::CardRemoved { reader: "R0".into() });
        assert_eq!(view.readers, snap(&[("R0", None)]));
        view.apply(&CardEvent::ReaderRemoved { reader: "R0".into() });
        assert!(view.readers.is_empty() && view.unavailable.is_none());
        view.apply(&CardEvent::Unavailable { message: "PC/SC: no service".into() });
        assert_eq!(view.unavailable.as_deref(), Some("PC/SC: no service"));
    }

    #[test]
    fn an_empty_reader_has_no_card_and_no_middleware() {
        let r = serde_json::to_value(reader_status("R0", None, &[])).unwrap_or_default();
        assert_eq!(r, json!({"reader": "R0", "atr": null, "card": null, "middleware": null}));
    }
}
