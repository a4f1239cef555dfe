//! Opening a pli in the extension: the streaming decryption of
//! `paraphe_formats::cms::envelope`, with what the background needs around it: which
//! certificates on the token the pli is addressed to, the host's `decrypt` request for the
//! wrapped key, and page error codes.
//!
//! Order of calls: `feed` until `header` is known (the caller then stops reading),
//! `match_certificates`, consent and PIN, `decrypt_request` → host → `set_key`, then `feed`
//! the rest and `finish`. Plaintext from `feed` is never complete before `finish` returned
//! `Ok`: with GCM it is not even authenticated.
//!
//! `set_key_external_base64` instead of `set_key_base64` (the « Ouvrir un pli » page): the
//! page runs the AES of the bulk with WebCrypto (native AES; this core's software AES in
//! WASM is several times slower), `feed` then returns *ciphertext* in whole blocks, and the
//! checks stay here (the GCM tag, chained from the GHASH of each piece that WebCrypto's
//! AES-GCM computes and `absorb_ghash` takes back; the last CBC block and its padding):
//! `finish` returns the plaintext of the last block, only if they pass.

use crate::error::{PageCode, PageError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_formats::cms::envelope::{
    find_recipient, BulkCipher, ContentEncryption, Decryption, EnvelopeError, EnvelopeKind, Header, KeyTransport,
    Recipient, RecipientIdentifier, GHASH_IV,
};
use paraphe_protocol::command::{DecryptArgs, DecryptScheme};
use serde::{Deserialize, Serialize};

/// Page error for a decryption failure. One match, no wildcard: a new error forces a choice.
pub fn page_error(e: &EnvelopeError) -> PageError {
    let code = match e {
        EnvelopeError::Truncated => PageCode::PliTruncated.name(),
        EnvelopeError::Malformed(_)
        | EnvelopeError::NotEnveloped { .. }
        | EnvelopeError::DetachedContent
        | EnvelopeError::TooLarge(_)
        | EnvelopeError::TrailingData => PageCode::PliMalformed.name(),
        EnvelopeError::UnsupportedAlgorithm { .. } => "UNSUPPORTED_ALGORITHM",
        EnvelopeError::NoMatchingRecipient => PageCode::NoCertificate.name(),
        EnvelopeError::KeyLength { .. } | EnvelopeError::Padding => PageCode::PliDecryptionFailed.name(),
        EnvelopeError::TagMismatch => PageCode::PliIntegrityFailure.name(),
        EnvelopeError::State(_) => PageCode::Internal.name(),
    };
    PageError { code, message: e.to_string() }
}

/// What the consent window and the page may learn about a pli before it is opened.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderView {
    /// `enveloped` or `auth-enveloped`.
    pub kind: &'static str,
    /// `aes-256-cbc`, `aes-128-gcm`, `des-ede3-cbc`…
    pub content_encryption: String,
    pub authenticated: bool,
    pub content_type: String,
    pub recipients: Vec<RecipientView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientView {
    /// `key-transport`, or the other kind's name.
    pub kind: String,
    /// `rsa-pkcs1`, `rsa-oaep-sha256`…, or `unsupported <oid>`.
    pub key_transport: Option<String>,
    /// `issuer-serial` or `subject-key-identifier`.
    pub identified_by: Option<&'static str>,
}

fn view(h: &Header) -> HeaderView {
    HeaderView {
        kind: match h.kind {
            EnvelopeKind::Enveloped => "enveloped",
            EnvelopeKind::AuthEnveloped => "auth-enveloped",
        },
        content_encryption: h.content_encryption.name(),
        authenticated: h.content_encryption.is_authenticated(),
        content_type: h.content_type.clone(),
        recipients: h
            .recipients
            .iter()
            .map(|r| match r {
                Recipient::KeyTransport(k) => RecipientView {
                    kind: "key-transport".into(),
                    key_transport: Some(match &k.key_transport {
                        KeyTransport::RsaPkcs1 => "rsa-pkcs1".into(),
                        KeyTransport::RsaOaep { hash } => format!("rsa-oaep-{}", hash.name()),
                        KeyTransport::Unsupported { oid, reason } => format!("unsupported {oid} ({reason})"),
                    }),
                    identified_by: Some(match k.rid {
                        RecipientIdentifier::IssuerAndSerialNumber { .. } => "issuer-serial",
                        RecipientIdentifier::SubjectKeyIdentifier(_) => "subject-key-identifier",
                    }),
                },
                Recipient::Other { kind } => {
                    RecipientView { kind: (*kind).to_owned(), key_transport: None, identified_by: None }
                }
            })
            .collect(),
    }
}

/// A certificate as the background lists them (`certificate_choices`); other members ignored.
#[derive(Deserialize)]
struct Choice {
    fingerprint: String,
    /// DER, base64.
    certificate: String,
}

/// One pli being opened.
#[derive(Debug, Default)]
pub struct Pli {
    decryption: Decryption,
    /// Fingerprint → (recipient index) of the certificates the pli is addressed to.
    matches: Vec<(String, usize)>,
    /// Plaintext decrypted by `set_key` from what was held, handed out by the next call.
    stash: Vec<u8>,
}

impl Pli {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; returns the plaintext it (and anything stashed) yields.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<u8>, PageError> {
        let mut out = Vec::new();
        self.feed_into(chunk, &mut out)?;
        Ok(out)
    }

    /// `feed` into `out` (emptied first; its capacity kept from one call to the next).
    pub fn feed_into(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), PageError> {
        out.clear();
        out.append(&mut self.stash);
        self.decryption.feed(chunk, out).map_err(|e| page_error(&e))?;
        // External mode: what this call returns is one piece (AES-GCM: for absorb_ghash;
        // AES-CBC: with its padding block for WebCrypto).
        self.decryption.end_piece(out);
        Ok(())
    }

    /// The header as JSON text, once known.
    pub fn header_json(&self) -> Option<String> {
        self.decryption.header().and_then(|h| serde_json::to_string(&view(h)).ok())
    }

    /// Which of `choices_json` (an array of `{fingerprint, certificate}`, more members
    /// allowed) the pli is addressed to: a JSON array of fingerprints, in the given order.
    /// `NO_CERTIFICATE` when none; `UNSUPPORTED_ALGORITHM` when the only matches use a key
    /// transport the host cannot do.
    pub fn match_certificates(&mut self, choices_json: &str) -> Result<String, PageError> {
        let header = self.decryption.header().ok_or_else(|| internal("the header is not known yet"))?;
        let choices: Vec<Choice> =
            serde_json::from_str(choices_json).map_err(|e| internal(&format!("certificate list: {e}")))?;
        let mut unsupported = None;
        self.matches.clear();
        for c in &choices {
            let Ok(der) = STANDARD.decode(&c.certificate) else { continue };
            match find_recipient(header, &[&der]) {
                Ok(m) => self.matches.push((c.fingerprint.clone(), m.recipient)),
                Err(e @ EnvelopeError::UnsupportedAlgorithm { .. }) => unsupported = Some(e),
                Err(_) => {}
            }
        }
        match (self.matches.is_empty(), unsupported) {
            (true, Some(e)) => Err(page_error(&e)),
            (true, None) => Err(PageError {
                code: PageCode::NoCertificate.name(),
                message: format!(
                    "this pli is addressed to {} recipient(s), none of them a certificate on the connected tokens",
                    header.recipients.len()
                ),
            }),
            (false, _) => serde_json::to_string(&self.matches.iter().map(|(f, _)| f).collect::<Vec<_>>())
                .map_err(|e| internal(&e.to_string())),
        }
    }

    /// The host `decrypt` request (JSON text) that unwraps the key of the recipient the
    /// certificate `fingerprint` matched, in login session `session`.
    pub fn decrypt_request(&self, id: u64, session: &str, fingerprint: &str) -> Result<String, PageError> {
        let header = self.decryption.header().ok_or_else(|| internal("the header is not known yet"))?;
        let &(_, index) = self
            .matches
            .iter()
            .find(|(f, _)| f == fingerprint)
            .ok_or_else(|| internal("this certificate was not matched"))?;
        let Some(Recipient::KeyTransport(k)) = header.recipients.get(index) else {
            return Err(internal("matched recipient is not key transport"));
        };
        let (scheme, oaep_hash) = match &k.key_transport {
            KeyTransport::RsaPkcs1 => (DecryptScheme::RsaPkcs1, None),
            KeyTransport::RsaOaep { hash } => (DecryptScheme::RsaOaep, Some(*hash)),
            KeyTransport::Unsupported { oid, .. } => {
                return Err(page_error(&EnvelopeError::UnsupportedAlgorithm {
                    what: "key transport",
                    oid: oid.clone(),
                }))
            }
        };
        #[derive(Serialize)]
        struct Request<'a> {
            id: u64,
            command: &'a str,
            arguments: DecryptArgs,
        }
        let arguments =
            DecryptArgs { session: session.to_owned(), data: STANDARD.encode(&k.encrypted_key), scheme, oaep_hash };
        serde_json::to_string(&Request { id, command: "decrypt", arguments }).map_err(|e| internal(&e.to_string()))
    }

    /// The unwrapped key, base64 as the host returns it. What was held after the header is
    /// decrypted into the stash, handed out by the next `feed` or `finish`.
    pub fn set_key_base64(&mut self, key: &str) -> Result<(), PageError> {
        let key = zeroize::Zeroizing::new(STANDARD.decode(key).map_err(|e| internal(&format!("key: {e}")))?);
        let mut out = std::mem::take(&mut self.stash);
        self.decryption.set_key(&key, &mut out).map_err(|e| page_error(&e))?;
        self.stash = out;
        Ok(())
    }

    /// `set_key_base64`, but the caller decrypts the bulk (see the module docs): returns how,
    /// as JSON `{"name":"AES-CBC","iv":b64}` (the IV of the first block `feed` hands out;
    /// each piece ends with a block that decrypts to a whole padding block, so WebCrypto's
    /// AES-CBC takes it as it is; the next piece chains on the block before that one) or
    /// `{"name":"AES-GCM","counter":b64,"length":32,"ghashIv":b64}`: AES-CTR from that
    /// counter for the first block, and for each piece `feed` hands out, in order, the tag
    /// of WebCrypto's AES-GCM encryption of nothing under `ghashIv` with the piece as
    /// additional data, to `absorb_ghash`. `None` when the algorithm has no such form (3DES):
    /// `feed` then returns plaintext as after `set_key_base64`.
    pub fn set_key_external_base64(&mut self, key: &str) -> Result<Option<String>, PageError> {
        let key = zeroize::Zeroizing::new(STANDARD.decode(key).map_err(|e| internal(&format!("key: {e}")))?);
        let mut out = std::mem::take(&mut self.stash);
        let bulk = self.decryption.set_key_external(&key, &mut out).map_err(|e| page_error(&e))?;
        self.stash = out;
        Ok(bulk.map(|b| match b {
            BulkCipher::AesCbc { iv } => format!(r#"{{"name":"AES-CBC","iv":"{}"}}"#, STANDARD.encode(iv)),
            BulkCipher::AesGcm { counter } => format!(
                r#"{{"name":"AES-GCM","counter":"{}","length":32,"ghashIv":"{}"}}"#,
                STANDARD.encode(counter),
                STANDARD.encode(GHASH_IV)
            ),
        }))
    }

    /// AES-GCM in external mode: the IV under which WebCrypto's AES-GCM encryption of the
    /// ciphertext from content block `blocks` on yields its plaintext (tag left aside).
    pub fn gcm_keystream_iv(&self, blocks: u32) -> Option<[u8; 16]> {
        self.decryption.gcm_keystream_iv(blocks)
    }

    /// AES-GCM in external mode: the GHASH tag of the oldest piece `feed` handed out.
    pub fn absorb_ghash(&mut self, tag: &[u8]) -> Result<(), PageError> {
        self.decryption.absorb_ghash(tag).map_err(|e| page_error(&e))
    }

    /// End of input. `Ok` means the plaintext is complete, and authentic for GCM; on an
    /// error everything handed out so far must be discarded.
    pub fn finish(&mut self) -> Result<Vec<u8>, PageError> {
        let mut out = std::mem::take(&mut self.stash);
        self.decryption.finish(&mut out).map_err(|e| page_error(&e))?;
        Ok(out)
    }

    /// Input bytes consumed so far (for progress).
    pub fn consumed(&self) -> u64 {
        self.decryption.consumed()
    }

    /// Key length the algorithm needs, once the header is known.
    pub fn key_len(&self) -> Option<usize> {
        self.decryption.header().map(|h| ContentEncryption::key_len(&h.content_encryption))
    }
}

fn internal(message: &str) -> PageError {
    PageError { code: PageCode::Internal.name(), message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_page_error() {
        let mut p = Pli::new();
        let e = p.feed(b"-----BEGIN CMS-----").expect_err("PEM refused");
        assert_eq!(e.code, "PLI_MALFORMED");
        let mut p = Pli::new();
        assert!(p.feed(&[0x30, 0x80, 0x06]).expect("needs more").is_empty());
        assert_eq!(p.finish().expect_err("truncated").code, "PLI_TRUNCATED", "the input ended in the header");
    }

    #[test]
    fn external_key_parameters() {
        // The smallest EnvelopedData below, AES-128-CBC with a zero IV and two content bytes.
        let hex = "3081a506092a864886f70d010703a08197308194020100315f305d0201003014300f310d300b06035504030c0454657374020101303c06092a864886f70d010107302fa00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500040401020304302e06092a864886f70d010701301d060960864801650304010204100000000000000000000000000000000080020102";
        let mut p = Pli::new();
        p.feed(&hex::decode(hex).expect("hex")).expect("parses");
        let bulk = p.set_key_external_base64(&STANDARD.encode([7u8; 16])).expect("key").expect("AES");
        assert_eq!(bulk, r#"{"name":"AES-CBC","iv":"AAAAAAAAAAAAAAAAAAAAAA=="}"#);
        assert!(p.feed(&[]).expect("nothing").is_empty(), "2 bytes: held back, not a block");
        assert_eq!(p.finish().expect_err("not a block").code, "PLI_DECRYPTION_FAILED");
    }

    #[test]
    fn decrypt_request_shape() {
        // The smallest EnvelopedData: one ktri (issuer+serial, OAEP SHA-256), AES-128-CBC.
        let hex = "3081a506092a864886f70d010703a08197308194020100315f305d0201003014300f310d300b06035504030c0454657374020101303c06092a864886f70d010107302fa00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500040401020304302e06092a864886f70d010701301d060960864801650304010204100000000000000000000000000000000080020102";
        let bytes = hex::decode(hex).expect("hex");
        let mut p = Pli::new();
        p.feed(&bytes).expect("parses");
        let view = p.header_json().expect("header");
        assert!(view.contains(r#""keyTransport":"rsa-oaep-sha256""#), "{view}");
        assert!(view.contains(r#""contentEncryption":"aes-128-cbc""#), "{view}");
        assert_eq!(p.key_len(), Some(16));
        assert_eq!(p.match_certificates("[]").expect_err("no certificates").code, "NO_CERTIFICATE");
        assert_eq!(p.decrypt_request(1, "s1", "ab").expect_err("not matched").code, "INTERNAL");
    }
}
