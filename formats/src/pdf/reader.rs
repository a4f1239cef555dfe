//! Reading a PDF through its cross-reference information (ISO 32000-1 §7.5.4 xref tables,
//! §7.5.5 trailer, §7.5.6 incremental updates, §7.5.7 object streams, §7.5.8 xref streams),
//! as far as finding and reading the objects an incremental update rewrites.
//!
//! Streams are decoded only for `/FlateDecode` (with or without the PNG predictors of
//! §7.4.4.4), which is what xref and object streams use in practice.

use super::object::{Dict, Lexer, Object, Ref};
use super::PdfError;
use std::collections::{HashMap, HashSet};

/// Bytes asked for at once when a sparse file lacks what the reader needs.
pub const NEED_CHUNK: usize = 64 << 10;
/// The most a sparse read asks for from one position (xref tables of a million objects fit).
const MAX_WINDOW: usize = 32 << 20;

/// A file of which only some parts are in memory: what the reader needed (the tail, the
/// cross-reference sections, the objects an update rewrites), kept as sorted, disjoint,
/// merged runs. The rest (content streams, images: nearly all of a large PDF) is never held.
#[derive(Clone, Debug, Default)]
pub struct Sparse {
    size: usize,
    runs: Vec<(usize, Vec<u8>)>,
}

impl Sparse {
    pub fn new(size: usize) -> Self {
        Self { size, runs: Vec::new() }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes held, in all.
    pub fn held(&self) -> usize {
        self.runs.iter().map(|(_, r)| r.len()).sum()
    }

    /// Adds `bytes`, which are the file's from `offset` on (clipped to the file's size).
    pub fn insert(&mut self, offset: usize, bytes: &[u8]) {
        let end = offset.saturating_add(bytes.len()).min(self.size);
        if offset >= end {
            return;
        }
        let bytes = &bytes[..end - offset];
        // The runs that touch [offset, end] merge with it.
        let first = self.runs.partition_point(|(s, r)| s + r.len() < offset);
        let last = self.runs.partition_point(|(s, _)| *s <= end);
        let mut start = offset;
        let mut merged = Vec::new();
        if first < last {
            start = start.min(self.runs[first].0);
            let stop = end.max(self.runs[last - 1].0 + self.runs[last - 1].1.len());
            merged.resize(stop - start, 0);
            for (s, r) in &self.runs[first..last] {
                merged[s - start..s - start + r.len()].copy_from_slice(r);
            }
        } else {
            merged.resize(end - start, 0);
        }
        merged[offset - start..end - start].copy_from_slice(bytes);
        self.runs.splice(first..last, [(start, merged)]);
    }

    /// The run that holds `at`: its start and its bytes.
    fn run_at(&self, at: usize) -> Option<(usize, &[u8])> {
        let i = self.runs.partition_point(|(s, _)| *s <= at).checked_sub(1)?;
        let (s, r) = &self.runs[i];
        (at < s + r.len()).then_some((*s, r.as_slice()))
    }
}

/// What the reader reads: the whole file, or the parts of it a [`Sparse`] holds.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    Whole(&'a [u8]),
    Sparse(&'a Sparse),
}

impl<'a> Source<'a> {
    pub fn len(self) -> usize {
        match self {
            Self::Whole(d) => d.len(),
            Self::Sparse(s) => s.size,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The bytes from `at` on that are held, at least `min` of them (or up to the end of the
    /// file): `(base, bytes)` with `bytes[0]` the file's byte `base`, `base <= at`. Missing:
    /// [`PdfError::Need`].
    fn window(self, at: usize, min: usize) -> Result<(usize, &'a [u8]), PdfError> {
        match self {
            Self::Whole(d) => Ok((0, d)),
            Self::Sparse(s) => {
                let want = at.saturating_add(min).min(s.size);
                match s.run_at(at) {
                    Some((base, run)) if base + run.len() >= want => Ok((base, run)),
                    Some((base, run)) => Err(need(base + run.len(), s.size)),
                    None => Err(need(at, s.size)),
                }
            }
        }
    }

    /// Exactly the bytes `[start, end)`.
    pub fn range(self, start: usize, end: usize) -> Result<&'a [u8], PdfError> {
        let (base, w) = self.window(start, end - start)?;
        Ok(&w[start - base..end - base])
    }

    /// Runs `f` on a lexer at `at`. In a sparse file, a read that reached the end of the
    /// bytes held (a token may go on after them) or failed there asks for more instead.
    fn lex<T>(self, at: usize, f: impl FnOnce(&mut Lexer<'a>) -> Result<T, PdfError>) -> Result<(T, usize), PdfError> {
        let (base, w) = self.window(at, NEED_CHUNK)?;
        let mut lx = Lexer::new(w, at - base);
        let r = f(&mut lx);
        let short = matches!(self, Self::Sparse(_)) && base + w.len() < self.len();
        // Past MAX_WINDOW, a failure is the file's, not a lack of bytes: a damaged object
        // does not make the reader take the whole file in.
        if short && w.len() - (at - base) < MAX_WINDOW && (r.is_err() || lx.pos >= w.len()) {
            // Twice as much each time: a long xref table takes a few rounds, not hundreds.
            let end = base + w.len();
            let length = NEED_CHUNK.max(w.len()).min(self.len() - end);
            return Err(PdfError::Need { offset: end, length });
        }
        r.map(|v| (v, base + lx.pos))
    }
}

fn need(offset: usize, size: usize) -> PdfError {
    PdfError::Need { offset, length: NEED_CHUNK.min(size.saturating_sub(offset)).max(1) }
}

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
    pub data: Source<'a>,
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
    pub fn open(data: Source<'a>) -> Result<Self, PdfError> {
        let head = data.range(0, data.len().min(1024))?;
        if !head.starts_with(b"%PDF-") && !head.windows(5).any(|w| w == b"%PDF-") {
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
        let size = self.data.len() as u64;
        let (table, _) = self.data.lex(at, |lx| {
            if lx.word() != b"xref" {
                return Ok(None);
            }
            let mut entries = Vec::new();
            loop {
                let save = lx.pos;
                if lx.word() == b"trailer" {
                    break;
                }
                lx.pos = save;
                let start = lx.unsigned()?;
                let count = lx.unsigned()?;
                if count > size / 18 {
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
                    entries.push((num, entry));
                }
            }
            match lx.object()? {
                Object::Dict(d) => Ok(Some((entries, d))),
                _ => Err(malformed("the trailer is not a dictionary")),
            }
        })?;
        if let Some((entries, trailer)) = table {
            for (num, entry) in entries {
                self.entries.entry(num).or_insert(entry);
            }
            Ok((trailer, XrefKind::Table))
        } else {
            let (r, dict, stream) = self.indirect_at(at)?;
            if dict.name(b"Type") != Some(b"XRef") {
                return Err(malformed(format!("no cross-reference section at byte {offset}")));
            }
            let stream = stream.ok_or_else(|| malformed("xref stream without data"))?;
            let decoded = decode(&dict, self.stream_data(stream, r.num)?)?;
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
    /// stream) and where the stream's data starts, with its `/Length` (read with
    /// [`Document::stream_data`] only when needed: a content stream is never read).
    fn indirect_at(&self, at: usize) -> Result<(Ref, Dict, Option<StreamAt>), PdfError> {
        let (r, object, stream) = self.indirect_object_at(at)?;
        match object {
            Object::Dict(d) => Ok((r, d, stream)),
            _ => Err(malformed(format!("object {} is not a dictionary", r.num))),
        }
    }

    fn indirect_object_at(&self, at: usize) -> Result<(Ref, Object, Option<StreamAt>), PdfError> {
        let ((num, gen, object, keyword), after) = self.data.lex(at, |lx| {
            let num = lx.unsigned()?;
            let gen = lx.unsigned()?;
            lx.expect(b"obj")?;
            let object = lx.object()?;
            let keyword = matches!(object, Object::Dict(_)) && lx.word() == b"stream";
            Ok((num, gen, object, keyword))
        })?;
        let r = Ref {
            num: u32::try_from(num).map_err(|_| malformed("object number out of range"))?,
            gen: u16::try_from(gen).map_err(|_| malformed("generation out of range"))?,
        };
        if let (Object::Dict(d), true) = (&object, keyword) {
            // The keyword is followed by CRLF or LF (§7.3.8.1); tolerate a lone CR.
            let mut start = after;
            let eol = self.data.range(start, (start + 2).min(self.data.len()))?;
            if eol.first() == Some(&b'\r') {
                start += 1;
            }
            if eol.get(start - after) == Some(&b'\n') {
                start += 1;
            }
            let length = match d.get(b"Length") {
                Some(Object::Ref(lr)) => self.length_object(*lr)?,
                Some(o) => o.as_integer(),
                None => None,
            };
            let length = length.and_then(|l| usize::try_from(l).ok());
            return Ok((r, object, Some(StreamAt { start, length })));
        }
        Ok((r, object, None))
    }

    /// A stream's raw data: `/Length` bytes when `endstream` follows them, else up to the
    /// next `endstream`.
    fn stream_data(&self, stream: StreamAt, num: u32) -> Result<&'a [u8], PdfError> {
        let StreamAt { start, length } = stream;
        if let Some(end) = length.and_then(|l| start.checked_add(l)).filter(|&e| e <= self.data.len()) {
            let (ends, _) = self.data.lex(end, |lx| Ok(lx.word() == b"endstream"))?;
            if ends {
                return self.data.range(start, end);
            }
        }
        // No usable length: the data runs to the next `endstream` (held, in a sparse file).
        let (base, w) = self.data.window(start, 0)?;
        match find(&w[start - base..], b"endstream") {
            Some(p) => Ok(&w[start - base..trim_eol(w, start - base, start - base + p)]),
            None if base + w.len() < self.data.len() => Err(need(base + w.len(), self.data.len())),
            None => Err(malformed(format!("stream of object {num} has no end"))),
        }
    }

    /// A stream's indirect `/Length`: an integer object in the file, read without looking
    /// for a stream after it (so that a chain of streams cannot recurse).
    fn length_object(&self, r: Ref) -> Result<Option<u64>, PdfError> {
        let Some(Entry::InFile { offset, .. }) = self.entries.get(&r.num) else {
            return Ok(None);
        };
        let Some(at) = usize::try_from(*offset).ok().filter(|&o| o < self.data.len()) else {
            return Ok(None);
        };
        let read = |lx: &mut Lexer<'a>| -> Result<Option<u64>, PdfError> {
            if lx.unsigned()? != u64::from(r.num) {
                return Ok(None);
            }
            lx.unsigned()?;
            lx.expect(b"obj")?;
            Ok(lx.object()?.as_integer())
        };
        match self.data.lex(at, read) {
            Ok((v, _)) => Ok(v),
            Err(e @ PdfError::Need { .. }) => Err(e),
            Err(_) => Ok(None),
        }
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
        let data = data.ok_or_else(|| malformed("object stream without data"))?;
        let data = decode(&dict, self.stream_data(data, stream)?)?;
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
fn find_startxref(data: Source<'_>) -> Result<u64, PdfError> {
    let tail_start = data.len().saturating_sub(4096);
    let tail = data.range(tail_start, data.len())?;
    let pos = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| malformed("no startxref in the last 4 KiB (a truncated file?)"))?;
    Lexer::new(tail, pos + 9).unsigned()
}

/// Where a stream's data starts, and its `/Length` when there is a usable one.
#[derive(Clone, Copy, Debug)]
pub struct StreamAt {
    start: usize,
    length: Option<usize>,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod sparse_tests {
    use super::*;

    #[test]
    fn runs_merge_and_stay_sorted() {
        let file: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut s = Sparse::new(file.len());
        s.insert(500, &file[500..600]);
        s.insert(100, &file[100..200]);
        s.insert(900, &file[900..]);
        assert_eq!(s.runs.iter().map(|(a, r)| (*a, r.len())).collect::<Vec<_>>(), [(100, 100), (500, 100), (900, 100)]);
        s.insert(150, &file[150..520]); // joins the first two
        s.insert(600, &file[600..700]); // touches the second
        s.insert(990, &file[990..]); // inside the last
        assert_eq!(s.runs.iter().map(|(a, r)| (*a, r.len())).collect::<Vec<_>>(), [(100, 600), (900, 100)]);
        for (a, r) in &s.runs {
            assert_eq!(r.as_slice(), &file[*a..a + r.len()]);
        }
        s.insert(2000, b"past the end");
        assert_eq!(s.held(), 700);
        let src = Source::Sparse(&s);
        assert_eq!(src.range(120, 130).unwrap(), &file[120..130]);
        assert_eq!(src.range(50, 60).unwrap_err(), PdfError::Need { offset: 50, length: 950 });
        assert_eq!(src.range(650, 750).unwrap_err(), PdfError::Need { offset: 700, length: 300 });
    }
}
