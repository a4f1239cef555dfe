//! Native-messaging mode: what browsers start. One process per `connectNative` port; it
//! says `hello`, then answers requests until the browser closes the port. A second thread
//! watches readers and cards (PC/SC) and pushes events on the same port.

use crate::dispatch::Host;
use crate::token::monitor::{self, CardEvent};
use crate::transport::{self, FrameError};
use paraphe_protocol::{ErrorCode, Event, Response, WireError};
use serde::Serialize;
use std::io::{self, Read, Write};
use std::sync::{mpsc, Arc, Mutex, PoisonError, TryLockError};
use zeroize::Zeroizing;

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

    /// Sends the last message and ends the process with the output still locked, so that no
    /// other thread starts a frame that the exit would cut.
    fn send_last_and_exit<T: Serialize>(&self, message: &T) -> ! {
        let mut w = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = transport::send(&mut *w, None, message);
        exit(0)
    }
}

/// What the reading thread hands the conversation.
enum Incoming {
    Frame(Zeroizing<Vec<u8>>),
    TooLarge(u64),
    Truncated,
}

/// Serves one conversation. Returns when the input ends (browser closed the port) or on
/// a truncated frame, after answering it. With `card_events`, a thread reports PC/SC
/// events and ends the sessions of removed cards at once.
///
/// The input is read on the calling thread and the requests are answered on another one,
/// so that the end of the input is seen at once even while a request waits for a module.
/// When a browser started the host, the end of the input ends the conversation within a
/// second whatever a module does: the call in progress is given up (module worker), and
/// requests still queued are dropped (nobody reads their answers). For `paraphe-host native`
/// (people and scripts) queued requests are still answered.
///
/// A module call that outlived its deadline leaves the module worker stuck: the host answers
/// `MODULE_NOT_RESPONDING`, sends the `restart-required` event and exits the process.
pub fn serve(mut input: impl Read, output: Output, host: Host, card_events: bool) -> io::Result<()> {
    let browser = matches!(host.caller(), "chromium" | "firefox");
    let signals = Arc::clone(host.signals());
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
    let (to_conversation, requests) = mpsc::channel::<Incoming>();
    std::thread::scope(|scope| {
        let conversation = std::thread::Builder::new()
            .name("conversation".into())
            .spawn_scoped(scope, || converse(requests, &host, &pending, &output, browser))?;
        let result = loop {
            let incoming = match transport::read_frame(&mut input) {
                Ok(Some(frame)) => Incoming::Frame(frame),
                Ok(None) => break Ok(()),
                Err(FrameError::TooLarge(n)) => Incoming::TooLarge(n),
                Err(FrameError::Truncated) => {
                    log::warn!("input ended inside a frame");
                    let _ = to_conversation.send(Incoming::Truncated);
                    break Ok(());
                }
                Err(FrameError::Io(e)) => break Err(e),
            };
            if to_conversation.send(incoming).is_err() {
                break Ok(()); // the conversation ended: it could not write
            }
        };
        if browser {
            signals.input_ended();
        }
        drop(to_conversation);
        let ended = conversation.join().unwrap_or_else(|_| Err(io::Error::other("the conversation panicked")));
        result.and(ended)
    })
}

/// Answers requests until the reading thread hangs up, then ends every login session.
fn converse(
    requests: mpsc::Receiver<Incoming>,
    host: &Mutex<Host>,
    pending: &Pending,
    output: &Output,
    browser: bool,
) -> io::Result<()> {
    let result = loop {
        let Ok(incoming) = requests.recv() else { break Ok(()) };
        let response = match incoming {
            Incoming::Frame(frame) => {
                let mut h = host.lock().unwrap_or_else(PoisonError::into_inner);
                if browser && h.signals().has_input_ended() {
                    continue; // the port is closed: nobody reads this answer
                }
                let response = h.handle(&frame);
                // Card events that came while this request held the host.
                for event in std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner)) {
                    h.on_card_event(&event);
                }
                if let Some(why) = h.wedged() {
                    let _ = output.send(response.id, &response);
                    restart(&requests, &mut h, output, &why);
                }
                response
            }
            Incoming::TooLarge(n) => {
                let message = format!(
                    "frame of {n} bytes is over the {} byte limit",
                    paraphe_protocol::limits::MAX_REQUEST_BYTES
                );
                Response::error(None, WireError::new(ErrorCode::FrameTooLarge, message))
            }
            Incoming::Truncated => {
                let response =
                    Response::error(None, WireError::new(ErrorCode::FrameTruncated, "input ended inside a frame"));
                // The browser may already be gone: nothing more to do if this fails.
                let _ = output.send(None, &response);
                break Ok(());
            }
        };
        if let Err(e) = output.send(response.id, &response) {
            break Err(e);
        }
    };
    host.lock().unwrap_or_else(PoisonError::into_inner).end_all_sessions();
    result
}

/// The module worker is stuck in a module call: answer what was already read (those
/// requests fail at once), tell the extension to start a new host, and exit. Nothing else is
/// safe: the stuck thread cannot be stopped, and the module may hold its own locks for good.
fn restart(requests: &mpsc::Receiver<Incoming>, h: &mut Host, output: &Output, why: &str) -> ! {
    while let Ok(Incoming::Frame(frame)) = requests.try_recv() {
        let response = h.handle(&frame);
        let _ = output.send(response.id, &response);
    }
    // Fails at once on the wedged worker, but drops (zeroizes) the PINs the sessions kept.
    h.end_all_sessions();
    say_restart(output, why)
}

fn say_restart(output: &Output, why: &str) -> ! {
    log::warn!("exiting, restart required: {why}");
    let data = serde_json::json!({ "code": ErrorCode::ModuleNotResponding.name(), "message": why });
    output.send_last_and_exit(&Event { event: "restart-required".into(), data })
}

/// Ends the process now, without running exit handlers: a PKCS#11 module stuck on one of
/// its locks could block them (OpenSC's destructors take its context lock). Every frame is
/// already flushed (`transport::write_frame`).
pub fn exit(code: i32) -> ! {
    let _ = io::stdout().flush();
    #[cfg(unix)]
    {
        #[allow(unsafe_code)]
        // SAFETY: _exit(2) takes an int and never returns; no Rust state needs tearing down.
        unsafe {
            _exit(code)
        }
    }
    #[cfg(not(unix))]
    std::process::exit(code)
}

#[cfg(unix)]
#[allow(unsafe_code)]
extern "C" {
    fn _exit(status: std::os::raw::c_int) -> !;
}

/// Card events the monitor could not apply because a request held the host.
type Pending = Arc<Mutex<Vec<CardEvent>>>;

fn start_monitor(host: Arc<Mutex<Host>>, pending: Pending, output: Output) {
    let (extra, signals) = {
        let h = host.lock().unwrap_or_else(PoisonError::into_inner);
        (h.middleware().to_vec(), Arc::clone(h.signals()))
    };
    let spawned = std::thread::Builder::new().name("pcsc-monitor".into()).spawn(move || {
        monitor::run(|event: CardEvent| {
            if let CardEvent::Unavailable { message } = &event {
                log::info!("no card events: {message}");
            }
            // A module call in progress on that card gets a short deadline (module worker).
            match &event {
                CardEvent::CardRemoved { reader } => signals.card_removed(reader),
                CardEvent::CardInserted { reader, .. } => signals.card_inserted(reader),
                _ => {}
            }
            // Session bookkeeping first, so a request racing the event sees the card gone. A
            // request in progress (maybe stuck in a module) must not stop events: then the
            // request loop applies the event when it is done.
            let apply = |h: &mut Host| {
                h.on_card_event(&event);
                let wedged = h.wedged();
                if wedged.is_some() {
                    h.end_all_sessions(); // see restart()
                }
                wedged
            };
            let wedged = match host.try_lock() {
                Ok(mut h) => apply(&mut h),
                Err(TryLockError::Poisoned(p)) => apply(&mut p.into_inner()),
                Err(TryLockError::WouldBlock) => {
                    pending.lock().unwrap_or_else(PoisonError::into_inner).push(event.clone());
                    None
                }
            };
            let message = Event { event: event.name().into(), data: event.data(&extra) };
            if let Err(e) = output.send(None, &message) {
                log::debug!("card event not sent: {e}");
            }
            // No request holds the host (it would have said so): say it here.
            if let Some(why) = wedged {
                say_restart(&output, &why);
            }
        });
    });
    if let Err(e) = spawned {
        log::warn!("card monitor not started: {e}");
    }
}

/// Entry point for the browser-started process. `PARAPHE_PCSC=off` disables card events.
pub fn run(host: Host) -> io::Result<()> {
    let card_events = std::env::var("PARAPHE_PCSC").map_or(true, |v| v != "off");
    serve(io::stdin().lock(), Output::new(io::stdout()), host, card_events)
}
