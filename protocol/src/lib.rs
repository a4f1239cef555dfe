//! Paraphe's native-messaging contract, shared by the host and the WASM core.
//!
//! This crate has no I/O and no dependency on PKCS#11, PC/SC or the browser: it is the
//! one place where the shape of every message lives, so the two sides cannot drift.
//! `docs/PROTOCOL.md` is the human-readable contract; a test keeps its error table in
//! step with [`ErrorCode`].

pub mod algorithm;
pub mod cert;
pub mod command;
pub mod envelope;
pub mod error;
pub mod pin;

pub use algorithm::{EcdsaEncoding, HashAlgorithm, SignatureScheme};
pub use command::{Command, LoginPurpose};
pub use envelope::{Chunk, Event, Outcome, Outgoing, RawRequest, RequestId, Response};
pub use error::{ErrorCode, PinStatus, WireError};
pub use pin::Pin;

/// Name under which browsers find the host's native-messaging manifest.
pub const HOST_NAME: &str = "fr.paraphe.host";

/// Version of this wire contract. Bumped on any incompatible change; the host announces it
/// in its `hello` event and the extension refuses to talk to a host with another major.
pub const PROTOCOL_VERSION: u32 = 1;

/// Size limits, checked before any allocation.
pub mod limits {
    /// Largest request the host accepts (browser → host). Requests carry digests, wrapped
    /// keys and certificate references only, never documents, so 64 KiB is generous.
    pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
    /// Largest frame a browser accepts from a native host (Chromium and Firefox: 1 MiB).
    pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
    /// Payload carried by one `chunk` frame when a response is larger than
    /// [`MAX_MESSAGE_BYTES`]; leaves room for the chunk envelope and JSON escaping.
    pub const CHUNK_BYTES: usize = 256 * 1024;
    /// Longest `login` `ttlSeconds`: 12 hours. The extension's PIN session policy goes up to
    /// 8 hours (`pinSessionMinutes` ≤ 480); a token is never left unlocked for longer than a
    /// working day by the host's own clock.
    pub const MAX_SESSION_TTL_SECONDS: u32 = 12 * 3600;
}
