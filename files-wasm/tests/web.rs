//! The files module's exported surface, run in a JS engine: `wasm-bindgen-test-runner` (Node by default).
//!   CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p paraphe-files-wasm --target wasm32-unknown-unknown
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

/// PAdES on wasm32 (32-bit `usize`): the PDF in, the update out (step 2 by the core's Rust,
/// `format_finish` being the core's export); signed again on top.
#[wasm_bindgen_test]
fn pades_through_the_boundary() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64.encode(include_bytes!("../../fuzz/seeds/certificate/rsa-2048-authentication.der"));
    let mut pdf = include_bytes!("../../fuzz/seeds/pdf/signed-twice-xref-stream.pdf").to_vec();
    for _ in 0..2 {
        let prepared = paraphe_files_wasm::pades_prepare(&pdf, &cert, "sha256", 1_780_000_000_000.0).expect("prepared");
        let prepared: serde_json::Value = serde_json::from_str(&prepared).expect("JSON");
        let state: paraphe_wasm::formats::State = serde_json::from_value(prepared["state"].clone()).expect("state");
        let update = paraphe_wasm::formats::finish(&state, &[1u8; 256]).expect("finished");
        pdf.extend_from_slice(&update);
    }
    assert_eq!(String::from_utf8_lossy(&pdf).matches("/Type /Sig").count(), 4);
    let e = paraphe_files_wasm::pades_prepare(b"%PDF-1.7", &cert, "sha256", 0.0).err().and_then(|e| e.as_string());
    assert!(e.unwrap_or_default().contains("PDF_INVALID"));
}

#[wasm_bindgen_test]
fn zip_parts_around_the_members() {
    let mut crc = paraphe_files_wasm::Crc32::new();
    crc.update(b"12345");
    crc.update(b"6789");
    assert_eq!(crc.value(), 0xCBF4_3926);
    let members = format!(r#"[{{"name":"déjà signé.pdf","size":9,"crc32":{}}}]"#, crc.value());
    let zip = paraphe_files_wasm::ZipArchive::new(&members, 2026, 12, 3, 9, 30, 0).expect("valid");
    let header = zip.header(0).expect("one member");
    assert_eq!(&header[..4], b"PK\x03\x04");
    assert!(zip.header(1).is_none());
    let trailer = zip.trailer();
    assert_eq!(zip.size(), (header.len() + 9 + trailer.len()) as f64);
    let e = paraphe_files_wasm::ZipArchive::new(r#"[{"name":"a","size":4294967295,"crc32":0}]"#, 2026, 12, 3, 9, 30, 0)
        .err()
        .and_then(|e| e.as_string())
        .unwrap_or_default();
    assert!(e.contains(r#""tooLarge":true"#), "{e}");
}
