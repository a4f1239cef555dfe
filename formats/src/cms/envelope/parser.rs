//! The push parser: ContentInfo → (Auth)EnvelopedData → EncryptedContentInfo, in BER.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY }           RFC 5652 §3
//! EnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL,            RFC 5652 §6.1
//!     recipientInfos SET, encryptedContentInfo, unprotectedAttrs [1] OPTIONAL }
//! AuthEnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL,        RFC 5083 §2.1
//!     recipientInfos SET, authEncryptedContentInfo, authAttrs [1] OPTIONAL,
//!     mac OCTET STRING, unauthAttrs [2] OPTIONAL }
//! EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,  RFC 5652 §6.1
//!     encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
//! ```
//!
//! The containers down to the encrypted content are *entered* (their length, definite or
//! indefinite, is tracked, X.690 §8.1.3), never buffered. The small elements in between
//! (content types, algorithm, recipient infos, attributes, MAC) are buffered whole, up to
//! [`MAX_HEADER_ELEMENT`], rewritten as DER by [`ber::to_der`] and read with the DER reader.
//! The encrypted content is passed through as it arrives: a primitive `[0]`, or the
//! OCTET STRING chunks of a constructed one (nested constructed chunks too, X.690 §8.7.3).
//! Every identifier and length is read by [`crate::asn1`], whose "incomplete" means "wait
//! for more input" here, under its limits (nesting depth counted from the ContentInfo).

use super::{dotted_oid, header, EnvelopeError, EnvelopeKind, Header, Trailer, MAX_HEADER_ELEMENT};
use crate::asn1::{self, check_depth, Asn1Error, Codec, Length, Reader};
use crate::cms::ber;
use crate::cms::der::{self, tag};

/// What the parser yields, in this order: one `Header`, any number of `Content`, one `End`.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Header(Header),
    /// The next ciphertext bytes, borrowed from the parser until the next call.
    Content(&'a [u8]),
    End(Trailer),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    ContentInfo,
    Explicit,
    Body,
    EncryptedContentInfo,
    Chunks,
}

#[derive(Clone, Copy, Debug)]
struct Open {
    level: Level,
    /// Absolute offset just after the content; `None` for the indefinite form.
    end: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ContentInfo,
    ContentType,
    Explicit,
    Body,
    Version,
    Recipients,
    EncryptedContentInfo,
    ContentTypeInner,
    Algorithm,
    ContentStart,
    Chunks,
    Content { remaining: u64 },
    EncryptedContentInfoEnd,
    AfterContent,
    Closing,
    Done,
}

/// Progress through a buffered element whose end is not known yet (indefinite lengths).
#[derive(Clone, Copy, Debug, Default)]
struct Skim {
    /// Scan position, relative to the start of the element.
    at: usize,
    /// Open indefinite-length elements.
    depth: usize,
    started: bool,
}

/// The identifier and length at the start of `bytes`, or `None` until all of them arrived.
fn next_header(bytes: &[u8]) -> Result<Option<asn1::Header>, EnvelopeError> {
    match asn1::Header::read(&mut Reader::new(bytes)) {
        Ok(h) => Ok(Some(h)),
        Err(Asn1Error::Incomplete(_)) => Ok(None),
        Err(Asn1Error::Invalid(why)) => Err(EnvelopeError::Malformed(why)),
    }
}

/// What one step produced, without borrowing the parser.
enum Out {
    NeedMore,
    Header(Header),
    Content { start: usize, len: usize },
    End(Trailer),
}

/// Streaming parser of a CMS EnvelopedData or AuthEnvelopedData. See the module docs.
#[derive(Debug)]
pub struct EnvelopeParser {
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// Absolute input offset of `buf[pos]`.
    offset: u64,
    state: State,
    open: Vec<Open>,
    kind: EnvelopeKind,
    recipients: Vec<u8>,
    content_type: String,
    skim: Skim,
    trailer: Trailer,
    /// `[1]` attributes already seen after the content.
    attributes_seen: bool,
    unauthenticated_seen: bool,
    ended: bool,
    failed: Option<EnvelopeError>,
}

impl Default for EnvelopeParser {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! need {
    ($self:ident, $e:expr) => {
        match $e {
            Some(x) => x,
            None => return $self.need_more(),
        }
    };
}

impl EnvelopeParser {
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            offset: 0,
            state: State::ContentInfo,
            open: Vec::new(),
            kind: EnvelopeKind::Enveloped,
            recipients: Vec::new(),
            content_type: String::new(),
            skim: Skim::default(),
            trailer: Trailer::default(),
            attributes_seen: false,
            unauthenticated_seen: false,
            ended: false,
            failed: None,
        }
    }

    /// Appends input. What the parser keeps between calls is at most one buffered header
    /// element plus the bytes not yet taken out by [`Self::next_event`].
    pub fn push(&mut self, input: &[u8]) -> Result<(), EnvelopeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.ended {
            return Err(EnvelopeError::State("input after the end"));
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(input);
        Ok(())
    }

    /// Declares that no more input will come: from then on, a structure left open is
    /// [`EnvelopeError::Truncated`].
    pub fn end_of_input(&mut self) {
        self.ended = true;
    }

    /// Input bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.offset
    }

    /// The next event, or `None` when more input is needed (or everything was parsed). An
    /// error is final: every later call returns it again.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, EnvelopeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.step() {
            Ok(Out::NeedMore) => Ok(None),
            Ok(Out::Header(h)) => Ok(Some(Event::Header(h))),
            Ok(Out::Content { start, len }) => Ok(Some(Event::Content(&self.buf[start..start + len]))),
            Ok(Out::End(t)) => Ok(Some(Event::End(t))),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn need_more(&self) -> Result<Out, EnvelopeError> {
        if self.ended {
            Err(EnvelopeError::Truncated)
        } else {
            Ok(Out::NeedMore)
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    /// The nearest definite end among the open containers: nothing may run past it.
    fn limit(&self) -> Option<u64> {
        self.open.iter().filter_map(|o| o.end).min()
    }

    fn check_within(&self, end: u64) -> Result<(), EnvelopeError> {
        match self.limit() {
            Some(limit) if end > limit => {
                Err(EnvelopeError::Malformed("an element runs past the end of its container"))
            }
            _ => Ok(()),
        }
    }

    fn top_level(&self) -> Option<Level> {
        self.open.last().map(|o| o.level)
    }

    /// Enters a constructed element with identifier `expected`.
    fn enter(&mut self, expected: u8, level: Level, what: &'static str) -> Result<Option<()>, EnvelopeError> {
        let Some(h) = next_header(self.avail())? else { return Ok(None) };
        if h.tag() != Some(expected) {
            return Err(EnvelopeError::Malformed(what));
        }
        self.open_container(h, level)?;
        Ok(Some(()))
    }

    fn open_container(&mut self, h: asn1::Header, level: Level) -> Result<(), EnvelopeError> {
        check_depth(self.open.len())?;
        let content_start = self.offset + h.size() as u64;
        self.check_within(content_start)?;
        let end = match h.length {
            Length::Definite(len) => {
                let end = content_start.checked_add(len).ok_or(EnvelopeError::Malformed("length too large"))?;
                self.check_within(end)?;
                Some(end)
            }
            Length::Indefinite => None,
        };
        self.advance(h.size());
        self.open.push(Open { level, end });
        Ok(())
    }

    /// Whether the innermost open container ends here (consuming its end-of-contents).
    fn at_end(&mut self) -> Result<Option<bool>, EnvelopeError> {
        let Some(top) = self.open.last() else { return Ok(Some(true)) };
        match top.end {
            Some(end) if self.offset == end => Ok(Some(true)),
            Some(end) if self.offset > end => {
                Err(EnvelopeError::Malformed("an element runs past the end of its container"))
            }
            Some(_) => Ok(Some(false)),
            None => match self.avail() {
                [0, 0, ..] => {
                    self.advance(2);
                    self.check_within(self.offset)?;
                    Ok(Some(true))
                }
                [] | [0] => Ok(None),
                _ => Ok(Some(false)),
            },
        }
    }

    fn close(&mut self) {
        self.open.pop();
    }

    fn peek_tag(&self) -> Option<u8> {
        self.avail().first().copied()
    }

    /// Takes one whole element (BER, as it came), once all of it has arrived.
    fn take(&mut self, what: &'static str) -> Result<Option<Vec<u8>>, EnvelopeError> {
        let avail = &self.buf[self.pos..];
        let s = &mut self.skim;
        let n = loop {
            if s.started && s.depth == 0 {
                if s.at > avail.len() {
                    return Ok(None);
                }
                break s.at;
            }
            if s.depth > 0 {
                match avail.get(s.at..) {
                    Some([0, 0, ..]) => {
                        s.depth -= 1;
                        s.at += 2;
                        continue;
                    }
                    None | Some([] | [0]) => return Ok(None),
                    _ => {}
                }
            }
            let Some(h) = next_header(avail.get(s.at..).unwrap_or_default())? else { return Ok(None) };
            s.started = true;
            match h.length {
                Length::Definite(len) => {
                    let len = usize::try_from(len).map_err(|_| EnvelopeError::TooLarge(what))?;
                    s.at = s.at.saturating_add(h.size()).saturating_add(len);
                }
                Length::Indefinite => {
                    s.depth += 1;
                    s.at += h.size();
                    check_depth(s.depth)?;
                }
            }
            if s.at > MAX_HEADER_ELEMENT {
                return Err(EnvelopeError::TooLarge(what));
            }
        };
        self.skim = Skim::default();
        self.check_within(self.offset + n as u64)?;
        let raw = self.buf[self.pos..self.pos + n].to_vec();
        self.advance(n);
        Ok(Some(raw))
    }

    /// Takes one element and returns its DER form.
    fn take_der(&mut self, what: &'static str) -> Result<Option<Vec<u8>>, EnvelopeError> {
        match self.take(what)? {
            Some(raw) => Ok(Some(ber::to_der(&raw)?)),
            None => Ok(None),
        }
    }

    /// Takes a content type, one OID (`malformed` if it is more than one element, `not_oid` if
    /// it is no OID), and reads it with `read`.
    fn take_content_type<T>(
        &mut self,
        malformed: &'static str,
        not_oid: &'static str,
        read: impl FnOnce(asn1::Tlv<'_>) -> Result<T, EnvelopeError>,
    ) -> Result<Option<T>, EnvelopeError> {
        let Some(der) = self.take_der("the content type")? else { return Ok(None) };
        let oid = asn1::single(&der, malformed)?;
        if oid.tag != tag::OID {
            return Err(EnvelopeError::Malformed(not_oid));
        }
        read(oid).map(Some)
    }

    /// Steps over the header `h` of a piece of encrypted content, `len` bytes long: its
    /// content comes next.
    fn start_content(&mut self, h: asn1::Header, len: u64) -> Result<(), EnvelopeError> {
        let end =
            (self.offset + h.size() as u64).checked_add(len).ok_or(EnvelopeError::Malformed("length too large"))?;
        self.check_within(end)?;
        self.advance(h.size());
        self.state = State::Content { remaining: len };
        Ok(())
    }

    fn step(&mut self) -> Result<Out, EnvelopeError> {
        loop {
            match self.state {
                State::ContentInfo => {
                    match self.peek_tag() {
                        Some(tag::SEQUENCE) | None => {}
                        Some(b'-') => {
                            return Err(EnvelopeError::Malformed(
                                "this is PEM text; the pli must be binary (DER or BER)",
                            ))
                        }
                        Some(b'M' | b'C') => {
                            return Err(EnvelopeError::Malformed(
                                "this looks like an S/MIME message; the pli must be binary (DER or BER)",
                            ))
                        }
                        Some(_) => return Err(EnvelopeError::Malformed("a ContentInfo SEQUENCE was expected")),
                    }
                    need!(self, self.enter(tag::SEQUENCE, Level::ContentInfo, "a ContentInfo SEQUENCE was expected")?);
                    self.state = State::ContentType;
                }
                State::ContentType => {
                    let not_oid = "a content type OID was expected";
                    self.kind = need!(
                        self,
                        self.take_content_type(not_oid, not_oid, |oid| {
                            if oid.raw == der::oid_arcs(header::ID_ENVELOPED_DATA) {
                                Ok(EnvelopeKind::Enveloped)
                            } else if oid.raw == der::oid_arcs(header::ID_AUTH_ENVELOPED_DATA) {
                                Ok(EnvelopeKind::AuthEnveloped)
                            } else {
                                Err(EnvelopeError::NotEnveloped { content_type: dotted_oid(oid.content) })
                            }
                        })?
                    );
                    self.state = State::Explicit;
                }
                State::Explicit => {
                    need!(
                        self,
                        self.enter(tag::context(0), Level::Explicit, "the ContentInfo content [0] was expected")?
                    );
                    self.state = State::Body;
                }
                State::Body => {
                    need!(self, self.enter(tag::SEQUENCE, Level::Body, "an EnvelopedData SEQUENCE was expected")?);
                    self.state = State::Version;
                }
                State::Version => {
                    let der = need!(self, self.take_der("the version")?);
                    if asn1::single(&der, "version")?.tag != tag::INTEGER {
                        return Err(EnvelopeError::Malformed("the version INTEGER was expected"));
                    }
                    self.state = State::Recipients;
                }
                State::Recipients => {
                    let t = need!(self, self.peek_tag());
                    if t == tag::context(0) {
                        // originatorInfo: certificates and CRLs of the originator, not needed.
                        need!(self, self.take("the originator info")?);
                        continue;
                    }
                    if t != tag::SET {
                        return Err(EnvelopeError::Malformed("the recipientInfos SET was expected"));
                    }
                    self.recipients = need!(self, self.take_der("the recipient infos")?);
                    self.state = State::EncryptedContentInfo;
                }
                State::EncryptedContentInfo => {
                    need!(
                        self,
                        self.enter(
                            tag::SEQUENCE,
                            Level::EncryptedContentInfo,
                            "an EncryptedContentInfo SEQUENCE was expected"
                        )?
                    );
                    self.state = State::ContentTypeInner;
                }
                State::ContentTypeInner => {
                    self.content_type = need!(
                        self,
                        self.take_content_type("content type", "the encrypted content type OID was expected", |oid| {
                            Ok(dotted_oid(oid.content))
                        })?
                    );
                    self.state = State::Algorithm;
                }
                State::Algorithm => {
                    let der = need!(self, self.take_der("the content-encryption algorithm")?);
                    let content_encryption = header::content_encryption(&der, self.kind)?;
                    let recipients = header::recipients(&std::mem::take(&mut self.recipients))?;
                    self.state = State::ContentStart;
                    return Ok(Out::Header(Header {
                        kind: self.kind,
                        recipients,
                        content_type: std::mem::take(&mut self.content_type),
                        content_encryption,
                    }));
                }
                State::ContentStart => {
                    if need!(self, self.at_end()?) {
                        return Err(EnvelopeError::DetachedContent);
                    }
                    let h = need!(self, next_header(self.avail())?);
                    match (h.tag(), h.length) {
                        (Some(0x80), Length::Definite(len)) => self.start_content(h, len)?,
                        (Some(0xa0), _) => {
                            self.open_container(h, Level::Chunks)?;
                            self.state = State::Chunks;
                        }
                        _ => return Err(EnvelopeError::Malformed("the encryptedContent [0] was expected")),
                    }
                }
                State::Chunks => {
                    if need!(self, self.at_end()?) {
                        self.close();
                        if self.top_level() != Some(Level::Chunks) {
                            self.state = State::EncryptedContentInfoEnd;
                        }
                        continue;
                    }
                    let h = need!(self, next_header(self.avail())?);
                    match (h.tag(), h.length) {
                        (Some(tag::OCTET_STRING), Length::Definite(len)) => self.start_content(h, len)?,
                        (Some(0x24), _) => self.open_container(h, Level::Chunks)?,
                        _ => {
                            return Err(EnvelopeError::Malformed(
                                "a chunk of the encrypted content is not an OCTET STRING",
                            ))
                        }
                    }
                }
                State::Content { remaining } => {
                    if remaining == 0 {
                        self.state = if self.top_level() == Some(Level::Chunks) {
                            State::Chunks
                        } else {
                            State::EncryptedContentInfoEnd
                        };
                        continue;
                    }
                    let len = self.avail().len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    if len == 0 {
                        return self.need_more();
                    }
                    let start = self.pos;
                    self.advance(len);
                    self.state = State::Content { remaining: remaining - len as u64 };
                    return Ok(Out::Content { start, len });
                }
                State::EncryptedContentInfoEnd => {
                    if !need!(self, self.at_end()?) {
                        return Err(EnvelopeError::Malformed("data after the encrypted content"));
                    }
                    self.close();
                    self.state = State::AfterContent;
                }
                State::AfterContent => {
                    if need!(self, self.at_end()?) {
                        if self.kind == EnvelopeKind::AuthEnveloped && self.trailer.mac.is_none() {
                            return Err(EnvelopeError::Malformed("the AuthEnvelopedData has no MAC"));
                        }
                        self.close();
                        self.state = State::Closing;
                        continue;
                    }
                    let t = need!(self, self.peek_tag());
                    let auth = self.kind == EnvelopeKind::AuthEnveloped;
                    let mac_seen = self.trailer.mac.is_some();
                    match t {
                        0xa1 if !self.attributes_seen && !mac_seen => {
                            let mut der = need!(self, self.take_der("the attributes")?);
                            self.attributes_seen = true;
                            if auth {
                                // RFC 5083 §2.2: the AAD is the DER of authAttrs with the
                                // SET OF tag, not the [1] IMPLICIT one.
                                der[0] = tag::SET;
                                self.trailer.aad = der;
                            } // else unprotectedAttrs: not needed to decrypt.
                        }
                        tag::OCTET_STRING | 0x24 if auth && !mac_seen => {
                            let der = need!(self, self.take_der("the MAC")?);
                            let mac = asn1::single(&der, "MAC")?;
                            self.trailer.mac = Some(mac.content.to_vec());
                        }
                        0xa2 if auth && mac_seen && !self.unauthenticated_seen => {
                            need!(self, self.take("the unauthenticated attributes")?);
                            self.unauthenticated_seen = true;
                        }
                        _ => return Err(EnvelopeError::Malformed("unexpected element after the encrypted content")),
                    }
                }
                State::Closing => {
                    if self.open.is_empty() {
                        self.state = State::Done;
                        return Ok(Out::End(std::mem::take(&mut self.trailer)));
                    }
                    if !need!(self, self.at_end()?) {
                        return Err(EnvelopeError::Malformed("data after the end of the EnvelopedData"));
                    }
                    self.close();
                }
                State::Done => {
                    if !self.avail().is_empty() {
                        return Err(EnvelopeError::TrailingData);
                    }
                    return Ok(Out::NeedMore);
                }
            }
        }
    }
}

impl From<der::DerError> for EnvelopeError {
    /// Inside an element that arrived whole, even "truncated" means inconsistent lengths.
    fn from(e: der::DerError) -> Self {
        EnvelopeError::Malformed(e.0)
    }
}

impl From<Asn1Error> for EnvelopeError {
    /// As for [`der::DerError`]: what is read this way arrived whole.
    fn from(e: Asn1Error) -> Self {
        match e {
            Asn1Error::Incomplete(why) | Asn1Error::Invalid(why) => EnvelopeError::Malformed(why),
        }
    }
}
