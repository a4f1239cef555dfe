//! A zip archive of members stored as they are (APPNOTE.TXT 6.3.10: compression method 0),
//! written around contents that stay where they are: the caller gives each member's name,
//! size and CRC-32 (a [`Crc32`] over its bytes as they stream by) and gets the bytes that go
//! before each member and the bytes after the last one ([`Archive`]), to be laid end to end
//! with the members (in the extension, Blob parts: no member is copied or held whole).
//!
//! Stored, not deflated: the members are signed PDFs (compressed already), XAdES jetons and
//! `.p7s` files, all small or incompressible. Names are UTF-8, said so by general purpose bit
//! 11. No ZIP64: an archive that would need it (a member or the archive at 4 GiB or more, more
//! than 65 535 members) is refused with [`ZipError::TooLarge`]. Each size and CRC-32 is known
//! before the member is written, so there is no data descriptor (bit 3).

use std::collections::HashSet;

/// The CRC-32 of zip (ISO 3309, reflected polynomial 0xEDB88320), fed piece by piece.
#[derive(Clone, Debug)]
pub struct Crc32 {
    state: u32,
}

const CRC_TABLE: [[u32; 256]; 4] = crc_tables();

/// The byte-at-a-time table and three more for four bytes per step ("slicing by four").
const fn crc_tables() -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut s = 1;
        while s < 4 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            s += 1;
        }
        i += 1;
    }
    t
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    pub fn new() -> Self {
        Self { state: 0xFFFF_FFFF }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        let mut c = self.state;
        let mut words = bytes.chunks_exact(4);
        for w in &mut words {
            c ^= u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            c = CRC_TABLE[3][(c & 0xFF) as usize]
                ^ CRC_TABLE[2][((c >> 8) & 0xFF) as usize]
                ^ CRC_TABLE[1][((c >> 16) & 0xFF) as usize]
                ^ CRC_TABLE[0][(c >> 24) as usize];
        }
        for &b in words.remainder() {
            c = CRC_TABLE[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.state = c;
    }

    /// The CRC-32 of everything fed so far (feeding may go on).
    pub fn value(&self) -> u32 {
        !self.state
    }
}

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.value()
}

/// One member: its name in the archive, its size and the CRC-32 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    pub name: &'a str,
    pub size: u64,
    pub crc32: u32,
}

/// The members' modification time, in MS-DOS form (local time, two-second steps, 1980–2107).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DosTime {
    time: u16,
    date: u16,
}

impl DosTime {
    /// From a calendar date and time; a date out of MS-DOS's range is brought to its nearest
    /// end, a field out of its own range is refused.
    pub fn new(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        if year < 1980 {
            return Some(Self { time: 0, date: (1 << 5) | 1 });
        }
        if year > 2107 {
            return Some(Self { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 });
        }
        // Every field checked above: each fits its bits.
        let date = ((year - 1980) << 9) | (month << 5) | day;
        let time = (hour << 11) | (minute << 5) | (second / 2);
        Some(Self { time: u16::try_from(time).ok()?, date: u16::try_from(date).ok()? })
    }
}

/// What goes around the members: `headers[i]` right before member `i`, `trailer` after the
/// last (the central directory and its end record). `size`: the whole archive's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archive {
    pub headers: Vec<Vec<u8>>,
    pub trailer: Vec<u8>,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZipError {
    /// A name that is empty, a path (`/`, `\`), `.` or `..`, has control characters or is
    /// longer than 65 535 bytes: members are files side by side, never placed elsewhere.
    BadName(String),
    /// Two members with the same name (letter case aside: many file systems ignore it).
    DuplicateName(String),
    /// The archive would need ZIP64 (a member, an offset or the central directory at 4 GiB or
    /// more, more than 65 535 members), which is not written.
    TooLarge,
}

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZipError::BadName(n) => write!(f, "{n:?} cannot name a member of the zip"),
            ZipError::DuplicateName(n) => write!(f, "two members of the zip are named {n:?}"),
            ZipError::TooLarge => {
                f.write_str("the zip would reach 4 GiB or 65 535 files, which needs ZIP64; it is not written")
            }
        }
    }
}

impl std::error::Error for ZipError {}

const LOCAL_HEADER: u32 = 0x0403_4B50;
const CENTRAL_HEADER: u32 = 0x0201_4B50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4B50;
/// 2.0: what every reader extracts (stored members need 1.0).
const VERSION: u16 = 20;
/// Made by: Unix (3), 3.0. With MS-DOS (0), Info-ZIP's unzip reads names as an OEM code page
/// and extracts with no permission at all; Unix lets the external attributes say `rw-r--r--`.
const MADE_BY: u16 = (3 << 8) | 30;
/// A regular file (`S_IFREG`), rw-r--r--: the high half of the external attributes.
const UNIX_FILE: u32 = 0o100_644;
/// General purpose bit 11: the name is UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// Sizes and offsets at this or above are ZIP64's marks.
const LIMIT: u64 = 0xFFFF_FFFF;

fn check_name(name: &str) -> Result<(), ZipError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > usize::from(u16::MAX)
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(ZipError::BadName(name.to_owned()));
    }
    Ok(())
}

/// The headers and the trailer of an archive holding `members` in that order.
pub fn archive(members: &[Member<'_>], time: DosTime) -> Result<Archive, ZipError> {
    let count = u16::try_from(members.len()).map_err(|_| ZipError::TooLarge)?;
    let mut seen = HashSet::new();
    for m in members {
        check_name(m.name)?;
        if !seen.insert(m.name.to_lowercase()) {
            return Err(ZipError::DuplicateName(m.name.to_owned()));
        }
    }
    let small = |n: u64| u32::try_from(n).ok().filter(|&n| u64::from(n) < LIMIT).ok_or(ZipError::TooLarge);
    let mut headers = Vec::with_capacity(members.len());
    let mut central = Vec::new();
    let mut offset: u64 = 0;
    for m in members {
        let size = small(m.size)?;
        let at = small(offset)?;
        // check_name: at most u16::MAX bytes.
        let name_len = u16::try_from(m.name.len()).map_err(|_| ZipError::BadName(m.name.to_owned()))?;
        let mut h = Vec::with_capacity(30 + m.name.len());
        put32(&mut h, LOCAL_HEADER);
        put16(&mut h, VERSION);
        put16(&mut h, UTF8_NAMES);
        put16(&mut h, 0); // stored
        put16(&mut h, time.time);
        put16(&mut h, time.date);
        put32(&mut h, m.crc32);
        put32(&mut h, size); // compressed
        put32(&mut h, size);
        put16(&mut h, name_len);
        put16(&mut h, 0); // no extra field
        h.extend_from_slice(m.name.as_bytes());

        put32(&mut central, CENTRAL_HEADER);
        put16(&mut central, MADE_BY);
        put16(&mut central, VERSION);
        put16(&mut central, UTF8_NAMES);
        put16(&mut central, 0);
        put16(&mut central, time.time);
        put16(&mut central, time.date);
        put32(&mut central, m.crc32);
        put32(&mut central, size);
        put32(&mut central, size);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra field
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk number
        put16(&mut central, 0); // internal attributes
        put32(&mut central, UNIX_FILE << 16); // external attributes: a file, rw-r--r--
        put32(&mut central, at);
        central.extend_from_slice(m.name.as_bytes());

        offset += h.len() as u64 + m.size;
        headers.push(h);
    }
    let directory_at = small(offset)?;
    let directory_size = small(central.len() as u64)?;
    let mut trailer = central;
    put32(&mut trailer, END_OF_CENTRAL_DIRECTORY);
    put16(&mut trailer, 0); // this disk
    put16(&mut trailer, 0); // the central directory's disk
    put16(&mut trailer, count);
    put16(&mut trailer, count);
    put32(&mut trailer, directory_size);
    put32(&mut trailer, directory_at);
    put16(&mut trailer, 0); // no comment
    let size = offset + trailer.len() as u64;
    Ok(Archive { headers, trailer, size })
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn time() -> DosTime {
        DosTime::new(2026, 12, 3, 9, 41, 27).unwrap()
    }

    fn whole(members: &[(&str, &[u8])]) -> Vec<u8> {
        let list: Vec<Member<'_>> = members
            .iter()
            .map(|(name, bytes)| Member { name, size: bytes.len() as u64, crc32: crc32(bytes) })
            .collect();
        let a = archive(&list, time()).unwrap();
        let mut out = Vec::new();
        for (h, (_, bytes)) in a.headers.iter().zip(members) {
            out.extend_from_slice(h);
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(&a.trailer);
        assert_eq!(out.len() as u64, a.size);
        out
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn crc32_known_values() {
        // The check value of CRC-32/ISO-HDLC (the catalogue of parametrised CRC algorithms).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn crc32_in_pieces_is_the_crc_of_the_whole() {
        let data: Vec<u8> = (0..10_007u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let whole = crc32(&data);
        for cut in [0, 1, 3, 4, 5, 4096, 10_006, 10_007] {
            let mut c = Crc32::new();
            c.update(&data[..cut]);
            c.update(&data[cut..]);
            assert_eq!(c.value(), whole, "cut at {cut}");
        }
        let mut c = Crc32::new();
        for b in &data {
            c.update(std::slice::from_ref(b));
        }
        assert_eq!(c.value(), whole);
    }

    #[test]
    fn layout_of_a_two_member_archive() {
        let zip = whole(&[("déjà signé.pdf", b"%PDF-1.7 a"), ("DC1.xml.xml", b"<x/>")]);
        let name = "déjà signé.pdf".as_bytes();
        assert_eq!(u32_at(&zip, 0), LOCAL_HEADER);
        assert_eq!(u16_at(&zip, 6), 1 << 11, "UTF-8 names");
        assert_eq!(u16_at(&zip, 8), 0, "stored");
        assert_eq!(u32_at(&zip, 14), crc32(b"%PDF-1.7 a"));
        assert_eq!(u32_at(&zip, 18), 10);
        assert_eq!(u32_at(&zip, 22), 10);
        assert_eq!(usize::from(u16_at(&zip, 26)), name.len());
        assert_eq!(&zip[30..30 + name.len()], name);
        assert_eq!(&zip[30 + name.len()..30 + name.len() + 10], b"%PDF-1.7 a");
        let second = 30 + name.len() + 10;
        assert_eq!(u32_at(&zip, second), LOCAL_HEADER);
        let eocd = zip.len() - 22;
        assert_eq!(u32_at(&zip, eocd), END_OF_CENTRAL_DIRECTORY);
        assert_eq!(u16_at(&zip, eocd + 8), 2);
        assert_eq!(u16_at(&zip, eocd + 10), 2);
        let cd_size = u32_at(&zip, eocd + 12) as usize;
        let cd_at = u32_at(&zip, eocd + 16) as usize;
        assert_eq!(cd_at + cd_size, eocd);
        assert_eq!(u32_at(&zip, cd_at), CENTRAL_HEADER);
        assert_eq!(u32_at(&zip, cd_at + 42), 0, "first member at 0");
        let next = cd_at + 46 + name.len();
        assert_eq!(u32_at(&zip, next), CENTRAL_HEADER);
        assert_eq!(u32_at(&zip, next + 42) as usize, second);
        assert_eq!(u16_at(&zip, cd_at + 12), time().time);
        assert_eq!(u16_at(&zip, cd_at + 14), time().date);
    }

    #[test]
    fn an_empty_archive_is_its_end_record() {
        let a = archive(&[], time()).unwrap();
        assert!(a.headers.is_empty());
        assert_eq!(a.trailer.len(), 22);
        assert_eq!(a.size, 22);
    }

    #[test]
    fn dos_time() {
        let t = DosTime::new(2026, 12, 3, 9, 41, 27).unwrap();
        assert_eq!(t.date, (46 << 9) | (12 << 5) | 3);
        assert_eq!(t.time, (9 << 11) | (41 << 5) | 13);
        assert_eq!(DosTime::new(1970, 1, 1, 0, 0, 0).unwrap(), DosTime { time: 0, date: 33 });
        assert_eq!(DosTime::new(2200, 1, 1, 0, 0, 0).unwrap().date >> 9, 127);
        assert_eq!(DosTime::new(2026, 13, 1, 0, 0, 0), None);
        assert_eq!(DosTime::new(2026, 1, 1, 24, 0, 0), None);
    }

    #[test]
    fn names_that_are_refused() {
        let m = |name| Member { name, size: 1, crc32: 0 };
        for bad in ["", ".", "..", "a/b.pdf", "..\\evil.pdf", "nul\0.pdf", "line\nbreak.xml"] {
            assert_eq!(archive(&[m(bad)], time()), Err(ZipError::BadName(bad.to_owned())), "{bad:?}");
        }
        let long = "a".repeat(65_536);
        assert!(matches!(archive(&[m(&long)], time()), Err(ZipError::BadName(_))));
        assert_eq!(
            archive(&[m("Offre.pdf"), m("offre.PDF")], time()),
            Err(ZipError::DuplicateName("offre.PDF".into()))
        );
    }

    #[test]
    fn what_needs_zip64_is_refused() {
        let m = |name, size| Member { name, size, crc32: 0 };
        assert_eq!(archive(&[m("a", 0xFFFF_FFFF)], time()), Err(ZipError::TooLarge));
        assert!(archive(&[m("a", 0xFFFF_FFFE - 31)], time()).is_ok());
        // Each member fits, the second starts past 4 GiB.
        assert_eq!(archive(&[m("a", 0xF000_0000), m("b", 0x1000_0000), m("c", 1)], time()), Err(ZipError::TooLarge));
        // The central directory past 4 GiB.
        assert_eq!(archive(&[m("a", 0xFFFF_FFF0)], time()), Err(ZipError::TooLarge));
        let names: Vec<String> = (0..65_536).map(|i| format!("{i}.p7s")).collect();
        let many: Vec<Member<'_>> = names.iter().map(|n| m(n, 0)).collect();
        assert_eq!(archive(&many, time()), Err(ZipError::TooLarge));
        assert!(archive(&many[..65_535], time()).is_ok());
    }
}
