//! Native-messaging framing: a 4-byte length in native byte order, then that many bytes of
//! UTF-8 JSON (Chrome "Native messaging" protocol; Firefox uses the same).
//!
//! Generic over `Read`/`Write` so tests and the fuzz target drive it with byte slices.
//! Lengths are checked before anything is allocated, and frame buffers are zeroized on
//! drop because requests may carry a PIN.

use paraphe_protocol::envelope::split_into_chunks;
use paraphe_protocol::limits::{CHUNK_BYTES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES};
use serde::Serialize;
use std::io::{self, ErrorKind, Read, Write};
use zeroize::Zeroizing;

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The announced length is over the limit; the frame's bytes were skipped, so the
    /// stream is still in step and the next frame can be read.
    TooLarge(u64),
    /// The input ended inside a frame (in its length or its body).
    Truncated,
    Io(io::Error),
}

/// Reads one frame. `Ok(None)` is a clean end of input: the browser closed the port.
pub fn read_frame(input: &mut impl Read) -> Result<Option<Zeroizing<Vec<u8>>>, FrameError> {
    let mut len_bytes = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut len_bytes[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = u64::from(u32::from_ne_bytes(len_bytes));
    if len > MAX_REQUEST_BYTES as u64 {
        let skipped = io::copy(&mut input.take(len), &mut io::sink()).map_err(FrameError::Io)?;
        return if skipped == len { Err(FrameError::TooLarge(len)) } else { Err(FrameError::Truncated) };
    }
    // Bounded by MAX_REQUEST_BYTES just above.
    let mut body = Zeroizing::new(vec![0u8; usize::try_from(len).unwrap_or(0)]);
    input.read_exact(&mut body).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    Ok(Some(body))
}

/// Writes one frame and flushes it (the browser reads nothing until then).
pub fn write_frame(output: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|n| *n as usize <= MAX_MESSAGE_BYTES)
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "frame over the 1 MiB browser limit"))?;
    output.write_all(&len.to_ne_bytes())?;
    output.write_all(body)?;
    output.flush()
}

/// Serializes `message` and writes it, as `chunk` frames when its JSON is over one frame.
/// `id` is the request id the chunks belong to.
pub fn send<T: Serialize>(output: &mut impl Write, id: Option<u64>, message: &T) -> io::Result<()> {
    let json = serde_json::to_string(message).map_err(io::Error::other)?;
    if json.len() <= MAX_MESSAGE_BYTES {
        return write_frame(output, json.as_bytes());
    }
    for chunk in split_into_chunks(id, &json, CHUNK_BYTES) {
        let part = serde_json::to_vec(&chunk).map_err(io::Error::other)?;
        write_frame(output, &part)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use paraphe_protocol::{Outgoing, Response};

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = u32::try_from(body.len()).unwrap_or(0).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn reads_frames_then_clean_eof() {
        let mut input = [frame(b"{}"), frame(b"[1]")].concat();
        let mut r = &input[..];
        assert_eq!(read_frame(&mut r).ok().flatten().as_deref().map(|v| v.as_slice()), Some(&b"{}"[..]));
        assert_eq!(read_frame(&mut r).ok().flatten().as_deref().map(|v| v.as_slice()), Some(&b"[1]"[..]));
        assert!(matches!(read_frame(&mut r), Ok(None)));
        input.truncate(3);
        assert!(matches!(read_frame(&mut &input[..]), Err(FrameError::Truncated)));
    }

    #[test]
    fn oversized_frame_is_skipped_and_stream_stays_in_step() {
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        let input = [frame(&big), frame(b"{}")].concat();
        let mut r = &input[..];
        assert!(matches!(read_frame(&mut r), Err(FrameError::TooLarge(_))));
        assert!(matches!(read_frame(&mut r), Ok(Some(_))));
    }

    #[test]
    fn huge_announced_length_with_short_body_is_truncated() {
        let mut input = u32::MAX.to_ne_bytes().to_vec();
        input.extend_from_slice(b"short");
        assert!(matches!(read_frame(&mut &input[..]), Err(FrameError::Truncated)));
    }

    #[test]
    fn large_messages_are_chunked_under_the_browser_limit() {
        let big = serde_json::json!({ "blob": "x".repeat(3 * MAX_MESSAGE_BYTES) });
        let mut out = Vec::new();
        send(&mut out, Some(9), &Response::ok(9, big.clone())).expect("send");
        let mut r = &out[..];
        let mut text = String::new();
        let mut frames = 0;
        while let Ok(Some(f)) = read_frame_unbounded(&mut r) {
            assert!(f.len() <= MAX_MESSAGE_BYTES);
            frames += 1;
            match serde_json::from_slice::<Outgoing>(&f) {
                Ok(Outgoing::Chunk(c)) => text.push_str(&c.chunk.data),
                other => panic!("expected a chunk, got {other:?}"),
            }
        }
        assert!(frames > 3);
        let back: Response = serde_json::from_str(&text).expect("reassembled");
        assert_eq!(back, Response::ok(9, big));
    }

    /// Reads host → browser frames, which may be up to 1 MiB.
    fn read_frame_unbounded(input: &mut &[u8]) -> Result<Option<Vec<u8>>, ()> {
        if input.is_empty() {
            return Ok(None);
        }
        let (len, rest) = input.split_first_chunk::<4>().ok_or(())?;
        let len = u32::from_ne_bytes(*len) as usize;
        let (body, rest) = rest.split_at(len);
        *input = rest;
        Ok(Some(body.to_vec()))
    }
}
