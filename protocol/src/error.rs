//! Wire error codes: stable, append-only.
//!
//! A code's name and number never change once released; new codes are appended. The host
//! maps its internal errors to these in exactly one place (`host/src/dispatch.rs`).

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $num:literal, $wire:literal, $retriable:literal;)*) => {
        /// Every error the host can send. **Do not renumber or rename: append.**
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum ErrorCode {
            $($(#[$doc])* $name = $num,)*
        }

        impl ErrorCode {
            /// All codes, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// Stable numeric code.
            pub const fn number(self) -> u16 {
                self as u16
            }

            /// Stable wire name (the JSON value of `error.code`).
            pub const fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => $wire,)* }
            }

            /// Whether the same request may succeed if the user acts (types another PIN,
            /// inserts the card…). Fatal errors need a fix outside the conversation.
            pub const fn retriable(self) -> bool {
                match self { $(ErrorCode::$name => $retriable,)* }
            }
        }
    };
}

error_codes! {
    /// A bug or an unexpected state in the host; the message says what.
    Internal = 1, "INTERNAL", false;
    /// The frame announced more bytes than `limits::MAX_REQUEST_BYTES`; it was not read.
    FrameTooLarge = 2, "FRAME_TOO_LARGE", false;
    /// The input ended inside a frame. Sent just before the host exits.
    FrameTruncated = 3, "FRAME_TRUNCATED", false;
    /// The frame is not UTF-8 JSON, or not a request object.
    InvalidJson = 4, "INVALID_JSON", false;
    /// `command` names no command of this protocol version.
    UnknownCommand = 5, "UNKNOWN_COMMAND", false;
    /// An argument is missing, unknown, of the wrong type or out of range.
    InvalidArgument = 6, "INVALID_ARGUMENT", false;
    /// The hash, scheme or key type is not one the protocol or this key supports.
    UnsupportedAlgorithm = 7, "UNSUPPORTED_ALGORITHM", false;
    /// The digest's length does not match its hash algorithm.
    DigestLengthMismatch = 8, "DIGEST_LENGTH_MISMATCH", false;
    /// No token present holds a certificate with this fingerprint.
    CertificateNotFound = 9, "CERTIFICATE_NOT_FOUND", true;
    /// The certificate is there but no private key on the token matches it.
    PrivateKeyNotFound = 10, "PRIVATE_KEY_NOT_FOUND", false;
    /// Wrong PIN. `pin` tells what the token says about the tries left. Never retried
    /// by the host.
    PinIncorrect = 11, "PIN_INCORRECT", true;
    /// The PIN is blocked; only the PUK / the issuer can unblock it.
    PinLocked = 12, "PIN_LOCKED", false;
    /// The PIN's length or characters are refused by the token.
    PinInvalid = 13, "PIN_INVALID", true;
    /// The token needs a PIN and none was given.
    PinRequired = 14, "PIN_REQUIRED", true;
    /// The token or card went away (removed, reader unplugged).
    TokenNotPresent = 15, "TOKEN_NOT_PRESENT", true;
    /// The token failed; `function` names the PKCS#11 call, the message its return value.
    TokenError = 16, "TOKEN_ERROR", false;
    /// No PKCS#11 module could be loaded, or the one holding the key failed.
    ModuleUnavailable = 17, "MODULE_UNAVAILABLE", false;
    /// The login session is unknown, ended or expired: log in again.
    SessionNotFound = 18, "SESSION_NOT_FOUND", true;
    /// The user cancelled on the token's own PIN pad or dialog.
    UserCancelled = 19, "USER_CANCELLED", true;
    /// The token does not offer the mechanism this request needs.
    MechanismNotSupported = 20, "MECHANISM_NOT_SUPPORTED", false;
    /// The key's usage forbids this operation (e.g. signing with an encryption-only key).
    KeyUsageNotAllowed = 21, "KEY_USAGE_NOT_ALLOWED", false;
    /// A program the host needs is not installed; the message names it and its package
    /// (NSS `modutil`: libnss3-tools, nss-tools).
    ToolMissing = 22, "TOOL_MISSING", false;
    /// A program the host ran failed; the message has its output.
    ToolFailed = 23, "TOOL_FAILED", false;
    /// A raw digest (one the extension did not build itself) may not be signed with this
    /// key: its certificate can log in, so such a signature could stand as a login token
    /// for another site. Structured signatures (CAdES, XAdES) are still possible.
    RawSignatureRefused = 24, "RAW_SIGNATURE_REFUSED", false;
    /// The login session was opened for another purpose (e.g. `sign` on a session opened
    /// to `authenticate`).
    SessionPurposeMismatch = 25, "SESSION_PURPOSE_MISMATCH", false;
    /// The PKCS#11 module did not answer within its deadline (a card pulled mid-operation
    /// can wedge a middleware). The host refuses further work with that module and asks
    /// to be restarted; the same request works again with a new host.
    ModuleNotResponding = 26, "MODULE_NOT_RESPONDING", true;
}

impl ErrorCode {
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// What the token reports about its user PIN (PKCS#11 3.0 §4.5.2 token flags). PKCS#11 has
/// no retry counter, so `retries_left` is known only at the end: 1 on the final try, 0 when
/// locked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinStatus {
    pub count_low: bool,
    pub final_try: bool,
    pub locked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries_left: Option<u8>,
}

impl PinStatus {
    pub fn from_flags(count_low: bool, final_try: bool, locked: bool) -> Self {
        let retries_left = if locked {
            Some(0)
        } else if final_try {
            Some(1)
        } else {
            None
        };
        Self { count_low, final_try, locked, retries_left }
    }
}

/// The `error` member of a failed response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireError {
    pub code: ErrorCode,
    /// Numeric form of `code`, for callers that switch on numbers.
    pub number: u16,
    /// English, for logs and developers; user-facing text is chosen by the extension from
    /// `code`.
    pub message: String,
    pub retriable: bool,
    /// PIN state after a PIN error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<PinStatus>,
    /// The PKCS#11 function that failed, for `TOKEN_ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            number: code.number(),
            message: message.into(),
            retriable: code.retriable(),
            pin: None,
            function: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_named_consistently() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.number()), i + 1, "{c:?} is out of order");
            let json = serde_json::to_string(c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.name()));
            assert_eq!(ErrorCode::from_name(c.name()), Some(*c));
        }
    }
}
