//! PAdES baseline B-B end to end: prepare, sign the digest with openssl as a token would,
//! finish, append the update to the original, then check the result with two independent
//! validators: poppler's `pdfsig` and pyHanko (`tests/pades/pyhanko_tool.py`, run through
//! `scripts/pyhanko.sh`, the pinned venv the tests share).
//!
//! Test PDFs: one made here with a classic xref table; the same rewritten by `qpdf
//! --object-streams=generate` (compressed xref stream and object streams); the first one
//! signed beforehand by pyHanko. Each is signed, and the object-stream one signed twice.
//!
//! The visible signature (`visible: true`): on the last page of those and of a PDF whose last
//! page is turned (`/Rotate 90` inherited) and cropped, with an indirect `/Annots`; poppler's
//! `pdftotext` reads « Signé par … » on the last page only, and `pdftoppm`'s rendering changes
//! in the bottom-right corner of the page as shown and nowhere else.
#![allow(clippy::unwrap_used)]

mod common;

use common::{pki, run, scratch, token_sign, try_run, Mechanism, Tlv};
use paraphe_formats::pdf::{self, PadesRequest, PadesState, PdfError};
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A two-page PDF with a classic cross-reference table.
fn simple_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>".into(),
        stream("BT /F1 24 Tf 72 700 Td (Deliberation n 2026-042) Tj ET"),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        "<< /Title (Test Paraphe) /Producer (paraphe tests) >>".into(),
    ];
    pdf_with_trailer(
        &objects,
        "/Info 7 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]",
    )
}

/// A PDF of `objects` (numbered from 1, the first the catalog) with a classic xref table.
fn pdf_of(objects: &[String]) -> Vec<u8> {
    pdf_with_trailer(objects, "")
}

/// [`pdf_of`] with `extra` entries in the trailer dictionary.
fn pdf_with_trailer(objects: &[String], extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    let extra = if extra.is_empty() { String::new() } else { format!(" {extra}") };
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R{extra} >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

fn pyhanko() -> PathBuf {
    // scripts/pyhanko.sh: the one entry point (makes the pinned venv when missing, runs its Python).
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pyhanko.sh")
}

fn tool() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pades/pyhanko_tool.py")
}

fn mechanism(scheme: SignatureScheme, hash: HashAlgorithm) -> Mechanism {
    match scheme {
        SignatureScheme::Ecdsa => Mechanism::Ecdsa,
        _ => Mechanism::RsaPkcs1(hash.name()),
    }
}

/// Signs `pdf` with the RSA (or EC) test signer; the state goes through JSON.
fn sign(pdf: &[u8], ec: bool, hash: HashAlgorithm) -> Vec<u8> {
    sign_with(pdf, ec, hash, false)
}

/// [`sign`], the signature visible on the last page when `visible`.
fn sign_with(pdf: &[u8], ec: bool, hash: HashAlgorithm, visible: bool) -> Vec<u8> {
    let p = pki();
    let (cert, key, scheme) = if ec {
        (&p.ec_der, &p.ec_key, SignatureScheme::Ecdsa)
    } else {
        (&p.rsa_der, &p.rsa_key, SignatureScheme::RsaPkcs1)
    };
    let request = PadesRequest {
        hash,
        scheme,
        certificate: cert.clone(),
        chain: vec![p.intermediate_der.clone()],
        signing_time: 1_780_000_000,
        visible,
        timestamp: false,
    };
    let prepared = pdf::prepare(pdf, &request).unwrap();
    assert_eq!(prepared.digest.len(), hash.digest_len());
    let state: PadesState = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
    let signature = token_sign(key, &prepared.digest, mechanism(scheme, hash));
    let update = pdf::finish(&state, &signature).unwrap();
    let mut signed = pdf.to_vec();
    signed.extend_from_slice(&update);
    check_cms(&update, &prepared.document_digest);
    signed
}

/// The CMS in the update: detached SignedData, no signing-time, the message digest of the
/// byte ranges.
fn check_cms(update: &[u8], document_digest: &[u8]) {
    let at = update.windows(11).position(|w| w == b"/Contents <").unwrap() + 11;
    let end = at + update[at..].iter().position(|&b| b == b'>').unwrap();
    let bytes = hex::decode(&update[at..end]).unwrap();
    let (cms, _padding) = Tlv::parse(&bytes);
    let cms = cms.raw;
    let signing_time_oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
    assert!(!cms.windows(11).any(|w| w == signing_time_oid), "PAdES forbids the signing-time attribute");
    let signing_certificate_v2 = [0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f];
    assert!(cms.windows(13).any(|w| w == signing_certificate_v2));
    assert!(cms.windows(document_digest.len()).any(|w| w == document_digest), "message-digest");
}

/// `pdfsig`: every signature's CMS verifies over its byte range, the last covers the whole
/// file. Certificate trust is pyHanko's part (`-nocert`: poppler would look in an NSS store).
fn pdfsig(file: &Path, signatures: usize) {
    let out = String::from_utf8(run(Command::new("pdfsig").arg("-nocert").arg(file))).unwrap();
    assert_eq!(out.matches("Signature Validation: Signature is Valid.").count(), signatures, "{out}");
    assert_eq!(out.matches("ETSI.CAdES.detached").count(), signatures, "{out}");
    assert!(out.contains("Total document signed"), "{out}");
}

/// pyHanko: intact, valid, trusted (root CA given), earlier signatures still allowed.
fn pyhanko_validate(file: &Path, signatures: usize) -> Vec<serde_json::Value> {
    let p = pki();
    let (ok, out) =
        try_run(Command::new(pyhanko()).arg(tool()).arg("validate").arg(file).arg(&p.root).arg(&p.intermediate));
    assert!(ok, "pyHanko rejects {}: {out}", file.display());
    let lines: Vec<serde_json::Value> =
        out.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), signatures, "{out}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["subFilter"], "/ETSI.CAdES.detached", "{out}");
        if i + 1 == signatures {
            assert_eq!(l["coverage"], "ENTIRE_FILE", "{out}");
        } else {
            assert_eq!(l["coverage"], "ENTIRE_REVISION", "{out}");
            assert_eq!(l["docmdpOk"], true, "{out}");
        }
    }
    lines
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn simple_pdf_with_an_xref_table() {
    let dir = scratch("pades-simple");
    let original = simple_pdf();
    let signed = sign(&original, false, HashAlgorithm::Sha256);
    assert!(signed.starts_with(&original), "an incremental update only appends");
    let file = write(&dir, "signed.pdf", &signed);
    pdfsig(&file, 1);
    pyhanko_validate(&file, 1);
    let text = String::from_utf8_lossy(&signed[original.len()..]);
    assert!(text.contains("\nxref\n") && text.contains("/Prev "), "a table again, chained: {text}");
    assert!(text.contains("/T (Signature1)"));
}

#[test]
fn ecdsa_and_sha384() {
    let dir = scratch("pades-ec");
    let file = write(&dir, "signed.pdf", &sign(&simple_pdf(), true, HashAlgorithm::Sha384));
    pdfsig(&file, 1);
    pyhanko_validate(&file, 1);
}

#[test]
fn object_streams_and_xref_stream_signed_twice() {
    let dir = scratch("pades-objstm");
    let plain = write(&dir, "plain.pdf", &simple_pdf());
    let packed = dir.join("packed.pdf");
    run(Command::new("qpdf").arg("--object-streams=generate").arg(&plain).arg(&packed));
    let original = std::fs::read(&packed).unwrap();
    let text = String::from_utf8_lossy(&original);
    assert!(text.contains("/ObjStm") && text.contains("/XRef"), "qpdf made object streams and an xref stream");

    let once = sign(&original, false, HashAlgorithm::Sha256);
    let update = String::from_utf8_lossy(&once[original.len()..]).into_owned();
    assert!(update.contains("/Type /XRef") && !update.contains("\nxref\n"), "an xref stream again: {update}");
    let file = write(&dir, "once.pdf", &once);
    pdfsig(&file, 1);
    pyhanko_validate(&file, 1);

    let twice = sign(&once, true, HashAlgorithm::Sha256);
    assert!(twice.starts_with(&once));
    assert!(String::from_utf8_lossy(&twice[once.len()..]).contains("/T (Signature2)"));
    let file = write(&dir, "twice.pdf", &twice);
    pdfsig(&file, 2);
    pyhanko_validate(&file, 2);
}

#[test]
fn pdf_already_signed_by_pyhanko() {
    let p = pki();
    let dir = scratch("pades-pyhanko");
    let plain = write(&dir, "plain.pdf", &simple_pdf());
    let theirs = dir.join("theirs.pdf");
    run(Command::new(pyhanko())
        .arg(tool())
        .arg("sign")
        .arg(&plain)
        .arg(&theirs)
        .arg(&p.rsa_key)
        .arg(&p.rsa_cert)
        .arg(&p.intermediate));
    let original = std::fs::read(&theirs).unwrap();
    pyhanko_validate(&theirs, 1);

    let signed = sign(&original, false, HashAlgorithm::Sha256);
    assert!(String::from_utf8_lossy(&signed[original.len()..]).contains("/T (Signature2)"));
    let file = write(&dir, "both.pdf", &signed);
    pdfsig(&file, 2);
    let lines = pyhanko_validate(&file, 2);
    assert_eq!(lines[0]["field"], "Signature1");
    assert_eq!(lines[1]["field"], "Signature2");
}

#[test]
fn certified_with_no_change_allowed_is_refused() {
    let p = pki();
    let dir = scratch("pades-certified");
    let plain = write(&dir, "plain.pdf", &simple_pdf());
    let certified = dir.join("certified.pdf");
    run(Command::new(pyhanko())
        .arg(tool())
        .arg("certify")
        .arg(&plain)
        .arg(&certified)
        .arg(&p.rsa_key)
        .arg(&p.rsa_cert)
        .arg(&p.intermediate));
    let request = PadesRequest {
        hash: HashAlgorithm::Sha256,
        scheme: SignatureScheme::RsaPkcs1,
        certificate: p.rsa_der.clone(),
        chain: Vec::new(),
        signing_time: 1_780_000_000,
        visible: false,
        timestamp: false,
    };
    let err = pdf::prepare(&std::fs::read(&certified).unwrap(), &request).unwrap_err();
    assert_eq!(err, PdfError::NoChangesAllowed);
}

#[test]
fn refusals() {
    let p = pki();
    let request = PadesRequest {
        hash: HashAlgorithm::Sha256,
        scheme: SignatureScheme::RsaPkcs1,
        certificate: p.rsa_der.clone(),
        chain: Vec::new(),
        signing_time: 1_780_000_000,
        visible: false,
        timestamp: false,
    };
    assert_eq!(pdf::prepare(b"GIF89a", &request).unwrap_err(), PdfError::NotPdf);
    let original = simple_pdf();
    let truncated = &original[..original.len() - 40];
    assert!(matches!(pdf::prepare(truncated, &request).unwrap_err(), PdfError::Malformed(_)));
    // In the trailer, after the xref table: no offset moves.
    let at = original.windows(11).rposition(|w| w == b"/Root 1 0 R").unwrap() + 11;
    let encrypted = [&original[..at], b" /Encrypt 7 0 R", &original[at..]].concat();
    assert_eq!(pdf::prepare(&encrypted, &request).unwrap_err(), PdfError::Encrypted);
    let ec_key_with_rsa = PadesRequest { certificate: p.ec_der.clone(), ..request.clone() };
    assert!(matches!(pdf::prepare(&original, &ec_key_with_rsa).unwrap_err(), PdfError::Cms(_)));

    let prepared = pdf::prepare(&original, &request).unwrap();
    assert!(pdf::finish(&prepared.state, &[1; 64]).is_err(), "wrong signature length");
    let mut json: serde_json::Value = serde_json::to_value(&prepared.state).unwrap();
    json["contentsAt"] = serde_json::json!(3);
    let moved: PadesState = serde_json::from_value(json).unwrap();
    assert!(matches!(pdf::finish(&moved, &[1; 256]).unwrap_err(), PdfError::State(_)));
}

/// A PDF of `simple_pdf`'s objects and one more page whose content stream is `mib` MiB.
fn large_pdf(mib: usize) -> Vec<u8> {
    let mut pdf = simple_pdf();
    // Appended as an incremental update: a third page with a large content stream.
    let startxref =
        String::from_utf8_lossy(&pdf).rsplit("startxref\n").next().unwrap().lines().next().unwrap().to_owned();
    let mut offsets = Vec::new();
    let content = vec![b' '; mib << 20];
    offsets.push((8, pdf.len()));
    pdf.extend_from_slice(format!("8 0 obj\n<< /Length {} >>\nstream\n", content.len()).as_bytes());
    pdf.extend_from_slice(&content);
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    offsets.push((9, pdf.len()));
    pdf.extend_from_slice(
        b"9 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 8 0 R >>\nendobj\n",
    );
    offsets.push((2, pdf.len()));
    pdf.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Kids [3 0 R 5 0 R 9 0 R] /Count 3 >>\nendobj\n");
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\n2 1\n");
    pdf.extend_from_slice(format!("{:010} 00000 n\r\n8 2\n", offsets[2].1).as_bytes());
    pdf.extend_from_slice(format!("{:010} 00000 n\r\n{:010} 00000 n\r\n", offsets[0].1, offsets[1].1).as_bytes());
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 10 /Root 1 0 R /Info 7 0 R /Prev {startxref} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    pdf
}

/// The layout of `pdf` read sparsely, as the hashing frame does: the whole file hashed as it
/// streams by, only the ranges the reader asks for kept.
fn sparse_layout(pdf: &[u8], request: &PadesRequest) -> (pdf::Layout, usize) {
    let mut sparse = pdf::Sparse::new(pdf.len());
    let mut rounds = 0;
    loop {
        match pdf::check_source(pdf::Source::Sparse(&sparse)) {
            Ok(()) => break,
            Err(PdfError::Need { offset, length }) => sparse.insert(offset, &pdf[offset..offset + length]),
            Err(e) => panic!("{e}"),
        }
        rounds += 1;
        assert!(rounds < 100, "the reader keeps asking");
    }
    let mut h = paraphe_formats::hash::Hasher::new(request.hash);
    h.update(pdf);
    let layout = pdf::layout_source(pdf::Source::Sparse(&sparse), h, request).unwrap();
    (layout, sparse.held())
}

#[test]
fn large_pdfs_read_sparsely() {
    let p = pki();
    let dir = scratch("pades-sparse");
    let request = PadesRequest {
        hash: HashAlgorithm::Sha256,
        scheme: SignatureScheme::RsaPkcs1,
        certificate: p.rsa_der.clone(),
        chain: vec![p.intermediate_der.clone()],
        signing_time: 1_780_000_000,
        visible: false,
        timestamp: false,
    };
    let plain = write(&dir, "large.pdf", &large_pdf(8));
    let packed = dir.join("packed.pdf");
    run(Command::new("qpdf").arg("--object-streams=generate").arg(&plain).arg(&packed));
    for file in [plain, packed] {
        let original = std::fs::read(&file).unwrap();
        let (layout, held) = sparse_layout(&original, &request);
        assert!(held < 512 << 10, "{}: {held} bytes held of {}", file.display(), original.len());
        assert_eq!(layout, pdf::layout(&original, &request).unwrap(), "the same layout as from the whole file");
        assert_eq!(layout.source_digest, sha2::Sha256::digest(&original).to_vec(), "it names the file it laid out");
        let prepared = pdf::prepare_layout(layout, &request).unwrap();
        let signature = token_sign(&p.rsa_key, &prepared.digest, Mechanism::RsaPkcs1("sha256"));
        let signed = [original.as_slice(), &pdf::finish(&prepared.state, &signature).unwrap()].concat();
        let out = write(&dir, "signed.pdf", &signed);
        pdfsig(&out, 1);
        pyhanko_validate(&out, 1);
    }
}

// ---- the visible signature (last page) -------------------------------------------------------

/// A PDF stream object holding `content`.
fn stream(content: &str) -> String {
    format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len())
}

/// Two pages; the last one under a page tree node of its own that gives it `/Rotate 90`, the
/// root node the `/MediaBox`; the last page has its own `/CropBox` and an indirect `/Annots`
/// array already holding a link.
fn rotated_pdf() -> Vec<u8> {
    pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 595 842] >>".into(),
        "<< /Type /Page /Parent 2 0 R /Contents 6 0 R /Resources << /Font << /F1 10 0 R >> >> >>".into(),
        "<< /Type /Pages /Parent 2 0 R /Kids [5 0 R] /Count 1 /Rotate 90 >>".into(),
        "<< /Type /Page /Parent 4 0 R /CropBox [20.5 30 575 812] /Annots 7 0 R /Contents 8 0 R /Resources << /Font << /F1 10 0 R >> >> >>".into(),
        stream("BT /F1 20 Tf 72 700 Td (Premiere page) Tj ET"),
        "[9 0 R]".into(),
        stream("BT /F1 20 Tf 72 400 Td (Derniere page) Tj ET"),
        "<< /Type /Annot /Subtype /Link /Rect [100 100 200 120] /Border [0 0 0] /A << /S /URI /URI (https://example.org/) >> >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
    ])
}

/// The text poppler's `pdftotext` reads on page `page` (1-based).
fn page_text(file: &Path, page: usize) -> String {
    let n = page.to_string();
    String::from_utf8(run(Command::new("pdftotext").args(["-f", &n, "-l", &n, "-enc", "UTF-8"]).arg(file).arg("-")))
        .unwrap()
}

/// Page `page` rendered by poppler's `pdftoppm` in grey at 36 dpi: (width, height, pixels).
fn render(file: &Path, page: usize) -> (usize, usize, Vec<u8>) {
    let n = page.to_string();
    let pgm = run(Command::new("pdftoppm").args(["-f", &n, "-l", &n, "-r", "36", "-gray"]).arg(file));
    // P5 <width> <height> 255 <pixels>
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8(pgm[start..at].to_vec()).unwrap());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, pgm[at + 1..].to_vec())
}

/// Where the signed page's pixels differ from the unsigned one's: all in the bottom-right
/// quarter as shown, and there are some.
fn drawn_bottom_right(unsigned: &Path, signed: &Path, page: usize) {
    let (w, h, before) = render(unsigned, page);
    let (w2, h2, after) = render(signed, page);
    assert_eq!((w, h), (w2, h2), "the page keeps its size");
    let changed: Vec<(usize, usize)> =
        (0..w * h).filter(|&i| before[i].abs_diff(after[i]) > 40).map(|i| (i % w, i / w)).collect();
    assert!(changed.len() > 100, "the signature is drawn ({} pixels)", changed.len());
    assert!(
        changed.iter().all(|&(x, y)| x > w / 2 && y > h / 2),
        "drawn in the bottom-right corner of the {w}x{h} page: {:?}",
        changed.iter().find(|&&(x, y)| x <= w / 2 || y <= h / 2)
    );
}

/// The visible signature's text on the last page only, as poppler reads it.
fn says_signed(file: &Path, last: usize) {
    let text = page_text(file, last);
    assert!(text.contains("Signé par Camille Martin"), "page {last}: {text}");
    assert!(text.contains("le 28/05/2026 à 20:26 UTC"), "page {last}: {text}");
    assert!(text.contains("Paraphe"), "page {last}: {text}");
    for page in 1..last {
        assert!(!page_text(file, page).contains("Signé par"), "page {page}");
    }
}

#[test]
fn visible_signature_on_the_last_page() {
    let dir = scratch("pades-visible");
    let original = simple_pdf();
    let signed = sign_with(&original, false, HashAlgorithm::Sha256, true);
    assert!(signed.starts_with(&original));
    let update = String::from_utf8_lossy(&signed[original.len()..]).into_owned();
    assert!(update.contains("/AP <</N ") && update.contains("/Subtype /Form"), "{update}");
    assert!(update.contains("/BaseFont /Helvetica/Encoding /WinAnsiEncoding"), "{update}");
    // The last page (5 0 R) had no /Annots: it is written again with one, the widget's.
    let page = &update[update.find("\n5 0 obj\n").unwrap()..];
    let page = &page[..page.find("endobj").unwrap()];
    assert!(page.contains("/Type /Page") && page.contains("/Annots [9 0 R]"), "{page}");
    let unsigned = write(&dir, "unsigned.pdf", &original);
    let file = write(&dir, "signed.pdf", &signed);
    pdfsig(&file, 1);
    pyhanko_validate(&file, 1);
    says_signed(&file, 2);
    drawn_bottom_right(&unsigned, &file, 2);

    // Signed again, visibly: both are there, both valid.
    let twice = sign_with(&signed, true, HashAlgorithm::Sha256, true);
    let file = write(&dir, "twice.pdf", &twice);
    pdfsig(&file, 2);
    pyhanko_validate(&file, 2);
}

#[test]
fn visible_signature_on_a_rotated_cropped_page_with_annotations() {
    let dir = scratch("pades-visible-rotated");
    let original = rotated_pdf();
    let signed = sign_with(&original, false, HashAlgorithm::Sha256, true);
    let update = String::from_utf8_lossy(&signed[original.len()..]).into_owned();
    // The indirect /Annots array is written again, the link kept; the page is not.
    assert!(update.contains("7 0 obj\n[9 0 R "), "{update}");
    assert!(!update.contains("\n5 0 obj"), "{update}");
    assert!(update.contains("/Matrix [0 1 -1 0 0 0]"), "turned against /Rotate 90: {update}");
    let unsigned = write(&dir, "unsigned.pdf", &original);
    let file = write(&dir, "signed.pdf", &signed);
    pdfsig(&file, 1);
    pyhanko_validate(&file, 1);
    says_signed(&file, 2);
    // pdftoppm shows the page turned and cropped: the box is at the bottom right as shown.
    let (w, h, _) = render(&file, 2);
    assert!(w > h, "shown in landscape ({w}x{h})");
    drawn_bottom_right(&unsigned, &file, 2);
    // The text reads upright: pdftotext finds it in the words' order.
    assert!(page_text(&file, 2).contains("Paraphe"));
}

#[test]
fn visible_signature_with_object_streams_and_after_pyhanko() {
    let p = pki();
    let dir = scratch("pades-visible-objstm");
    let plain = write(&dir, "plain.pdf", &rotated_pdf());
    let packed = dir.join("packed.pdf");
    run(Command::new("qpdf").arg("--object-streams=generate").arg(&plain).arg(&packed));
    let original = std::fs::read(&packed).unwrap();
    assert!(String::from_utf8_lossy(&original).contains("/ObjStm"));
    let signed = sign_with(&original, false, HashAlgorithm::Sha256, true);
    let update = String::from_utf8_lossy(&signed[original.len()..]).into_owned();
    assert!(update.contains("/Type /XRef"), "an xref stream again: {update}");
    let file = write(&dir, "signed.pdf", &signed);
    pdfsig(&file, 1);
    pyhanko_validate(&file, 1);
    says_signed(&file, 2);
    drawn_bottom_right(&packed, &file, 2);

    // A PDF pyHanko signed before (its field on page 1) signed visibly: both valid.
    let theirs = dir.join("theirs.pdf");
    run(Command::new(pyhanko())
        .arg(tool())
        .arg("sign")
        .arg(&plain)
        .arg(&theirs)
        .arg(&p.rsa_key)
        .arg(&p.rsa_cert)
        .arg(&p.intermediate));
    let before = std::fs::read(&theirs).unwrap();
    let both = sign_with(&before, true, HashAlgorithm::Sha256, true);
    let file = write(&dir, "both.pdf", &both);
    pdfsig(&file, 2);
    let lines = pyhanko_validate(&file, 2);
    assert_eq!(lines[1]["field"], "Signature2");
    says_signed(&file, 2);
    drawn_bottom_right(&theirs, &file, 2);
}

/// PAdES baseline B-T: the card's signature, then the RFC 3161 request over its value to the
/// test authority (`openssl ts -reply`), then the token in the SignerInfo's unsigned
/// attributes. Returns the signed PDF and the token.
fn sign_bt(pdf: &[u8], ec: bool) -> (Vec<u8>, Vec<u8>) {
    use paraphe_formats::cms::timestamp;
    let p = pki();
    let (cert, key, scheme) = if ec {
        (&p.ec_der, &p.ec_key, SignatureScheme::Ecdsa)
    } else {
        (&p.rsa_der, &p.rsa_key, SignatureScheme::RsaPkcs1)
    };
    let request = PadesRequest {
        hash: HashAlgorithm::Sha256,
        scheme,
        certificate: cert.clone(),
        chain: vec![p.intermediate_der.clone()],
        // Now: the test certificates were issued today (the verifier checks them at `/M`).
        signing_time: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64,
        visible: false,
        timestamp: true,
    };
    let prepared = pdf::prepare(pdf, &request).unwrap();
    let state: PadesState = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
    let signature = token_sign(key, &prepared.digest, mechanism(scheme, HashAlgorithm::Sha256));
    assert!(matches!(pdf::finish(&state, &signature), Err(PdfError::State(_))), "a B-T state is never finished as B-B");
    let nonce = [0x5e; 16];
    let query = pdf::timestamp_request(&state, &signature, &nonce).unwrap();
    let response = common::tsa::tsa().reply(&query);
    let update = pdf::finish_timestamped(&state, &signature, &response, &nonce).unwrap();
    let value = if ec { paraphe_formats::ecdsa::raw_to_der(&signature).unwrap() } else { signature.clone() };
    let token = timestamp::token(&response, &value, &nonce).unwrap();
    assert!(update.windows(40).any(|w| w == hex::encode_upper(&token[..20]).as_bytes()), "the token is in /Contents");
    // (check_cms reads the whole CMS: the authority's token has a signing-time of its own.)
    (pdf.iter().chain(&update).copied().collect(), token)
}

/// The signature value of the PDF's last signature: the SignerInfo's `signature` OCTET STRING.
fn last_signature_value(signed: &[u8]) -> Vec<u8> {
    let at = signed.windows(11).rposition(|w| w == b"/Contents <").unwrap() + 11;
    let end = at + signed[at..].iter().position(|&b| b == b'>').unwrap();
    let bytes = hex::decode(&signed[at..end]).unwrap();
    let (ci, _) = Tlv::parse(&bytes);
    let signed_data = &ci.children()[1].children()[0];
    let signer_infos = signed_data.children().last().unwrap().children();
    let signer_info = signer_infos[0].children();
    assert_eq!(signer_info.len(), 7, "version, sid, digest, signed attributes, algorithm, value, unsigned attributes");
    assert_eq!(signer_info[6].tag, 0xa1);
    let id_aa_signature_time_stamp_token = [6, 11, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 9, 16, 2, 14];
    assert!(signer_info[6].raw.windows(13).any(|w| w == id_aa_signature_time_stamp_token));
    let signing_time = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
    assert!(!signer_info[3].raw.windows(11).any(|w| w == signing_time), "PAdES forbids the signing-time attribute");
    signer_info[5].content.to_vec()
}

#[test]
fn baseline_b_t_with_an_openssl_authority() {
    let dir = scratch("pades-bt");
    for (ec, original) in [(false, simple_pdf()), (true, simple_pdf())] {
        let (signed, token) = sign_bt(&original, ec);
        let file = write(&dir, if ec { "bt-ec.pdf" } else { "bt-rsa.pdf" }, &signed);
        pdfsig(&file, 1);
        let lines = pyhanko_validate_with_tsa(&file, 1);
        let ts = &lines[0]["timestamp"];
        assert_eq!(
            (&ts["intact"], &ts["valid"], &ts["trusted"]),
            (&true.into(), &true.into(), &true.into()),
            "{lines:?}"
        );
        assert!(lines[0]["summary"].as_str().unwrap().contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "{lines:?}");
        // The token, on its own, for the SHA-256 of the signature value.
        let value = last_signature_value(&signed);
        let (ok, out) = common::tsa::tsa().verify_token(&token, &sha2::Sha256::digest(&value));
        assert!(ok && out.contains("Verification: OK"), "openssl ts -verify: {out}");
    }
}

/// [`pyhanko_validate`] with the authority's certificate among the other certificates (its
/// root is the test root).
fn pyhanko_validate_with_tsa(file: &Path, signatures: usize) -> Vec<serde_json::Value> {
    let p = pki();
    let (ok, out) = try_run(
        Command::new(pyhanko())
            .arg(tool())
            .arg("validate")
            .arg(file)
            .arg(&p.root)
            .arg(&p.intermediate)
            .arg(&common::tsa::tsa().cert),
    );
    assert!(ok, "pyHanko rejects {}: {out}", file.display());
    let lines: Vec<serde_json::Value> =
        out.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), signatures, "{out}");
    lines
}

#[test]
fn b_t_failures_write_nothing() {
    use paraphe_formats::cms::{timestamp::TimestampError, CmsError};
    let p = pki();
    let request = PadesRequest {
        hash: HashAlgorithm::Sha256,
        scheme: SignatureScheme::RsaPkcs1,
        certificate: p.rsa_der.clone(),
        chain: Vec::new(),
        signing_time: 1_780_000_000,
        visible: false,
        timestamp: true,
    };
    let b_b = pdf::prepare(&simple_pdf(), &PadesRequest { timestamp: false, ..request.clone() }).unwrap();
    let b_t = pdf::prepare(&simple_pdf(), &request).unwrap();
    let room = |s: &PadesState| serde_json::to_value(s).unwrap()["contentsLength"].as_u64().unwrap() as usize;
    assert_eq!(room(&b_t.state) - room(&b_b.state), 2 * pdf::TIMESTAMP_ROOM, "room for the token");
    let signature = token_sign(&p.rsa_key, &b_t.digest, Mechanism::RsaPkcs1("sha256"));
    let nonce = [7; 8];
    let response = common::tsa::tsa().reply(&pdf::timestamp_request(&b_t.state, &signature, &nonce).unwrap());
    let refused = |r: Result<Vec<u8>, PdfError>| match r {
        Err(PdfError::Cms(CmsError::Timestamp(e))) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused(pdf::finish_timestamped(&b_t.state, &signature, &response, &[8; 8])),
        TimestampError::NonceMismatch
    );
    let other = token_sign(&p.rsa_key, &[0; 32], Mechanism::RsaPkcs1("sha256"));
    assert_eq!(
        refused(pdf::finish_timestamped(&b_t.state, &other, &response, &nonce)),
        TimestampError::ImprintMismatch
    );
    assert!(matches!(
        refused(pdf::finish_timestamped(&b_t.state, &signature, &response[..100], &nonce)),
        TimestampError::Malformed(_)
    ));
    // A B-B placeholder has no room for a token.
    let small = common::tsa::tsa().reply(&pdf::timestamp_request(&b_b.state, &signature, &nonce).unwrap());
    assert!(matches!(
        refused(pdf::finish_timestamped(&b_b.state, &signature, &small, &nonce)),
        TimestampError::NoRoom { .. }
    ));
    assert!(pdf::finish_timestamped(&b_t.state, &signature, &response, &nonce).is_ok());
}

/// « Vérifier une signature » (`formats::verify`) reads Paraphe's own B-T signature: valid,
/// trusted, time-stamped.
#[cfg(feature = "verify")]
#[test]
fn b_t_read_by_our_own_verifier() {
    use paraphe_formats::verify::{verify_pdf, Status, Trust};
    let p = pki();
    let (signed, _) = sign_bt(&simple_pdf(), false);
    let root = run(Command::new("openssl").args(["x509", "-outform", "DER"]).arg("-in").arg(p.dir.join("root.crt")));
    let trust = Trust { anchors: vec![root], hints: Vec::new(), now: 1_800_000_000 };
    let report = verify_pdf(&signed, &trust).unwrap();
    let s = &report.signatures[0];
    assert_eq!(s.status, Status::Valid, "{:?}", s.problems);
    assert!(s.timestamped);
}
