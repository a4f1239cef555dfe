//! Which recipient is the person at the card (RFC 5652 §6.2.1): a KeyTransRecipientInfo
//! names its certificate by issuer and serial number, or by subject key identifier.

use super::{EnvelopeError, Header, KeyTransport, Recipient, RecipientIdentifier};
use sha1::{Digest, Sha1};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A recipient and the certificate it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecipientMatch {
    /// Index in [`Header::recipients`].
    pub recipient: usize,
    /// Index in the certificates given to [`find_recipient`].
    pub certificate: usize,
}

/// What a RecipientIdentifier can be compared with.
struct Identity {
    issuer: Vec<u8>,
    serial: Vec<u8>,
    /// The subjectKeyIdentifier extension, else SHA-1 of the public key (RFC 5280
    /// §4.2.1.2 method 1), which is what tools put in the rid when the extension is absent.
    key_ids: Vec<Vec<u8>>,
}

fn identity(der: &[u8]) -> Option<Identity> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let mut key_ids = Vec::new();
    for ext in tbs.extensions() {
        if let ParsedExtension::SubjectKeyIdentifier(ski) = ext.parsed_extension() {
            key_ids.push(ski.0.to_vec());
        }
    }
    key_ids.push(Sha1::digest(tbs.subject_pki.subject_public_key.data.as_ref()).to_vec());
    Some(Identity { issuer: tbs.issuer.as_raw().to_vec(), serial: tbs.raw_serial().to_vec(), key_ids })
}

fn names(rid: &RecipientIdentifier, id: &Identity) -> bool {
    match rid {
        // DER names are compared as encoded: a CA writes the issuer of its certificates
        // exactly as its own subject, and the sender copied it from the certificate.
        RecipientIdentifier::IssuerAndSerialNumber { issuer, serial } => *issuer == id.issuer && *serial == id.serial,
        RecipientIdentifier::SubjectKeyIdentifier(ski) => id.key_ids.iter().any(|k| k == ski),
    }
}

/// The first recipient (in the pli's order) that names one of `certificates` (DER) and
/// whose key transport the host can do. Errors: [`EnvelopeError::NoMatchingRecipient`], or
/// [`EnvelopeError::UnsupportedAlgorithm`] when the only recipients naming a certificate
/// use a key transport the host cannot do (with that algorithm's OID).
pub fn find_recipient(header: &Header, certificates: &[&[u8]]) -> Result<RecipientMatch, EnvelopeError> {
    let ids: Vec<Option<Identity>> = certificates.iter().map(|der| identity(der)).collect();
    let mut unsupported = None;
    for (r, recipient) in header.recipients.iter().enumerate() {
        let Recipient::KeyTransport(ktri) = recipient else { continue };
        for (c, id) in ids.iter().enumerate() {
            if !id.as_ref().is_some_and(|id| names(&ktri.rid, id)) {
                continue;
            }
            match &ktri.key_transport {
                KeyTransport::Unsupported { oid, .. } => {
                    unsupported.get_or_insert_with(|| oid.clone());
                }
                _ => return Ok(RecipientMatch { recipient: r, certificate: c }),
            }
        }
    }
    match unsupported {
        Some(oid) => Err(EnvelopeError::UnsupportedAlgorithm { what: "key transport", oid }),
        None => Err(EnvelopeError::NoMatchingRecipient),
    }
}
