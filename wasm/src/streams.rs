//! The streaming objects both WASM modules export (feature `streams`): `Hasher` (document
//! digests) and `PliDecryptor` (opening plis). The background uses them through the core
//! (`paraphe_wasm`: the page API's pli header and key, and its fallbacks when the extension
//! frame cannot start); the pages that read files through the files module
//! (`paraphe_files`: the extension frame, « Ouvrir un pli », « Signer des fichiers »), so
//! that those load one module, not both. One definition, here.

use crate::error::{internal, thrown, PageError};
use crate::{digest, pli};
use wasm_bindgen::prelude::*;

/// A document digest computed chunk by chunk.
#[wasm_bindgen]
pub struct Hasher {
    inner: Option<digest::StreamingHash>,
}

#[wasm_bindgen]
impl Hasher {
    #[wasm_bindgen(constructor)]
    pub fn new(algorithm: &str) -> Result<Hasher, JsValue> {
        Ok(Hasher { inner: Some(digest::StreamingHash::new(algorithm).map_err(|e| thrown(&e))?) })
    }

    pub fn update(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.inner.as_mut().ok_or_else(|| internal("update after finish".into()))?.update(chunk);
        Ok(())
    }

    /// A chunk sent through extension messaging, which carries text only in Chromium.
    pub fn update_base64(&mut self, chunk: &str) -> Result<(), JsValue> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(chunk)
            .map_err(|e| thrown(&PageError::invalid(e.to_string())))?;
        self.update(&bytes)
    }

    /// The digest, lowercase hex. The hasher cannot be used afterwards.
    pub fn finish(&mut self) -> Result<String, JsValue> {
        let h = self.inner.take().ok_or_else(|| internal("finish called twice".into()))?;
        Ok(hex::encode(h.finish()))
    }
}

/// Opening a pli (CMS EnvelopedData / AuthEnvelopedData) chunk by chunk; see `pli.rs` for
/// the order of calls. Plaintext is complete only once `finish` returned.
#[wasm_bindgen]
pub struct PliDecryptor {
    inner: pli::Pli,
    /// What `feed_view` handed out last (its capacity kept: no allocation per piece).
    out: Vec<u8>,
    /// What `keystream_iv_at` computed last.
    keystream_iv: [u8; 16],
}

#[wasm_bindgen]
impl PliDecryptor {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> PliDecryptor {
        PliDecryptor { inner: pli::Pli::new(), out: Vec::new(), keystream_iv: [0; 16] }
    }

    /// Feeds ciphertext; returns the plaintext it yields (none before the key is set).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<u8>, JsValue> {
        self.inner.feed(chunk).map_err(|e| thrown(&e))
    }

    /// `feed` for the ciphertext of the external mode (`set_key_external_base64`), without a
    /// copy out: returns the length of what came out, which stays in this module's memory
    /// at `out_pointer` until the next call into it. The caller views it there and hands it
    /// to WebCrypto at once (which copies its input at the call): no buffer made per piece.
    pub fn feed_in_place(&mut self, chunk: &[u8]) -> Result<usize, JsValue> {
        self.inner.feed_into(chunk, &mut self.out).map_err(|e| thrown(&e))?;
        Ok(self.out.len())
    }

    /// Where `feed_in_place` left its output in this module's memory.
    pub fn out_pointer(&self) -> usize {
        self.out.as_ptr() as usize
    }

    /// AES-GCM after `set_key_external_base64`: where in this module's memory the 16-byte IV
    /// now is under which WebCrypto's AES-GCM *encryption* of the ciphertext from content
    /// block `blocks` on (mod 2^32) yields its plaintext, tag left aside (Firefox's AES-GCM is
    /// twice as fast as its AES-CTR); undefined when there is none (then AES-CTR). Allocates
    /// nothing: a view of `out_pointer` taken before stays valid.
    pub fn keystream_iv_at(&mut self, blocks: u32) -> Option<usize> {
        self.keystream_iv = self.inner.gcm_keystream_iv(blocks)?;
        Some(self.keystream_iv.as_ptr() as usize)
    }

    /// `feed` for chunks that crossed extension messaging as base64; returns base64.
    pub fn feed_base64(&mut self, chunk: &str) -> Result<String, JsValue> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(chunk)
            .map_err(|e| thrown(&PageError::invalid(e.to_string())))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.feed(&bytes)?))
    }

    /// The header as JSON text once the bytes before the content were fed, else undefined.
    pub fn header(&self) -> Option<String> {
        self.inner.header_json()
    }

    /// Fingerprints (JSON array) of the certificates among `choices_json` the pli is for.
    pub fn match_certificates(&mut self, choices_json: &str) -> Result<String, JsValue> {
        self.inner.match_certificates(choices_json).map_err(|e| thrown(&e))
    }

    /// The host `decrypt` request for the wrapped key of `fingerprint`'s recipient.
    pub fn decrypt_request(&self, id: u32, session: &str, fingerprint: &str) -> Result<String, JsValue> {
        self.inner.decrypt_request(u64::from(id), session, fingerprint).map_err(|e| thrown(&e))
    }

    /// The host's `plaintext` (the content-encryption key, base64).
    pub fn set_key_base64(&mut self, key: &str) -> Result<(), JsValue> {
        self.inner.set_key_base64(key).map_err(|e| thrown(&e))
    }

    /// `set_key_base64` for a page that decrypts the bulk with WebCrypto AES: the WebCrypto
    /// parameters as JSON, or undefined when the cipher has no WebCrypto form (3DES), see
    /// `pli::Pli::set_key_external_base64`.
    pub fn set_key_external_base64(&mut self, key: &str) -> Result<Option<String>, JsValue> {
        self.inner.set_key_external_base64(key).map_err(|e| thrown(&e))
    }

    /// AES-GCM after `set_key_external_base64`: WebCrypto's GHASH tag (16 bytes) of the
    /// oldest piece `feed` handed out and not yet absorbed.
    pub fn absorb_ghash(&mut self, tag: &[u8]) -> Result<(), JsValue> {
        self.inner.absorb_ghash(tag).map_err(|e| thrown(&e))
    }

    /// End of input: the last plaintext, or the error (integrity, padding, truncation).
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        self.inner.finish().map_err(|e| thrown(&e))
    }

    /// `finish` with base64 output.
    pub fn finish_base64(&mut self) -> Result<String, JsValue> {
        use base64::Engine;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.finish()?))
    }

    /// Input bytes consumed so far.
    pub fn consumed(&self) -> f64 {
        self.inner.consumed() as f64
    }
}
