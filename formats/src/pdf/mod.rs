//! PAdES baseline B-B and B-T signatures (ETSI EN 319 142-1 §6.3, ISO 32000-1 §12.8): an incremental
//! update that adds a signature field and its signature dictionary, with a detached CAdES
//! SignedData (`/SubFilter /ETSI.CAdES.detached`) over the `/ByteRange`.
//!
//! The original file is never rewritten: the update is appended after its last byte (§7.5.6),
//! so every earlier signature still covers what it covered. The update holds
//!
//! - the signature dictionary (`/Type /Sig /Filter /Adobe.PPKLite /SubFilter
//!   /ETSI.CAdES.detached /M /ByteRange /Contents`), `/Contents` a zero-filled placeholder
//!   sized for the CMS this certificate gives;
//! - a signature field and its widget (flags Print and Locked): invisible (`/Rect [0 0 0 0]`)
//!   on the first page, or, when the request asks for it ([`PadesRequest::visible`]), visible
//!   in the bottom-right corner of the last page as shown, with an appearance stream
//!   (`/AP /N`, a Form XObject: « Signé par <CN> », the date, « Paraphe »; [`appearance`]);
//! - the objects that list them, written again: the `/Fields` array (or the `/AcroForm` or
//!   catalog holding it, with `/SigFlags 3`) and that page's `/Annots` (or the page);
//! - a cross-reference section of the kind the file's newest one is (a table, or an
//!   uncompressed xref stream), with `/Prev`.
//!
//! Signing is two steps, as for CAdES ([`crate::cms`]):
//!
//! 1. [`prepare`] reads the PDF, lays out the update, hashes the byte ranges (the original
//!    file, then the update around `/Contents`, in place: nothing is copied) and prepares the
//!    CMS signed attributes (content-type, message-digest, signing-certificate-v2; no
//!    signing-time, §5.1 of EN 319 142-1). The card signs [`Prepared::digest`].
//! 2. [`finish`] makes the CMS from the card's signature and writes it into the placeholder:
//!    the signed PDF is the original bytes followed by the returned update.
//!
//! B-T ([`PadesRequest::timestamp`]): the placeholder has room for a time-stamp token too, and
//! step 2 is [`timestamp_request`] (the RFC 3161 request over the SHA-256 of the signature
//! value, sent by the caller: this crate has no I/O) then [`finish_timestamped`] with the
//! authority's response, whose token becomes the SignerInfo's unsigned attribute
//! `id-aa-signatureTimeStampToken` ([`crate::cms::timestamp`]).
//!
//! Encrypted PDFs are refused, and so are certified ones that allow no change (DocMDP
//! `/P 1`). Streams are read for `/FlateDecode` only (xref and object streams): the objects
//! rewritten are the catalog, the AcroForm, the first (or last) page and arrays, which are
//! never streams.

mod appearance;
mod object;
mod reader;

use crate::cms::{self, CadesRequest, CadesState, CmsError};
use crate::hash::Hasher;
use object::{Dict, Object, Ref};
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use reader::{Document, Entry, XrefKind};
pub use reader::{Source, Sparse, NEED_CHUNK};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How deep the page tree is followed.
const MAX_PAGE_DEPTH: usize = 64;
/// Room left in `/Contents` beyond the exact CMS size (bytes).
const CONTENTS_MARGIN: usize = 64;
/// Room for the signature time-stamp (bytes), when one is asked for ([`PadesRequest::timestamp`]):
/// the unsigned attribute and the authority's token with its certificates (real ones have 3 to
/// 8 KiB). A token larger than this fails the signature rather than writing a B-B one.
pub const TIMESTAMP_ROOM: usize = 16 * 1024;
/// Width of each `/ByteRange` number: files up to 10^12 bytes.
const RANGE_WIDTH: usize = 12;

/// Why a PDF could not be signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PdfError {
    /// The data does not start like a PDF.
    NotPdf,
    /// The file is damaged or not as ISO 32000 says.
    Malformed(String),
    /// A feature this signer does not handle.
    Unsupported(String),
    /// The PDF is encrypted.
    Encrypted,
    /// A certification signature (DocMDP, ISO 32000-1 §12.8.2.2) allows no change: another
    /// signature would break it.
    NoChangesAllowed,
    /// The CMS could not be made.
    Cms(CmsError),
    /// The CMS does not fit in the placeholder (cannot happen with the state [`prepare`] made).
    ContentsTooSmall { room: usize, needed: usize },
    /// The state given to [`finish`] is not one [`prepare`] made.
    State(&'static str),
    /// A sparse file ([`Sparse`]) lacks bytes the reader needs: add `length` bytes from
    /// `offset` and try again.
    Need { offset: usize, length: usize },
}

impl fmt::Display for PdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPdf => f.write_str("not a PDF file"),
            Self::Malformed(why) => write!(f, "damaged PDF: {why}"),
            Self::Unsupported(what) => write!(f, "this PDF uses {what}, which Paraphe cannot sign"),
            Self::Encrypted => f.write_str("encrypted PDFs cannot be signed"),
            Self::NoChangesAllowed => {
                f.write_str("this PDF is certified with no change allowed: another signature would invalidate it")
            }
            Self::Cms(e) => e.fmt(f),
            Self::ContentsTooSmall { room, needed } => {
                write!(f, "the signature needs {needed} bytes, the PDF has room for {room}")
            }
            Self::State(why) => write!(f, "invalid signing state: {why}"),
            Self::Need { offset, length } => write!(f, "{length} more bytes needed at byte {offset}"),
        }
    }
}

impl std::error::Error for PdfError {}

impl From<CmsError> for PdfError {
    fn from(e: CmsError) -> Self {
        Self::Cms(e)
    }
}

/// How to sign a PDF.
#[derive(Clone, Debug)]
pub struct PadesRequest {
    /// Hashes the byte ranges and the signed attributes.
    pub hash: HashAlgorithm,
    pub scheme: SignatureScheme,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// Intermediate CA certificates to include, DER.
    pub chain: Vec<Vec<u8>>,
    /// Unix seconds, for `/M` (the caller's clock).
    pub signing_time: i64,
    /// A visible signature on the last page (« Signé par <CN> », the date in UTC, « Paraphe »)
    /// instead of an invisible field on the first.
    pub visible: bool,
    /// PAdES baseline B-T: `/Contents` has room for a signature time-stamp
    /// ([`TIMESTAMP_ROOM`]), and the signature is finished with one ([`finish_timestamped`];
    /// [`finish`] refuses).
    pub timestamp: bool,
}

/// The result of [`prepare`].
#[derive(Clone, Debug)]
pub struct Prepared {
    /// What the card signs: the digest of the signed attributes.
    pub digest: Vec<u8>,
    pub hash: HashAlgorithm,
    pub scheme: SignatureScheme,
    /// The digest of the byte ranges (the CMS message-digest).
    pub document_digest: Vec<u8>,
    pub state: PadesState,
}

/// What [`finish`] needs. JSON: `{"version":1, "cades":{…}, "update":"<base64>",
/// "contentsAt":N, "contentsLength":N, "timestamp":bool}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PadesState {
    version: u32,
    cades: CadesState,
    /// The incremental update, `/Contents` still zeros.
    #[serde(with = "crate::cms::b64")]
    update: Vec<u8>,
    /// Offset in `update` of the `<` that opens `/Contents`.
    contents_at: usize,
    /// Hex digits between `<` and `>`.
    contents_length: usize,
    /// B-T: only [`finish_timestamped`] finishes it.
    #[serde(default)]
    timestamp: bool,
}

const STATE_VERSION: u32 = 1;

/// The PDF's part of step 1, made where the PDF is: the update laid out with its
/// placeholder and the digest of the byte ranges. [`prepare_layout`] then makes the CMS
/// signed attributes around it (where the certificate is chosen), so that what the card signs
/// is always built by the core, never taken as it came. JSON: `{"hashAlgorithm":…,
/// "sourceDigest":"<base64>", "documentDigest":"<base64>", "update":"<base64>",
/// "contentsAt":N, "contentsLength":N}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Layout {
    pub hash_algorithm: HashAlgorithm,
    /// The digest of the whole original file (what a consent window shows of the PDF), so that
    /// whoever lays the update out elsewhere says which file it laid out.
    #[serde(with = "crate::cms::b64")]
    pub source_digest: Vec<u8>,
    /// The digest of the byte ranges (the CMS message-digest).
    #[serde(with = "crate::cms::b64")]
    pub document_digest: Vec<u8>,
    /// The incremental update, `/Contents` still zeros.
    #[serde(with = "crate::cms::b64")]
    pub update: Vec<u8>,
    /// Offset in `update` of the `<` that opens `/Contents`.
    pub contents_at: usize,
    /// Hex digits between `<` and `>`.
    pub contents_length: usize,
}

fn cades_request(request: &PadesRequest, digest: Vec<u8>) -> CadesRequest {
    CadesRequest {
        digest,
        hash: request.hash,
        scheme: request.scheme,
        certificate: request.certificate.clone(),
        chain: request.chain.clone(),
        signing_time: request.signing_time,
        policy: None,
        cosign: None,
    }
}

/// Hex digits `/Contents` needs for this request's CMS, with a margin.
fn contents_needed(request: &PadesRequest) -> Result<usize, PdfError> {
    // The CMS has the same size whatever the digest; the longest signature sizes it.
    let probe = cms::prepare_pades(&cades_request(request, vec![0; request.hash.digest_len()]))?;
    let longest = cms::finish(&probe.state, &vec![0xff; probe.state.signature_length()])?;
    let room = if request.timestamp { TIMESTAMP_ROOM } else { 0 };
    Ok(2 * (longest.len() + CONTENTS_MARGIN + room))
}

/// What [`prepare`] refuses of the PDF itself (not a PDF, damaged, encrypted, certified with
/// no change allowed), without a certificate: checked before anyone is asked to sign.
pub fn check(pdf: &[u8]) -> Result<(), PdfError> {
    check_source(Source::Whole(pdf))
}

/// [`check`] of a whole or sparse file; a sparse one may answer [`PdfError::Need`].
pub fn check_source(pdf: Source<'_>) -> Result<(), PdfError> {
    build_update(pdf, 0, 16, None).map(|_| ())
}

/// The visible signature's lines: « Signé par <CN> » (the certificate's common name, else its
/// organization, else its subject), « le JJ/MM/AAAA à HH:MM UTC », « Paraphe ».
fn stamp_lines(request: &PadesRequest) -> Vec<String> {
    let signer = crate::x509::summarize(&request.certificate, &[])
        .ok()
        .and_then(|i| i.subject_common_name.or(i.organization).or(Some(i.subject)))
        .unwrap_or_default();
    // 2026-12-03T09:41:27Z
    let t = crate::x509::rfc3339(request.signing_time);
    let date = match (t.get(0..4), t.get(5..7), t.get(8..10), t.get(11..16)) {
        (Some(y), Some(m), Some(d), Some(hm)) => format!("le {d}/{m}/{y} à {hm} UTC"),
        _ => t.clone(),
    };
    vec![format!("Signé par {signer}"), date, "Paraphe".to_owned()]
}

/// Step 1, the PDF's part: the update laid out for `request`'s certificate, and the byte
/// ranges hashed (the original file, then the update around `/Contents`, in place).
pub fn layout(pdf: &[u8], request: &PadesRequest) -> Result<Layout, PdfError> {
    let mut h = Hasher::new(request.hash);
    h.update(pdf);
    layout_source(Source::Whole(pdf), h, request)
}

/// [`layout`] of a whole or sparse file whose bytes, all of them in order, `file_hash` has
/// already hashed (with `request.hash`): a large PDF is hashed as it streams by, and only the
/// parts the update needs are kept ([`Sparse`]). A sparse file may answer [`PdfError::Need`].
pub fn layout_source(pdf: Source<'_>, file_hash: Hasher, request: &PadesRequest) -> Result<Layout, PdfError> {
    if file_hash.algorithm() != request.hash {
        return Err(PdfError::State("the file was hashed with another algorithm"));
    }
    let contents_length = contents_needed(request)?;
    let stamp = if request.visible { Some(stamp_lines(request)) } else { None };
    let update = build_update(pdf, request.signing_time, contents_length, stamp.as_deref())?;
    let (before, after) = update.ranges();
    let source_digest = file_hash.clone().finish();
    let mut h = file_hash;
    h.update(before);
    h.update(after);
    Ok(Layout {
        hash_algorithm: request.hash,
        source_digest,
        document_digest: h.finish(),
        contents_at: update.contents_at,
        contents_length,
        update: update.bytes,
    })
}

/// Step 1, the signature's part: the CMS signed attributes over a [`layout`]'s digest, for
/// the same certificate. Refuses a layout whose placeholder is not where it says, or too
/// small for this certificate's CMS.
pub fn prepare_layout(layout: Layout, request: &PadesRequest) -> Result<Prepared, PdfError> {
    if layout.hash_algorithm != request.hash || layout.document_digest.len() != request.hash.digest_len() {
        return Err(PdfError::State("the layout was made with another hash algorithm"));
    }
    placeholder_at(&layout.update, layout.contents_at, layout.contents_length)?;
    let needed = contents_needed(request)?;
    if layout.contents_length < needed {
        return Err(PdfError::ContentsTooSmall { room: layout.contents_length / 2, needed: needed / 2 });
    }
    let prepared = cms::prepare_pades(&cades_request(request, layout.document_digest.clone()))?;
    Ok(Prepared {
        digest: prepared.digest,
        hash: prepared.hash,
        scheme: prepared.scheme,
        document_digest: layout.document_digest,
        state: PadesState {
            version: STATE_VERSION,
            cades: prepared.state,
            update: layout.update,
            contents_at: layout.contents_at,
            contents_length: layout.contents_length,
            timestamp: request.timestamp,
        },
    })
}

/// Checks that `update[at]` opens a `/Contents` placeholder of `length` zeros.
fn placeholder_at(update: &[u8], at: usize, length: usize) -> Result<(), PdfError> {
    let end = at.checked_add(length).and_then(|e| e.checked_add(1));
    match end {
        Some(end)
            if end < update.len()
                && update[at] == b'<'
                && update[end] == b'>'
                && update[at + 1..end].iter().all(|&b| b == b'0') =>
        {
            Ok(())
        }
        _ => Err(PdfError::State("the placeholder is not where the state says")),
    }
}

/// Step 1: the update with its placeholder and the digest the card must sign.
pub fn prepare(pdf: &[u8], request: &PadesRequest) -> Result<Prepared, PdfError> {
    prepare_layout(layout(pdf, request)?, request)
}

/// Step 2: the incremental update with the CMS in `/Contents`. The signed PDF is the
/// original file followed by these bytes. A B-T state ([`PadesRequest::timestamp`]) is
/// refused: it is finished by [`finish_timestamped`] only.
pub fn finish(state: &PadesState, signature: &[u8]) -> Result<Vec<u8>, PdfError> {
    if state.timestamp {
        return Err(PdfError::State("a time-stamp was asked for: finish_timestamped"));
    }
    let cms = check_state(state).and_then(|()| Ok(cms::finish(&state.cades, signature)?))?;
    write_contents(state, &cms)
}

/// The RFC 3161 `TimeStampReq` for a B-T signature (`nonce`: 8 to 32 random bytes), over the
/// SHA-256 of the CMS signature value the card's `signature` gives.
pub fn timestamp_request(state: &PadesState, signature: &[u8], nonce: &[u8]) -> Result<Vec<u8>, PdfError> {
    check_state(state)?;
    Ok(cms::timestamp_request(&state.cades, signature, nonce)?)
}

/// Step 2 of a B-T signature: [`finish`] with the authority's token, from its `response` to
/// [`timestamp_request`] with the same `nonce` (checked: granted, a signed TSTInfo, this
/// imprint and nonce), in the SignerInfo's unsigned attribute
/// `id-aa-signatureTimeStampToken`. Any failure leaves nothing written.
pub fn finish_timestamped(
    state: &PadesState,
    signature: &[u8],
    response: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, PdfError> {
    check_state(state)?;
    let cms = cms::finish_timestamped(&state.cades, signature, response, nonce)?;
    let room = state.contents_length / 2;
    if cms.len() > room {
        let without = cms::finish(&state.cades, signature)?.len();
        let token = cms.len().saturating_sub(without);
        return Err(PdfError::Cms(CmsError::Timestamp(cms::timestamp::TimestampError::NoRoom {
            token,
            room: room.saturating_sub(without),
        })));
    }
    write_contents(state, &cms)
}

fn check_state(state: &PadesState) -> Result<(), PdfError> {
    if state.version != STATE_VERSION {
        return Err(PdfError::State("made by another version"));
    }
    let end = state.contents_at.checked_add(state.contents_length + 1);
    if end.is_none_or(|e| e >= state.update.len())
        || state.update[state.contents_at] != b'<'
        || end.is_some_and(|e| state.update[e] != b'>')
    {
        return Err(PdfError::State("the placeholder is not where the state says"));
    }
    Ok(())
}

/// The update with `cms` written into the placeholder.
fn write_contents(state: &PadesState, cms: &[u8]) -> Result<Vec<u8>, PdfError> {
    let hex = hex::encode_upper(cms);
    if hex.len() > state.contents_length {
        return Err(PdfError::ContentsTooSmall { room: state.contents_length / 2, needed: cms.len() });
    }
    let mut update = state.update.clone();
    update[state.contents_at + 1..state.contents_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(update)
}

/// An update laid out, `/Contents` zeros.
struct Update {
    bytes: Vec<u8>,
    contents_at: usize,
    contents_length: usize,
}

impl Update {
    /// The update's parts in the byte ranges: before `<` and after `>` of `/Contents`.
    fn ranges(&self) -> (&[u8], &[u8]) {
        (&self.bytes[..self.contents_at], &self.bytes[self.contents_at + self.contents_length + 2..])
    }
}

fn malformed(what: impl Into<String>) -> PdfError {
    PdfError::Malformed(what.into())
}

fn dict_of(o: Object, what: &str) -> Result<Dict, PdfError> {
    match o {
        Object::Dict(d) => Ok(d),
        _ => Err(malformed(format!("the {what} is not a dictionary"))),
    }
}

/// An array that is either in its container (`Inline`) or an object of its own.
enum Place {
    Inline,
    Indirect(Ref),
}

/// Reads the array at `container[key]`: its items and where it is.
fn array_in(doc: &mut Document<'_>, container: &Dict, key: &[u8]) -> Result<(Vec<Object>, Place), PdfError> {
    match container.get(key) {
        None => Ok((Vec::new(), Place::Inline)),
        Some(Object::Array(a)) => Ok((a.clone(), Place::Inline)),
        Some(Object::Ref(r)) => match doc.get(*r)? {
            Object::Array(a) => Ok((a, Place::Indirect(*r))),
            Object::Null => Ok((Vec::new(), Place::Inline)),
            _ => Err(malformed(format!("/{} is not an array", String::from_utf8_lossy(key)))),
        },
        Some(_) => Err(malformed(format!("/{} is not an array", String::from_utf8_lossy(key)))),
    }
}

/// The first page: its reference and dictionary.
fn first_page(doc: &mut Document<'_>, catalog: &Dict) -> Result<(Ref, Dict), PdfError> {
    let mut node = catalog.reference(b"Pages").ok_or_else(|| malformed("the catalog has no /Pages"))?;
    for _ in 0..MAX_PAGE_DEPTH {
        let dict = dict_of(doc.get(node)?, "page tree node")?;
        if dict.name(b"Type") == Some(b"Page") || dict.get(b"Kids").is_none() {
            return Ok((node, dict));
        }
        let (kids, _) = array_in(doc, &dict, b"Kids")?;
        node = match kids.first() {
            Some(Object::Ref(r)) => *r,
            _ => return Err(PdfError::Malformed("the document has no page".into())),
        };
    }
    Err(malformed("the page tree is too deep"))
}

/// The last page: its reference and dictionary, and what it inherits or has of its own (ISO
/// 32000-1 §7.7.3.4): the box it is shown in (`/CropBox`, else `/MediaBox`) and `/Rotate`.
fn last_page(doc: &mut Document<'_>, catalog: &Dict) -> Result<(Ref, Dict, [f64; 4], i64), PdfError> {
    let mut node = catalog.reference(b"Pages").ok_or_else(|| malformed("the catalog has no /Pages"))?;
    let (mut media, mut crop, mut rotate) = (None, None, None);
    for _ in 0..MAX_PAGE_DEPTH {
        let dict = dict_of(doc.get(node)?, "page tree node")?;
        if let Some(b) = page_box(doc, &dict, b"MediaBox")? {
            media = Some(b);
        }
        if let Some(b) = page_box(doc, &dict, b"CropBox")? {
            crop = Some(b);
        }
        if let Some(r) = dict.get(b"Rotate") {
            let r = doc.direct(r)?;
            rotate = appearance::read_number(&r).map(|v| v as i64);
        }
        if dict.name(b"Type") == Some(b"Page") || dict.get(b"Kids").is_none() {
            let shown = crop.or(media).ok_or_else(|| malformed("the last page has no /MediaBox"))?;
            return Ok((node, dict, shown, rotate.unwrap_or(0)));
        }
        let (kids, _) = array_in(doc, &dict, b"Kids")?;
        node = match kids.last() {
            Some(Object::Ref(r)) => *r,
            _ => return Err(PdfError::Malformed("the document has no page".into())),
        };
    }
    Err(malformed("the page tree is too deep"))
}

/// A rectangle `[llx lly urx ury]` of a page or page tree node, if it has one.
fn page_box(doc: &mut Document<'_>, dict: &Dict, key: &[u8]) -> Result<Option<[f64; 4]>, PdfError> {
    let Some(o) = dict.get(key) else { return Ok(None) };
    let Object::Array(items) = doc.direct(o)? else { return Err(malformed("a page box is not an array")) };
    let mut b = [0.0; 4];
    if items.len() != 4 {
        return Err(malformed("a page box has not four numbers"));
    }
    for (v, item) in b.iter_mut().zip(&items) {
        *v = appearance::read_number(&doc.direct(item)?).ok_or_else(|| malformed("a page box has not four numbers"))?;
    }
    Ok(Some(b))
}

/// The `/T` tokens of the fields already there.
fn field_names(doc: &mut Document<'_>, fields: &[Object]) -> Vec<Vec<u8>> {
    fields
        .iter()
        .filter_map(|f| match doc.direct(f) {
            Ok(Object::Dict(d)) => match d.get(b"T") {
                Some(Object::String(t)) => Some(t.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The `/P` of the certification signature (`/Perms /DocMDP` → its `/Reference` DocMDP
/// transform's `/TransformParams`, ISO 32000-1 §12.8.2.2, default 2), if there is one.
fn docmdp_permissions(doc: &mut Document<'_>, catalog: &Dict) -> Option<u64> {
    let perms = doc.direct(catalog.get(b"Perms")?).ok()?;
    let Object::Dict(perms) = perms else { return None };
    let Object::Dict(sig) = doc.direct(perms.get(b"DocMDP")?).ok()? else { return None };
    let Object::Array(references) = doc.direct(sig.get(b"Reference")?).ok()? else { return Some(2) };
    for r in references {
        let Ok(Object::Dict(reference)) = doc.direct(&r) else { continue };
        if reference.name(b"TransformMethod") == Some(b"DocMDP") {
            return match reference.get(b"TransformParams").map(|p| doc.direct(p)) {
                Some(Ok(Object::Dict(params))) => Some(params.integer(b"P").unwrap_or(2)),
                _ => Some(2),
            };
        }
    }
    Some(2)
}

/// `D:YYYYMMDDHHmmSS+00'00'` (ISO 32000-1 §7.9.4), in UTC.
fn pdf_date(unix: i64) -> String {
    let digits: String = crate::x509::rfc3339(unix).chars().filter(char::is_ascii_digit).collect();
    format!("D:{digits}+00'00'")
}

/// The update; `stamp`: the visible signature's lines (on the last page), else an invisible
/// field on the first page.
fn build_update(
    pdf: Source<'_>,
    signing_time: i64,
    contents_length: usize,
    stamp: Option<&[String]>,
) -> Result<Update, PdfError> {
    let mut doc = Document::open(pdf)?;
    if doc.trailer.get(b"Encrypt").is_some() {
        return Err(PdfError::Encrypted);
    }
    let root = doc.trailer.reference(b"Root").ok_or_else(|| malformed("the trailer has no /Root"))?;
    let mut catalog = dict_of(doc.get(root)?, "catalog")?;
    if docmdp_permissions(&mut doc, &catalog) == Some(1) {
        return Err(PdfError::NoChangesAllowed);
    }
    let size = doc.trailer.integer(b"Size").ok_or_else(|| malformed("the trailer has no /Size"))?;
    let highest = doc.entries.keys().max().map_or(0, |&n| u64::from(n) + 1);
    let next = u32::try_from(size.max(highest)).map_err(|_| malformed("too many objects"))?;
    let sig = Ref { num: next, gen: 0 };
    let field = Ref { num: next.checked_add(1).ok_or_else(|| malformed("too many objects"))?, gen: 0 };
    let (page_ref, mut page, placement) = match stamp {
        Some(_) => {
            let (r, page, shown, rotate) = last_page(&mut doc, &catalog)?;
            (r, page, Some(appearance::place(shown, rotate)))
        }
        None => {
            let (r, page) = first_page(&mut doc, &catalog)?;
            (r, page, None)
        }
    };
    let form = match (stamp, &placement) {
        (Some(lines), Some(p)) => Some((
            Ref { num: field.num.checked_add(1).ok_or_else(|| malformed("too many objects"))?, gen: 0 },
            appearance::form(lines, p),
        )),
        _ => None,
    };
    // The newest object of the update (before an xref stream).
    let last_new = form.as_ref().map_or(field, |(r, _)| *r);

    // Objects written again, with their number.
    let mut rewritten: Vec<(Ref, Object)> = Vec::new();

    // The AcroForm and its /Fields.
    let (acroform_ref, mut acroform) = match catalog.get(b"AcroForm") {
        Some(Object::Ref(r)) => {
            let r = *r;
            match doc.get(r)? {
                Object::Dict(d) => (Some(r), d),
                Object::Null => (None, Dict::default()),
                _ => return Err(malformed("the AcroForm is not a dictionary")),
            }
        }
        Some(Object::Dict(d)) => (None, d.clone()),
        Some(_) => return Err(malformed("the AcroForm is not a dictionary")),
        None => (None, Dict::default()),
    };
    let (mut fields, fields_place) = array_in(&mut doc, &acroform, b"Fields")?;
    let names = field_names(&mut doc, &fields);
    let name = (1..)
        .map(|k| format!("(Signature{k})"))
        .find(|n| !names.iter().any(|t| t == n.as_bytes()))
        .unwrap_or_else(|| unreachable!("an unbounded range"));
    fields.push(Object::Ref(field));
    let mut acroform_changed = false;
    match fields_place {
        Place::Indirect(r) => rewritten.push((r, Object::Array(fields))),
        Place::Inline => {
            acroform.set(b"Fields", Object::Array(fields));
            acroform_changed = true;
        }
    }
    let flags = acroform.integer(b"SigFlags").unwrap_or(0);
    if flags & 3 != 3 {
        acroform.set(b"SigFlags", Object::integer(flags | 3));
        acroform_changed = true;
    }
    if acroform_changed {
        match acroform_ref {
            Some(r) => rewritten.push((r, Object::Dict(acroform))),
            None => {
                catalog.set(b"AcroForm", Object::Dict(acroform));
                rewritten.push((root, Object::Dict(catalog)));
            }
        }
    }

    // The widget on its page.
    let (mut annots, annots_place) = array_in(&mut doc, &page, b"Annots")?;
    annots.push(Object::Ref(field));
    match annots_place {
        Place::Indirect(r) => rewritten.push((r, Object::Array(annots))),
        Place::Inline => {
            page.set(b"Annots", Object::Array(annots));
            rewritten.push((page_ref, Object::Dict(page)));
        }
    }

    // The signature dictionary and the field.
    let mut out = Vec::new();
    let last = if pdf.is_empty() { None } else { pdf.range(pdf.len() - 1, pdf.len())?.first().copied() };
    if !matches!(last, Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    let base = pdf.len();
    let mut offsets: Vec<(Ref, usize)> = Vec::new();
    offsets.push((sig, base + out.len()));
    out.extend_from_slice(format!("{} 0 obj\n", sig.num).as_bytes());
    out.extend_from_slice(b"<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (");
    out.extend_from_slice(pdf_date(signing_time).as_bytes());
    out.extend_from_slice(b") /ByteRange [");
    let byte_range_at = out.len();
    out.extend_from_slice(" ".repeat(4 * (RANGE_WIDTH + 1)).as_bytes());
    out.extend_from_slice(b"] /Contents ");
    let contents_at = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', contents_length));
    out.extend_from_slice(b">>>\nendobj\n");

    offsets.push((field, base + out.len()));
    out.extend_from_slice(format!("{} 0 obj\n", field.num).as_bytes());
    let mut widget = Dict::default();
    widget.set(b"Type", Object::Name(b"Annot".to_vec()));
    widget.set(b"Subtype", Object::Name(b"Widget".to_vec()));
    widget.set(b"FT", Object::Name(b"Sig".to_vec()));
    widget.set(b"T", Object::String(name.into_bytes()));
    widget.set(b"V", Object::Ref(sig));
    widget.set(b"F", Object::integer(132)); // Print | Locked
    widget.set(b"P", Object::Ref(page_ref));
    match (&placement, &form) {
        (Some(p), Some((form_ref, _))) => {
            widget.set(b"Rect", Object::Array(p.rect.iter().map(|&v| appearance::number(v)).collect()));
            let mut ap = Dict::default();
            ap.set(b"N", Object::Ref(*form_ref));
            widget.set(b"AP", Object::Dict(ap));
        }
        _ => widget.set(b"Rect", Object::Array(vec![Object::integer(0); 4])),
    }
    widget.write(&mut out);
    out.extend_from_slice(b"\nendobj\n");

    if let Some((form_ref, (mut dict, content))) = form {
        offsets.push((form_ref, base + out.len()));
        out.extend_from_slice(format!("{} 0 obj\n", form_ref.num).as_bytes());
        dict.set(b"Length", Object::integer(content.len() as u64));
        dict.write(&mut out);
        out.extend_from_slice(b"\nstream\n");
        out.extend_from_slice(&content);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    for (r, object) in &rewritten {
        let gen = match doc.entries.get(&r.num) {
            Some(Entry::InFile { gen, .. }) => *gen,
            _ => 0,
        };
        let r = Ref { num: r.num, gen };
        offsets.push((r, base + out.len()));
        out.extend_from_slice(format!("{} {} obj\n", r.num, r.gen).as_bytes());
        object.write(&mut out);
        out.extend_from_slice(b"\nendobj\n");
    }

    // The trailer entries carried over.
    let mut trailer = Dict::default();
    for key in [&b"Root"[..], b"Info", b"ID"] {
        if let Some(v) = doc.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    trailer.set(b"Prev", Object::integer(doc.startxref));
    match doc.kind {
        XrefKind::Table => {
            let new_size = u64::from(last_new.num) + 1;
            trailer.set(b"Size", Object::integer(new_size.max(size)));
            let xref_at = base + out.len();
            offsets.sort_by_key(|(r, _)| r.num);
            out.extend_from_slice(b"xref\n");
            for run in runs(&offsets) {
                out.extend_from_slice(format!("{} {}\n", run[0].0.num, run.len()).as_bytes());
                for (r, at) in run {
                    out.extend_from_slice(format!("{at:010} {:05} n\r\n", r.gen).as_bytes());
                }
            }
            out.extend_from_slice(b"trailer\n");
            let mut t = Vec::new();
            Object::Dict(trailer).write(&mut t);
            out.extend_from_slice(&t);
            out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        }
        XrefKind::Stream => {
            let xref = Ref { num: last_new.num.checked_add(1).ok_or_else(|| malformed("too many objects"))?, gen: 0 };
            let xref_at = base + out.len();
            offsets.push((xref, xref_at));
            offsets.sort_by_key(|(r, _)| r.num);
            let new_size = u64::from(xref.num) + 1;
            let width = if u32::try_from(xref_at).is_ok() { 4 } else { 8 };
            let mut data = Vec::new();
            let mut index = Vec::new();
            for run in runs(&offsets) {
                index.push(Object::integer(u64::from(run[0].0.num)));
                index.push(Object::integer(run.len() as u64));
                for (r, at) in run {
                    data.push(1);
                    data.extend_from_slice(&(*at as u64).to_be_bytes()[8 - width..]);
                    data.extend_from_slice(&r.gen.to_be_bytes());
                }
            }
            trailer.set(b"Type", Object::Name(b"XRef".to_vec()));
            trailer.set(b"Size", Object::integer(new_size.max(size)));
            trailer.set(b"Index", Object::Array(index));
            trailer
                .set(b"W", Object::Array(vec![Object::integer(1), Object::integer(width as u64), Object::integer(2)]));
            trailer.set(b"Length", Object::integer(data.len() as u64));
            out.extend_from_slice(format!("{} 0 obj\n", xref.num).as_bytes());
            trailer.write(&mut out);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&data);
            out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        }
    }

    // The byte ranges, now that every length is known.
    let total = base + out.len();
    let second = base + contents_at + contents_length + 2;
    let numbers = [0, base + contents_at, second, total - second];
    let text = numbers.iter().map(|n| format!("{n}")).collect::<Vec<_>>().join(" ");
    if text.len() > 4 * (RANGE_WIDTH + 1) {
        return Err(PdfError::Unsupported("a file of a terabyte or more".into()));
    }
    out[byte_range_at..byte_range_at + text.len()].copy_from_slice(text.as_bytes());
    Ok(Update { bytes: out, contents_at, contents_length })
}

/// Runs of consecutive object numbers in a sorted list.
fn runs(sorted: &[(Ref, usize)]) -> Vec<&[(Ref, usize)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=sorted.len() {
        if i == sorted.len() || sorted[i].0.num != sorted[i - 1].0.num + 1 {
            out.push(&sorted[start..i]);
            start = i;
        }
    }
    out
}

/// Reads a PDF as [`prepare`] does, without signing it: for the fuzz target. Returns the
/// number of objects the cross-reference sections list.
pub fn inspect(pdf: &[u8]) -> Result<usize, PdfError> {
    let doc = Document::open(Source::Whole(pdf))?;
    let n = doc.entries.len();
    build_update(Source::Whole(pdf), 0, 16, None).map(|_| n)
}
