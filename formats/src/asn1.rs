//! Reading ASN.1 (X.690): element headers — identifier and length octets, §8.1.2 and
//! §8.1.3 — in one place and under one set of limits, and whole DER elements on top of them.
//!
//! Three walkers read ASN.1 in this crate: the DER element reader here ([`Tlv`], for
//! SignedData, recipient infos, names), the BER→DER normaliser ([`crate::cms::ber`]) and the
//! streaming pli parser ([`crate::cms::envelope::EnvelopeParser`]), which sees its input a
//! piece at a time. They differ in what they accept around a header (DER wants definite,
//! shortest lengths; BER allows indefinite ones), never in how a header is read. The shape
//! is rustls's `msgs/codec.rs`: one [`Reader`], a cursor over a byte slice, and one
//! [`Codec`] trait by which each encoded type reads itself from a reader and writes itself.
//!
//! Running out of bytes is [`Asn1Error::Incomplete`], apart from bytes that can never be
//! valid ([`Asn1Error::Invalid`]): the streaming parser waits for more input on the first,
//! the others report a truncation. Which of the two it is depends only on the bytes present,
//! never on where the input was cut, so a streamed parse fails the same way whatever the
//! chunk size (the `cms_envelope` fuzz target checks it).

use crate::cms::DerError;

/// Length octets after the first, in the long form (§8.1.3.5). Eight hold any `u64`; BER
/// allows leading zeros, so more octets than the value needs are fine up to this.
pub(crate) const MAX_LENGTH_OCTETS: usize = 8;

/// The largest definite length read: 1 TiB, a thousand times the largest pli measured
/// (docs/BENCHMARKS.md). Buffered input is bounded by its own size anyway; this bounds what
/// the streaming parser accepts before the content arrives.
pub(crate) const MAX_DEFINITE_LENGTH: u64 = 1 << 40;

/// How deep elements may nest in what one walker reads (the normaliser recurses once per
/// level; the streaming parser keeps a stack). Real CMS stays under 20 levels.
pub(crate) const MAX_DEPTH: usize = 48;

/// Octets after the first in the high-tag-number form (§8.1.2.4): tag numbers below 2^35.
/// CMS uses none above 30.
pub(crate) const MAX_TAG_NUMBER_OCTETS: usize = 5;

/// Why a header or element could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Asn1Error {
    /// The bytes end too early; more of them could complete the element.
    Incomplete(&'static str),
    /// No continuation can make these bytes valid.
    Invalid(&'static str),
}

impl From<Asn1Error> for DerError {
    /// For input that is all there is, running out of bytes is as final as any error.
    fn from(e: Asn1Error) -> Self {
        match e {
            Asn1Error::Incomplete(why) | Asn1Error::Invalid(why) => DerError(why),
        }
    }
}

/// Fails when an element at `depth` (0 for the outermost) is nested deeper than
/// [`MAX_DEPTH`].
pub(crate) fn check_depth(depth: usize) -> Result<(), Asn1Error> {
    if depth > MAX_DEPTH {
        Err(Asn1Error::Invalid("nested too deeply"))
    } else {
        Ok(())
    }
}

/// Something with an encoding: reads itself from a [`Reader`], writes itself to a buffer.
pub(crate) trait Codec<'a>: Sized {
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value. On error the reader's position is unspecified.
    fn read(r: &mut Reader<'a>) -> Result<Self, Asn1Error>;
}

/// A cursor over bytes.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    cursor: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, cursor: 0 }
    }

    /// The next `n` bytes, or `None` (and nothing consumed) when fewer are left.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.cursor.checked_add(n).filter(|end| *end <= self.buf.len())?;
        let out = &self.buf[self.cursor..end];
        self.cursor = end;
        Some(out)
    }

    pub fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.cursor..]
    }

    /// How many bytes were read.
    pub fn used(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.rest().is_empty()
    }

    /// The identifier octet of the next element, without reading it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// The next DER element. The reader only moves past it if it is valid.
    pub fn element(&mut self) -> Result<Tlv<'a>, Asn1Error> {
        let mut ahead = self.clone();
        let tlv = Tlv::read(&mut ahead)?;
        *self = ahead;
        Ok(tlv)
    }

    /// The next element, which must carry `tag`; `what` says what was expected.
    pub fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, Asn1Error> {
        let tlv = self.element()?;
        if tlv.tag == tag {
            Ok(tlv)
        } else {
            Err(Asn1Error::Invalid(what))
        }
    }

    /// The next element only if it carries `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Asn1Error> {
        if self.peek_tag() == Some(tag) {
            self.element().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails with `what` unless everything was read.
    pub fn finish(&self, what: &'static str) -> Result<(), Asn1Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Asn1Error::Invalid(what))
        }
    }

    /// All remaining elements.
    pub fn elements(mut self) -> Result<Vec<Tlv<'a>>, Asn1Error> {
        let mut out = Vec::new();
        while !self.is_empty() {
            out.push(self.element()?);
        }
        Ok(out)
    }
}

/// The single DER element that `bytes` must consist of; `what` names what follows it if
/// something does.
pub(crate) fn single<'a>(bytes: &'a [u8], what: &'static str) -> Result<Tlv<'a>, Asn1Error> {
    let mut r = Reader::new(bytes);
    let tlv = r.element()?;
    r.finish(what)?;
    Ok(tlv)
}

/// The length octets (§8.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Length {
    Definite(u64),
    /// Contents end with two zero octets (§8.1.3.6); constructed elements only, BER only.
    Indefinite,
}

impl Length {
    /// How many octets the shortest encoding takes (§10.1, the DER rule).
    pub fn encoded_len(self) -> usize {
        match self {
            Self::Definite(len) if len >= 0x80 => 1 + 8 - len.leading_zeros() as usize / 8,
            _ => 1,
        }
    }
}

impl Codec<'_> for Length {
    /// The shortest form for a definite length.
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Self::Indefinite => out.push(0x80),
            Self::Definite(len) if len < 0x80 => out.push(len as u8),
            Self::Definite(len) => {
                let bytes = len.to_be_bytes();
                let octets = &bytes[bytes.len() + 1 - self.encoded_len()..];
                out.push(0x80 | octets.len() as u8);
                out.extend_from_slice(octets);
            }
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, Asn1Error> {
        let first = r.byte().ok_or(Asn1Error::Incomplete("truncated length"))?;
        if first < 0x80 {
            return Ok(Self::Definite(u64::from(first)));
        }
        if first == 0x80 {
            return Ok(Self::Indefinite);
        }
        let n = usize::from(first & 0x7f);
        if n > MAX_LENGTH_OCTETS {
            return Err(Asn1Error::Invalid("length too large"));
        }
        let octets = r.take(n).ok_or(Asn1Error::Incomplete("truncated length"))?;
        let len = octets.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        if len > MAX_DEFINITE_LENGTH {
            return Err(Asn1Error::Invalid("length too large"));
        }
        Ok(Self::Definite(len))
    }
}

/// An element's identifier and length octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// The first identifier octet: class (bits 8–7), constructed (bit 6), and the tag
    /// number when it is below 31.
    pub first: u8,
    /// The tag number (§8.1.2.4 above 30).
    pub number: u64,
    /// How many identifier octets were read.
    pub tag_octets: usize,
    /// How many length octets were read.
    pub length_octets: usize,
    pub length: Length,
}

impl Header {
    /// A definite-length header for a one-octet identifier `tag` (tag number below 31).
    pub fn definite(tag: u8, len: usize) -> Self {
        debug_assert!(tag & 0x1f != 0x1f, "one-octet identifiers only");
        let length = Length::Definite(len as u64);
        Self { first: tag, number: u64::from(tag & 0x1f), tag_octets: 1, length_octets: length.encoded_len(), length }
    }

    /// Identifier and length octets: where the contents start.
    pub fn size(&self) -> usize {
        self.tag_octets + self.length_octets
    }

    pub fn constructed(&self) -> bool {
        self.first & 0x20 != 0
    }

    /// The whole identifier when it is one octet (tag number below 31), else `None`.
    pub fn tag(&self) -> Option<u8> {
        (self.tag_octets == 1).then_some(self.first)
    }

    /// Definite, in as few length octets as possible (§10.1).
    pub fn is_der_length(&self) -> bool {
        matches!(self.length, Length::Definite(_)) && self.length_octets == self.length.encoded_len()
    }
}

impl Codec<'_> for Header {
    /// The shortest forms of the tag number and the length.
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.first);
        if self.first & 0x1f == 0x1f {
            let groups = (64 - self.number.leading_zeros()).div_ceil(7).max(1);
            for i in (0..groups).rev() {
                let group = (self.number >> (7 * i)) as u8 & 0x7f;
                out.push(if i == 0 { group } else { 0x80 | group });
            }
        }
        self.length.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, Asn1Error> {
        let start = r.used();
        let first = r.byte().ok_or(Asn1Error::Incomplete("truncated: an element was expected"))?;
        let mut number = u64::from(first & 0x1f);
        if number == 0x1f {
            // High tag number: base-128 octets, the last with bit 8 clear.
            number = 0;
            for i in 1.. {
                let b = r.byte().ok_or(Asn1Error::Incomplete("truncated tag"))?;
                number = (number << 7) | u64::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
                if i == MAX_TAG_NUMBER_OCTETS {
                    return Err(Asn1Error::Invalid("tag number too large"));
                }
            }
        }
        let tag_octets = r.used() - start;
        let length = Length::read(r)?;
        if length == Length::Indefinite && first & 0x20 == 0 {
            // §8.1.3.2 a)
            return Err(Asn1Error::Invalid("indefinite length on a primitive element"));
        }
        Ok(Self { first, number, tag_octets, length_octets: r.used() - start - tag_octets, length })
    }
}

/// One whole DER element inside a larger buffer: a one-octet identifier and a definite
/// length in its shortest form, which is all the CMS structures walked here use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// Identifier, length and content: the element exactly as encoded.
    pub raw: &'a [u8],
}

impl<'a> Codec<'a> for Tlv<'a> {
    /// As it was read.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.raw);
    }

    fn read(r: &mut Reader<'a>) -> Result<Self, Asn1Error> {
        let start = r.rest();
        let h = Header::read(r)?;
        let tag = h.tag().ok_or(Asn1Error::Invalid("multi-byte tags are not expected here"))?;
        let Length::Definite(len) = h.length else { return Err(Asn1Error::Invalid("indefinite length in DER")) };
        if !h.is_der_length() {
            return Err(Asn1Error::Invalid("length not in its shortest form"));
        }
        let content = usize::try_from(len)
            .ok()
            .and_then(|len| r.take(len))
            .ok_or(Asn1Error::Incomplete("truncated: the element is longer than the data"))?;
        Ok(Self { tag, content, raw: &start[..h.size() + content.len()] })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn header(bytes: &[u8]) -> Result<Header, Asn1Error> {
        Header::read(&mut Reader::new(bytes))
    }

    fn encoded<'a>(value: &impl Codec<'a>) -> Vec<u8> {
        let mut out = Vec::new();
        value.encode(&mut out);
        out
    }

    #[test]
    fn short_and_long_form_lengths() {
        let h = header(&[0x04, 0x05]).unwrap();
        assert_eq!((h.tag(), h.length, h.size(), h.constructed()), (Some(0x04), Length::Definite(5), 2, false));
        assert!(h.is_der_length());

        let h = header(&[0x30, 0x82, 0x01, 0x00]).unwrap();
        assert_eq!((h.length, h.size(), h.constructed()), (Length::Definite(256), 4, true));
        assert!(h.is_der_length());

        // BER: long form for a short length, leading zeros. Read, but not DER.
        for bytes in [&[0x04, 0x81, 0x05][..], &[0x04, 0x82, 0x00, 0x80], &[0x04, 0x88, 0, 0, 0, 0, 0, 0, 0, 1]] {
            let h = header(bytes).unwrap();
            assert_eq!(h.size(), bytes.len());
            assert!(!h.is_der_length(), "{bytes:02x?}");
        }
        assert_eq!(header(&[0x04, 0x88, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap().length, Length::Definite(1));

        // Shortest encodings written back.
        for len in [0u64, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, MAX_DEFINITE_LENGTH] {
            let bytes = encoded(&Length::Definite(len));
            assert_eq!(bytes.len(), Length::Definite(len).encoded_len(), "{len}");
            assert_eq!(Length::read(&mut Reader::new(&bytes)).unwrap(), Length::Definite(len));
        }
        assert_eq!(encoded(&Length::Definite(0x80)), [0x81, 0x80]);
        assert_eq!(encoded(&Length::Definite(0x1234)), [0x82, 0x12, 0x34]);
    }

    #[test]
    fn indefinite_length() {
        let h = header(&[0x30, 0x80]).unwrap();
        assert_eq!((h.length, h.size()), (Length::Indefinite, 2));
        assert!(!h.is_der_length());
        assert_eq!(encoded(&h), [0x30, 0x80]);
        // Only constructed elements may have one (X.690 §8.1.3.2).
        assert_eq!(header(&[0x04, 0x80]), Err(Asn1Error::Invalid("indefinite length on a primitive element")));
        assert!(matches!(single(&[0x30, 0x80, 0, 0], "x"), Err(Asn1Error::Invalid(_))));
    }

    #[test]
    fn lengths_over_the_limits() {
        // Nine length octets.
        assert_eq!(header(&[0x04, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1]), Err(Asn1Error::Invalid("length too large")));
        // 0xff (reserved, §8.1.3.5 c) says 127 octets.
        assert_eq!(header(&[0x04, 0xff]), Err(Asn1Error::Invalid("length too large")));
        // One past the largest definite length, and the largest.
        let mut over = vec![0x04, 0x86, 0x01, 0, 0, 0, 0, 1];
        assert_eq!(header(&over), Err(Asn1Error::Invalid("length too large")));
        over[7] = 0;
        assert_eq!(header(&over).unwrap().length, Length::Definite(MAX_DEFINITE_LENGTH));
        // Said to be longer than the data: a header, but not a whole element.
        assert!(header(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]).is_ok());
        assert!(matches!(single(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff], "x"), Err(Asn1Error::Incomplete(_))));
    }

    #[test]
    fn truncated_headers_are_incomplete_at_every_cut() {
        for bytes in [
            &[0x30, 0x82, 0x01, 0x00][..],
            &[0x04, 0x88, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0xbf, 0x81, 0x80, 0x01, 0x80],
            &[0x1f, 0x85, 0x01, 0x81, 0x80],
        ] {
            assert!(header(bytes).is_ok(), "{bytes:02x?}");
            for cut in 0..bytes.len() {
                assert!(matches!(header(&bytes[..cut]), Err(Asn1Error::Incomplete(_))), "{bytes:02x?} cut at {cut}");
            }
        }
        // An error is found as soon as the bytes show it, not later.
        assert_eq!(header(&[0x04, 0x89]), Err(Asn1Error::Invalid("length too large")));
    }

    #[test]
    fn high_tag_numbers() {
        // [APPLICATION 31] constructed, [PRIVATE 16384] primitive.
        let h = header(&[0x7f, 0x1f, 0x00]).unwrap();
        assert_eq!((h.number, h.tag_octets, h.tag(), h.constructed()), (31, 2, None, true));
        let h = header(&[0xdf, 0x81, 0x80, 0x00, 0x02]).unwrap();
        assert_eq!((h.number, h.tag_octets, h.length), (16384, 4, Length::Definite(2)));
        assert_eq!(encoded(&h), [0xdf, 0x81, 0x80, 0x00, 0x02]);
        // Five octets after the first (35 bits) are the most.
        let h = header(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]).unwrap();
        assert_eq!(h.number, (1 << 35) - 1);
        assert_eq!(encoded(&h), [0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]);
        assert_eq!(header(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff]), Err(Asn1Error::Invalid("tag number too large")));
        // The DER element reader takes one-octet identifiers only.
        assert_eq!(single(&[0x9f, 0x20, 0x00], "x"), Err(Asn1Error::Invalid("multi-byte tags are not expected here")));
    }

    #[test]
    fn elements() {
        let bytes = [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xaa];
        let seq = single(&bytes, "trailing").unwrap();
        assert_eq!((seq.tag, seq.raw.len(), seq.content.len()), (0x30, 8, 6));
        assert_eq!(encoded(&seq), bytes);
        let mut r = Reader::new(seq.content);
        assert_eq!(r.optional(0x04).unwrap(), None);
        assert_eq!(r.expect(0x02, "integer").unwrap().content, [1]);
        assert_eq!(r.expect(0x02, "integer"), Err(Asn1Error::Invalid("integer")));
        // A failed read leaves the reader where it was.
        let mut r = Reader::new(&[0x04, 0x05, 1]);
        assert!(r.element().is_err());
        assert_eq!(r.used(), 0);

        assert_eq!(
            single(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], "x"),
            Err(Asn1Error::Invalid("length not in its shortest form"))
        );
        assert_eq!(single(&[0x04, 0x00, 0x00], "trailing"), Err(Asn1Error::Invalid("trailing")));
        assert!(matches!(single(&[], "x"), Err(Asn1Error::Incomplete(_))));
        assert_eq!(Reader::new(&[0x05, 0x00, 0x05, 0x00]).elements().unwrap().len(), 2);
    }

    #[test]
    fn depth() {
        assert!(check_depth(MAX_DEPTH).is_ok());
        assert_eq!(check_depth(MAX_DEPTH + 1), Err(Asn1Error::Invalid("nested too deeply")));
    }
}
