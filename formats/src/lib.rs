//! Formats with no I/O, shared by the native host, its CLI and the WASM core.
//!
//! - [`x509`]: the facts of a certificate a person chooses by (usage, RGS level, eIDAS
//!   qualified status).
//! - [`pkcs1`]: the DigestInfo that RSASSA-PKCS1-v1_5 signs.
//! - [`pdf`]: PAdES baseline B-B and B-T, an incremental update holding a CAdES signature
//!   (B-T: with an RFC 3161 signature time-stamp, [`cms::timestamp`]).
//! - [`zip`]: a zip of stored members, written around contents that stay where they are.

pub(crate) mod asn1;
pub mod cms;
pub mod ecdsa;
pub mod hash;
pub mod pdf;
pub mod pkcs1;
pub mod policies;
#[cfg(feature = "verify")]
pub mod verify;
pub mod webeid;
pub mod x509;
pub mod xades;
pub mod zip;
