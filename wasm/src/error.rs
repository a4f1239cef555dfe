//! Errors the extension reports to pages. The codes are part of the page API
//! (`docs/PAGE-API.md`); the host's own codes are passed through unchanged, so these names
//! never collide with [`paraphe_protocol::ErrorCode`] ones except where the meaning is the
//! same (`USER_CANCELLED`, `PIN_LOCKED`).

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageError {
    pub code: &'static str,
    pub message: String,
}

impl PageError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { code: "INVALID_REQUEST", message: message.into() }
    }

    pub fn origin(message: impl Into<String>) -> Self {
        Self { code: "ORIGIN_NOT_ALLOWED", message: message.into() }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"code":"INTERNAL","message":"unserializable error"}"#.to_owned())
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
