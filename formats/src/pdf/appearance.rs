//! The visible signature's appearance (ISO 32000-1 §12.5.5, §12.7.4.5): a framed box in the
//! bottom-right corner of the last page, as the page is shown (its crop box, else its media
//! box, and its `/Rotate`), saying « Signé par <CN> », the date and « Paraphe ».
//!
//! The appearance is a Form XObject (`/AP /N`) drawn in its own upright frame; its `/Matrix`
//! turns it against the page's `/Rotate`, so that it reads upright where the page is shown.
//! The text is in the standard Helvetica font (no font embedded) with `/WinAnsiEncoding`: the
//! French letters are single bytes of that encoding (`win_ansi`), anything it lacks is `?`.

use super::object::{Dict, Object};

/// The box's size as shown, in points, and its distance from the page's edges.
const WIDTH: f64 = 210.0;
const HEIGHT: f64 = 58.0;
const MARGIN: f64 = 24.0;
/// Font sizes: the first line shrinks down to the smallest before it is cut.
const FONT: f64 = 10.0;
const SMALLEST_FONT: f64 = 6.0;
const PADDING: f64 = 6.0;

/// Where the widget goes and how its appearance is turned: `rect` in the page's default user
/// space, `matrix` the Form's, `size` the Form's own width and height (as shown).
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub rect: [f64; 4],
    pub matrix: [f64; 6],
    pub size: (f64, f64),
}

/// The bottom-right corner of `page_box` (`[llx lly urx ury]`, any corner order) as shown
/// with `/Rotate rotate`; the box shrinks on a page too small for it.
pub fn place(page_box: [f64; 4], rotate: i64) -> Placement {
    let (llx, urx) = (page_box[0].min(page_box[2]), page_box[0].max(page_box[2]));
    let (lly, ury) = (page_box[1].min(page_box[3]), page_box[1].max(page_box[3]));
    let rotate = rotate.rem_euclid(360);
    let quarter = if rotate % 90 == 0 { rotate / 90 } else { 0 };
    // As shown: width and height of the page.
    let (shown_w, shown_h) = if quarter % 2 == 1 { (ury - lly, urx - llx) } else { (urx - llx, ury - lly) };
    let fit = |want: f64, room: f64| want.min((room - 2.0 * MARGIN).max(room / 2.0)).max(1.0);
    let (w, h) = (fit(WIDTH, shown_w), fit(HEIGHT, shown_h));
    let m = MARGIN.min((shown_w - w) / 2.0).min((shown_h - h) / 2.0).max(0.0);
    // The shown bottom-right corner is the unrotated page's bottom-right (0), top-right (90:
    // shown x goes up the page, shown y down is x increasing), top-left (180) or bottom-left
    // (270); the Form turns by the same angle the other way.
    match quarter {
        1 => Placement {
            rect: [urx - m - h, ury - m - w, urx - m, ury - m],
            matrix: [0.0, 1.0, -1.0, 0.0, 0.0, 0.0],
            size: (w, h),
        },
        2 => Placement {
            rect: [llx + m, ury - m - h, llx + m + w, ury - m],
            matrix: [-1.0, 0.0, 0.0, -1.0, 0.0, 0.0],
            size: (w, h),
        },
        3 => Placement {
            rect: [llx + m, lly + m, llx + m + h, lly + m + w],
            matrix: [0.0, -1.0, 1.0, 0.0, 0.0, 0.0],
            size: (w, h),
        },
        _ => Placement {
            rect: [urx - m - w, lly + m, urx - m, lly + m + h],
            matrix: [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            size: (w, h),
        },
    }
}

/// A number as PDF writes it: at most two decimals, no exponent. (Integer arithmetic: the
/// float formatting and parsing of `std` would weigh on the WASM core for this alone.)
pub fn number(v: f64) -> Object {
    let v = if v.is_finite() { v.clamp(-1e12, 1e12) } else { 0.0 };
    // Within ±10^14 after the clamp: exact in an i64.
    #[allow(clippy::cast_possible_truncation)]
    let hundredths = (v * 100.0).round() as i64;
    let (sign, n) = if hundredths < 0 { ("-", hundredths.unsigned_abs()) } else { ("", hundredths.unsigned_abs()) };
    let (whole, frac) = (n / 100, n % 100);
    let s = match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    };
    Object::Number(if n == 0 { b"0".to_vec() } else { s.into_bytes() })
}

/// A number token read from a PDF (`612`, `-0.5`, `.5`, `+3`; ISO 32000-1 §7.3.3), as a float.
pub fn read_number(o: &Object) -> Option<f64> {
    let Object::Number(n) = o else { return None };
    let (negative, digits) = match n.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, &n[..]),
    };
    let mut value = 0.0f64;
    let mut scale = 1.0f64;
    let mut seen_point = false;
    let mut seen_digit = false;
    for &b in digits {
        match b {
            b'0'..=b'9' if seen_point => {
                scale /= 10.0;
                value += f64::from(b - b'0') * scale;
                seen_digit = true;
            }
            b'0'..=b'9' => {
                value = value * 10.0 + f64::from(b - b'0');
                seen_digit = true;
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    (seen_digit && value.is_finite()).then_some(if negative { -value } else { value })
}

/// The Form XObject's dictionary (without `/Length`) and content for `lines` (the signer's
/// line first), `size` as shown and `matrix` from [`place`].
pub fn form(lines: &[String], placement: &Placement) -> (Dict, Vec<u8>) {
    let (w, h) = placement.size;
    let mut font = Dict::default();
    font.set(b"Type", Object::Name(b"Font".to_vec()));
    font.set(b"Subtype", Object::Name(b"Type1".to_vec()));
    font.set(b"BaseFont", Object::Name(b"Helvetica".to_vec()));
    font.set(b"Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
    let mut fonts = Dict::default();
    fonts.set(b"Helv", Object::Dict(font));
    let mut resources = Dict::default();
    resources.set(b"Font", Object::Dict(fonts));
    resources.set(b"ProcSet", Object::Array(vec![Object::Name(b"PDF".to_vec()), Object::Name(b"Text".to_vec())]));
    let mut dict = Dict::default();
    dict.set(b"Type", Object::Name(b"XObject".to_vec()));
    dict.set(b"Subtype", Object::Name(b"Form".to_vec()));
    dict.set(b"BBox", Object::Array(vec![number(0.0), number(0.0), number(w), number(h)]));
    dict.set(b"Matrix", Object::Array(placement.matrix.iter().map(|&v| number(v)).collect()));
    dict.set(b"Resources", Object::Dict(resources));

    let mut c = Vec::new();
    let mut op = |parts: &[Object], operator: &str| {
        for p in parts {
            p.write(&mut c);
            c.push(b' ');
        }
        c.extend_from_slice(operator.as_bytes());
        c.push(b'\n');
    };
    op(&[], "q");
    // Clipped to the box: nothing drawn outside it whatever the text.
    op(&[number(0.0), number(0.0), number(w), number(h)], "re");
    op(&[], "W n");
    op(&[number(1.0), number(1.0), number(1.0)], "rg");
    op(&[number(0.5), number(0.5), number(w - 1.0), number(h - 1.0)], "re");
    op(&[], "f");
    op(&[number(0.13), number(0.2), number(0.5)], "RG");
    op(&[number(1.0)], "w");
    op(&[number(0.5), number(0.5), number(w - 1.0), number(h - 1.0)], "re");
    op(&[], "S");
    op(&[number(0.0), number(0.0), number(0.0)], "rg");
    op(&[], "BT");
    let room = w - 2.0 * PADDING;
    let count = lines.len().max(1) as f64;
    let leading = ((h - 2.0 * PADDING) / count).min(FONT * 1.35);
    // The lines centred in the box (a line's ink is about 0.7 of the font size above its
    // baseline and 0.2 below).
    let mut y = h / 2.0 + (count - 1.0) * leading / 2.0 - FONT * 0.35;
    for line in lines {
        let mut bytes = win_ansi(line);
        let mut size = FONT;
        // The signer's name shrinks to fit, down to the smallest size, then is cut (« … »).
        while size > SMALLEST_FONT && width(&bytes) * size / 1000.0 > room {
            size -= 0.5;
        }
        if width(&bytes) * size / 1000.0 > room {
            while !bytes.is_empty() && (width(&bytes) + 1000.0) * size / 1000.0 > room {
                bytes.pop();
            }
            bytes.push(0x85); // … in WinAnsiEncoding
        }
        op(&[Object::Name(b"Helv".to_vec()), number(size)], "Tf");
        op(&[number(1.0), number(0.0), number(0.0), number(1.0), number(PADDING), number(y)], "Tm");
        op(&[Object::String(literal(&bytes))], "Tj");
        y -= leading;
    }
    op(&[], "ET");
    op(&[], "Q");
    (dict, c)
}

/// A literal string `(…)` of `bytes`, with `(`, `)`, `\` and line ends escaped.
fn literal(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'('];
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
    out
}

/// `text` in WinAnsiEncoding (ISO 32000-1 Annex D, Windows code page 1252): Latin-1 letters
/// are their own byte, the few others (œ, Œ, €, ’, «, guillemets and dashes) have theirs in
/// 0x80–0x9F, and anything else becomes `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' | '\u{A0}'..='\u{FF}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (thousandths of the font size) of the printable ASCII
/// characters, 0x20 to 0x7E, from the font's published metrics.
const ASCII_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space … /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 … ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ … O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P … _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` … o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p … ~
];

/// The width of WinAnsi `bytes` in Helvetica, thousandths of the font size. Accented letters
/// are as wide as their base letter; other bytes above 0x7F are counted generously (1000), so
/// the text never runs out of the box.
fn width(bytes: &[u8]) -> f64 {
    bytes
        .iter()
        .map(|&b| {
            let base = match b {
                0x20..=0x7E => b,
                0xC0..=0xC5 => b'A',
                0xC7 => b'C',
                0xC8..=0xCB => b'E',
                0xCC..=0xCF => b'I',
                0xD1 => b'N',
                0xD2..=0xD6 | 0xD8 => b'O',
                0xD9..=0xDC => b'U',
                0xDD => b'Y',
                0xE0..=0xE5 => b'a',
                0xE7 => b'c',
                0xE8..=0xEB => b'e',
                0xEC..=0xEF => b'i',
                0xF1 => b'n',
                0xF2..=0xF6 | 0xF8 => b'o',
                0xF9..=0xFC => b'u',
                0xFD | 0xFF => b'y',
                _ => return 1000.0,
            };
            f64::from(ASCII_WIDTHS[usize::from(base - 0x20)])
        })
        .sum()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn win_ansi_french() {
        assert_eq!(win_ansi("Signé par Hélène Œuvrard"), b"Sign\xe9 par H\xe9l\xe8ne \x8cuvrard");
        assert_eq!(win_ansi("à ç ù « » €"), b"\xe0 \xe7 \xf9 \xab \xbb \x80");
        assert_eq!(win_ansi("日本"), b"??");
    }

    #[test]
    fn literal_escapes() {
        assert_eq!(literal(b"a(b)c\\d\ne"), b"(a\\(b\\)c\\\\d\\ne)".to_vec());
    }

    #[test]
    fn numbers() {
        assert_eq!(number(612.0), Object::Number(b"612".to_vec()));
        assert_eq!(number(0.5), Object::Number(b"0.5".to_vec()));
        assert_eq!(number(-0.001), Object::Number(b"0".to_vec()));
        assert_eq!(number(1.0 / 3.0), Object::Number(b"0.33".to_vec()));
        assert_eq!(read_number(&Object::Number(b".5".to_vec())), Some(0.5));
        assert_eq!(read_number(&Object::Number(b"-12".to_vec())), Some(-12.0));
        assert_eq!(read_number(&Object::Number(b"20.5".to_vec())), Some(20.5));
        assert_eq!(read_number(&Object::Number(b"1.2.3".to_vec())), None);
        assert_eq!(read_number(&Object::Number(b"-".to_vec())), None);
        assert_eq!(number(-12.5), Object::Number(b"-12.5".to_vec()));
        assert_eq!(number(571.05), Object::Number(b"571.05".to_vec()));
    }

    #[test]
    fn bottom_right_as_shown() {
        let a4 = [0.0, 0.0, 595.0, 842.0];
        let p = place(a4, 0);
        assert_eq!(p.rect, [595.0 - 24.0 - WIDTH, 24.0, 571.0, 24.0 + HEIGHT]);
        // Turned a quarter clockwise: shown bottom-right is the page's top-right.
        let p = place(a4, 90);
        assert_eq!(p.rect, [571.0 - HEIGHT, 818.0 - WIDTH, 571.0, 818.0]);
        assert_eq!(p.matrix, [0.0, 1.0, -1.0, 0.0, 0.0, 0.0]);
        assert_eq!(place(a4, -270), p);
        let p = place(a4, 180);
        assert_eq!(p.rect, [24.0, 818.0 - HEIGHT, 24.0 + WIDTH, 818.0]);
        let p = place(a4, 270);
        assert_eq!(p.rect, [24.0, 24.0, 24.0 + HEIGHT, 24.0 + WIDTH]);
        // A crop box away from the origin, corners in any order.
        let p = place([600.0, 800.0, 100.0, 50.0], 0);
        assert_eq!(p.rect, [576.0 - WIDTH, 74.0, 576.0, 74.0 + HEIGHT]);
        // A tiny page: the box stays inside it.
        let p = place([0.0, 0.0, 100.0, 40.0], 0);
        assert!(p.rect[0] >= 0.0 && p.rect[1] >= 0.0 && p.rect[2] <= 100.0 && p.rect[3] <= 40.0, "{p:?}");
    }

    #[test]
    fn long_names_are_cut_inside_the_box() {
        let p = place([0.0, 0.0, 595.0, 842.0], 0);
        let name = format!("Signé par {}", "Wolfeschlegelsteinhausenbergerdorff ".repeat(4));
        let (_, content) = form(&[name, "le 03/12/2026".into(), "Paraphe".into()], &p);
        let text = String::from_utf8_lossy(&content);
        assert!(content.contains(&0x85), "cut, with an ellipsis: {text}");
        assert!(text.contains("/Helv 6 Tf"), "{text}");
    }
}
