//! What the host reports about modules, tokens and certificates: the facts a person
//! chooses a certificate by.

use crate::error::PinStatus;
use serde::{Deserialize, Serialize};

/// Where a PKCS#11 module path came from (lowest to highest precedence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleSource {
    /// The built-in list of well-known middleware paths.
    Builtin,
    /// The host's configuration file.
    Config,
    /// `PARAPHE_PKCS11_MODULES`.
    Env,
    /// `--module` on the command line.
    Cli,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleInfo {
    pub path: String,
    /// Human name of the middleware when the path is a known one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub source: ModuleSource,
    pub loaded: bool,
    /// Why it did not load (missing file, wrong architecture, C_Initialize failure…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `CK_INFO` library description and version, when loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Stable handle for this token during the host's life.
    pub id: String,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    /// Path of the module that drives it.
    pub module: String,
    pub slot_description: String,
    pub login_required: bool,
    /// The PIN is entered on the reader (PIN pad) or the middleware's own dialog.
    pub protected_authentication_path: bool,
    pub pin: PinStatus,
    pub min_pin_length: u32,
    pub max_pin_length: u32,
}

/// Whether a private key matching the certificate (same CKA_ID) is on the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyPresence {
    Present,
    /// Private-key objects of this token are private: they show only after login.
    HiddenUntilLogin,
    Absent,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateEntry {
    /// SHA-256 of the DER certificate, 64 lowercase hex digits: how requests name it.
    pub fingerprint: String,
    /// [`TokenInfo::id`] of the token holding it.
    pub token: String,
    pub token_label: String,
    /// CKA_ID, hex.
    pub cka_id: String,
    /// CKA_LABEL.
    pub label: String,
    /// DER, base64.
    pub certificate: String,
    pub private_key: KeyPresence,
    /// The key has CKA_ALWAYS_AUTHENTICATE (PIN for every use), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_authenticate: Option<bool>,
    pub info: CertificateInfo,
}

/// What a certificate is good for, by key usage and extended key usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Usage {
    /// nonRepudiation (contentCommitment): electronic signature of documents.
    Signing,
    /// digitalSignature with clientAuth or no EKU: log-in.
    Authentication,
    /// keyEncipherment or dataEncipherment: opening encrypted documents.
    Encryption,
}

/// One bit of the key usage extension (RFC 5280 §4.2.1.3), named on the wire as in the
/// RFC's ASN.1 (`digitalSignature`, `cRLSign`…).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyUsage {
    DigitalSignature,
    /// Also called contentCommitment (X.509 2008).
    NonRepudiation,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    #[serde(rename = "cRLSign")]
    CrlSign,
    EncipherOnly,
    DecipherOnly,
}

impl KeyUsage {
    /// Every bit, in the RFC's order.
    pub const ALL: [KeyUsage; 9] = [
        KeyUsage::DigitalSignature,
        KeyUsage::NonRepudiation,
        KeyUsage::KeyEncipherment,
        KeyUsage::DataEncipherment,
        KeyUsage::KeyAgreement,
        KeyUsage::KeyCertSign,
        KeyUsage::CrlSign,
        KeyUsage::EncipherOnly,
        KeyUsage::DecipherOnly,
    ];

    /// The RFC 5280 name, as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            KeyUsage::DigitalSignature => "digitalSignature",
            KeyUsage::NonRepudiation => "nonRepudiation",
            KeyUsage::KeyEncipherment => "keyEncipherment",
            KeyUsage::DataEncipherment => "dataEncipherment",
            KeyUsage::KeyAgreement => "keyAgreement",
            KeyUsage::KeyCertSign => "keyCertSign",
            KeyUsage::CrlSign => "cRLSign",
            KeyUsage::EncipherOnly => "encipherOnly",
            KeyUsage::DecipherOnly => "decipherOnly",
        }
    }
}

/// Decoded facts of an X.509 certificate.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// RFC 4514 string.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_common_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_common_name: Option<String>,
    /// Serial number, lowercase hex without leading zeros.
    pub serial_number: String,
    /// Serial number in decimal, as XAdES `X509SerialNumber` wants it.
    pub serial_number_decimal: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    /// RFC 3339, UTC.
    pub not_after: String,
    /// `RSA`, `EC` or the algorithm OID.
    pub key_type: String,
    pub key_bits: u32,
    /// `P-256`, `P-384`, `P-521` for EC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// The key usage bits set; empty when the certificate has no key usage extension.
    pub key_usage: Vec<KeyUsage>,
    /// Names where known (`clientAuth`, `emailProtection`…), else the OID.
    pub extended_key_usage: Vec<String>,
    pub usages: Vec<Usage>,
    pub policies: Vec<PolicyInfo>,
    /// RGS level (`*`, `**`, `***`) when a policy is known to carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rgs_level: Option<String>,
    pub qualified: QualifiedStatus,
    pub is_ca: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInfo {
    pub oid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// eIDAS qualified-certificate statements (ETSI EN 319 412-5).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualifiedStatus {
    /// QcCompliance (0.4.0.1862.1.1): an EU qualified certificate.
    pub qc_compliance: bool,
    /// QcSSCD (0.4.0.1862.1.4): the key is in a qualified signature creation device.
    pub qc_sscd: bool,
    /// QcType values: `esign`, `eseal`, `web`.
    pub qc_types: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::KeyUsage;

    #[test]
    fn key_usages_keep_their_rfc_names_on_the_wire() {
        for ku in KeyUsage::ALL {
            let json = serde_json::to_string(&ku).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", ku.name()));
            assert_eq!(serde_json::from_str::<KeyUsage>(&json).ok(), Some(ku));
        }
        assert!(serde_json::from_str::<KeyUsage>("\"crlSign\"").is_err());
    }
}
