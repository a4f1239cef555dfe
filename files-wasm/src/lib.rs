//! Paraphe's WASM for the extension's pages that read files (`paraphe_files`): the extension
//! frame (`frame/frame.js`) and « Signer des fichiers » (`sign/`), through `common/files.js`
//! (PAdES: the PDF reader, its inflate and the update's layout) and `sign/zip.js` (the zip of
//! the outputs).
//!
//! A module of its own, as « Vérifier une signature » (`verify-wasm/`): the background never
//! reads a PDF nor writes a zip, and the core it loads at every start of its service worker
//! (`wasm/`, `paraphe_wasm`) stays without them. The logic is plain Rust, in `paraphe-formats`
//! and in the core's crate used as a library (without its exports: feature `bindings` off);
//! the same conventions: JSON text across the boundary, failures thrown as the JSON text of
//! `{code, message}`. It also exports the core's `Hasher` and `PliDecryptor` (one
//! definition, `paraphe_wasm`'s feature `streams`), so that these pages load this module only.

pub mod zip;

use paraphe_protocol::HashAlgorithm;
use paraphe_wasm::error::{internal, thrown, PageError};
use paraphe_wasm::formats::{self, unix_seconds};
use wasm_bindgen::prelude::*;

pub use paraphe_wasm::{Hasher, PliDecryptor};

/// Step 1 of a PAdES signature: the whole PDF (bytes), the signer's certificate (DER, base64),
/// the hash algorithm's name and the time give `{digest, hashAlgorithm, scheme, state}` (JSON
/// text) as `format_prepare` does; `format_finish` then returns the incremental update
/// (base64), to append to the PDF.
#[wasm_bindgen]
pub fn pades_prepare(
    pdf: &[u8],
    certificate_base64: &str,
    hash_algorithm: &str,
    now_ms: f64,
) -> Result<String, JsValue> {
    use base64::Engine;
    let hash = HashAlgorithm::from_name(hash_algorithm)
        .ok_or_else(|| thrown(&PageError::invalid(format!("unknown hash algorithm {hash_algorithm:?}"))))?;
    let certificate = base64::engine::general_purpose::STANDARD
        .decode(certificate_base64)
        .map_err(|e| internal(format!("certificate: {e}")))?;
    let prepared = formats::prepare_pades(pdf, &certificate, hash, unix_seconds(now_ms)).map_err(|e| thrown(&e))?;
    serde_json::to_string(&prepared).map_err(|e| internal(e.to_string()))
}

/// A PDF for PAdES in the hashing frame (`hashing/hashing.js`), never held whole: the file
/// streams by once through `hash` (all of it, in order: the digest shown in the consent
/// window, and the start of the byte-range digest), and the reader keeps only the parts it
/// asks for (`missing` → `fill`: the tail, the cross-reference sections, the objects the
/// update rewrites). `missing` also checks the PDF (before the consent window); `layout`
/// makes the PAdES job once the certificate is chosen. `free()` it when done.
#[wasm_bindgen]
pub struct PdfInput {
    sparse: paraphe_formats::pdf::Sparse,
    hasher: paraphe_formats::hash::Hasher,
    hashed: usize,
}

/// `{"offset":N,"length":N}`: the bytes the reader needs next.
fn need_json(offset: usize, length: usize) -> String {
    format!(r#"{{"offset":{offset},"length":{length}}}"#)
}

#[wasm_bindgen]
impl PdfInput {
    /// A PDF of `size` bytes, hashed with `algorithm` (`sha256`, `sha384`, `sha512`).
    #[wasm_bindgen(constructor)]
    pub fn new(size: f64, algorithm: &str) -> Result<PdfInput, JsValue> {
        // f64 → usize: checked first, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let size = if size.is_finite() && size >= 0.0 && size <= (1u64 << 40) as f64 {
            size as usize
        } else {
            return Err(thrown(&PageError::invalid(format!("the PDF is too large to sign here ({size} bytes)"))));
        };
        let hash = HashAlgorithm::from_name(algorithm)
            .filter(|h| *h != HashAlgorithm::Sha1)
            .ok_or_else(|| thrown(&PageError::invalid(format!("PAdES cannot hash with {algorithm:?}"))))?;
        Ok(PdfInput {
            sparse: paraphe_formats::pdf::Sparse::new(size),
            hasher: paraphe_formats::hash::Hasher::new(hash),
            hashed: 0,
        })
    }

    /// The next bytes of the whole file, in order.
    pub fn hash(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.hashed += chunk.len();
        if self.hashed > self.sparse.size() {
            return Err(thrown(&PageError::invalid("the file changed while it was read")));
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// The file's bytes from `offset`, as the reader asked.
    pub fn fill(&mut self, offset: f64, bytes: &[u8]) {
        // Offsets come from `missing`, below the file's size.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.sparse.insert(offset as usize, bytes);
    }

    /// Checks the PDF: undefined when it can be signed, `{"offset","length"}` (JSON text) when
    /// the reader needs those bytes first; throws `PDF_INVALID`, `PDF_ENCRYPTED` or `PDF_CERTIFIED`.
    pub fn missing(&self) -> Result<Option<String>, JsValue> {
        let need = formats::pdf_check_sparse(&self.sparse).map_err(|e| thrown(&e))?;
        Ok(need.map(|(offset, length)| need_json(offset, length)))
    }

    fn whole(&self) -> Result<(), JsValue> {
        if self.hashed == self.sparse.size() {
            Ok(())
        } else {
            Err(thrown(&PageError::invalid("the file changed while it was read")))
        }
    }

    /// The whole file's digest, lowercase hex.
    pub fn digest(&self) -> Result<String, JsValue> {
        self.whole()?;
        Ok(hex::encode(self.hasher.clone().finish()))
    }

    /// Bytes of the file held (the parts the reader asked for).
    pub fn held(&self) -> f64 {
        self.sparse.held() as f64
    }

    /// The PAdES job (JSON text of `formats::Job::Pades`) for the signer's certificate (DER,
    /// base64), or `{"need":{"offset","length"}}` when the reader needs more bytes first.
    /// `visible`: the signature drawn in the bottom-right corner of the last page; `timestamp`:
    /// room for a signature time-stamp (B-T, a time-stamp authority configured).
    pub fn layout(
        &self,
        certificate_base64: &str,
        now_ms: f64,
        visible: bool,
        timestamp: bool,
    ) -> Result<String, JsValue> {
        use base64::Engine;
        self.whole()?;
        let certificate = base64::engine::general_purpose::STANDARD
            .decode(certificate_base64)
            .map_err(|e| thrown(&PageError::invalid(format!("certificate: {e}"))))?;
        match formats::pdf_layout_sparse(
            &self.sparse,
            self.hasher.clone(),
            &certificate,
            unix_seconds(now_ms),
            visible,
            timestamp,
        ) {
            Ok(Ok(layout)) => {
                serde_json::to_string(&formats::Job::Pades(Box::new(layout))).map_err(|e| internal(e.to_string()))
            }
            Ok(Err((offset, length))) => Ok(format!(r#"{{"need":{}}}"#, need_json(offset, length))),
            Err(e) => Err(thrown(&e)),
        }
    }
}

/// The CRC-32 of a zip member, fed chunk by chunk as the output streams by (`formats::zip`).
#[wasm_bindgen]
pub struct Crc32 {
    inner: paraphe_formats::zip::Crc32,
}

#[wasm_bindgen]
impl Crc32 {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Crc32 {
        Crc32 { inner: paraphe_formats::zip::Crc32::new() }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
    }

    /// The CRC-32 of what was fed so far.
    pub fn value(&self) -> u32 {
        self.inner.value()
    }
}

/// A zip of stored members (`zip.rs`): built from `[{name, size, crc32}]` (JSON text) and the
/// local date and time, it gives the bytes before each member (`header(i)`) and after the last
/// (`trailer()`). Throws `{code, message, tooLarge}` (JSON text) for what it refuses.
#[wasm_bindgen]
pub struct ZipArchive {
    inner: paraphe_formats::zip::Archive,
}

#[wasm_bindgen]
impl ZipArchive {
    #[wasm_bindgen(constructor)]
    pub fn new(
        members_json: &str,
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Result<ZipArchive, JsValue> {
        let inner = zip::archive(members_json, [year, month, day, hour, minute, second])
            .map_err(|e| JsValue::from_str(&e.to_json()))?;
        Ok(ZipArchive { inner })
    }

    /// What goes right before member `index`.
    pub fn header(&self, index: usize) -> Option<Vec<u8>> {
        self.inner.headers.get(index).cloned()
    }

    /// The central directory and its end record, after the last member.
    pub fn trailer(&self) -> Vec<u8> {
        self.inner.trailer.clone()
    }

    /// The whole archive's length.
    pub fn size(&self) -> f64 {
        // Below 2^32: what needs more is refused (no ZIP64).
        self.inner.size as f64
    }
}
