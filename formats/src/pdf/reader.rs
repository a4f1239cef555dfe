//! Reading a PDF through its cross-reference information (ISO 32000-1 §7.5.4 xref tables,
//! §7.5.5 trailer, §7.5.6 incremental updates, §7.5.7 object streams, §7.5.8 xref streams),
//! as far as finding and reading the objects an incremental update rewrites.
//!
//! Streams are decoded only for `/FlateDecode` (with or without the PNG predictors of
//! §7.4.4.4), which is what xref and object streams use in practice.

use super::object::{Dict, Lexer, Object, Ref};
use super::PdfError;
use std::collections::{HashMap, HashSet};

/// How many xref sections (`/Prev` chain) are followed: a bound for hostile input.
const MAX_SECTIONS: usize = 4096;
/// Decoded stream size bound (xref and object streams only): 256 MiB.
const MAX_DECODED: usize = 256 << 20;

/// Where an object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Free,
    /// At this byte offset, with this generation.
    InFile {
        offset: u64,
        gen: u16,
    },
    /// In the object stream `stream`, at `index`.
    InStream {
        stream: u32,
        index: u32,
    },
}

/// The kind of the newest cross-reference section, which the update repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefKind {
    Table,
    Stream,
}

/// A PDF opened for reading.
#[derive(Debug)]
pub struct Document<'a> {
    pub data: &'a [u8],
    /// The newest entry of each object number.
    pub entries: HashMap<u32, Entry>,
    /// The newest trailer (or xref stream dictionary).
    pub trailer: Dict,
    /// Offset of the newest xref section (`startxref`).
    pub startxref: u64,
    pub kind: XrefKind,
    object_streams: HashMap<u32, ObjectStream>,
}

#[derive(Debug)]
struct ObjectStream {
    data: Vec<u8>,
    /// (object number, offset from `/First`) for each index.
    offsets: Vec<(u32, usize)>,
    first: usize,
}

fn malformed(what: impl Into<String>) -> PdfError {
    PdfError::Malformed(what.into())
}

impl<'a> Document<'a> {
    pub fn open(data: &'a [u8]) -> Result<Self, PdfError> {
        if !data.starts_with(b"%PDF-") && !data.get(..1024).unwrap_or(data).windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::NotPdf);
        }
        let startxref = find_startxref(data)?;
        let mut doc = Document {
            data,
            entries: HashMap::new(),
            trailer: Dict::default(),
            startxref,
            kind: XrefKind::Table,
            object_streams: HashMap::new(),
        };
        let mut seen = HashSet::new();
        let mut next = Some(startxref);
        let mut newest = true;
        while let Some(offset) = next {
            if !seen.insert(offset) || seen.len() > MAX_SECTIONS {
                return Err(malformed("the cross-reference sections loop"));
            }
            let (trailer, kind) = doc.read_section(offset)?;
            if newest {
                doc.trailer = trailer.clone();
                doc.kind = kind;
                newest = false;
            }
            // A hybrid file's table trailer points to an xref stream for the same update.
            if let Some(stm) = trailer.integer(b"XRefStm") {
                if seen.insert(stm) {
                    doc.read_section(stm)?;
                }
            }
            next = trailer.integer(b"Prev");
        }
        Ok(doc)
    }

    /// Reads one section at `offset`, adding the entries not yet known.
    fn read_section(&mut self, offset: u64) -> Result<(Dict, XrefKind), PdfError> {
        let at = usize::try_from(offset).ok().filter(|&o| o < self.data.len());
        let at = at.ok_or_else(|| malformed(format!("cross-reference offset {offset} is past the end")))?;
        let mut lx = Lexer::new(self.data, at);
        if lx.word() == b"xref" {
            loop {
                let save = lx.pos;
                if lx.word() == b"trailer" {
                    break;
                }
                lx.pos = save;
                let start = lx.unsigned()?;
                let count = lx.unsigned()?;
                if count > self.data.len() as u64 / 18 {
                    return Err(malformed("cross-reference subsection longer than the file"));
                }
                for i in 0..count {
                    let field1 = lx.unsigned()?;
                    let gen = lx.unsigned()?;
                    let kind = lx.word();
                    let num = u32::try_from(start + i).map_err(|_| malformed("object number out of range"))?;
                    let gen = u16::try_from(gen).map_err(|_| malformed("generation out of range"))?;
                    let entry = match kind {
                        b"n" => Entry::InFile { offset: field1, gen },
                        b"f" => Entry::Free,
                        _ => return Err(malformed("bad cross-reference entry")),
                    };
                    self.entries.entry(num).or_insert(entry);
                }
            }
            match lx.object()? {
                Object::Dict(d) => Ok((d, XrefKind::Table)),
                _ => Err(malformed("the trailer is not a dictionary")),
            }
        } else {
            let (_, dict, stream) = self.indirect_at(at)?;
            if dict.name(b"Type") != Some(b"XRef") {
                return Err(malformed(format!("no cross-reference section at byte {offset}")));
            }
            let stream = stream.ok_or_else(|| malformed("xref stream without data"))?;
            let decoded = decode(&dict, stream)?;
            self.read_xref_stream(&dict, &decoded)?;
            Ok((dict, XrefKind::Stream))
        }
    }

    fn read_xref_stream(&mut self, dict: &Dict, data: &[u8]) -> Result<(), PdfError> {
        let widths: Vec<usize> = match dict.get(b"W") {
            Some(Object::Array(w)) if w.len() == 3 => w
                .iter()
                .map(|o| o.as_integer().and_then(|n| usize::try_from(n).ok()).filter(|&n| n <= 8))
                .collect::<Option<_>>()
                .ok_or_else(|| malformed("bad /W in the xref stream"))?,
            _ => return Err(malformed("bad /W in the xref stream")),
        };
        let size = dict.integer(b"Size").ok_or_else(|| malformed("xref stream without /Size"))?;
        let index: Vec<u64> = match dict.get(b"Index") {
            Some(Object::Array(a)) if a.len() % 2 == 0 => {
                a.iter().map(Object::as_integer).collect::<Option<_>>().ok_or_else(|| malformed("bad /Index"))?
            }
            Some(_) => return Err(malformed("bad /Index")),
            None => vec![0, size],
        };
        let row = widths.iter().sum::<usize>();
        if row == 0 {
            return Err(malformed("empty xref stream rows"));
        }
        let mut rows = data.chunks_exact(row);
        for pair in index.chunks(2) {
            for i in 0..pair[1] {
                let Some(r) = rows.next() else {
                    return Err(malformed("xref stream shorter than its /Index"));
                };
                let field = |k: usize| -> u64 {
                    let start: usize = widths[..k].iter().sum();
                    r[start..start + widths[k]].iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                };
                let kind = if widths[0] == 0 { 1 } else { field(0) };
                let num = u32::try_from(pair[0] + i).map_err(|_| malformed("object number out of range"))?;
                let entry = match kind {
                    0 => Entry::Free,
                    1 => Entry::InFile {
                        offset: field(1),
                        gen: u16::try_from(field(2)).map_err(|_| malformed("generation out of range"))?,
                    },
                    2 => Entry::InStream {
                        stream: u32::try_from(field(1)).map_err(|_| malformed("object stream number out of range"))?,
                        index: u32::try_from(field(2)).map_err(|_| malformed("index out of range"))?,
                    },
                    _ => continue, // reserved types are null references (§7.5.8.3)
                };
                self.entries.entry(num).or_insert(entry);
            }
        }
        Ok(())
    }

    /// `n g obj … endobj` at `at`: the reference, the object (a stream's dictionary for a
    /// stream) and the stream's raw data.
    fn indirect_at(&self, at: usize) -> Result<(Ref, Dict, Option<&'a [u8]>), PdfError> {
        let (r, object, stream) = self.indirect_object_at(at)?;
        match object {
            Object::Dict(d) => Ok((r, d, stream)),
            _ => Err(malformed(format!("object {} is not a dictionary", r.num))),
        }
    }

    fn indirect_object_at(&self, at: usize) -> Result<(Ref, Object, Option<&'a [u8]>), PdfError> {
        let mut lx = Lexer::new(self.data, at);
        let num = lx.unsigned()?;
        let gen = lx.unsigned()?;
        lx.expect(b"obj")?;
        let r = Ref {
            num: u32::try_from(num).map_err(|_| malformed("object number out of range"))?,
            gen: u16::try_from(gen).map_err(|_| malformed("generation out of range"))?,
        };
        let object = lx.object()?;
        if let (Object::Dict(d), b"stream") = (&object, lx.word()) {
            // The keyword is followed by CRLF or LF (§7.3.8.1); tolerate a lone CR.
            let mut start = lx.pos;
            if self.data.get(start) == Some(&b'\r') {
                start += 1;
            }
            if self.data.get(start) == Some(&b'\n') {
                start += 1;
            }
            let length = match d.get(b"Length") {
                Some(Object::Ref(lr)) => self.length_object(*lr),
                Some(o) => o.as_integer(),
                None => None,
            };
            let end = length
                .and_then(|l| usize::try_from(l).ok())
                .and_then(|l| start.checked_add(l))
                .filter(|&e| e <= self.data.len() && ends_stream(&self.data[e..]))
                .or_else(|| find(&self.data[start..], b"endstream").map(|p| trim_eol(self.data, start, start + p)))
                .ok_or_else(|| malformed(format!("stream of object {num} has no end")))?;
            return Ok((r, object, Some(&self.data[start..end])));
        }
        Ok((r, object, None))
    }

    /// A stream's indirect `/Length`: an integer object in the file, read without looking
    /// for a stream after it (so that a chain of streams cannot recurse).
    fn length_object(&self, r: Ref) -> Option<u64> {
        let Some(Entry::InFile { offset, .. }) = self.entries.get(&r.num) else {
            return None;
        };
        let mut lx = Lexer::new(self.data, usize::try_from(*offset).ok()?);
        if lx.unsigned().ok()? != u64::from(r.num) {
            return None;
        }
        lx.unsigned().ok()?;
        lx.expect(b"obj").ok()?;
        lx.object().ok()?.as_integer()
    }

    /// The object `r` refers to (`Null` for a free or missing one, §7.3.10).
    pub fn resolve(&self, r: Ref) -> Result<Object, PdfError> {
        match self.entries.get(&r.num) {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::InFile { offset, .. }) => {
                let at = usize::try_from(*offset)
                    .ok()
                    .filter(|&o| o < self.data.len())
                    .ok_or_else(|| malformed(format!("object {} is past the end", r.num)))?;
                let (found, object, _) = self.indirect_object_at(at)?;
                if found.num != r.num {
                    return Err(malformed(format!("object {} is not at its offset", r.num)));
                }
                Ok(object)
            }
            Some(Entry::InStream { stream, index }) => {
                let os = self
                    .object_streams
                    .get(stream)
                    .ok_or_else(|| malformed(format!("object stream {stream} was not loaded")))?;
                let (num, offset) = *os
                    .offsets
                    .get(*index as usize)
                    .ok_or_else(|| malformed(format!("object {} is past its object stream", r.num)))?;
                if num != r.num {
                    return Err(malformed(format!("object {} is not in its object stream", r.num)));
                }
                let at = os.first.checked_add(offset).filter(|&a| a < os.data.len());
                let at = at.ok_or_else(|| malformed("object stream offset past its end"))?;
                Lexer::new(&os.data, at).object()
            }
        }
    }

    /// Loads the object stream holding `r`, if any, so that [`Document::resolve`] finds it.
    pub fn load(&mut self, r: Ref) -> Result<(), PdfError> {
        let Some(Entry::InStream { stream, .. }) = self.entries.get(&r.num).copied() else {
            return Ok(());
        };
        if self.object_streams.contains_key(&stream) {
            return Ok(());
        }
        let Some(Entry::InFile { offset, .. }) = self.entries.get(&stream).copied() else {
            return Err(malformed(format!("object stream {stream} is not in the file")));
        };
        let at = usize::try_from(offset).ok().filter(|&o| o < self.data.len());
        let at = at.ok_or_else(|| malformed(format!("object stream {stream} is past the end")))?;
        let (_, dict, data) = self.indirect_at(at)?;
        if dict.name(b"Type") != Some(b"ObjStm") {
            return Err(malformed(format!("object {stream} is not an object stream")));
        }
        let data = decode(&dict, data.ok_or_else(|| malformed("object stream without data"))?)?;
        let n = dict.integer(b"N").ok_or_else(|| malformed("object stream without /N"))?;
        let first = dict.integer(b"First").and_then(|f| usize::try_from(f).ok());
        let first = first.filter(|&f| f <= data.len()).ok_or_else(|| malformed("bad /First"))?;
        let mut lx = Lexer::new(&data[..first], 0);
        let mut offsets = Vec::new();
        for _ in 0..n.min(data.len() as u64) {
            let num = u32::try_from(lx.unsigned()?).map_err(|_| malformed("object number out of range"))?;
            let off = usize::try_from(lx.unsigned()?).map_err(|_| malformed("offset out of range"))?;
            offsets.push((num, off));
        }
        self.object_streams.insert(stream, ObjectStream { data, offsets, first });
        Ok(())
    }

    /// Loads and resolves `r`.
    pub fn get(&mut self, r: Ref) -> Result<Object, PdfError> {
        self.load(r)?;
        self.resolve(r)
    }

    /// `o` itself, or what it refers to.
    pub fn direct(&mut self, o: &Object) -> Result<Object, PdfError> {
        match o {
            Object::Ref(r) => self.get(*r),
            other => Ok(other.clone()),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn ends_stream(rest: &[u8]) -> bool {
    let mut lx = Lexer::new(rest, 0);
    lx.word() == b"endstream"
}

fn trim_eol(data: &[u8], start: usize, mut end: usize) -> usize {
    if end > start && data[end - 1] == b'\n' {
        end -= 1;
    }
    if end > start && data[end - 1] == b'\r' {
        end -= 1;
    }
    end
}

/// The offset after the last `startxref`.
fn find_startxref(data: &[u8]) -> Result<u64, PdfError> {
    let tail_start = data.len().saturating_sub(4096);
    let tail = &data[tail_start..];
    let pos = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| malformed("no startxref in the last 4 KiB (a truncated file?)"))?;
    Lexer::new(data, tail_start + pos + 9).unsigned()
}

/// A stream's data decoded: none or `/FlateDecode`, with its predictor.
fn decode(dict: &Dict, raw: &[u8]) -> Result<Vec<u8>, PdfError> {
    let filter = match dict.get(b"Filter") {
        None => None,
        Some(Object::Name(n)) => Some(n.as_slice()),
        Some(Object::Array(a)) if a.is_empty() => None,
        Some(Object::Array(a)) if a.len() == 1 => match &a[0] {
            Object::Name(n) => Some(n.as_slice()),
            _ => return Err(malformed("bad /Filter")),
        },
        Some(_) => return Err(PdfError::Unsupported("a stream with several filters".into())),
    };
    let decoded = match filter {
        None => raw.to_vec(),
        Some(b"FlateDecode") => miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(raw, MAX_DECODED)
            .map_err(|e| malformed(format!("cannot inflate a stream: {e:?}")))?,
        Some(other) => {
            return Err(PdfError::Unsupported(format!("the {} stream filter", String::from_utf8_lossy(other))))
        }
    };
    let parms = match dict.get(b"DecodeParms") {
        Some(Object::Dict(d)) => Some(d),
        Some(Object::Array(a)) => match a.first() {
            Some(Object::Dict(d)) => Some(d),
            _ => None,
        },
        _ => None,
    };
    match parms.and_then(|p| p.integer(b"Predictor")).unwrap_or(1) {
        1 => Ok(decoded),
        p @ 10..=15 => {
            let parms = parms.unwrap_or_else(|| unreachable!("a predictor comes from the parameters"));
            let columns = parms.integer(b"Columns").unwrap_or(1);
            let colors = parms.integer(b"Colors").unwrap_or(1);
            let bpc = parms.integer(b"BitsPerComponent").unwrap_or(8);
            let bpp = usize::try_from((colors * bpc).div_ceil(8)).map_err(|_| malformed("bad predictor"))?;
            let width =
                usize::try_from((columns * colors * bpc).div_ceil(8)).map_err(|_| malformed("bad predictor"))?;
            if width == 0 || bpp == 0 || width > 1 << 16 || bpp > 8 {
                return Err(malformed(format!("bad PNG predictor parameters ({p})")));
            }
            png_unpredict(&decoded, width, bpp)
        }
        p => Err(PdfError::Unsupported(format!("predictor {p}"))),
    }
}

/// Undoes the PNG predictors (RFC 2083 §6): each row starts with its filter type.
fn png_unpredict(data: &[u8], width: usize, bpp: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; width];
    for row in data.chunks(width + 1) {
        if row.len() != width + 1 {
            return Err(malformed("PNG predictor row cut short"));
        }
        let mut cur = row[1..].to_vec();
        for i in 0..width {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = match row[0] {
                0 => cur[i],
                1 => cur[i].wrapping_add(a),
                2 => cur[i].wrapping_add(b),
                3 => cur[i].wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => cur[i].wrapping_add(paeth(a, b, c)),
                t => return Err(malformed(format!("PNG predictor type {t}"))),
            };
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
