//! Opening encrypted CMS messages (*plis*): EnvelopedData (RFC 5652 §6) and
//! AuthEnvelopedData (RFC 5083, AES-GCM per RFC 5084), in DER or BER, streamed.
//!
//! A pli can be a gigabyte, so nothing here ever holds its content whole:
//!
//! 1. [`EnvelopeParser`] is a push parser. Feed it input chunks of any size; it yields
//!    [`Event::Header`] (the recipients and the content-encryption algorithm) as soon as the
//!    bytes before the encrypted content have arrived, then [`Event::Content`] slices of
//!    ciphertext as they arrive (a primitive `[0]` or the chunks of a constructed one, as
//!    `openssl cms -encrypt -stream` writes them), then [`Event::End`] with the [`Trailer`]
//!    (AuthEnvelopedData: the authenticated attributes and the MAC, which the encoding
//!    places *after* the content, RFC 5083 §2.1).
//! 2. [`find_recipient`] picks the recipient that names one of the token's certificates
//!    (issuer and serial number, or subject key identifier, RFC 5652 §6.2.1). The card
//!    unwraps its `encrypted_key` (RSA PKCS#1 v1.5 or OAEP): that step is not in this crate.
//! 3. [`ContentDecryptor`] decrypts the ciphertext chunk by chunk: AES-CBC and 3DES-CBC
//!    (RFC 3370 §5, RFC 3565) with the PKCS#7 padding block held back until the end, and
//!    AES-GCM (NIST SP 800-38D) built from CTR and GHASH so that it streams. GCM plaintext is
//!    **provisional** until [`ContentDecryptor::finish`] has checked the tag; CBC has no tag,
//!    and only `finish` knows the padding is right. Either way a caller must not present
//!    the plaintext as complete before `finish` returned `Ok`.
//!
//! [`Decryption`] strings the three together for callers that feed bytes and want
//! plaintext (the WASM core, the tests, the fuzz target); [`decrypt`] is its one-shot form.
//!
//! Every function here returns an [`EnvelopeError`] on bad input, never panics, and bounds
//! what it buffers ([`MAX_HEADER_ELEMENT`] for the parts before and after the content).

mod decrypt;
mod gcm;
mod ghash64;
mod header;
mod parser;
mod recipient;

pub use decrypt::{BulkCipher, ContentDecryptor};
pub use gcm::GHASH_IV;
pub use parser::{EnvelopeParser, Event};
pub use recipient::{find_recipient, RecipientMatch};

use paraphe_protocol::HashAlgorithm;
use std::fmt;

/// The largest single element buffered outside the content (the recipient infos, an
/// attribute set, the MAC). Hundreds of recipients fit in 1 MiB.
pub const MAX_HEADER_ELEMENT: usize = 1 << 20;

/// Which CMS content type wraps the encrypted content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// `id-envelopedData` (RFC 5652 §6.1).
    Enveloped,
    /// `id-ct-authEnvelopedData` (RFC 5083 §2.1).
    AuthEnveloped,
}

/// What the parser learns before the encrypted content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: EnvelopeKind,
    /// Every RecipientInfo, in order.
    pub recipients: Vec<Recipient>,
    /// The type of the encrypted content, dotted (`1.2.840.113549.1.7.1` = id-data).
    pub content_type: String,
    pub content_encryption: ContentEncryption,
}

/// One RecipientInfo (RFC 5652 §6.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// KeyTransRecipientInfo: the content-encryption key wrapped with the recipient's RSA key.
    KeyTransport(KeyTransRecipient),
    /// Another kind, which a card holding an RSA key cannot open: `key agreement` (kari),
    /// `key encryption key` (kekri), `password` (pwri) or `other` (ori).
    Other { kind: &'static str },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTransRecipient {
    pub rid: RecipientIdentifier,
    pub key_transport: KeyTransport,
    /// The wrapped content-encryption key, for the card.
    pub encrypted_key: Vec<u8>,
}

/// How a recipient's certificate is named (RFC 5652 §6.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientIdentifier {
    IssuerAndSerialNumber {
        /// The issuer `Name`, DER.
        issuer: Vec<u8>,
        /// The content octets of the serial number INTEGER.
        serial: Vec<u8>,
    },
    SubjectKeyIdentifier(Vec<u8>),
}

/// The key-encryption algorithm of a KeyTransRecipientInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyTransport {
    /// `rsaEncryption`: RSAES-PKCS1-v1_5 (RFC 3370 §4.2.1).
    RsaPkcs1,
    /// `id-RSAES-OAEP` with MGF1 over the same hash and an empty label (RFC 3560, RFC 8017).
    RsaOaep { hash: HashAlgorithm },
    /// Anything else, or OAEP with parameters the host cannot express (another MGF hash, a
    /// label). Kept, so that a pli with one usable recipient still opens.
    Unsupported { oid: String, reason: &'static str },
}

/// The content-encryption algorithm and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentEncryption {
    /// `aes{128,192,256}-CBC` (RFC 3565 §4.1): `key_len` 16, 24 or 32.
    AesCbc { key_len: usize, iv: [u8; 16] },
    /// `des-ede3-cbc` (RFC 3370 §5.1), legacy.
    DesEde3Cbc { iv: [u8; 8] },
    /// `id-aes{128,192,256}-GCM` (RFC 5084 §3.2), only inside AuthEnvelopedData.
    AesGcm { key_len: usize, nonce: Vec<u8>, icv_len: usize },
}

impl ContentEncryption {
    /// Length of the content-encryption key the card must return.
    pub fn key_len(&self) -> usize {
        match self {
            Self::AesCbc { key_len, .. } | Self::AesGcm { key_len, .. } => *key_len,
            Self::DesEde3Cbc { .. } => 24,
        }
    }

    /// A short name: `aes-256-cbc`, `aes-128-gcm`, `des-ede3-cbc`.
    pub fn name(&self) -> String {
        match self {
            Self::AesCbc { key_len, .. } => format!("aes-{}-cbc", key_len * 8),
            Self::AesGcm { key_len, .. } => format!("aes-{}-gcm", key_len * 8),
            Self::DesEde3Cbc { .. } => "des-ede3-cbc".into(),
        }
    }

    /// True when the plaintext is authenticated (GCM): until the tag is checked, what was
    /// decrypted is provisional.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Self::AesGcm { .. })
    }
}

/// What follows the encrypted content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trailer {
    /// AuthEnvelopedData `authAttrs`, DER with the SET OF tag: the GCM additional
    /// authenticated data (RFC 5083 §2.2). Empty when absent.
    pub aad: Vec<u8>,
    /// AuthEnvelopedData `mac`.
    pub mac: Option<Vec<u8>>,
}

/// Why a pli could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The input ended before the structure did.
    Truncated,
    /// The bytes are not the BER of a ContentInfo holding (Auth)EnvelopedData.
    Malformed(&'static str),
    /// A ContentInfo of another type (a signature, say), with its dotted OID.
    NotEnveloped { content_type: String },
    /// An algorithm this crate cannot use: `what` names the role, `oid` is dotted.
    UnsupportedAlgorithm { what: &'static str, oid: String },
    /// The encrypted content is not in the message (detached content is not supported).
    DetachedContent,
    /// An element before or after the content is larger than [`MAX_HEADER_ELEMENT`].
    TooLarge(&'static str),
    /// Bytes after the end of the ContentInfo.
    TrailingData,
    /// No recipient names one of the given certificates.
    NoMatchingRecipient,
    /// The unwrapped key does not have the algorithm's length.
    KeyLength { expected: usize, actual: usize },
    /// CBC: the ciphertext is not a whole number of blocks, or the padding is wrong (a
    /// wrong key, or a damaged pli).
    Padding,
    /// GCM: the authentication tag does not match. The pli was altered, or the key is
    /// wrong; none of the plaintext may be used.
    TagMismatch,
    /// The calls came in an order that makes no sense (content before the key…).
    State(&'static str),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("the pli is truncated: the file ends before the CMS structure does"),
            Self::Malformed(why) => write!(f, "not a valid CMS EnvelopedData or AuthEnvelopedData: {why}"),
            Self::NotEnveloped { content_type } => {
                write!(f, "this CMS message is not encrypted (content type {content_type})")
            }
            Self::UnsupportedAlgorithm { what, oid } => write!(f, "unsupported {what} algorithm {oid}"),
            Self::DetachedContent => f.write_str("the encrypted content is not inside the pli (detached content)"),
            Self::TooLarge(what) => write!(f, "{what} is larger than {MAX_HEADER_ELEMENT} bytes"),
            Self::TrailingData => f.write_str("data after the end of the CMS structure"),
            Self::NoMatchingRecipient => f.write_str("the pli is not addressed to any of these certificates"),
            Self::KeyLength { expected, actual } => {
                write!(f, "the unwrapped key has {actual} bytes, the algorithm needs {expected}")
            }
            Self::Padding => f.write_str("decryption failed: bad padding (wrong key, or the pli is damaged)"),
            Self::TagMismatch => f.write_str(
                "integrity check failed: the GCM tag does not match (the pli was altered, or the key is wrong)",
            ),
            Self::State(why) => write!(f, "decryption used out of order: {why}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// Parser and decryptor strung together: feed input, set the key once the header is known,
/// collect plaintext.
///
/// Before [`Decryption::set_key`], [`Decryption::feed`] stops at the header and keeps what
/// follows (at most the rest of the chunk that completed it), so the caller can pause its
/// reading while the card unwraps the key.
pub struct Decryption {
    parser: EnvelopeParser,
    header: Option<Header>,
    decryptor: Option<ContentDecryptor>,
    trailer: Option<Trailer>,
    finished: bool,
}

impl fmt::Debug for Decryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryption")
            .field("header", &self.header)
            .field("keyed", &self.decryptor.is_some())
            .field("consumed", &self.parser.consumed())
            .finish_non_exhaustive()
    }
}

impl Default for Decryption {
    fn default() -> Self {
        Self::new()
    }
}

impl Decryption {
    pub fn new() -> Self {
        Self { parser: EnvelopeParser::new(), header: None, decryptor: None, trailer: None, finished: false }
    }

    /// Feeds input; appends any plaintext it yields to `out` (nothing before the key is set).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        if self.finished {
            return Err(EnvelopeError::State("input after finish"));
        }
        if self.header.is_some() && self.decryptor.is_none() {
            // What follows the header stays in the parser until the key comes: refusing
            // more input keeps that to the rest of one chunk.
            return Err(EnvelopeError::State("the key is needed before more input"));
        }
        self.parser.push(input)?;
        self.drain(out)
    }

    fn drain(&mut self, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        loop {
            if self.header.is_some() && self.decryptor.is_none() {
                return Ok(()); // waiting for the key: keep the rest buffered in the parser
            }
            match self.parser.next_event()? {
                None => return Ok(()),
                Some(Event::Header(h)) => self.header = Some(h),
                Some(Event::Content(ciphertext)) => match &mut self.decryptor {
                    Some(d) => d.update(ciphertext, out)?,
                    None => return Err(EnvelopeError::State("content before the key")),
                },
                Some(Event::End(t)) => self.trailer = Some(t),
            }
        }
    }

    /// The header, once the bytes before the content have been fed.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Sets the content-encryption key the card unwrapped; decrypts what was held.
    pub fn set_key(&mut self, key: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        let header = self.header.as_ref().ok_or(EnvelopeError::State("key before the header"))?;
        if self.decryptor.is_some() {
            return Err(EnvelopeError::State("key set twice"));
        }
        self.decryptor = Some(ContentDecryptor::new(&header.content_encryption, key)?);
        self.drain(out)
    }

    /// [`Self::set_key`] for a caller that runs the AES of the bulk of the content itself
    /// ([`ContentDecryptor::new_external`]): from then on `feed` appends ciphertext in whole
    /// blocks, to be decrypted as the returned [`BulkCipher`] says, and `finish` checks the
    /// tag or padding and appends the plaintext of the last block. `None` (3DES): nothing
    /// changes, `feed` appends plaintext as after `set_key`.
    pub fn set_key_external(&mut self, key: &[u8], out: &mut Vec<u8>) -> Result<Option<BulkCipher>, EnvelopeError> {
        let header = self.header.as_ref().ok_or(EnvelopeError::State("key before the header"))?;
        if self.decryptor.is_some() {
            return Err(EnvelopeError::State("key set twice"));
        }
        let Some(decryptor) = ContentDecryptor::new_external(&header.content_encryption, key)? else {
            self.set_key(key, out)?;
            return Ok(None);
        };
        let bulk = decryptor.bulk_cipher();
        self.decryptor = Some(decryptor);
        self.drain(out)?;
        Ok(bulk)
    }

    /// External mode: the ciphertext `feed` (or `set_key_external`) appended since the last
    /// call is one piece of the caller's (AES-GCM: whose GHASH tag `absorb_ghash` takes;
    /// AES-CBC: its padding block is appended to `out`, see [`BulkCipher::AesCbc`]); what it
    /// appends from now on, the next.
    pub fn end_piece(&mut self, out: &mut Vec<u8>) {
        if let Some(d) = &mut self.decryptor {
            d.end_piece(out);
        }
    }

    /// [`BulkCipher::AesGcm`]: the 16-byte IV under which an AES-GCM encryption of the
    /// ciphertext from content block `blocks` on yields its plaintext (the tag left aside), as
    /// AES-CTR from the counter does; `None` without a key, or when there is no such IV.
    pub fn gcm_keystream_iv(&self, blocks: u32) -> Option<[u8; 16]> {
        self.decryptor.as_ref()?.gcm_keystream_iv(blocks)
    }

    /// [`BulkCipher::AesGcm`]: the caller's GHASH tag of the oldest piece handed out and not
    /// yet absorbed.
    pub fn absorb_ghash(&mut self, tag: &[u8]) -> Result<(), EnvelopeError> {
        self.decryptor.as_mut().ok_or(EnvelopeError::State("no key"))?.absorb_ghash(tag)
    }

    /// Input bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.parser.consumed()
    }

    /// True when the plaintext given out so far is not yet authenticated (GCM before its tag).
    pub fn is_provisional(&self) -> bool {
        !self.finished
    }

    /// End of input: checks that the structure is complete, then the padding or the tag;
    /// appends the last plaintext. Only after `Ok` is the plaintext complete and genuine.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        if self.finished {
            return Err(EnvelopeError::State("finish called twice"));
        }
        if self.decryptor.is_none() {
            return Err(if self.header.is_none() { EnvelopeError::Truncated } else { EnvelopeError::State("no key") });
        }
        self.parser.end_of_input();
        self.drain(out)?;
        let trailer = self.trailer.take().ok_or(EnvelopeError::Truncated)?;
        let decryptor = self.decryptor.take().ok_or(EnvelopeError::State("no key"))?;
        decryptor.finish(&trailer, out)?;
        self.finished = true;
        Ok(())
    }
}

/// One-shot decryption of a whole pli, fed in pieces of `chunk` bytes, the key chosen from
/// the header by `key_for`. This is the entry point of the `cms_envelope` fuzz target
/// (fuzz/fuzz_targets/cms_envelope.rs): whatever `input`, `chunk` and key, it returns a
/// result and never panics, and plaintext is only returned when `finish` succeeded.
pub fn decrypt(
    input: &[u8],
    chunk: usize,
    key_for: impl FnOnce(&Header) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut d = Decryption::new();
    let mut out = Vec::new();
    let mut key_for = Some(key_for);
    for piece in input.chunks(chunk.max(1)) {
        d.feed(piece, &mut out)?;
        if let Some(header) = d.header() {
            if let Some(f) = key_for.take() {
                let key = f(header).ok_or(EnvelopeError::NoMatchingRecipient)?;
                d.set_key(&key, &mut out)?;
            }
        }
    }
    if d.header().is_none() {
        return Err(EnvelopeError::Truncated);
    }
    d.finish(&mut out)?;
    Ok(out)
}

/// Dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19), for messages.
pub(crate) fn dotted_oid(content: &[u8]) -> String {
    let mut arcs: Vec<u128> = Vec::new();
    let mut value: u128 = 0;
    for &b in content {
        value = (value << 7) | u128::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
        if value > u128::MAX >> 8 {
            return "(invalid OID)".into();
        }
    }
    if arcs.is_empty() {
        return "(empty OID)".into();
    }
    arcs.iter().map(u128::to_string).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests;
