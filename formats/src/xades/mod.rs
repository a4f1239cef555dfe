//! PES V2 XAdES enveloped signatures, as Hélios (DGFiP) takes them from s2low, iParapheur and
//! Pastell.
//!
//! Specifications: XML Signature Syntax and Processing 1.1 §4 (the `ds:Signature` element,
//! §4.4 SignedInfo, §4.4.3 Reference, §4.5 KeyInfo/X509Data); Exclusive XML Canonicalization
//! 1.0 (for SignedInfo and both References) over Canonical XML 1.0; ETSI TS 101 903 v1.1.1
//! (XAdES: QualifyingProperties, SignedSignatureProperties) — the version whose schema the PES
//! V2 schema imports, so the `Type` of the SignedProperties reference and the `xad:` namespace
//! are v1.1.1's; the same elements are unchanged in v1.3.2. The DGFiP's signature policy
//! (« Politique de signature Helios de la DGFiP ») is given by the page, never built in.
//!
//! One `ds:Signature` per bordereau: `Reference URI="#<Id>"` with the enveloped-signature and
//! exc-c14n transforms, whose digest the server computed on the bordereau (we never see the
//! document), and a second Reference to the SignedProperties, whose digest we compute. The
//! signature is built as a tree and written in canonical form directly (module `xml`), so the
//! SignedInfo hashed in [`prepare`] and the SignedProperties hashed inside it are exactly
//! what an exc-c14n implementation (xmlsec1, libxml2) produces from the finished document.
//!
//! Two steps, as for CMS: [`prepare`] returns the digest of the canonical SignedInfo for the
//! token to sign, and a [`XadesState`]; [`finish`] puts the signature value in. The server
//! (s2low, iParapheur) inserts the result into the PES file: Paraphe never sees it.
//!
//! [`detached`] makes the other XAdES signature Paraphe writes: a baseline B-B detached
//! signature of a file (the « jeton »), with the same state and [`finish`].
//!
//! Formats (LiberSign's `format`): `xades-env-1.2.2-sha256` uses SHA-256 everywhere and
//! rsa-sha256 (ecdsa-sha256 for EC keys); legacy `XADES-env` uses SHA-1 and rsa-sha1. Both
//! canonicalise with exclusive C14N: s2low's own templates and the signatures LiberSign
//! produced show exc-c14n for the legacy format too, and inclusive C14N could not work here:
//! it would pull the PES document's namespace declarations into the SignedInfo, which the
//! signer never sees.

pub mod detached;
mod name;
pub(crate) mod xml;

use crate::cms::certificate::{Key, SignerCertificate};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::fmt;
use xml::Element;

/// Which PES signature, by LiberSign's `format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum XadesFormat {
    /// `xades-env-1.2.2-sha256`: SHA-256, rsa-sha256 / ecdsa-sha256.
    #[serde(rename = "xades-env-1.2.2-sha256")]
    EnvelopedSha256,
    /// `XADES-env`: SHA-1, rsa-sha1 / ecdsa-sha1 (legacy).
    #[serde(rename = "XADES-env")]
    EnvelopedSha1,
}

impl XadesFormat {
    pub const fn name(self) -> &'static str {
        match self {
            Self::EnvelopedSha256 => "xades-env-1.2.2-sha256",
            Self::EnvelopedSha1 => "XADES-env",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::EnvelopedSha256, Self::EnvelopedSha1].into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// The hash of every digest in the signature, and of the signature itself.
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::EnvelopedSha256 => HashAlgorithm::Sha256,
            Self::EnvelopedSha1 => HashAlgorithm::Sha1,
        }
    }
}

/// The character encoding of the XML written (LiberSign's `pesencoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum XmlEncoding {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "ISO-8859-1")]
    Iso8859_1,
}

impl XmlEncoding {
    /// From an encoding label as in an XML declaration (case-insensitive).
    pub fn from_label(label: &str) -> Option<Self> {
        match label.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" => Some(Self::Iso8859_1),
            _ => None,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Iso8859_1 => "ISO-8859-1",
        }
    }

    /// `text` in this encoding. Characters ISO-8859-1 lacks become character references,
    /// which are the same characters to any XML parser (so to C14N too). Only ever applied
    /// to markup this module wrote, where such characters are in text or attribute values.
    fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Self::Utf8 => text.as_bytes().to_vec(),
            Self::Iso8859_1 => {
                let mut out = Vec::with_capacity(text.len());
                for c in text.chars() {
                    match u8::try_from(u32::from(c)) {
                        Ok(b) => out.push(b),
                        Err(_) => out.extend_from_slice(format!("&#x{:X};", u32::from(c)).as_bytes()),
                    }
                }
                out
            }
        }
    }
}

/// The signature policy (`xad:SignaturePolicyId`), as the page gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XadesPolicy {
    /// `xad:Identifier`, e.g. `urn:oid:1.2.250.1.131.1.5.18.21.1.7`, written as given.
    pub identifier: String,
    pub description: Option<String>,
    /// Digest of the policy document (`SigPolicyHash`).
    pub hash: Vec<u8>,
    pub hash_algorithm: HashAlgorithm,
    /// `SPURI`: where the policy document is published.
    pub spuri: Option<String>,
}

/// `xad:SignatureProductionPlace`. Empty fields are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductionPlace {
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country_name: Option<String>,
}

/// What to sign: one bordereau (or a whole PES_Aller) and the signer's context.
#[derive(Clone, Debug)]
pub struct PesSignatureRequest {
    /// The `Id` of the signed element (LiberSign's `pesid`).
    pub id: String,
    /// The digest of the exclusive canonical form of that element, as the server computed it
    /// (LiberSign's `hash`, decoded from hex), with the format's hash.
    pub digest: Vec<u8>,
    pub format: XadesFormat,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// Signing time, Unix seconds (written in UTC).
    pub signing_time: i64,
    /// `None` writes `SignaturePolicyImplied`.
    pub policy: Option<XadesPolicy>,
    pub production_place: ProductionPlace,
    /// `xad:ClaimedRole`, e.g. « Ordonnateur ». The DGFiP expects one.
    pub claimed_role: Option<String>,
    pub encoding: XmlEncoding,
}

/// The result of [`prepare`].
#[derive(Clone, Debug)]
pub struct Prepared {
    /// What the token must sign: the digest of the canonical SignedInfo.
    pub digest: Vec<u8>,
    pub hash: HashAlgorithm,
    /// RSA PKCS#1 v1.5 for RSA keys, ECDSA (raw `r || s`) for EC keys.
    pub scheme: SignatureScheme,
    /// The canonical SignedInfo that `digest` is the digest of.
    pub signed_info: String,
    pub state: XadesState,
}

/// What [`finish`] needs. JSON: `{"version":1, "scheme":"rsa-pkcs1", "encoding":"ISO-8859-1",
/// "signatureLength":256, "head":"<ds:Signature …><ds:SignatureValue>",
/// "tail":"</ds:SignatureValue>…</ds:Signature>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XadesState {
    version: u32,
    scheme: SignatureScheme,
    encoding: XmlEncoding,
    signature_length: usize,
    /// The signature up to the SignatureValue's content, and from its end tag on.
    head: String,
    tail: String,
}

const STATE_VERSION: u32 = 1;

/// A finished `ds:Signature` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XadesSignature {
    xml: String,
    encoding: XmlEncoding,
}

impl XadesSignature {
    /// The element as text.
    pub fn as_str(&self) -> &str {
        &self.xml
    }

    /// The element in the encoding that was asked, without XML declaration: to insert into
    /// a document in that encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encoding.encode(&self.xml)
    }

    /// The signature as a standalone document (UTF-8 declaration, the `ds:Signature` root):
    /// the detached « jeton » `.xml` ([`detached`]).
    pub fn jeton(&self) -> Vec<u8> {
        let label = self.encoding.label();
        self.encoding.encode(&format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n{}\n", self.xml))
    }

    /// A standalone XML document whose root's first child is the signature, which is what
    /// LiberSign returns (base64) and s2low reads: it parses the document and takes
    /// `documentElement.firstChild`. The root's name is not read.
    pub fn libersign_document(&self) -> Vec<u8> {
        let label = self.encoding.label();
        self.encoding
            .encode(&format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n<Signatures>{}</Signatures>\n", self.xml))
    }
}

/// Why a PES signature could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XadesError {
    /// The bordereau digest does not have the length of the format's hash.
    DigestLength { format: XadesFormat, expected: usize, actual: usize },
    /// The certificate could not be read.
    Certificate(String),
    /// The key is not one XML-DSig signs with here.
    UnsupportedKey(&'static str),
    /// The Id cannot be referenced from a URI fragment.
    InvalidId(String),
    /// A text field holds characters XML cannot carry.
    InvalidText(&'static str),
    /// The signing time is outside 1950–9999.
    SigningTime(i64),
    /// The policy hash does not have the length of its algorithm.
    PolicyHashLength { expected: usize, actual: usize },
    /// The token's signature does not have the expected length.
    SignatureLength { expected: usize, actual: usize },
    /// The state given to [`finish`] is not one [`prepare`] made.
    State(&'static str),
}

impl fmt::Display for XadesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DigestLength { format, expected, actual } => {
                write!(f, "a {} bordereau digest has {expected} bytes, this one has {actual}", format.name())
            }
            Self::Certificate(why) => write!(f, "unreadable certificate: {why}"),
            Self::UnsupportedKey(key) => write!(f, "cannot sign PES with a {key} key"),
            Self::InvalidId(id) => write!(f, "{id:?} cannot be referenced as an XML Id"),
            Self::InvalidText(field) => write!(f, "the {field} holds characters XML cannot carry"),
            Self::SigningTime(t) => write!(f, "signing time {t} is outside the years 1950 to 9999"),
            Self::PolicyHashLength { expected, actual } => {
                write!(f, "the policy hash has {actual} bytes, its algorithm makes {expected}")
            }
            Self::SignatureLength { expected, actual } => {
                write!(f, "the token returned a {actual}-byte signature, {expected} bytes were expected")
            }
            Self::State(why) => write!(f, "invalid signing state: {why}"),
        }
    }
}

impl std::error::Error for XadesError {}

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SIGNED_PROPERTIES_TYPE: &str = "http://uri.etsi.org/01903/v1.1.1#SignedProperties";

/// `DigestMethod` URIs (XML-DSig 1.1 §6.2, RFC 6931 §2.1).
fn digest_uri(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        HashAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
        HashAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
        HashAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
    }
}

/// `SignatureMethod` URIs (XML-DSig 1.1 §6.4, RFC 6931 §2.3).
fn signature_uri(key: Key, hash: HashAlgorithm) -> &'static str {
    match (key, hash) {
        (Key::Rsa { .. }, HashAlgorithm::Sha1) => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        (Key::Rsa { .. }, _) => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        (Key::Ec { .. }, HashAlgorithm::Sha1) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
        (Key::Ec { .. }, _) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    }
}

/// Step 1: the signature without its value, and the digest of its canonical SignedInfo.
pub fn prepare(request: &PesSignatureRequest) -> Result<Prepared, XadesError> {
    let format = request.format;
    let hash = format.hash();
    if request.digest.len() != hash.digest_len() {
        return Err(XadesError::DigestLength { format, expected: hash.digest_len(), actual: request.digest.len() });
    }
    check_id(&request.id)?;
    let signer = SignerCertificate::parse(&request.certificate).map_err(XadesError::Certificate)?;
    let scheme = match signer.key {
        Key::Rsa { .. } => SignatureScheme::RsaPkcs1,
        Key::Ec { .. } => SignatureScheme::Ecdsa,
    };
    let signature_id = format!("{}_SIG", request.id);
    let properties_id = format!("{signature_id}_SP");

    let signed_properties = signed_properties(request, &signer, &properties_id)?;

    let content = Element::new("ds:Reference")
        .attr("URI", format!("#{}", request.id))
        .child(
            Element::new("ds:Transforms")
                .child(Element::new("ds:Transform").attr("Algorithm", ENVELOPED))
                .child(Element::new("ds:Transform").attr("Algorithm", EXC_C14N)),
        )
        .child(Element::new("ds:DigestMethod").attr("Algorithm", digest_uri(hash)))
        .child(Element::new("ds:DigestValue").text(BASE64.encode(&request.digest)));
    assemble(Assembly {
        signer: &signer,
        hash,
        scheme,
        signature_id,
        content,
        properties_type: SIGNED_PROPERTIES_TYPE,
        properties_id,
        signed_properties,
        qualifying_properties: "xad:QualifyingProperties",
        encoding: request.encoding,
    })
}

/// What differs between the enveloped PES signature and the detached jeton (`detached.rs`);
/// the rest of the `ds:Signature` is [`assemble`]'s.
struct Assembly<'a> {
    signer: &'a SignerCertificate<'a>,
    hash: HashAlgorithm,
    scheme: SignatureScheme,
    signature_id: String,
    /// The `ds:Reference` to the signed content.
    content: Element,
    /// The `Type` of the reference to the signed properties (XAdES 1.1.1 or 1.3.2).
    properties_type: &'static str,
    properties_id: String,
    signed_properties: Element,
    /// The qualifying properties' element name, with the namespace prefix in use.
    qualifying_properties: &'static str,
    encoding: XmlEncoding,
}

/// The `ds:Signature` around a content reference and signed properties, without its value:
/// SignedInfo (exclusive c14n) with the content reference then the signed-properties one,
/// KeyInfo with the certificate, the qualifying properties in a `ds:Object`. Returns the
/// digest of the canonical SignedInfo and the state that [`finish`] completes.
fn assemble(a: Assembly<'_>) -> Result<Prepared, XadesError> {
    let hash = a.hash;
    let properties_digest = crate::hash::digest(hash, a.signed_properties.canonical().as_bytes());
    let signed_info = Element::new("ds:SignedInfo")
        .child(Element::new("ds:CanonicalizationMethod").attr("Algorithm", EXC_C14N))
        .child(Element::new("ds:SignatureMethod").attr("Algorithm", signature_uri(a.signer.key, hash)))
        .child(a.content)
        .child(
            Element::new("ds:Reference")
                .attr("Type", a.properties_type)
                .attr("URI", format!("#{}", a.properties_id))
                .child(Element::new("ds:Transforms").child(Element::new("ds:Transform").attr("Algorithm", EXC_C14N)))
                .child(Element::new("ds:DigestMethod").attr("Algorithm", digest_uri(hash)))
                .child(Element::new("ds:DigestValue").text(BASE64.encode(&properties_digest))),
        );
    let canonical_signed_info = signed_info.canonical();

    let signature = Element::new("ds:Signature")
        .attr("Id", a.signature_id.clone())
        .child(signed_info)
        .child(Element::new("ds:SignatureValue"))
        .child(Element::new("ds:KeyInfo").child(
            Element::new("ds:X509Data").child(Element::new("ds:X509Certificate").text(BASE64.encode(a.signer.der))),
        ))
        .child(
            Element::new("ds:Object").child(
                Element::new(a.qualifying_properties)
                    .attr("Target", format!("#{}", a.signature_id))
                    .child(a.signed_properties),
            ),
        );
    let whole = signature.canonical();
    let (head, tail) =
        whole.split_once("<ds:SignatureValue></ds:SignatureValue>").ok_or(XadesError::State("no SignatureValue"))?;

    Ok(Prepared {
        digest: crate::hash::digest(hash, canonical_signed_info.as_bytes()),
        hash,
        scheme: a.scheme,
        signed_info: canonical_signed_info,
        state: XadesState {
            version: STATE_VERSION,
            scheme: a.scheme,
            encoding: a.encoding,
            signature_length: a.signer.key.signature_len(),
            head: format!("{head}<ds:SignatureValue>"),
            tail: format!("</ds:SignatureValue>{tail}"),
        },
    })
}

/// Step 2: the `ds:Signature` with the token's signature (RSA as is, ECDSA as raw
/// `r || s`, which is what XML-DSig wants, §6.4.3).
pub fn finish(state: &XadesState, signature: &[u8]) -> Result<XadesSignature, XadesError> {
    if state.version != STATE_VERSION {
        return Err(XadesError::State("made by another version"));
    }
    if signature.len() != state.signature_length {
        return Err(XadesError::SignatureLength { expected: state.signature_length, actual: signature.len() });
    }
    if !state.head.starts_with("<ds:Signature ") || !state.tail.ends_with("</ds:Signature>") {
        return Err(XadesError::State("not a ds:Signature"));
    }
    Ok(XadesSignature {
        xml: format!("{}{}{}", state.head, BASE64.encode(signature), state.tail),
        encoding: state.encoding,
    })
}

/// `xad:SignedProperties`, in the order XAdES v1.1.1 requires (TS 101 903 §7.2).
fn signed_properties(
    request: &PesSignatureRequest,
    signer: &SignerCertificate<'_>,
    id: &str,
) -> Result<Element, XadesError> {
    let hash = request.format.hash();
    if !(-631_152_000..=253_402_300_799).contains(&request.signing_time) {
        return Err(XadesError::SigningTime(request.signing_time));
    }
    let issuer = name::rfc2253(signer.issuer).map_err(|e| XadesError::Certificate(format!("issuer name: {e}")))?;

    let signing_certificate = Element::new("xad:SigningCertificate").child(
        Element::new("xad:Cert")
            .child(digest_alg_and_value("xad:CertDigest", hash, &crate::hash::digest(hash, signer.der)))
            .child(
                Element::new("xad:IssuerSerial")
                    .child(Element::new("ds:X509IssuerName").text(issuer))
                    .child(Element::new("ds:X509SerialNumber").text(name::serial_decimal(signer.serial))),
            ),
    );

    let policy = match &request.policy {
        None => Element::new("xad:SignaturePolicyImplied"),
        Some(p) => {
            if p.hash.len() != p.hash_algorithm.digest_len() {
                return Err(XadesError::PolicyHashLength {
                    expected: p.hash_algorithm.digest_len(),
                    actual: p.hash.len(),
                });
            }
            let identifier = text_field(Some(&p.identifier), "policy identifier")?
                .ok_or(XadesError::InvalidText("policy identifier"))?;
            let description = text_field(p.description.as_deref(), "policy description")?;
            let spuri = text_field(p.spuri.as_deref(), "policy URI")?;
            let policy_id = Element::new("xad:SigPolicyId")
                .child(Element::new("xad:Identifier").text(identifier))
                .child_opt(description.map(|d| Element::new("xad:Description").text(d)));
            let qualifiers = spuri.map(|uri| {
                Element::new("xad:SigPolicyQualifiers")
                    .child(Element::new("xad:SigPolicyQualifier").child(Element::new("xad:SPURI").text(uri)))
            });
            Element::new("xad:SignaturePolicyId")
                .child(policy_id)
                .child(digest_alg_and_value("xad:SigPolicyHash", p.hash_algorithm, &p.hash))
                .child_opt(qualifiers)
        }
    };

    let place = &request.production_place;
    let place_fields = [
        ("xad:City", text_field(place.city.as_deref(), "city")?),
        ("xad:PostalCode", text_field(place.postal_code.as_deref(), "postal code")?),
        ("xad:CountryName", text_field(place.country_name.as_deref(), "country name")?),
    ];
    let production_place = place_fields.iter().any(|(_, v)| v.is_some()).then(|| {
        place_fields.iter().fold(Element::new("xad:SignatureProductionPlace"), |e, (name, value)| {
            e.child_opt(value.as_ref().map(|v| Element::new(name).text(v.clone())))
        })
    });
    let signer_role = text_field(request.claimed_role.as_deref(), "claimed role")?.map(|role| {
        Element::new("xad:SignerRole")
            .child(Element::new("xad:ClaimedRoles").child(Element::new("xad:ClaimedRole").text(role)))
    });

    Ok(Element::new("xad:SignedProperties").attr("Id", id).child(
        Element::new("xad:SignedSignatureProperties")
            .child(Element::new("xad:SigningTime").text(crate::x509::rfc3339(request.signing_time)))
            .child(signing_certificate)
            .child(Element::new("xad:SignaturePolicyIdentifier").child(policy))
            .child_opt(production_place)
            .child_opt(signer_role),
    ))
}

/// `DigestAlgAndValueType`: `ds:DigestMethod` and `ds:DigestValue` (TS 101 903 §7.1.3).
fn digest_alg_and_value(name: &'static str, hash: HashAlgorithm, digest: &[u8]) -> Element {
    Element::new(name)
        .child(Element::new("ds:DigestMethod").attr("Algorithm", digest_uri(hash)))
        .child(Element::new("ds:DigestValue").text(BASE64.encode(digest)))
}

/// A text field from the page: absent when empty, refused when XML cannot carry it.
fn text_field(value: Option<&str>, field: &'static str) -> Result<Option<String>, XadesError> {
    match value {
        None | Some("") => Ok(None),
        Some(v) if v.chars().all(xml::is_xml_char) => Ok(Some(v.to_string())),
        Some(_) => Err(XadesError::InvalidText(field)),
    }
}

/// The Id goes into `URI="#…"` and the `Id` attributes: it must be a plain token. PES Ids
/// are NCNames; s2low's fallback Id for a whole PES_Aller is an MD5 in hex, which may start
/// with a digit, so only what would break the URI or the markup is refused.
fn check_id(id: &str) -> Result<(), XadesError> {
    let ok = !id.is_empty()
        && id.len() <= 256
        && id.chars().all(|c| {
            xml::is_xml_char(c) && !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '&' | '#' | '%')
        });
    if ok {
        Ok(())
    } else {
        Err(XadesError::InvalidId(id.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn latin1_encoding_uses_character_references_beyond_ff() {
        assert_eq!(XmlEncoding::Iso8859_1.encode("é€<"), b"\xe9&#x20AC;<");
        assert_eq!(XmlEncoding::Utf8.encode("é"), "é".as_bytes());
    }

    #[test]
    fn format_and_encoding_names() {
        assert_eq!(XadesFormat::from_name("XADES-env"), Some(XadesFormat::EnvelopedSha1));
        assert_eq!(XadesFormat::from_name("xades-env-1.2.2-sha256"), Some(XadesFormat::EnvelopedSha256));
        assert_eq!(XadesFormat::from_name("PADES"), None);
        assert_eq!(XmlEncoding::from_label("iso-8859-1"), Some(XmlEncoding::Iso8859_1));
        assert_eq!(XmlEncoding::from_label("UTF-8"), Some(XmlEncoding::Utf8));
        assert_eq!(XmlEncoding::from_label("windows-1252"), None);
    }

    #[test]
    fn ids() {
        assert!(check_id("ID20157020150506D0150").is_ok());
        assert!(check_id("1be37cca95ada30af16aca31d71833c6").is_ok());
        for bad in ["", "a b", "a\"b", "a#b", "a<b", "a&b"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_fields() {
        assert_eq!(text_field(Some(""), "x"), Ok(None));
        assert_eq!(text_field(Some("Orléans & co"), "x"), Ok(Some("Orléans & co".into())));
        assert_eq!(text_field(Some("a\u{0}b"), "city"), Err(XadesError::InvalidText("city")));
    }
}
