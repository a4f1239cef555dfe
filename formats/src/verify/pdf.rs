//! Finding the signatures of a PDF for verification (ISO 32000-1 §12.8.1): each signature
//! dictionary's `/ByteRange [a b c d]` and `/Contents <hex>`. Nothing else of the PDF is
//! parsed: the signed bytes are the two ranges, and `/Contents` is, by construction, the
//! hex string filling the gap between them (`file[a+b .. c]`), so it is read from there and
//! a `/ByteRange` whose gap is not a hex string is reported as such.
//!
//! Only reading: PDF writing (PAdES signing) lives elsewhere.

use super::{problem, PdfFacts, Problem, VerifyError};

/// A `/ByteRange` found in the file, with where its dictionary's object lies.
#[derive(Debug, Clone)]
pub struct Found {
    pub byte_range: [u64; 4],
    /// The bytes of the object around it (`N 0 obj … endobj`), for `/SubFilter`, `/M`.
    object: (usize, usize),
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

fn rfind(hay: &[u8], needle: &[u8], before: usize) -> Option<usize> {
    hay.get(..before)?.windows(needle.len()).rposition(|w| w == needle)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

/// `[n n n n]` after `/ByteRange`.
fn parse_range(s: &[u8]) -> Option<[u64; 4]> {
    let mut i = 0;
    while s.get(i).copied().is_some_and(is_ws) {
        i += 1;
    }
    if s.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut out = [0u64; 4];
    for slot in &mut out {
        while s.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        *slot = std::str::from_utf8(s.get(start..i)?).ok()?.parse().ok()?;
    }
    while s.get(i).copied().is_some_and(is_ws) {
        i += 1;
    }
    (s.get(i) == Some(&b']')).then_some(out)
}

/// Every `/ByteRange` of the file that is a signature's (not a placeholder of zeros).
pub fn signatures(file: &[u8]) -> Result<Vec<Found>, VerifyError> {
    if !file.starts_with(b"%PDF-") {
        return Err(VerifyError("not a PDF file".into()));
    }
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find(file, b"/ByteRange", at) {
        at = i + 10;
        let Some(range) = parse_range(&file[at..file.len().min(at + 200)]) else { continue };
        if range.iter().all(|n| *n == 0) {
            continue;
        }
        let start = rfind(file, b" obj", i).map_or(0, |s| s + 4);
        let end = find(file, b"endobj", i).unwrap_or(file.len());
        out.push(Found { byte_range: range, object: (start, end) });
    }
    Ok(out)
}

/// A PDF string or name value after `key` inside `object`: `(…)` literal (simple escapes)
/// or `/Name`.
fn value_after(object: &[u8], key: &[u8]) -> Option<String> {
    let mut i = find(object, key, 0)? + key.len();
    // The key must end here (`/M` is not `/MDP`).
    if object.get(i).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return find(object, key, i).and_then(|j| value_after(&object[j..], key));
    }
    while object.get(i).copied().is_some_and(is_ws) {
        i += 1;
    }
    match object.get(i)? {
        b'/' => {
            let start = i + 1;
            let mut j = start;
            while object.get(j).is_some_and(|b| !is_ws(*b) && !b"/<>[]()".contains(b)) {
                j += 1;
            }
            Some(String::from_utf8_lossy(&object[start..j]).into_owned())
        }
        b'(' => {
            let mut s = Vec::new();
            let mut j = i + 1;
            while let Some(b) = object.get(j) {
                match b {
                    b')' => break,
                    b'\\' => {
                        // §7.3.4.2: \n \r \t \b \f \ddd, else the character itself.
                        j += 1;
                        let e = *object.get(j)?;
                        let digits = object[j..].iter().take(3).take_while(|c| (b'0'..=b'7').contains(c)).count();
                        if digits > 0 {
                            let v = object[j..j + digits].iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                            s.push(u8::try_from(v & 0xff).unwrap_or(0));
                            j += digits - 1;
                        } else {
                            s.push(match e {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                b'b' => 0x08,
                                b'f' => 0x0c,
                                other => other,
                            });
                        }
                    }
                    _ => s.push(*b),
                }
                j += 1;
            }
            // UTF-16BE with a BOM (text strings, §7.9.2.2), else PDFDocEncoding ≈ Latin-1.
            if s.starts_with(&[0xfe, 0xff]) {
                let units: Vec<u16> =
                    s[2..].chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])).collect();
                Some(String::from_utf16_lossy(&units))
            } else {
                Some(s.iter().map(|b| char::from(*b)).collect())
            }
        }
        _ => None,
    }
}

/// `D:YYYYMMDDHHmmSSOHH'mm` (§7.9.4) → RFC 3339 (UTC).
fn pdf_date(s: &str) -> Option<String> {
    let d = s.strip_prefix("D:").unwrap_or(s);
    let num = |r: std::ops::Range<usize>| d.get(r).and_then(|p| p.parse::<i64>().ok());
    let (y, mo) = (num(0..4)?, num(4..6).unwrap_or(1));
    let (day, h, mi, sec) =
        (num(6..8).unwrap_or(1), num(8..10).unwrap_or(0), num(10..12).unwrap_or(0), num(12..14).unwrap_or(0));
    let offset = match d.as_bytes().get(14) {
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(15..17).unwrap_or(0);
            let om = d.get(18..20).and_then(|p| p.parse::<i64>().ok()).unwrap_or(0);
            let m = oh * 60 + om;
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => 0,
    };
    // Days from civil (H. Hinnant), then back through x509::rfc3339 for the UTC form.
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ts = days * 86_400 + h * 3600 + mi * 60 + sec - offset * 60;
    Some(crate::x509::rfc3339(ts))
}

impl Found {
    /// The CMS bytes of `/Contents` and the facts of this signature, or why it cannot be read.
    pub(crate) fn facts_or_error(&self, file: &[u8]) -> Result<(Vec<u8>, PdfFacts), Problem> {
        let [a, b, c, d] = self.byte_range;
        let object = &file[self.object.0..self.object.1];
        let facts = PdfFacts {
            byte_range: self.byte_range,
            covers_whole_file: a == 0 && c.checked_add(d) == u64::try_from(file.len()).ok(),
            sub_filter: value_after(object, b"/SubFilter"),
            field: None,
            declared_time: value_after(object, b"/M").as_deref().and_then(pdf_date),
        };
        let len = u64::try_from(file.len()).unwrap_or(u64::MAX);
        let gap_start = a.checked_add(b);
        let ok = a == 0 && gap_start.is_some_and(|g| g < c) && c.checked_add(d).is_some_and(|e| e <= len);
        if !ok {
            return Err(problem("byte-range-invalid", format!("/ByteRange [{a} {b} {c} {d}] does not fit the file")));
        }
        let gap = usize::try_from(b).ok().zip(usize::try_from(c).ok()).and_then(|(s, e)| file.get(s..e));
        let Some(hex) = gap.and_then(|g| g.strip_prefix(b"<")).and_then(|g| g.strip_suffix(b">")) else {
            return Err(problem("byte-range-invalid", "the bytes left out of /ByteRange are not the /Contents string"));
        };
        let digits: Vec<u8> = hex.iter().copied().filter(|b| !is_ws(*b)).collect();
        let contents = hex::decode(&digits).map_err(|_| problem("malformed", "/Contents is not a hex string"))?;
        Ok((contents, facts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_dates() {
        assert_eq!(parse_range(b" [0 10 30 5]"), Some([0, 10, 30, 5]));
        assert_eq!(parse_range(b"[ 0 10 30 ]"), None);
        assert_eq!(pdf_date("D:20260102030405+01'00'").as_deref(), Some("2026-01-02T02:04:05Z"));
        assert_eq!(pdf_date("D:20260102030405Z").as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(
            value_after(b"/Type /Sig /SubFilter /ETSI.CAdES.detached /M (D:2026)", b"/SubFilter").as_deref(),
            Some("ETSI.CAdES.detached")
        );
        assert_eq!(value_after(b"/MDP 1 /M (D:2026)", b"/M").as_deref(), Some("D:2026"));
        assert_eq!(value_after(b"/M (D\\07220261202152525Z)", b"/M").as_deref(), Some("D:20261202152525Z"));
    }

    #[test]
    fn finds_contents_between_the_ranges() {
        let prefix = "%PDF-1.7\n1 0 obj\n<</Type/Sig/ByteRange [0 BBBB CCCC DDDD]/Contents ";
        let suffix = "/M(D:20260102030405Z)>>\nendobj\n";
        let (b, c, d) = (prefix.len(), prefix.len() + 6, suffix.len());
        let head = prefix
            .replace("BBBB", &format!("{b:04}"))
            .replace("CCCC", &format!("{c:04}"))
            .replace("DDDD", &format!("{d:04}"));
        let pdf = format!("{head}<3000>{suffix}").into_bytes();
        let found = signatures(&pdf).expect("a pdf");
        assert_eq!(found.len(), 1);
        let (contents, facts) = found[0].facts_or_error(&pdf).expect("contents");
        assert_eq!(contents, [0x30, 0x00]);
        assert!(facts.covers_whole_file);
        assert_eq!(facts.declared_time.as_deref(), Some("2026-01-02T03:04:05Z"));
        let mut longer = pdf.clone();
        longer.extend_from_slice(b"% appended\n");
        assert!(!signatures(&longer).expect("a pdf")[0].facts_or_error(&longer).expect("contents").1.covers_whole_file);
        assert!(signatures(b"not a pdf").is_err());
    }
}
