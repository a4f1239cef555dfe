//! PDF objects as far as an incremental update needs them (ISO 32000-1 §7.2 lexical
//! conventions, §7.3 objects).
//!
//! Numbers, strings and names are kept as the tokens that were read, so an object written
//! again says exactly what it said (no re-encoding of a string, no float rounding).

use super::PdfError;

/// How deep arrays and dictionaries may nest (a bound for hostile input, far above real files).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    /// The number's token.
    Number(Vec<u8>),
    /// A literal `(…)` or hex `<…>` string, delimiters included.
    String(Vec<u8>),
    /// A name without its slash, as written (`#xx` escapes kept).
    Name(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Ref(Ref),
}

/// An indirect reference `n g R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    pub num: u32,
    pub gen: u16,
}

/// A dictionary, in the order its keys were read; keys are names without the slash.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, in place when it is there, at the end otherwise.
    pub fn set(&mut self, key: &[u8], value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.to_vec(), value)),
        }
    }

    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Object::Name(n)) => Some(n),
            _ => None,
        }
    }

    pub fn reference(&self, key: &[u8]) -> Option<Ref> {
        match self.get(key) {
            Some(Object::Ref(r)) => Some(*r),
            _ => None,
        }
    }

    /// A direct non-negative integer.
    pub fn integer(&self, key: &[u8]) -> Option<u64> {
        self.get(key).and_then(Object::as_integer)
    }
}

impl Object {
    pub fn as_integer(&self) -> Option<u64> {
        match self {
            Object::Number(n) if !n.is_empty() && n.len() <= 19 && n.iter().all(u8::is_ascii_digit) => {
                std::str::from_utf8(n).ok()?.parse().ok()
            }
            Object::Number(n) if n.first() == Some(&b'+') => Object::Number(n[1..].to_vec()).as_integer(),
            _ => None,
        }
    }

    pub fn integer(value: u64) -> Self {
        Object::Number(value.to_string().into_bytes())
    }

    /// Writes the object in PDF syntax.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Object::Null => out.extend_from_slice(b"null"),
            Object::Bool(true) => out.extend_from_slice(b"true"),
            Object::Bool(false) => out.extend_from_slice(b"false"),
            Object::Number(n) | Object::String(n) => out.extend_from_slice(n),
            Object::Name(n) => {
                out.push(b'/');
                out.extend_from_slice(n);
            }
            Object::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Object::Dict(d) => d.write(out),
            Object::Ref(r) => out.extend_from_slice(format!("{} {} R", r.num, r.gen).as_bytes()),
        }
    }
}

impl Dict {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (k, v) in &self.0 {
            out.push(b'/');
            out.extend_from_slice(k);
            out.push(b' ');
            v.write(out);
        }
        out.extend_from_slice(b">>");
    }
}

pub fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// A cursor over PDF bytes.
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Self { data, pos }
    }

    fn malformed(&self, what: &str) -> PdfError {
        PdfError::Malformed(format!("{what} at byte {}", self.pos))
    }

    /// Skips white space and comments.
    pub fn skip_space(&mut self) {
        while let Some(&b) = self.data.get(self.pos) {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(&c) = self.data.get(self.pos) {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A run of regular characters (a keyword or a number), after white space.
    pub fn word(&mut self) -> &'a [u8] {
        self.skip_space();
        let start = self.pos;
        while self.data.get(self.pos).is_some_and(|&b| is_regular(b)) {
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    /// Reads `keyword` or fails.
    pub fn expect(&mut self, keyword: &[u8]) -> Result<(), PdfError> {
        let at = self.pos;
        if self.word() == keyword {
            Ok(())
        } else {
            self.pos = at;
            Err(self.malformed(&format!("expected {:?}", String::from_utf8_lossy(keyword))))
        }
    }

    /// A non-negative integer token.
    pub fn unsigned(&mut self) -> Result<u64, PdfError> {
        let w = self.word();
        if w.is_empty() || w.len() > 19 || !w.iter().all(u8::is_ascii_digit) {
            return Err(self.malformed("expected an integer"));
        }
        std::str::from_utf8(w).ok().and_then(|s| s.parse().ok()).ok_or_else(|| self.malformed("expected an integer"))
    }

    pub fn object(&mut self) -> Result<Object, PdfError> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_DEPTH {
            return Err(self.malformed("objects nested too deep"));
        }
        self.skip_space();
        let Some(&b) = self.data.get(self.pos) else {
            return Err(self.malformed("unexpected end of data"));
        };
        match b {
            b'/' => {
                self.pos += 1;
                let start = self.pos;
                while self.data.get(self.pos).is_some_and(|&b| is_regular(b)) {
                    self.pos += 1;
                }
                Ok(Object::Name(self.data[start..self.pos].to_vec()))
            }
            b'(' => self.literal_string(),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut dict = Dict::default();
                loop {
                    self.skip_space();
                    match self.data.get(self.pos) {
                        Some(b'>') if self.data.get(self.pos + 1) == Some(&b'>') => {
                            self.pos += 2;
                            return Ok(Object::Dict(dict));
                        }
                        Some(b'/') => {
                            let Object::Name(key) = self.object_at_depth(depth + 1)? else {
                                unreachable!("a slash starts a name")
                            };
                            let value = self.object_at_depth(depth + 1)?;
                            // A null value is the same as an absent key (§7.3.7).
                            if value != Object::Null {
                                dict.set(&key, value);
                            }
                        }
                        _ => return Err(self.malformed("dictionary key is not a name")),
                    }
                }
            }
            b'<' => {
                let start = self.pos;
                self.pos += 1;
                while let Some(&c) = self.data.get(self.pos) {
                    self.pos += 1;
                    if c == b'>' {
                        return Ok(Object::String(self.data[start..self.pos].to_vec()));
                    }
                    if !c.is_ascii_hexdigit() && !is_whitespace(c) {
                        return Err(self.malformed("bad hex string"));
                    }
                }
                Err(self.malformed("unterminated hex string"))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    if self.data.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Ok(Object::Array(items));
                    }
                    items.push(self.object_at_depth(depth + 1)?);
                }
            }
            _ => {
                let at = self.pos;
                let w = self.word();
                match w {
                    b"null" => Ok(Object::Null),
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    _ if is_number(w) => {
                        // `n g R`?
                        if w.iter().all(u8::is_ascii_digit) {
                            let save = self.pos;
                            let g = self.word();
                            if !g.is_empty() && g.iter().all(u8::is_ascii_digit) && self.word() == b"R" {
                                let num = parse_small(w);
                                let gen = parse_small(g);
                                if let (Some(num), Some(gen)) = (num, gen) {
                                    if let (Ok(num), Ok(gen)) = (u32::try_from(num), u16::try_from(gen)) {
                                        return Ok(Object::Ref(Ref { num, gen }));
                                    }
                                }
                                return Err(self.malformed("object number out of range"));
                            }
                            self.pos = save;
                        }
                        Ok(Object::Number(w.to_vec()))
                    }
                    _ => {
                        self.pos = at;
                        Err(self.malformed("unexpected token"))
                    }
                }
            }
        }
    }

    fn literal_string(&mut self) -> Result<Object, PdfError> {
        let start = self.pos;
        self.pos += 1;
        let mut depth = 1usize;
        while let Some(&c) = self.data.get(self.pos) {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(Object::String(self.data[start..self.pos].to_vec()));
                    }
                }
                _ => {}
            }
        }
        Err(self.malformed("unterminated string"))
    }
}

fn is_number(w: &[u8]) -> bool {
    let digits = w.strip_prefix(b"+").or_else(|| w.strip_prefix(b"-")).unwrap_or(w);
    !digits.is_empty()
        && digits.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && digits.iter().filter(|&&b| b == b'.').count() <= 1
        && digits != b"."
}

fn parse_small(w: &[u8]) -> Option<u64> {
    if w.len() > 10 {
        return None;
    }
    std::str::from_utf8(w).ok()?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn round_trip(text: &[u8]) -> Vec<u8> {
        let o = Lexer::new(text, 0).object().unwrap();
        let mut out = Vec::new();
        o.write(&mut out);
        out
    }

    #[test]
    fn objects() {
        assert_eq!(
            round_trip(b"<</A 1 0 R/B [1 -2.5 (a\\)(b)) <ab 01>]/C null/D true>>"),
            b"<</A 1 0 R/B [1 -2.5 (a\\)(b)) <ab 01>]/D true>>"
        );
        assert_eq!(round_trip(b"[1 2 3 R 4]"), b"[1 2 3 R 4]");
        assert_eq!(round_trip(b"  % comment\n/Name#20x"), b"/Name#20x");
        assert!(Lexer::new(b"<</A>>", 0).object().is_err());
        assert!(Lexer::new(b"(abc", 0).object().is_err());
        assert!(Lexer::new(&[b'['; 200], 0).object().is_err());
        assert!(Lexer::new(b"99999999999 0 R", 0).object().is_err());
    }
}
