//! Commands, their arguments and their results. One section per command; `docs/PROTOCOL.md`
//! shows an example of each.

use crate::algorithm::{EcdsaEncoding, HashAlgorithm, SignatureScheme};
use crate::cert::{CertificateEntry, ModuleInfo, TokenInfo};
use crate::pin::Pin;
use serde::{Deserialize, Serialize};

/// Every command of this protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    Hello,
    Status,
    ListCertificates,
    Login,
    Sign,
    Decrypt,
    Logout,
    Authenticate,
    TlsStatus,
    TlsRegister,
}

impl Command {
    pub const ALL: [Command; 10] = [
        Self::Hello,
        Self::Status,
        Self::ListCertificates,
        Self::Login,
        Self::Sign,
        Self::Decrypt,
        Self::Logout,
        Self::Authenticate,
        Self::TlsStatus,
        Self::TlsRegister,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::Status => "status",
            Self::ListCertificates => "list-certificates",
            Self::Login => "login",
            Self::Sign => "sign",
            Self::Decrypt => "decrypt",
            Self::Logout => "logout",
            Self::Authenticate => "authenticate",
            Self::TlsStatus => "tls-status",
            Self::TlsRegister => "tls-register",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Commands that take no arguments accept `{}` or no `arguments` member at all.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

// ---- hello -------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HelloArgs {
    /// The extension's version, for the host's log.
    #[serde(default)]
    pub extension: Option<String>,
}

/// Sent as the `hello` event when the host starts, and as the result of `hello`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloInfo {
    pub protocol: u32,
    /// The host's version (semver).
    pub version: String,
    /// `linux`, `windows`, `macos`…
    pub os: String,
    /// Which browser started the host, as far as its arguments tell: `chromium`, `firefox`
    /// or `cli`.
    pub caller: String,
}

// ---- status, list-certificates -----------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResult {
    pub modules: Vec<ModuleInfo>,
    pub tokens: Vec<TokenInfo>,
    /// PC/SC readers and cards as the host sees them (absent from older hosts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcsc: Option<PcscStatus>,
}

/// The PC/SC side of `status`: whether the service runs, and each reader with its card.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PcscStatus {
    pub available: bool,
    /// Why PC/SC is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub readers: Vec<ReaderStatus>,
}

/// One reader, as in the `card-inserted` event's data (`atr`, `card` and `middleware` are
/// null when the reader is empty).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReaderStatus {
    pub reader: String,
    /// Hex bytes separated by spaces.
    pub atr: Option<String>,
    /// The card's name from the middleware catalogue; null for an unknown ATR.
    pub card: Option<String>,
    pub middleware: Option<MiddlewareMatch>,
}

/// The middleware a card's ATR calls for (or OpenSC as the fallback).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MiddlewareMatch {
    pub id: String,
    pub name: String,
    /// What to install, in words a user can act on.
    pub install: String,
    /// The module path found on this machine, if any.
    pub module: Option<String>,
    pub installed: bool,
    /// No catalogue entry matched the ATR: OpenSC is tried.
    pub fallback: bool,
    /// In `status` only: whether that module is loaded in the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateList {
    pub certificates: Vec<CertificateEntry>,
    pub tokens: Vec<TokenInfo>,
    pub modules: Vec<ModuleInfo>,
}

// ---- login --------------------------------------------------------------------------------

/// Opens a login session on the token that holds `certificate`'s key. The extension sends
/// it only after the user consented and typed the PIN; the session it returns is the
/// consent token that `sign` and `decrypt` require.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginArgs {
    /// SHA-256 fingerprint of the certificate, 64 hex digits.
    pub certificate: String,
    /// Absent for tokens with a protected authentication path (PIN pad).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Pin>,
    /// Ends the session by itself after this many seconds (PIN session policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u32>,
    /// What the session may be used for; the host refuses any other use.
    pub purpose: LoginPurpose,
    /// Where `list-certificates` found the certificate: the host looks there first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<KeyHint>,
}

/// Where a certificate is, as `list-certificates` reported it ([`CertificateEntry::token`]
/// and [`CertificateEntry::cka_id`]): `login` reads that one certificate instead of every
/// certificate of every token. The fingerprint still decides: a hint that does not lead to
/// it is ignored.
///
/// [`CertificateEntry::token`]: crate::cert::CertificateEntry::token
/// [`CertificateEntry::cka_id`]: crate::cert::CertificateEntry::cka_id
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyHint {
    /// The token's id ([`TokenInfo::id`](crate::cert::TokenInfo::id)).
    pub token: String,
    /// CKA_ID of the certificate (and its private key), hex.
    pub cka_id: String,
}

/// What a login session is for. A session serves only the commands of its purpose, so a
/// consent given for one kind of use cannot be spent on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginPurpose {
    /// `authenticate` only: a `web-eid:1.0` login token for the browser-reported origin.
    Authenticate,
    /// `sign` of digests of structures the extension built itself (CAdES signed
    /// attributes, XAdES SignedInfo, the LiberSign formats).
    SignStructured,
    /// `sign` of digests the page chose. Refused at login (`RAW_SIGNATURE_REFUSED`) for a
    /// certificate that can log in.
    SignRaw,
    /// `decrypt` only: unwrapping plis' content-encryption keys.
    Decrypt,
}

impl LoginPurpose {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Authenticate => "authenticate",
            Self::SignStructured => "sign-structured",
            Self::SignRaw => "sign-raw",
            Self::Decrypt => "decrypt",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// Opaque handle for `sign`, `decrypt` and `logout`.
    pub session: String,
    /// The key needs the PIN again for each use (CKA_ALWAYS_AUTHENTICATE); the host keeps
    /// it, zeroized on logout, for the session's life.
    pub always_authenticate: bool,
    /// The PIN was (or will be) entered on the reader's PIN pad.
    pub protected_authentication_path: bool,
}

// ---- sign ---------------------------------------------------------------------------------

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignArgs {
    pub session: String,
    /// The digest to sign, base64; its length must match `hash`.
    pub digest: String,
    pub hash: HashAlgorithm,
    pub scheme: SignatureScheme,
    /// ECDSA only; `raw` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdsa_encoding: Option<EcdsaEncoding>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignResult {
    /// base64.
    pub signature: String,
}

// ---- decrypt ------------------------------------------------------------------------------

/// RSA key transport schemes for unwrapping a CMS content-encryption key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecryptScheme {
    /// RSAES-PKCS1-v1_5 (RFC 8017 §7.2).
    RsaPkcs1,
    /// RSAES-OAEP (RFC 8017 §7.1) with MGF1 over the same hash and an empty label.
    RsaOaep,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecryptArgs {
    pub session: String,
    /// The wrapped key, base64 (at most 1024 bytes decoded: RSA-8192).
    pub data: String,
    pub scheme: DecryptScheme,
    /// OAEP only; `sha1` when absent, as in RFC 8017's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oaep_hash: Option<HashAlgorithm>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptResult {
    /// The unwrapped key, base64.
    pub plaintext: String,
}

// ---- logout -------------------------------------------------------------------------------

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoutArgs {
    pub session: String,
}

// ---- authenticate -------------------------------------------------------------------------

/// Signs a Web eID style login challenge with the session's authentication key.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthenticateArgs {
    pub session: String,
    /// The requesting page's origin, as the browser reported it to the extension.
    pub origin: String,
    /// The server's challenge, base64, 44–128 characters.
    pub challenge_nonce: String,
}

/// A `web-eid:1.0` authentication token (camelCase JSON, as web-eid.js and the Web eID
/// validators expect).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthToken {
    /// The authentication certificate, base64 DER.
    pub unverified_certificate: String,
    /// JWS name: `ES256`, `ES384`, `ES512`, `RS256`…
    pub algorithm: String,
    /// base64; ECDSA as raw `r || s`.
    pub signature: String,
    /// `web-eid:1.0`.
    pub format: String,
    pub app_version: String,
}

// ---- tls-status, tls-register ------------------------------------------------------------

/// TLS client authentication in Chromium on Linux: Chromium offers a token's certificates to
/// portals that ask for one when the token's PKCS#11 module is in the user's NSS database
/// (`sql:$HOME/.pki/nssdb`). Result of both `tls-status` (what is registered) and
/// `tls-register` (registers every loaded module that is not, with NSS `modutil`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsModules {
    /// Chromium reads modules from an NSS database on this OS (Linux); elsewhere it uses the
    /// system's store, and the lists are empty.
    pub supported: bool,
    /// The database, `sql:` and its folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// NSS `modutil` was found (`tls-register` needs it; `tls-status` does not).
    pub modutil: bool,
    /// Every module the host loaded, registered or not.
    pub modules: Vec<TlsModule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsModule {
    pub path: String,
    /// The middleware's name when the path is a known one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The module's name in the NSS database (and of its Firefox PKCS#11 manifest):
    /// `fr.paraphe.pkcs11.` + the file name's slug.
    pub nss_name: String,
    /// The database holds this library (under any name).
    pub registered: bool,
    /// `tls-register` added it just now (Chromium sees it once restarted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub added: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn sign_args_are_exact() {
        let ok = r#"{"session":"s1","digest":"AA==","hash":"sha256","scheme":"rsa-pss"}"#;
        assert!(serde_json::from_str::<SignArgs>(ok).is_ok());
        let extra = r#"{"session":"s1","digest":"AA==","hash":"sha256","scheme":"rsa-pss","x":1}"#;
        assert!(serde_json::from_str::<SignArgs>(extra).is_err());
        let bad_hash = r#"{"session":"s1","digest":"AA==","hash":"md5","scheme":"rsa-pss"}"#;
        assert!(serde_json::from_str::<SignArgs>(bad_hash).is_err());
    }
}
