//! Errors the extension reports to pages. The codes are part of the page API
//! (`docs/PAGE-API.md`); the host's own codes are passed through unchanged, so these names
//! never collide with [`paraphe_protocol::ErrorCode`] ones except where the meaning is the
//! same (`USER_CANCELLED`, `PIN_LOCKED`, `INTERNAL`, `RAW_SIGNATURE_REFUSED`).

use serde::Serialize;
use wasm_bindgen::JsValue;

macro_rules! page_codes {
    ($($(#[$doc:meta])* $name:ident = $wire:literal;)*) => {
        /// The extension's own error codes for pages, in the order of `docs/PAGE-API.md`'s
        /// table (`wasm/tests/page_api_doc.rs` keeps the two, the codes the extension's
        /// JavaScript throws and the `ErrorCode` type of `extension/src/page/paraphe.d.ts` in step). Host codes (`paraphe_protocol::ErrorCode`) reach pages
        /// unchanged besides these. Names are part of the page API: append, never rename.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PageCode {
            $($(#[$doc])* $name,)*
        }

        impl PageCode {
            /// Every code, in the documentation's order.
            pub const ALL: &'static [PageCode] = &[$(PageCode::$name,)*];

            /// The code as pages see it (`error.code`).
            pub const fn name(self) -> &'static str {
                match self { $(PageCode::$name => $wire,)* }
            }
        }
    };
}

page_codes! {
    /// Client side: the extension is not installed, not active on this page, or was updated under it.
    ExtensionUnavailable = "EXTENSION_UNAVAILABLE";
    /// The native host is not installed, not allowed for this extension, or exited.
    HostUnavailable = "HOST_UNAVAILABLE";
    /// The host speaks another protocol version.
    HostIncompatible = "HOST_INCOMPATIBLE";
    /// The page is not https, or its origin is opaque.
    OriginNotAllowed = "ORIGIN_NOT_ALLOWED";
    /// The request does not follow `docs/PAGE-API.md`.
    InvalidRequest = "INVALID_REQUEST";
    /// No valid certificate fit for the request on a connected token.
    NoCertificate = "NO_CERTIFICATE";
    /// A raw signature asked of a key that can log in (docs/SECURITY.md, « Dual-use keys »).
    RawSignatureRefused = "RAW_SIGNATURE_REFUSED";
    /// The person cancelled or closed the consent window.
    UserCancelled = "USER_CANCELLED";
    /// A request that opens a consent window came without a user activation.
    UserActivationRequired = "USER_ACTIVATION_REQUIRED";
    /// Another request of this tab has its consent window open.
    ConsentPending = "CONSENT_PENDING";
    /// Nobody answered in time (consent window, hidden tab, host).
    Timeout = "TIMEOUT";
    /// The PIN is blocked.
    PinLocked = "PIN_LOCKED";
    /// A bug; the message says what.
    Internal = "INTERNAL";
    /// Opening a pli: not a CMS EnvelopedData / AuthEnvelopedData.
    PliMalformed = "PLI_MALFORMED";
    /// Opening a pli: the file ends before the structure does.
    PliTruncated = "PLI_TRUNCATED";
    /// Opening a pli: wrong padding or key length.
    PliDecryptionFailed = "PLI_DECRYPTION_FAILED";
    /// Opening a pli: the AES-GCM tag does not match.
    PliIntegrityFailure = "PLI_INTEGRITY_FAILURE";
    /// LiberSign pages only (`docs/LIBERSIGN.md`): a signature format LiberSign knows and Paraphe does not do.
    UnsupportedFormat = "UNSUPPORTED_FORMAT";
    /// PAdES: not a PDF, a damaged one, or one using what Paraphe cannot sign.
    PdfInvalid = "PDF_INVALID";
    /// PAdES: the PDF is encrypted.
    PdfEncrypted = "PDF_ENCRYPTED";
    /// PAdES: the PDF is certified with no change allowed (DocMDP level 1).
    PdfCertified = "PDF_CERTIFIED";
    /// A time-stamp authority is configured and did not time-stamp the signature (unreachable,
    /// refused, or an answer that is not a token for it): no signature is returned.
    TimestampFailed = "TIMESTAMP_FAILED";
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageError {
    pub code: &'static str,
    pub message: String,
}

impl PageError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { code: PageCode::InvalidRequest.name(), message: message.into() }
    }

    pub fn origin(message: impl Into<String>) -> Self {
        Self { code: PageCode::OriginNotAllowed.name(), message: message.into() }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"code":"INTERNAL","message":"unserializable error"}"#.to_owned())
    }
}

/// The value the WASM modules throw for `e`: the JSON text of `{code, message}`.
pub fn thrown(e: &PageError) -> JsValue {
    JsValue::from_str(&e.to_json())
}

/// [`thrown`] of an `INTERNAL` error.
pub fn internal(message: String) -> JsValue {
    thrown(&PageError { code: PageCode::Internal.name(), message })
}

/// A wire name (`sha256`, `signing`, `sign-raw`…) as the protocol enum it names; thrown as
/// `INVALID_REQUEST` if none.
pub fn wire_enum<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, JsValue> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| thrown(&PageError::invalid(e.to_string())))
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
