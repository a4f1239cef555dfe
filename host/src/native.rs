//! Native-messaging mode: what browsers start. One process per `connectNative` port; it
//! says `hello`, then answers requests until the browser closes the port.

use crate::dispatch::Host;
use crate::log;
use crate::transport::{self, FrameError};
use paraphe_protocol::{ErrorCode, Event, Response, WireError};
use std::io::{self, Read, Write};

/// Serves one conversation. Returns when the input ends (browser closed the port) or on
/// a truncated frame, after answering it.
pub fn serve(mut input: impl Read, mut output: impl Write, mut host: Host) -> io::Result<()> {
    let hello = Event { event: "hello".into(), data: serde_json::to_value(host.hello()).map_err(io::Error::other)? };
    transport::send(&mut output, None, &hello)?;
    let result = loop {
        match transport::read_frame(&mut input) {
            Ok(Some(frame)) => {
                let response = host.handle(&frame);
                if let Err(e) = transport::send(&mut output, response.id, &response) {
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
                if let Err(e) = transport::send(&mut output, None, &response) {
                    break Err(e);
                }
            }
            Err(FrameError::Truncated) => {
                log::warn("input ended inside a frame");
                let response =
                    Response::error(None, WireError::new(ErrorCode::FrameTruncated, "input ended inside a frame"));
                // The browser may already be gone: nothing more to do if this fails.
                let _ = transport::send(&mut output, None, &response);
                break Ok(());
            }
            Err(FrameError::Io(e)) => break Err(e),
        }
    };
    host.end_all_sessions();
    result
}

/// Entry point for the browser-started process.
pub fn run(host: Host) -> io::Result<()> {
    let stdin = io::stdin().lock();
    let stdout = io::stdout().lock();
    serve(stdin, stdout, host)
}
