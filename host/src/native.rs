//! Native-messaging mode: what browsers start. One process per `connectNative` port; it
//! says `hello`, then answers requests until the browser closes the port. A second thread
//! watches readers and cards (PC/SC) and pushes events on the same port.

use crate::dispatch::Host;
use crate::log;
use crate::token::monitor::{self, CardEvent};
use crate::transport::{self, FrameError};
use paraphe_protocol::{ErrorCode, Event, Response, WireError};
use serde::Serialize;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

/// The port's output, shared by the request loop and the card monitor; one message is
/// written whole under the lock, so frames never interleave.
#[derive(Clone)]
pub struct Output(Arc<Mutex<Box<dyn Write + Send>>>);

impl Output {
    pub fn new(w: impl Write + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Box::new(w))))
    }

    pub fn send<T: Serialize>(&self, id: Option<u64>, message: &T) -> io::Result<()> {
        let mut w = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        transport::send(&mut *w, id, message)
    }
}

/// Serves one conversation. Returns when the input ends (browser closed the port) or on
/// a truncated frame, after answering it. With `card_events`, a thread reports PC/SC
/// events and ends the sessions of removed cards at once.
pub fn serve(mut input: impl Read, output: Output, host: Host, card_events: bool) -> io::Result<()> {
    let host = Arc::new(Mutex::new(host));
    let hello = {
        let h = host.lock().unwrap_or_else(PoisonError::into_inner);
        Event { event: "hello".into(), data: serde_json::to_value(h.hello()).map_err(io::Error::other)? }
    };
    output.send(None, &hello)?;
    let pending: Pending = Arc::default();
    if card_events {
        start_monitor(Arc::clone(&host), Arc::clone(&pending), output.clone());
    }
    let result = loop {
        match transport::read_frame(&mut input) {
            Ok(Some(frame)) => {
                let response = {
                    let mut h = host.lock().unwrap_or_else(PoisonError::into_inner);
                    let response = h.handle(&frame);
                    // Card events that came while this request held the host.
                    for event in std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner)) {
                        h.on_card_event(&event);
                    }
                    response
                };
                if let Err(e) = output.send(response.id, &response) {
                    break Err(e);
                }
            }
            Ok(None) => break Ok(()),
            Err(FrameError::TooLarge(n)) => {
                let message = format!(
                    "frame of {n} bytes is over the {} byte limit",
                    paraphe_protocol::limits::MAX_REQUEST_BYTES
                );
                let response = Response::error(None, WireError::new(ErrorCode::FrameTooLarge, message));
                if let Err(e) = output.send(None, &response) {
                    break Err(e);
                }
            }
            Err(FrameError::Truncated) => {
                log::warn("input ended inside a frame");
                let response =
                    Response::error(None, WireError::new(ErrorCode::FrameTruncated, "input ended inside a frame"));
                // The browser may already be gone: nothing more to do if this fails.
                let _ = output.send(None, &response);
                break Ok(());
            }
            Err(FrameError::Io(e)) => break Err(e),
        }
    };
    host.lock().unwrap_or_else(PoisonError::into_inner).end_all_sessions();
    result
}

/// Card events the monitor could not apply because a request held the host.
type Pending = Arc<Mutex<Vec<CardEvent>>>;

fn start_monitor(host: Arc<Mutex<Host>>, pending: Pending, output: Output) {
    let extra = host.lock().unwrap_or_else(PoisonError::into_inner).middleware.clone();
    let spawned = std::thread::Builder::new().name("pcsc-monitor".into()).spawn(move || {
        monitor::run(|event: CardEvent| {
            if let CardEvent::Unavailable { message } = &event {
                log::info(&format!("no card events: {message}"));
            }
            // Session bookkeeping first, so a request racing the event sees the card gone. A
            // request in progress (maybe stuck in a module) must not stop events: then the
            // request loop applies the event when it is done.
            match host.try_lock() {
                Ok(mut h) => h.on_card_event(&event),
                Err(TryLockError::Poisoned(p)) => p.into_inner().on_card_event(&event),
                Err(TryLockError::WouldBlock) => {
                    pending.lock().unwrap_or_else(PoisonError::into_inner).push(event.clone())
                }
            }
            let message = Event { event: event.name().into(), data: event.data(&extra) };
            if let Err(e) = output.send(None, &message) {
                log::debug(&format!("card event not sent: {e}"));
            }
        });
    });
    if let Err(e) = spawned {
        log::warn(&format!("card monitor not started: {e}"));
    }
}

/// Entry point for the browser-started process. `PARAPHE_PCSC=off` disables card events.
pub fn run(host: Host) -> io::Result<()> {
    let card_events = std::env::var("PARAPHE_PCSC").map_or(true, |v| v != "off");
    serve(io::stdin().lock(), Output::new(io::stdout()), host, card_events)
}
