//! What the signature formats need from the signer's certificate (RFC 5280 §4.1): its issuer
//! and serial number exactly as encoded, and the kind and size of its key.

use paraphe_protocol::SignatureScheme;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// The key in a certificate, with the length of the signatures it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// Signatures as long as the modulus.
    Rsa { modulus_len: usize },
    /// Raw `r || s` signatures are twice the field size.
    Ec { field_len: usize },
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::Rsa { .. } => "RSA",
            Key::Ec { .. } => "EC",
        }
    }

    /// Length of a signature as the token returns it (RSA, or ECDSA `r || s`).
    pub fn signature_len(self) -> usize {
        match self {
            Key::Rsa { modulus_len } => modulus_len,
            Key::Ec { field_len } => 2 * field_len,
        }
    }

    pub fn fits(self, scheme: SignatureScheme) -> bool {
        matches!(
            (self, scheme),
            (Key::Rsa { .. }, SignatureScheme::RsaPkcs1 | SignatureScheme::RsaPss)
                | (Key::Ec { .. }, SignatureScheme::Ecdsa)
        )
    }
}

/// A parsed signer certificate, borrowing its DER.
#[derive(Clone, Debug)]
pub(crate) struct SignerCertificate<'a> {
    pub der: &'a [u8],
    /// The issuer `Name`, a DER SEQUENCE as in the certificate.
    pub issuer: &'a [u8],
    /// The content octets of the serial number INTEGER, as in the certificate.
    pub serial: &'a [u8],
    pub key: Key,
}

impl<'a> SignerCertificate<'a> {
    pub fn parse(der: &'a [u8]) -> Result<Self, String> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err(format!("{} bytes after the certificate", rest.len()));
        }
        let tbs = &cert.tbs_certificate;
        let key = match tbs.subject_pki.parsed() {
            Ok(PublicKey::RSA(rsa)) => {
                let modulus = rsa.modulus.iter().position(|b| *b != 0).map_or(&[][..], |i| &rsa.modulus[i..]);
                Key::Rsa { modulus_len: modulus.len() }
            }
            Ok(PublicKey::EC(point)) => match point.data() {
                [4, xy @ ..] if !xy.is_empty() && xy.len() % 2 == 0 => Key::Ec { field_len: xy.len() / 2 },
                _ => return Err("the EC public key is not an uncompressed point".into()),
            },
            Ok(_) => {
                return Err(format!("unsupported key algorithm {}", tbs.subject_pki.algorithm.algorithm.to_id_string()))
            }
            Err(e) => return Err(format!("unreadable public key: {e}")),
        };
        if key.signature_len() == 0 {
            return Err("empty public key".into());
        }
        Ok(Self { der, issuer: tbs.issuer.as_raw(), serial: tbs.raw_serial(), key })
    }
}
