//! XAdES baseline B-B detached signature of a file (ETSI EN 319 132-1 §6.3), the « jeton »
//! `.xml` kept beside the file: a `ds:Signature` document whose first `ds:Reference` has the
//! file's name as `URI` (relative, percent-encoded; a verifier resolves it where the file is:
//! `xmlsec1` against its working directory) and its
//! SHA-256 digest, no transform; the second references the SignedProperties
//! (`Type="http://uri.etsi.org/01903#SignedProperties"`, exc-c14n), which hold SigningTime,
//! SigningCertificateV2 (certificate digest and `IssuerSerialV2`, EN 319 132-1 §5.2.2) and
//! the DataObjectFormat of the file (MIME type), as the baseline asks.
//!
//! Same two steps and same state as the PES signature ([`super::prepare`]): [`prepare`]
//! returns the digest of the canonical SignedInfo, [`super::finish`] puts the value in, and
//! [`super::XadesSignature::jeton`] gives the standalone document.

use super::xml::Element;
use super::{digest_uri, Prepared, XadesError, XmlEncoding};
use crate::cms::certificate::{Key, SignerCertificate};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use paraphe_protocol::{HashAlgorithm, SignatureScheme};

const SIGNED_PROPERTIES_TYPE_132: &str = "http://uri.etsi.org/01903#SignedProperties";

/// What to sign: a file known by its name and SHA-256 digest.
#[derive(Clone, Debug)]
pub struct DetachedRequest {
    /// The file's name, as the `Reference URI` (relative to the jeton).
    pub file_name: String,
    /// SHA-256 of the file's bytes.
    pub digest: Vec<u8>,
    /// `xades:MimeType`; `application/octet-stream` when absent.
    pub mime_type: Option<String>,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// Unix seconds.
    pub signing_time: i64,
}

/// A file name as a relative URI reference (RFC 3986 §4.2): every byte but the unreserved
/// characters percent-encoded, so `:` or `#` in a name cannot make it absolute or a fragment.
pub fn file_uri(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Step 1: the detached signature without its value, and the digest the card signs.
pub fn prepare(request: &DetachedRequest) -> Result<Prepared, XadesError> {
    let hash = HashAlgorithm::Sha256;
    if request.digest.len() != hash.digest_len() {
        return Err(XadesError::DigestLength {
            format: super::XadesFormat::EnvelopedSha256,
            expected: hash.digest_len(),
            actual: request.digest.len(),
        });
    }
    let name = request.file_name.as_str();
    if name.is_empty() || name == "." || name == ".." || !name.chars().all(super::xml::is_xml_char) {
        return Err(XadesError::InvalidText("file name"));
    }
    let mime = match request.mime_type.as_deref() {
        None | Some("") => "application/octet-stream".to_string(),
        Some(m) if m.len() <= 255 && m.contains('/') && m.bytes().all(|b| b.is_ascii_graphic()) => m.to_string(),
        Some(_) => return Err(XadesError::InvalidText("MIME type")),
    };
    if !(-631_152_000..=253_402_300_799).contains(&request.signing_time) {
        return Err(XadesError::SigningTime(request.signing_time));
    }
    let signer = SignerCertificate::parse(&request.certificate).map_err(XadesError::Certificate)?;
    let scheme = match signer.key {
        Key::Rsa { .. } => SignatureScheme::RsaPkcs1,
        Key::Ec { .. } => SignatureScheme::Ecdsa,
    };
    let tag = hex::encode(&request.digest[..8]);
    let signature_id = format!("Signature-{tag}");
    let reference_id = format!("{signature_id}-document");
    let properties_id = format!("{signature_id}-signed-properties");

    let cert_digest = crate::hash::digest(hash, signer.der);
    let signed_properties = Element::new("xades:SignedProperties")
        .attr("Id", properties_id.clone())
        .child(
            Element::new("xades:SignedSignatureProperties")
                .child(Element::new("xades:SigningTime").text(crate::x509::rfc3339(request.signing_time)))
                .child(
                    Element::new("xades:SigningCertificateV2").child(
                        Element::new("xades:Cert")
                            .child(
                                Element::new("xades:CertDigest")
                                    .child(Element::new("ds:DigestMethod").attr("Algorithm", digest_uri(hash)))
                                    .child(Element::new("ds:DigestValue").text(BASE64.encode(&cert_digest))),
                            )
                            .child(
                                Element::new("xades:IssuerSerialV2")
                                    .text(BASE64.encode(crate::cms::attributes::issuer_serial(&signer))),
                            ),
                    ),
                ),
        )
        .child(
            Element::new("xades:SignedDataObjectProperties").child(
                Element::new("xades:DataObjectFormat")
                    .attr("ObjectReference", format!("#{reference_id}"))
                    .child(Element::new("xades:MimeType").text(mime)),
            ),
        );
    let content = Element::new("ds:Reference")
        .attr("Id", reference_id)
        .attr("URI", file_uri(name))
        .child(Element::new("ds:DigestMethod").attr("Algorithm", digest_uri(hash)))
        .child(Element::new("ds:DigestValue").text(BASE64.encode(&request.digest)));
    super::assemble(super::Assembly {
        signer: &signer,
        hash,
        scheme,
        signature_id,
        content,
        properties_type: SIGNED_PROPERTIES_TYPE_132,
        properties_id,
        signed_properties,
        qualifying_properties: "xades:QualifyingProperties",
        encoding: XmlEncoding::Utf8,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_names_as_relative_uris() {
        assert_eq!(file_uri("rapport_2026-v1.2~x.pdf"), "rapport_2026-v1.2~x.pdf");
        assert_eq!(file_uri("Délibération n°42.pdf"), "D%C3%A9lib%C3%A9ration%20n%C2%B042.pdf");
        assert_eq!(file_uri("c:a#b?c/d%"), "c%3Aa%23b%3Fc%2Fd%25");
    }
}
