//! Test tool: putting a signature into a PES V2 document, as the server does (s2low,
//! iParapheur: Paraphe hands the signature to the page and never sees the document), as the
//! last child of the element whose `Id` is the one signed (`PES_DepenseAller/Bordereau`,
//! `PES_RecetteAller/Bordereau`, or `PES_Aller` when bordereaux have no Id), so that
//! xmlsec1 can verify the result.
//!
//! The document is not parsed into a tree and written again (that would change bytes that
//! other signatures, or the server's digest, cover): the signature's bytes are inserted
//! just before the element's end tag and every other byte stays. A scanner that knows
//! comments, CDATA sections, processing instructions, the DOCTYPE and quoted attribute
//! values finds that end tag; it also checks that tags nest, and refuses an Id found twice.

use paraphe_formats::xades::{XadesSignature, XmlEncoding};

/// Why a signature could not be placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PesError {
    /// The document is not well-formed XML.
    Document(&'static str),
    UnsupportedEncoding(String),
    /// The signature was made for another encoding than the document's.
    EncodingMismatch {
        document: XmlEncoding,
        signature: XmlEncoding,
    },
    IdNotFound(String),
    DuplicateId(String),
}

/// `document` with `signature` as the last child of the element carrying `Id="<id>"`. The
/// signature must have been made in the document's encoding (from its XML declaration).
pub fn insert_signature(document: &[u8], id: &str, signature: &XadesSignature) -> Result<Vec<u8>, PesError> {
    let encoding = document_encoding(document)?;
    // The signature's encoding, from the XML declaration of its LiberSign form.
    let signed_in = document_encoding(&signature.libersign_document())?;
    if signed_in != encoding {
        return Err(PesError::EncodingMismatch { document: encoding, signature: signed_in });
    }
    insert_bytes(document, id, &signature.to_bytes())
}

/// `document` with `bytes` inserted before the end tag of the element with `Id="<id>"`.
pub fn insert_bytes(document: &[u8], id: &str, bytes: &[u8]) -> Result<Vec<u8>, PesError> {
    let at = end_tag_of_element_with_id(document, id.as_bytes())?;
    let mut out = Vec::with_capacity(document.len() + bytes.len());
    out.extend_from_slice(&document[..at]);
    out.extend_from_slice(bytes);
    out.extend_from_slice(&document[at..]);
    Ok(out)
}

/// The encoding named by the XML declaration (XML 1.0 §4.3.3); UTF-8 when there is none.
pub fn document_encoding(document: &[u8]) -> Result<XmlEncoding, PesError> {
    if document.starts_with(&[0xfe, 0xff])
        || document.starts_with(&[0xff, 0xfe])
        || document.starts_with(&[0, b'<'])
        || document.starts_with(&[b'<', 0])
    {
        return Err(PesError::UnsupportedEncoding("UTF-16".into()));
    }
    let doc = document.strip_prefix(&[0xef, 0xbb, 0xbf][..]).unwrap_or(document);
    let Some(decl) = doc.strip_prefix(b"<?xml") else { return Ok(XmlEncoding::Utf8) };
    let end = find(decl, b"?>", 0).ok_or_else(|| malformed("unterminated XML declaration"))?;
    let decl = &decl[..end];
    let Some(pos) = find(decl, b"encoding", 0) else { return Ok(XmlEncoding::Utf8) };
    let rest = decl[pos + 8..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=").ok_or_else(|| malformed("bad encoding declaration"))?.trim_ascii_start();
    let (&quote, rest) = rest.split_first().ok_or_else(|| malformed("bad encoding declaration"))?;
    if quote != b'"' && quote != b'\'' {
        return Err(malformed("bad encoding declaration"));
    }
    let close = rest.iter().position(|b| *b == quote).ok_or_else(|| malformed("bad encoding declaration"))?;
    let label = String::from_utf8_lossy(&rest[..close]);
    XmlEncoding::from_label(&label).ok_or_else(|| PesError::UnsupportedEncoding(label.into_owned()))
}

fn malformed(why: &'static str) -> PesError {
    PesError::Document(why)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Offset of the end tag of the one element with `Id="<id>"`.
fn end_tag_of_element_with_id(doc: &[u8], id: &[u8]) -> Result<usize, PesError> {
    let mut open: Vec<&[u8]> = Vec::new();
    // Depth of the matching element once seen, and where its end tag starts.
    let mut target: Option<usize> = None;
    let mut end_tag: Option<usize> = None;
    let mut i = 0;
    while i < doc.len() {
        if doc[i] != b'<' {
            i = doc[i..].iter().position(|b| *b == b'<').map_or(doc.len(), |p| p + i);
            continue;
        }
        let rest = &doc[i..];
        if rest.starts_with(b"<!--") {
            i = find(doc, b"-->", i + 4).ok_or_else(|| malformed("unterminated comment"))? + 3;
        } else if rest.starts_with(b"<![CDATA[") {
            i = find(doc, b"]]>", i + 9).ok_or_else(|| malformed("unterminated CDATA section"))? + 3;
        } else if rest.starts_with(b"<?") {
            i = find(doc, b"?>", i + 2).ok_or_else(|| malformed("unterminated processing instruction"))? + 2;
        } else if rest.starts_with(b"<!") {
            i = skip_declaration(doc, i)?;
        } else if rest.starts_with(b"</") {
            let name = name_at(doc, i + 2);
            let close = doc[i..].iter().position(|b| *b == b'>').ok_or_else(|| malformed("unterminated end tag"))? + i;
            if open.pop() != Some(name) {
                return Err(malformed("end tag does not match its start tag"));
            }
            if target == Some(open.len()) && end_tag.is_none() {
                end_tag = Some(i);
            }
            i = close + 1;
        } else {
            let tag = start_tag(doc, i, id)?;
            if tag.has_id {
                if target.is_some() {
                    return Err(PesError::DuplicateId(String::from_utf8_lossy(id).into_owned()));
                }
                if tag.empty {
                    return Err(malformed("the element to sign is empty (<…/>)"));
                }
                target = Some(open.len());
            }
            if !tag.empty {
                open.push(tag.name);
            }
            i = tag.end;
        }
    }
    if !open.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    end_tag.ok_or_else(|| PesError::IdNotFound(String::from_utf8_lossy(id).into_owned()))
}

/// An element name (QName) starting at `at`.
fn name_at(doc: &[u8], at: usize) -> &[u8] {
    let rest = doc.get(at..).unwrap_or_default();
    let len =
        rest.iter().position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'=')).unwrap_or(rest.len());
    &rest[..len]
}

struct StartTag<'a> {
    name: &'a [u8],
    /// One past the closing `>`.
    end: usize,
    /// `<name …/>`.
    empty: bool,
    has_id: bool,
}

/// Reads the start tag at `at`, noting whether it carries `Id="<id>"`.
fn start_tag<'a>(doc: &'a [u8], at: usize, id: &[u8]) -> Result<StartTag<'a>, PesError> {
    let name = name_at(doc, at + 1);
    if name.is_empty() {
        return Err(malformed("'<' not followed by a name"));
    }
    let mut i = at + 1 + name.len();
    let mut has_id = false;
    loop {
        while doc.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match doc.get(i) {
            None => return Err(malformed("unterminated start tag")),
            Some(b'>') => return Ok(StartTag { name, end: i + 1, empty: false, has_id }),
            Some(b'/') if doc.get(i + 1) == Some(&b'>') => {
                return Ok(StartTag { name, end: i + 2, empty: true, has_id })
            }
            Some(_) => {}
        }
        let attribute = name_at(doc, i);
        if attribute.is_empty() {
            return Err(malformed("bad attribute in a start tag"));
        }
        i += attribute.len();
        while doc.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if doc.get(i) != Some(&b'=') {
            return Err(malformed("attribute without a value"));
        }
        i += 1;
        while doc.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let quote = match doc.get(i) {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => return Err(malformed("attribute value without quotes")),
        };
        let value_start = i + 1;
        let value_end = doc[value_start..]
            .iter()
            .position(|b| *b == quote)
            .ok_or_else(|| malformed("unterminated attribute value"))?
            + value_start;
        let value = &doc[value_start..value_end];
        if value.contains(&b'<') {
            return Err(malformed("'<' in an attribute value"));
        }
        if attribute == b"Id" && value == id {
            has_id = true;
        }
        i = value_end + 1;
    }
}

/// Skips `<!DOCTYPE …>` (with its internal subset) or another `<!…>` declaration.
fn skip_declaration(doc: &[u8], at: usize) -> Result<usize, PesError> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    for (offset, &b) in doc[at..].iter().enumerate() {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return Ok(at + offset + 1),
            _ => {}
        }
    }
    Err(malformed("unterminated declaration"))
}
