//! XAdES detached signatures, the « jeton » `.xml` beside the file it signs (ETSI EN 319
//! 132-1; XML-DSig 1.1 core validation, §3.2), as Paraphe ([`crate::xades::detached`]),
//! xmlsec1, EU-DSS or Atexo make them.
//!
//! For each `ds:Signature` of the jeton: every `ds:Reference` is checked (reference
//! validation): `URI="#id"` names the element whose `Id` it is (one only: a repeated `Id` is
//! refused, so that no signed element can be swapped for another), canonicalised as its
//! transforms say (exclusive or inclusive C14N 1.0, enveloped-signature; inclusive C14N 1.0
//! when none); any other URI names a file, matched by name with the file the person gave
//! (percent-decoded, last path segment), whose digest is compared. Then the SignatureValue
//! over the canonical SignedInfo (signature validation): RSA PKCS#1 v1.5, RSA-PSS with MGF1
//! (RFC 6931 `sha*-rsa-MGF1`) and ECDSA (`r || s`, XML-DSig's raw form), with the certificate
//! of `ds:KeyInfo/ds:X509Data` that SigningCertificateV2 (or v1) names, else the first. The
//! SignedProperties, when a Reference covers them: SigningTime and the SigningCertificate
//! digest, which must name that certificate. SHA-1 is refused for the references and the
//! signature (reported as `weak-algorithm`); it is only accepted for the certificate digest of
//! SigningCertificate v1, which identifies a certificate and protects nothing.
//!
//! The jeton is untrusted input: at most [`MAX_JETON`] bytes, parsed by `roxmltree` (read
//! only, no DTD, so no entity expansion, and a bound on its node count).

use super::c14n::{self, Method};
use super::{conclude, failed, problem, Problem, Report, SignatureReport, Trust, VerifyError};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use paraphe_protocol::HashAlgorithm;
use roxmltree::{Document, Node, NodeId, ParsingOptions};

/// The largest jeton read, in bytes. Real ones are a few kilobytes.
pub const MAX_JETON: usize = 4 << 20;
const MAX_NODES: u32 = 100_000;
/// Namespace declarations (`xmlns`) in a jeton: real ones have a handful. roxmltree copies an
/// element's in-scope namespaces when it declares one more, so a deep chain of declarations
/// would cost memory quadratic in their number.
const MAX_NAMESPACE_DECLARATIONS: usize = 256;
/// Signatures in a jeton, References in a SignedInfo: real jetons have one, and two or three.
const MAX_SIGNATURES: usize = 8;
const MAX_REFERENCES: usize = 32;

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const XADES_NS: [&str; 3] =
    ["http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.1.1#", "http://uri.etsi.org/01903/v1.4.1#"];
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SIGNED_PROPERTIES_TYPES: [&str; 2] =
    ["http://uri.etsi.org/01903#SignedProperties", "http://uri.etsi.org/01903/v1.1.1#SignedProperties"];

/// A detached jeton over the file the person gave (`file_name`, its bytes `content`).
pub fn verify_xades(jeton: &[u8], file_name: &str, content: &[u8], trust: &Trust) -> Result<Report, VerifyError> {
    if jeton.len() > MAX_JETON {
        return Err(VerifyError(format!("the XML signature is larger than {} MiB", MAX_JETON >> 20)));
    }
    let text = decode(jeton)?;
    let doc = parse(&text)?;
    let signatures: Vec<Node<'_, '_>> = doc.descendants().filter(|n| is(*n, DSIG, "Signature")).collect();
    if signatures.is_empty() {
        return Err(VerifyError("no XML signature (ds:Signature) in this file".into()));
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(VerifyError(format!("more than {MAX_SIGNATURES} signatures in this file")));
    }
    let ids = Ids::of(&doc);
    let file = File { name: file_name, content };
    let jeton = Jeton { src: &text, doc: &doc, ids: &ids, file: &file };
    let signatures = signatures.into_iter().map(|s| verify_signature(&jeton, s, trust)).collect();
    Ok(Report { format: "xades", signatures })
}

/// The canonical form of a whole XML document (no DTD), as `xmllint --c14n` (inclusive) or
/// `--exc-c14n` (exclusive) writes it, without comments: the canonicalisation the references
/// and the SignedInfo are checked with, for tests against independent tools and for fuzzing.
pub fn canonicalize(xml: &[u8], exclusive: bool) -> Result<String, VerifyError> {
    if xml.len() > MAX_JETON {
        return Err(VerifyError("too large".into()));
    }
    let text = decode(xml)?;
    let doc = parse(&text)?;
    let method = Method::from_uri(if exclusive { c14n::EXC_C14N } else { c14n::C14N }).unwrap_or_default();
    Ok(c14n::document(&text, &doc, &method, None))
}

/// The parse of untrusted XML: no DTD, bounded nodes and namespace declarations.
fn parse(text: &str) -> Result<Document<'_>, VerifyError> {
    if text.matches("xmlns").count() > MAX_NAMESPACE_DECLARATIONS {
        return Err(VerifyError(format!("more than {MAX_NAMESPACE_DECLARATIONS} namespace declarations")));
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(text, options).map_err(|e| VerifyError(format!("not an XML file: {e}")))?;
    // roxmltree takes a malformed XML declaration for a processing instruction `xml`, a
    // target XML reserves: such a document is not well-formed.
    if doc.descendants().filter_map(|n| n.pi()).any(|pi| pi.target.eq_ignore_ascii_case("xml")) {
        return Err(VerifyError("not an XML file: a malformed XML declaration".into()));
    }
    Ok(doc)
}

/// The elements by `Id` (or `ID`, `id`), read once: `None` for a value more than one has.
struct Ids(std::collections::HashMap<String, Option<NodeId>>);

impl Ids {
    fn of(doc: &Document<'_>) -> Self {
        let mut map = std::collections::HashMap::new();
        for n in doc.descendants().filter(Node::is_element) {
            for a in n.attributes().filter(|a| a.namespace().is_none() && matches!(a.name(), "Id" | "ID" | "id")) {
                map.entry(a.value().to_string()).and_modify(|e| *e = None).or_insert(Some(n.id()));
            }
        }
        Self(map)
    }
}

/// The jeton as text: UTF-8 (a BOM skipped), or ISO-8859-1 when its XML declaration's
/// `encoding` says so.
fn decode(bytes: &[u8]) -> Result<String, VerifyError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if declared_encoding(bytes) == Some(crate::xades::XmlEncoding::Iso8859_1) {
        return Ok(bytes.iter().map(|b| char::from(*b)).collect());
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| VerifyError("the XML signature is not UTF-8 text".into()))
}

/// The `encoding` of an XML declaration (`<?xml` and white space, up to `?>`), if known.
fn declared_encoding(bytes: &[u8]) -> Option<crate::xades::XmlEncoding> {
    let rest = bytes.strip_prefix(b"<?xml")?;
    if !rest.first()?.is_ascii_whitespace() {
        return None;
    }
    let end = rest.windows(2).take(200).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let after = decl.split_once("encoding")?.1.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|q| matches!(q, '"' | '\''))?;
    let value = after[1..].split(quote).next()?;
    crate::xades::XmlEncoding::from_label(value)
}

struct File<'a> {
    name: &'a str,
    content: &'a [u8],
}

/// A parsed jeton, its source text (prefixes are read from it), and the file given.
#[derive(Clone, Copy)]
struct Jeton<'a, 'i, 'f> {
    src: &'a str,
    doc: &'a Document<'i>,
    ids: &'a Ids,
    file: &'a File<'f>,
}

fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ns) && node.tag_name().name() == local
}

fn is_xades(node: Node<'_, '_>, local: &str) -> bool {
    XADES_NS.iter().any(|ns| is(node, ns, local))
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(*c, ns, local))
}

fn children<'a, 'i>(node: Node<'a, 'i>, ns: &'a str, local: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is(*c, ns, local))
}

/// The text of an element, whitespace removed (base64 values are often wrapped).
fn compact_text(node: Node<'_, '_>) -> String {
    node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).flat_map(|t| t.split_whitespace()).collect()
}

fn base64_of(node: Option<Node<'_, '_>>) -> Option<Vec<u8>> {
    BASE64.decode(compact_text(node?)).ok()
}

/// A digest algorithm URI: the hash, or a problem (SHA-1 refused, unknown).
fn digest_method(uri: &str) -> Result<HashAlgorithm, Problem> {
    match uri {
        "http://www.w3.org/2001/04/xmlenc#sha256" => Ok(HashAlgorithm::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => Ok(HashAlgorithm::Sha384),
        "http://www.w3.org/2001/04/xmlenc#sha512" => Ok(HashAlgorithm::Sha512),
        "http://www.w3.org/2000/09/xmldsig#sha1" => Err(sha1_refused()),
        other => Err(problem("unsupported", format!("digest algorithm {other}"))),
    }
}

fn sha1_refused() -> Problem {
    problem("weak-algorithm", "SHA-1 is refused: it no longer protects a signature against forgery")
}

/// How the SignatureValue is checked.
#[derive(Clone, Copy)]
enum Scheme {
    RsaPkcs1,
    RsaPss,
    Ecdsa,
}

fn signature_method(uri: &str) -> Result<(Scheme, HashAlgorithm), Problem> {
    use HashAlgorithm::{Sha256, Sha384, Sha512};
    Ok(match uri {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => (Scheme::RsaPkcs1, Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => (Scheme::RsaPkcs1, Sha384),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => (Scheme::RsaPkcs1, Sha512),
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1" => (Scheme::RsaPss, Sha256),
        "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1" => (Scheme::RsaPss, Sha384),
        "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1" => (Scheme::RsaPss, Sha512),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => (Scheme::Ecdsa, Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => (Scheme::Ecdsa, Sha384),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" => (Scheme::Ecdsa, Sha512),
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" | "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1" => {
            return Err(sha1_refused())
        }
        other => return Err(problem("unsupported", format!("signature algorithm {other}"))),
    })
}

/// A canonicalisation element's method (`Algorithm` and exc-c14n's InclusiveNamespaces).
fn method_of(node: Node<'_, '_>) -> Option<Method> {
    let mut m = Method::from_uri(node.attribute("Algorithm")?)?;
    if m.exclusive {
        let list = node.children().find(|c| is(*c, c14n::EXC_C14N, "InclusiveNamespaces"));
        if let Some(list) = list.and_then(|l| l.attribute("PrefixList")) {
            m.inclusive_prefixes =
                list.split_whitespace().map(|p| if p == "#default" { String::new() } else { p.to_string() }).collect();
        }
    }
    Some(m)
}

/// The element whose `Id` (or `ID`, `id`) is `id`: none if absent or not unique.
fn by_id<'a, 'i>(doc: &'a Document<'i>, ids: &Ids, id: &str) -> Result<Node<'a, 'i>, Problem> {
    match ids.0.get(id) {
        Some(Some(n)) => {
            doc.get_node(*n).ok_or_else(|| problem("reference-missing", format!("no element has the Id {id}")))
        }
        None => Err(problem("reference-missing", format!("no element has the Id {id}"))),
        Some(None) => Err(problem("malformed", format!("the Id {id} is not unique"))),
    }
}

/// Percent-decoding of a relative URI reference (invalid escapes kept as they are).
fn percent_decode(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The last path segment of a file reference (a relative name, or a `file:` or other URI).
fn file_name_of(uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or(path);
    percent_decode(name)
}

/// What a reference covers, once checked.
struct Checked<'a, 'i> {
    /// The element referenced (same-document references).
    target: Option<Node<'a, 'i>>,
    is_file: bool,
    hash: Option<HashAlgorithm>,
}

/// Reference validation (XML-DSig 1.1 §3.2.1): pushes the problems found, returns what was
/// checked and whether its digest matched.
fn check_reference<'a, 'i>(
    jeton: &Jeton<'a, 'i, '_>,
    signature: Node<'a, 'i>,
    reference: Node<'a, 'i>,
    external: usize,
    problems: &mut Vec<Problem>,
) -> (Checked<'a, 'i>, bool) {
    let Jeton { src, doc, ids, file } = *jeton;
    let mut checked = Checked { target: None, is_file: false, hash: None };
    let uri = reference.attribute("URI");
    let is_properties = reference.attribute("Type").is_some_and(|t| SIGNED_PROPERTIES_TYPES.contains(&t));
    let hash = match child(reference, DSIG, "DigestMethod").and_then(|d| d.attribute("Algorithm")) {
        Some(uri) => match digest_method(uri) {
            Ok(h) => h,
            Err(p) => {
                problems.push(p);
                return (checked, false);
            }
        },
        None => {
            problems.push(problem("malformed", "a Reference has no DigestMethod"));
            return (checked, false);
        }
    };
    checked.hash = Some(hash);
    let Some(expected) = base64_of(child(reference, DSIG, "DigestValue")) else {
        problems.push(problem("malformed", "a Reference has no DigestValue"));
        return (checked, false);
    };
    let transforms: Vec<Node<'_, '_>> =
        child(reference, DSIG, "Transforms").map(|t| children(t, DSIG, "Transform").collect()).unwrap_or_default();

    let actual = match uri {
        Some(u) if u.is_empty() || u.starts_with('#') => {
            // Same-document: the node-set without comments, then the transforms.
            let target = if u.is_empty() {
                None
            } else {
                match by_id(doc, ids, &u[1..]) {
                    Ok(n) => Some(n),
                    Err(p) => {
                        problems.push(p);
                        return (checked, false);
                    }
                }
            };
            checked.target = target;
            let mut method = Method::from_uri(c14n::C14N).unwrap_or_default();
            let mut exclude: Option<NodeId> = None;
            for t in &transforms {
                match t.attribute("Algorithm") {
                    Some(ENVELOPED) => exclude = Some(signature.id()),
                    Some(_) if method_of(*t).is_some() => {
                        method = method_of(*t).unwrap_or_default();
                        // The node-set of a same-document reference has no comments.
                        method.comments = false;
                    }
                    other => {
                        problems.push(problem("unsupported", format!("transform {}", other.unwrap_or("(none)"))));
                        return (checked, false);
                    }
                }
            }
            let bytes = match target {
                Some(node) => c14n::subtree(src, node, &method, exclude),
                None => c14n::document(src, doc, &method, exclude),
            };
            crate::hash::digest(hash, bytes.as_bytes())
        }
        _ => {
            checked.is_file = true;
            if !transforms.is_empty() {
                problems.push(problem("unsupported", "transforms of the signed file"));
                return (checked, false);
            }
            let named = file_name_of(uri.unwrap_or(""));
            // The file is matched by name; a jeton with a single file reference also takes a
            // file renamed since (a browser's « name (1).pdf »), with a note.
            if named != file.name {
                if external != 1 {
                    problems.push(problem("content-missing", format!("the signed file {named} was not given")));
                    return (checked, false);
                }
                problems.push(problem("file-name-differs", format!("the signature names the file {named}")));
            }
            crate::hash::digest(hash, file.content)
        }
    };
    let ok = actual == expected;
    if !ok {
        let target_is_properties = checked.target.is_some_and(|t| is_xades(t, "SignedProperties"));
        problems.push(if checked.is_file {
            problem("digest-mismatch", "the signed file was modified")
        } else if is_properties || target_is_properties {
            problem("signed-properties-modified", "the signed properties (signing time, certificate) were modified")
        } else {
            problem("reference-modified", "a signed part of the XML document was modified")
        });
    }
    (checked, ok)
}

/// `xs:dateTime` to RFC 3339 in UTC (fractions of a second dropped; no zone taken as UTC).
fn utc_time(text: &str) -> Option<String> {
    let t = text.trim();
    // ASCII only, so that every slice below is on a character boundary; digits only in the
    // numbers, so that no sign or overflow gets in.
    if !t.is_ascii() {
        return None;
    }
    let num =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i64>().ok()).flatten();
    let (date, rest) = t.split_once('T')?;
    if date.len() != 10 || &date[4..5] != "-" || &date[7..8] != "-" {
        return None;
    }
    let (y, mo, da) = (num(&date[..4])?, num(&date[5..7])?, num(&date[8..10])?);
    let hms = rest.get(..8)?;
    let (h, mi, s) = (num(hms.get(0..2)?)?, num(hms.get(3..5)?)?, num(hms.get(6..8)?)?);
    let mut zone = &rest[8..];
    if let Some(frac) = zone.strip_prefix('.') {
        zone = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match zone {
        "" | "Z" => 0,
        z if z.len() == 6 => {
            let sign = match &z[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            sign * (num(&z[1..3])? * 3600 + num(&z[4..6])? * 60)
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from civil (H. Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(crate::x509::rfc3339(days * 86_400 + h * 3600 + mi * 60 + s - offset))
}

/// SigningCertificateV2 (or v1) `Cert` digests: (hash, digest).
fn certificate_digests(properties: Node<'_, '_>) -> Vec<Result<(HashAlgorithm, Vec<u8>), Problem>> {
    let signing_certificate = properties
        .descendants()
        .find(|n| is_xades(*n, "SigningCertificateV2"))
        .or_else(|| properties.descendants().find(|n| is_xades(*n, "SigningCertificate")));
    let Some(sc) = signing_certificate else { return Vec::new() };
    let v1 = sc.tag_name().name() == "SigningCertificate";
    sc.children()
        .filter(|c| is_xades(*c, "Cert"))
        .map(|cert| {
            let cd = cert.children().find(|c| is_xades(*c, "CertDigest"));
            let alg = cd.and_then(|d| child(d, DSIG, "DigestMethod")).and_then(|m| m.attribute("Algorithm"));
            let hash = match alg {
                Some("http://www.w3.org/2000/09/xmldsig#sha1") if v1 => HashAlgorithm::Sha1,
                Some(a) => digest_method(a)?,
                None => return Err(problem("malformed", "a signing certificate without its digest method")),
            };
            let value = base64_of(cd.and_then(|d| child(d, DSIG, "DigestValue")))
                .ok_or_else(|| problem("malformed", "a signing certificate without its digest"))?;
            Ok((hash, value))
        })
        .collect()
}

fn check_signature_value(
    scheme: Scheme,
    hash: HashAlgorithm,
    spki: &[u8],
    signed: &[u8],
    value: &[u8],
) -> Result<(), VerifyError> {
    let hashed = crate::hash::digest(hash, signed);
    let (alg, signature) = match scheme {
        Scheme::RsaPkcs1 => (("1.2.840.113549.1.1.1".to_string(), Vec::new()), value.to_vec()),
        Scheme::RsaPss => {
            // RFC 6931 §2.3.10: MGF1 with the same hash, salt as long as the digest.
            let salt = u8::try_from(hash.digest_len()).unwrap_or(32);
            (("1.2.840.113549.1.1.10".to_string(), vec![0x30, 0x05, 0xa2, 0x03, 0x02, 0x01, salt]), value.to_vec())
        }
        Scheme::Ecdsa => {
            let der = crate::ecdsa::raw_to_der(value).ok_or_else(|| VerifyError("bad ECDSA signature".into()))?;
            (("1.2.840.10045.2.1".to_string(), Vec::new()), der)
        }
    };
    super::cms::check_prehashed(spki, &alg, hash, &hashed, &signature)
}

fn verify_signature<'a, 'i>(jeton: &Jeton<'a, 'i, '_>, signature: Node<'a, 'i>, trust: &Trust) -> SignatureReport {
    let src = jeton.src;
    let malformed = |detail: &str| failed(vec![problem("malformed", detail)], None);
    let Some(signed_info) = child(signature, DSIG, "SignedInfo") else {
        return malformed("the signature has no SignedInfo");
    };
    let certificates: Vec<Vec<u8>> = child(signature, DSIG, "KeyInfo")
        .into_iter()
        .flat_map(|k| children(k, DSIG, "X509Data"))
        .flat_map(|d| children(d, DSIG, "X509Certificate"))
        .filter_map(|c| base64_of(Some(c)))
        .collect();

    let mut problems = Vec::new();
    let mut intact = true;

    // References.
    let references: Vec<Node<'_, '_>> = children(signed_info, DSIG, "Reference").collect();
    if references.is_empty() {
        return malformed("the SignedInfo has no Reference");
    }
    if references.len() > MAX_REFERENCES {
        return malformed("the SignedInfo has too many References");
    }
    let external =
        references.iter().filter(|r| r.attribute("URI").is_none_or(|u| !u.is_empty() && !u.starts_with('#'))).count();
    let mut file_hash = None;
    let mut properties = None;
    for reference in &references {
        let (checked, ok) = check_reference(jeton, signature, *reference, external, &mut problems);
        intact &= ok;
        if checked.is_file && file_hash.is_none() {
            file_hash = checked.hash;
        }
        if let Some(t) = checked.target.filter(|t| is_xades(*t, "SignedProperties")) {
            properties = Some(t);
        }
    }
    if external == 0 {
        problems.push(problem("content-missing", "the signature names no file: it is not a detached signature"));
        intact = false;
    }

    // The signed properties: signing time, signing certificate.
    let mut signing_time = None;
    let mut cert_digests = Vec::new();
    match properties {
        Some(p) => {
            signing_time =
                p.descendants().find(|n| is_xades(*n, "SigningTime")).and_then(|n| utc_time(&compact_text(n)));
            for d in certificate_digests(p) {
                match d {
                    Ok(d) => cert_digests.push(d),
                    Err(e) => {
                        problems.push(e);
                        intact = false;
                    }
                }
            }
        }
        None => {
            if signature.descendants().any(|n| is_xades(n, "SignedProperties")) {
                problems.push(problem("malformed", "the signed properties are not covered by the signature"));
            }
        }
    }
    let timestamped = signature.descendants().any(|n| is_xades(n, "SignatureTimeStamp"));

    // The signer: the certificate SigningCertificate names, else the first one.
    let named = certificates
        .iter()
        .find(|c| cert_digests.iter().any(|(h, d)| crate::hash::digest(*h, c) == *d))
        .or_else(|| certificates.first());
    let mut report = failed(Vec::new(), None);
    report.digest_algorithm = file_hash.map_or("", super::cms::hash_name);
    report.timestamped = timestamped;
    report.signing_time = signing_time;
    let Some(signer_der) = named else {
        problems.push(problem("signer-certificate-missing", "the signature does not carry its signer's certificate"));
        report.problems = problems;
        return report;
    };
    if !cert_digests.is_empty() && !cert_digests.iter().any(|(h, d)| crate::hash::digest(*h, signer_der) == *d) {
        intact = false;
        problems.push(problem(
            "signing-certificate-mismatch",
            "the signed certificate reference names another certificate than the one given",
        ));
    }

    // The signature over the canonical SignedInfo.
    let Some(spki) = super::cert_parts(signer_der).map(|p| p.spki.to_vec()) else {
        problems.push(problem("malformed", "the signer's certificate cannot be read"));
        report.problems = problems;
        return report;
    };
    let c14n = child(signed_info, DSIG, "CanonicalizationMethod").and_then(method_of);
    let sig_method = child(signed_info, DSIG, "SignatureMethod").and_then(|m| m.attribute("Algorithm"));
    let value = base64_of(child(signature, DSIG, "SignatureValue"));
    match (c14n, sig_method.map(signature_method), value) {
        (None, ..) => {
            intact = false;
            problems.push(problem("unsupported", "the SignedInfo's canonicalisation method"));
        }
        (_, None, _) | (_, _, None) => {
            intact = false;
            problems.push(problem("malformed", "no SignatureMethod or SignatureValue"));
        }
        (_, Some(Err(p)), _) => {
            intact = false;
            problems.push(p);
        }
        (Some(method), Some(Ok((scheme, hash))), Some(value)) => {
            let canonical = c14n::subtree(src, signed_info, &method, None);
            if let Err(e) = check_signature_value(scheme, hash, &spki, canonical.as_bytes(), &value) {
                intact = false;
                let code = if e.0.contains("not supported") { "unsupported" } else { "signature-invalid" };
                problems.push(problem(
                    code,
                    format!("{}: the SignedInfo was modified, or signed with another key than the certificate's", e.0),
                ));
            }
        }
    }
    conclude(report, problems, intact, signer_der, &certificates, trust)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_id_is_refused() {
        // Two elements with the Id the reference names: which one was signed is ambiguous
        // (signature wrapping), so neither is taken.
        let xml = format!(
            "<r><Signature xmlns=\"{DSIG}\"><SignedInfo>\
             <Reference URI=\"#p\"><DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\
             <DigestValue>AAAA</DigestValue></Reference><Reference URI=\"f\">\
             <DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><DigestValue>AAAA</DigestValue>\
             </Reference></SignedInfo></Signature><a Id=\"p\"/><b Id=\"p\"/></r>"
        );
        let r = verify_xades(xml.as_bytes(), "f", b"", &Trust::default()).unwrap();
        let s = &r.signatures[0];
        assert_eq!(s.status, super::super::Status::Invalid);
        assert!(
            s.problems.iter().any(|p| p.code == "malformed" && p.detail.contains("not unique")),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn the_declared_encoding_only() {
        use crate::xades::XmlEncoding::{Iso8859_1, Utf8};
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\" encoding='ISO-8859-1'?><a/>"), Some(Iso8859_1));
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\" encoding = \"utf-8\" ?><a/>"), Some(Utf8));
        // A processing instruction whose target starts with `xml` is no declaration (found by
        // cargo fuzz: it was read as ISO-8859-1, and its canonical form read again differed).
        assert_eq!(declared_encoding(b"<?xmllatin1 version=\"1.0\" encoding=\"latin1\"?><a/>"), None);
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\"?><a encoding=\"latin1\"/>"), None);
    }

    #[test]
    fn times_in_utc() {
        assert_eq!(utc_time("2026-05-28T20:26:40Z").as_deref(), Some("2026-05-28T20:26:40Z"));
        assert_eq!(utc_time(" 2026-05-28T22:26:40.123+02:00 ").as_deref(), Some("2026-05-28T20:26:40Z"));
        assert_eq!(utc_time("2026-01-01T00:30:00-01:00").as_deref(), Some("2026-01-01T01:30:00Z"));
        assert_eq!(utc_time("2026-02-29T00:00:00").as_deref(), Some("2026-03-01T00:00:00Z"));
        assert!(utc_time("yesterday").is_none() && utc_time("2026-13-01T00:00:00Z").is_none());
        // Found by cargo fuzz: a multi-byte character in the zone.
        assert!(utc_time("2026-05-28T20:26:40+0\u{3bc}00").is_none());
        assert!(utc_time("99999999999999-05-28T20:26:40Z").is_none());
        assert!(utc_time("2026-+5-28T20:26:40Z").is_none());
    }

    #[test]
    fn file_references_by_name() {
        assert_eq!(file_name_of("D%C3%A9lib%C3%A9ration%20n%C2%B042.pdf"), "Délibération n°42.pdf");
        assert_eq!(file_name_of("file:///tmp/x/acte.txt"), "acte.txt");
        assert_eq!(file_name_of("acte%2"), "acte%2");
    }

    #[test]
    fn not_a_jeton() {
        let t = Trust::default();
        assert!(verify_xades(b"<a/>", "f", b"", &t).is_err_and(|e| e.0.contains("no XML signature")));
        assert!(verify_xades(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", "f", b"", &t).is_err());
        assert!(verify_xades(&vec![b' '; MAX_JETON + 1], "f", b"", &t).is_err());
        let deep = format!("{}{}", "<a xmlns:p=\"u\">".repeat(300), "</a>".repeat(300));
        assert!(verify_xades(deep.as_bytes(), "f", b"", &t).is_err_and(|e| e.0.contains("namespace declarations")));
        let many = format!("<r>{}</r>", format!("<Signature xmlns=\"{DSIG}\"/>").repeat(MAX_SIGNATURES + 1));
        assert!(verify_xades(many.as_bytes(), "f", b"", &t).is_err_and(|e| e.0.contains("signatures")));
        assert!(canonicalize(b"<?xml >x<?xml version=\"1.0\"?><a/>", false).is_err());
        let bare = format!("<Signature xmlns=\"{DSIG}\"/>");
        let r = verify_xades(bare.as_bytes(), "f", b"", &t).unwrap();
        assert_eq!(r.signatures[0].problems[0].code, "malformed");
    }
}
