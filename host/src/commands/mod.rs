//! One module per command. Each `run` takes the command's typed arguments and returns its
//! typed result; `dispatch` does the JSON.

pub mod authenticate;
pub mod decrypt;
pub mod hello;
pub mod list_certificates;
pub mod login;
pub mod logout;
pub mod sign;
pub mod status;
pub mod tls_register;
pub mod tls_status;

#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use base64::Engine as _;
use paraphe_protocol::cert::{CertificateInfo, KeyUsage};

/// The certificate's key usage allows signatures (digitalSignature or nonRepudiation; no
/// keyUsage extension at all allows everything, RFC 5280 §4.2.1.3).
pub(crate) fn may_sign(info: &CertificateInfo) -> bool {
    let ku = &info.key_usage;
    ku.is_empty() || ku.iter().any(|k| matches!(k, KeyUsage::DigitalSignature | KeyUsage::NonRepudiation))
}

/// The certificate's key usage allows key transport (keyEncipherment or dataEncipherment).
pub(crate) fn may_decrypt(info: &CertificateInfo) -> bool {
    let ku = &info.key_usage;
    ku.is_empty() || ku.iter().any(|k| matches!(k, KeyUsage::KeyEncipherment | KeyUsage::DataEncipherment))
}

/// Standard base64 (RFC 4648 §4) with padding, as every binary field of the protocol.
pub(crate) fn decode_b64(field: &str, value: &str, max: usize) -> Result<Vec<u8>> {
    if value.len() > max.div_ceil(3) * 4 {
        return Err(Error::InvalidArgument(format!("{field} is longer than {max} bytes")));
    }
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|e| Error::InvalidArgument(format!("{field} is not base64: {e}")))
}

pub(crate) fn encode_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
