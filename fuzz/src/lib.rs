//! Entry points of Paraphe's fuzz targets, one per parser of untrusted bytes.
//!
//! Each takes arbitrary bytes, must never panic except on a broken invariant (the asserts
//! below), and is called three ways: by libFuzzer (`fuzz_targets/*.rs` under `cargo fuzz`),
//! by the smoke run (`tests/smoke.rs`, seeds plus generated inputs, no libFuzzer), and by
//! the target binaries built without `cargo fuzz`, which replay files (`replay`).
//!
//! What the host reads from the browser, before any token is touched, is reachable here
//! through `paraphe-protocol` (the envelope and every command's arguments) and
//! `paraphe-formats` (certificates read off tokens, ECDSA signatures returned by them).
//! What pages send the extension is reachable through `paraphe-wasm`, the extension's core
//! as plain Rust: the page API and Web eID requests, LiberSign's `signatureInformations`.
//! The host's own conversation loop is reached through its library (`paraphe_host`):
//! [`frame_json`] drives `native::serve` (the frame reader in `host/src/transport.rs`, then
//! `Host::handle` in `host/src/dispatch.rs` for every frame) with `token::NoToken` behind it.

use paraphe_formats::policies::PolicyHint;
use paraphe_formats::webeid::{self, Algorithm};
use paraphe_formats::{ecdsa, x509};
use paraphe_protocol::command::{
    AuthenticateArgs, DecryptArgs, HelloArgs, LoginArgs, LogoutArgs, NoArguments, SignArgs,
};
use paraphe_protocol::{Command, Outgoing, Pin, RawRequest, RequestId};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A request frame's body, decoded as the host decodes it (`Host::handle` in
/// host/src/dispatch.rs): the envelope, or else the salvage of its `id`; then the
/// arguments, as the type of the command it names and as every other command's type.
/// Also the host → browser envelope ([`Outgoing`]), which the extension decodes.
pub fn request_json(data: &[u8]) {
    let _ = serde_json::from_slice::<Outgoing>(data);
    let request: RawRequest<'_> = match serde_json::from_slice(data) {
        Ok(r) => r,
        Err(_) => {
            let _ = serde_json::from_slice::<RequestId>(data);
            return;
        }
    };
    // What was read writes back and reads again the same.
    let text = serde_json::to_string(&request).expect("a decoded request encodes");
    let again: RawRequest<'_> = serde_json::from_str(&text).expect("an encoded request decodes");
    assert_eq!((again.id, again.command), (request.id, request.command));
    assert_eq!(again.arguments.map(|a| a.get()), request.arguments.map(|a| a.get()));

    let raw = request.arguments.map_or("{}", |a| a.get());
    if let Some(command) = Command::from_name(request.command) {
        assert_eq!(command.name(), request.command);
        arguments_of(command)(raw);
    }
    for command in Command::ALL {
        arguments_of(command)(raw);
    }
}

/// Each command's argument type, as `dispatch.rs` picks it. No wildcard arm: a new command
/// must be added here.
fn arguments_of(command: Command) -> fn(&str) {
    match command {
        Command::Hello => arguments::<HelloArgs>,
        Command::Status | Command::ListCertificates | Command::TlsStatus | Command::TlsRegister => {
            arguments::<NoArguments>
        }
        Command::Login => login_arguments,
        Command::Sign => arguments::<SignArgs>,
        Command::Decrypt => arguments::<DecryptArgs>,
        Command::Logout => arguments::<LogoutArgs>,
        Command::Authenticate => authenticate_arguments,
    }
}

/// Decodes `raw` as `T`; what decodes must encode and decode again.
fn arguments<T: DeserializeOwned + Serialize>(raw: &str) {
    if let Ok(value) = serde_json::from_str::<T>(raw) {
        let text = serde_json::to_string(&value).expect("decoded arguments encode");
        serde_json::from_str::<T>(&text).expect("encoded arguments decode");
    }
}

/// `login` carries the PIN: whatever decodes must hold `Pin`'s invariants.
fn login_arguments(raw: &str) {
    arguments::<LoginArgs>(raw);
    if let Ok(LoginArgs { pin: Some(pin), .. }) = serde_json::from_str::<LoginArgs>(raw) {
        let secret = pin.expose();
        assert!(!secret.is_empty() && secret.len() <= Pin::MAX_LEN);
        assert!(!secret.chars().any(char::is_control));
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }
}

/// `authenticate` carries the page's origin and the server's nonce, which the host checks
/// (`webeid::check_origin`, `check_nonce`) before it hashes them for the card.
fn authenticate_arguments(raw: &str) {
    arguments::<AuthenticateArgs>(raw);
    let Ok(args) = serde_json::from_str::<AuthenticateArgs>(raw) else {
        return;
    };
    let origin_ok = webeid::check_origin(&args.origin).is_ok();
    let nonce_ok = webeid::check_nonce(&args.challenge_nonce).is_ok();
    if origin_ok {
        let rest = args.origin.split_once("://").map_or("", |(_, r)| r);
        assert!(!rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' ']));
        assert!(args.origin.len() <= 255);
    }
    if nonce_ok {
        assert!((webeid::NONCE_MIN..=webeid::NONCE_MAX).contains(&args.challenge_nonce.len()));
    }
    if origin_ok && nonce_ok {
        for alg in [Algorithm::ES256, Algorithm::RS384, Algorithm::PS512] {
            let digest = webeid::digest_to_sign(alg, &args.origin, &args.challenge_nonce);
            assert_eq!(digest.len(), alg.hash().digest_len());
        }
    }
}

/// A certificate as a token returns it (`CKA_VALUE`): any bytes. `summarize` must refuse
/// or describe, and what it describes must encode as the protocol's JSON.
pub fn certificate(data: &[u8]) {
    let hints = [
        PolicyHint {
            oid: "2.25.329800735698586629295641978511506172918".into(),
            name: Some("Paraphe test PKI".into()),
            rgs_level: Some("**".into()),
        },
        PolicyHint { oid: "1.2.250.1".into(), name: None, rgs_level: Some("*".into()) },
    ];
    assert_eq!(x509::fingerprint(data).len(), 64);
    if let Ok(info) = x509::summarize(data, &hints) {
        serde_json::to_string(&info).expect("certificate facts encode");
    }
}

/// A raw ECDSA signature (`r || s`) as a token returns it. `raw_to_der` must refuse what is
/// not two equal halves of at most 66 bytes, and otherwise return a DER
/// `Ecdsa-Sig-Value` (RFC 3279 §2.2.3) holding the same two integers.
pub fn ecdsa_signature(data: &[u8]) {
    let Some(der) = ecdsa::raw_to_der(data) else {
        assert!(data.is_empty() || !data.len().is_multiple_of(2) || data.len() > 2 * 66);
        return;
    };
    assert!(!data.is_empty() && data.len().is_multiple_of(2) && data.len() <= 2 * 66);
    let (r, s) = data.split_at(data.len() / 2);
    let body = der_element(&der, 0x30).expect("a SEQUENCE");
    assert_eq!(body.total, der.len(), "nothing after the SEQUENCE");
    let first = der_element(body.content, 0x02).expect("r INTEGER");
    let second = der_element(&body.content[first.total..], 0x02).expect("s INTEGER");
    assert_eq!(first.total + second.total, body.content.len(), "two INTEGERs only");
    for (int, half) in [(first.content, r), (second.content, s)] {
        assert!(!int.is_empty());
        assert!(int[0] & 0x80 == 0, "INTEGER must stay positive");
        if int.len() > 1 {
            assert!(int[0] != 0 || int[1] & 0x80 != 0, "INTEGER not minimal");
        }
        assert_eq!(trim_zeros(int), trim_zeros(half), "value changed");
    }
}

/// A pli (CMS EnvelopedData / AuthEnvelopedData, DER or BER) as a page or the user hands
/// it to the extension: `paraphe_formats::cms::envelope::decrypt`, the streaming parser and
/// decryptor the WASM core runs. Input: byte 0 picks the chunk size the pli is fed in
/// (1 to 256, or 0 for whole), byte 1 fills the content-encryption key (of the length the
/// header asks for), the rest is the pli. Invariants: no panic; the result does not depend
/// on how the input is cut (the parser only pauses between chunks); plaintext only comes
/// with `Ok`.
pub fn cms_envelope(data: &[u8]) {
    let (Some(&cut), Some(&fill)) = (data.first(), data.get(1)) else { return };
    let pli = &data[2..];
    let key = |h: &paraphe_formats::cms::envelope::Header| Some(vec![fill; h.content_encryption.key_len()]);
    let chunk = if cut == 0 { pli.len().max(1) } else { usize::from(cut) };
    let cut_up = paraphe_formats::cms::envelope::decrypt(pli, chunk, key);
    let whole = paraphe_formats::cms::envelope::decrypt(pli, pli.len().max(1), key);
    assert_eq!(cut_up, whole, "the result depends on the chunk size ({chunk})");
    // The browser's way (external mode): the same plaintext, or a failure where it failed.
    let external = decrypt_external(pli, chunk, fill);
    match (&whole, &external) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "external mode: another plaintext"),
        (Ok(_), Err(e)) => panic!("external mode failed where the core's own did not: {e}"),
        (Err(_), Ok(_)) => panic!("external mode gave plaintext where the core's own failed"),
        (Err(_), Err(_)) => {}
    }
}

/// [`cms_envelope`]'s pli opened as `pli/stream.js` and `pli/bulk.js` do in the browser
/// (`Decryption::set_key_external`), WebCrypto's AES played by the `aes` crates: each piece
/// `feed` hands out (one per `end_piece`) decrypted on its own, AES-CTR from the counter plus
/// the blocks done and its GHASH tag given back (`absorb_ghash`), or AES-CBC with its
/// padding block checked and stripped; 3DES as the core's own.
fn decrypt_external(
    pli: &[u8],
    chunk: usize,
    fill: u8,
) -> Result<Vec<u8>, paraphe_formats::cms::envelope::EnvelopeError> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, StreamCipher};
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use paraphe_formats::cms::envelope::{BulkCipher, Decryption, GHASH_IV};
    let mut d = Decryption::new();
    let mut key = Vec::new();
    let mut bulk: Option<Option<BulkCipher>> = None;
    let mut blocks_done: u32 = 0;
    let mut chain: Option<[u8; 16]> = None;
    let mut plain = Vec::new();
    let mut piece = Vec::new();
    for part in pli.chunks(chunk.max(1)) {
        piece.clear();
        d.feed(part, &mut piece)?;
        if bulk.is_none() {
            if let Some(h) = d.header() {
                key = vec![fill; h.content_encryption.key_len()];
                bulk = Some(d.set_key_external(&key, &mut piece)?);
            }
        }
        d.end_piece(&mut piece);
        match &bulk {
            Some(Some(_)) if piece.is_empty() => {}
            Some(Some(BulkCipher::AesGcm { counter })) => {
                let mut tag = [0u8; 16];
                let mut none: [u8; 0] = [];
                macro_rules! ghash_and_ctr {
                    ($aes:ty) => {{
                        let gcm =
                            aes_gcm::AesGcm::<$aes, aes_gcm::aead::consts::U12>::new_from_slice(&key).expect("key");
                        tag.copy_from_slice(
                            &gcm.encrypt_in_place_detached((&GHASH_IV).into(), &piece, &mut none).expect("tag"),
                        );
                        match d.gcm_keystream_iv(blocks_done) {
                            // Pieces that start at an odd block as Firefox's pages decrypt them
                            // (pli/bulk.js): an AES-GCM encryption under the keystream IV, its tag
                            // left aside; the others with AES-CTR.
                            Some(iv) if blocks_done % 2 == 1 => {
                                let gcm = aes_gcm::AesGcm::<$aes, aes_gcm::aead::consts::U16>::new_from_slice(&key)
                                    .expect("key");
                                let _ = gcm.encrypt_in_place_detached((&iv).into(), &[], &mut piece).expect("encrypts");
                            }
                            _ => {
                                let mut c = *counter;
                                let low = u32::from_be_bytes([c[12], c[13], c[14], c[15]]).wrapping_add(blocks_done);
                                c[12..].copy_from_slice(&low.to_be_bytes());
                                ctr::Ctr32BE::<$aes>::new_from_slices(&key, &c)
                                    .expect("key")
                                    .apply_keystream(&mut piece);
                            }
                        }
                    }};
                }
                match key.len() {
                    16 => ghash_and_ctr!(aes::Aes128),
                    24 => ghash_and_ctr!(aes::Aes192),
                    _ => ghash_and_ctr!(aes::Aes256),
                }
                d.absorb_ghash(&tag)?;
            }
            Some(Some(BulkCipher::AesCbc { iv })) => {
                assert!(piece.len() >= 32 && piece.len() % 16 == 0, "a CBC piece: blocks and its padding block");
                let iv = chain.unwrap_or(*iv);
                chain = Some(piece[piece.len() - 32..piece.len() - 16].try_into().expect("a block"));
                macro_rules! cbc {
                    ($aes:ty) => {
                        cbc::Decryptor::<$aes>::new_from_slices(&key, &iv)
                            .expect("key")
                            .decrypt_padded_mut::<aes::cipher::block_padding::Pkcs7>(&mut piece)
                            .map(<[u8]>::len)
                    };
                }
                let n = match key.len() {
                    16 => cbc!(aes::Aes128),
                    24 => cbc!(aes::Aes192),
                    _ => cbc!(aes::Aes256),
                }
                .expect("the core's padding block is always valid");
                assert_eq!(n, piece.len() - 16, "exactly the padding block stripped");
                piece.truncate(n);
            }
            _ => {} // before the key (nothing comes out), or 3DES (plaintext)
        }
        blocks_done = blocks_done.wrapping_add((piece.len() / 16) as u32);
        plain.extend_from_slice(&piece);
    }
    d.finish(&mut plain)?;
    Ok(plain)
}

/// A « jeton » (XAdES detached signature, `.xml`) a person hands the « Vérifier une
/// signature » page, with a file named `acte.txt`: `formats::verify::verify_xades` (the
/// roxmltree parse, C14N of the references and the SignedInfo, the digests, the signature,
/// the signed properties, the chain), and the document's canonical forms. Invariants: no
/// panic; a report has signatures, each `invalid` exactly when not intact and `valid` only
/// with a trusted chain, and encodes as JSON; canonical XML (inclusive and exclusive) is a
/// fixed point: it parses, and canonicalising it again gives it back byte for byte.
pub fn xades_jeton(data: &[u8]) {
    use paraphe_formats::verify::{canonicalize, verify_xades, Status, Trust};
    let trust = Trust { anchors: Vec::new(), hints: Vec::new(), now: SIGNING_TIME };
    if let Ok(report) = verify_xades(data, "acte.txt", b"Acte de test.\n", &trust) {
        assert_eq!(report.format, "xades");
        assert!(!report.signatures.is_empty(), "a report without signatures");
        for s in &report.signatures {
            assert_eq!(s.status == Status::Invalid, !s.intact, "status {:?}, intact {}", s.status, s.intact);
            assert!(s.status != Status::Valid || s.trusted, "valid without a trusted chain");
        }
        serde_json::to_string(&report).expect("a report encodes as JSON");
    }
    for exclusive in [false, true] {
        if let Ok(canonical) = canonicalize(data, exclusive) {
            let again = canonicalize(canonical.as_bytes(), exclusive)
                .unwrap_or_else(|e| panic!("canonical XML does not parse ({e}): {canonical:?}"));
            assert_eq!(again, canonical, "canonical XML is not a fixed point (exclusive: {exclusive})");
        }
    }
}

/// A PDF a person hands the « Signer des fichiers » page or a page hands `signDocuments` in
/// PAdES: `formats::pdf::prepare` reads its cross-reference sections, object streams, page
/// tree and AcroForm, and lays out the incremental update. Invariants: no panic; what it
/// accepts gives a digest of the hash's length, `finish` fills the placeholder, and the
/// signed file (the input and the update) can be signed again.
pub fn pdf_update(data: &[u8]) {
    use paraphe_formats::pdf::{self, PadesRequest};
    use paraphe_protocol::{HashAlgorithm, SignatureScheme};
    let request = PadesRequest {
        hash: HashAlgorithm::Sha256,
        scheme: SignatureScheme::RsaPkcs1,
        certificate: RSA_CERTIFICATE.to_vec(),
        chain: Vec::new(),
        signing_time: SIGNING_TIME,
        // Both kinds of update: the invisible field on the first page, the visible one on
        // the last (its page tree walk, boxes and /Rotate read from the input).
        visible: data.len() % 2 == 1,
        timestamp: false,
    };
    let Ok(prepared) = pdf::prepare(data, &request) else { return };
    assert_eq!(prepared.digest.len(), 32);
    assert_eq!(prepared.document_digest.len(), 32);
    let update = pdf::finish(&prepared.state, &[0x5a; 256]).expect("a prepared PDF can be finished");
    let signed = [data, &update].concat();
    if let Err(e) = pdf::prepare(&signed, &request) {
        panic!("a PDF signed once cannot be signed again: {e}");
    }
}

struct Element<'a> {
    content: &'a [u8],
    /// Header and content.
    total: usize,
}

/// One DER element with `tag`, definite length in short form or `0x81` (all an ECDSA
/// signature up to P-521 needs).
fn der_element(bytes: &[u8], tag: u8) -> Option<Element<'_>> {
    if *bytes.first()? != tag {
        return None;
    }
    let (len, header) = match *bytes.get(1)? {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => {
            let n = *bytes.get(2)?;
            // DER: the long form only for lengths the short form cannot say.
            (n >= 0x80).then_some((usize::from(n), 3))?
        }
        _ => return None,
    };
    let content = bytes.get(header..header + len)?;
    Some(Element { content, total: header + len })
}

fn trim_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[start..]
}

/// The signature value and nonce the time-stamp seeds answer (`seeds/make-timestamps.sh`): an
/// RSA-2048 signature of 256 bytes 0x5a, whose SignerInfo value is those bytes as they are.
const TSA_SIGNATURE: [u8; 256] = [0x5a; 256];
const TSA_NONCE: [u8; 8] = [0x5e; 8];

/// What a time-stamp authority answers the extension (PAdES and CAdES baseline B-T): an
/// RFC 3161 `TimeStampResp` from the network, read by `cms::timestamp::token`, then the token
/// added to a CAdES SignerInfo by `cms::finish_timestamped`. Invariants: an accepted token is
/// a DER SEQUENCE, accepted for this imprint and nonce only (another signature value or nonce
/// is refused); `finish_timestamped` accepts exactly what `token` accepts, and its signature
/// is the B-B one grown by the unsigned attribute holding the token.
pub fn timestamp_response(data: &[u8]) {
    use paraphe_formats::cms::{self, timestamp, CadesRequest};
    use paraphe_protocol::{HashAlgorithm, SignatureScheme};
    let request = CadesRequest {
        digest: vec![1; 32],
        hash: HashAlgorithm::Sha256,
        scheme: SignatureScheme::RsaPkcs1,
        certificate: RSA_CERTIFICATE.to_vec(),
        chain: Vec::new(),
        signing_time: SIGNING_TIME,
        policy: None,
        cosign: None,
    };
    let prepared = cms::prepare(&request).expect("a CAdES signature of the seed certificate");
    assert_eq!(prepared.state.signature_length(), TSA_SIGNATURE.len());
    let timestamped = cms::finish_timestamped(&prepared.state, &TSA_SIGNATURE, data, &TSA_NONCE);
    let token = match timestamp::token(data, &TSA_SIGNATURE, &TSA_NONCE) {
        Ok(token) => token,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert!(timestamped.is_err(), "finish_timestamped took what token refused");
            return;
        }
    };
    assert_eq!(token.first(), Some(&0x30), "a token is a ContentInfo");
    assert_eq!(
        timestamp::token(data, b"another signature value", &TSA_NONCE),
        Err(timestamp::TimestampError::ImprintMismatch)
    );
    assert_eq!(timestamp::token(data, &TSA_SIGNATURE, &[0x5f; 8]), Err(timestamp::TimestampError::NonceMismatch));
    let with = timestamped.expect("finish_timestamped takes what token accepts");
    let without = cms::finish(&prepared.state, &TSA_SIGNATURE).expect("B-B");
    assert!(with.len() > without.len() + token.len(), "the attribute holds the token");
    assert!(with.windows(token.len()).any(|w| w == token.as_slice()), "the token, byte for byte");
}

/// Signing time for the formats (2026-05-28): the certificates' validity is not checked.
const SIGNING_TIME: i64 = 1_780_000_000;
const RSA_CERTIFICATE: &[u8] = include_bytes!("../seeds/certificate/rsa-2048-authentication.der");
const EC_CERTIFICATE: &[u8] = include_bytes!("../seeds/certificate/ec-p256-signing.der");

/// What a LiberSign page (iParapheur 4, s2low, Pastell) hands the extension as
/// `signatureInformations`: `paraphe_wasm::libersign::plan` turns it into format jobs, and
/// `formats::prepare` builds what the card signs (parsing the `.p7s` to co-sign with
/// `formats::cms`), then `finish` the signed object. The same bytes are also taken whole as
/// a `.p7s` to co-sign, so that binary mutations reach the CMS co-signature parser.
/// Invariants: no panic; a plan has 1 to `MAX_DIGESTS` entries in the page's order, each
/// digest of its algorithm's length and encodable; what `prepare` accepts is a digest of its
/// algorithm's length.
pub fn libersign_plan(data: &[u8]) {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use paraphe_protocol::HashAlgorithm;
    use paraphe_wasm::formats::{self, Job};
    use paraphe_wasm::libersign;

    let prepared = |job: &Job, rsa: bool| {
        let certificate = if rsa { RSA_CERTIFICATE } else { EC_CERTIFICATE };
        let Ok(p) = formats::prepare(job, certificate, SIGNING_TIME) else { return };
        let digest = STANDARD.decode(&p.digest).expect("prepare gives base64");
        assert_eq!(digest.len(), p.hash_algorithm.digest_len(), "digest of the wrong length to sign");
        serde_json::to_string(&p.state).expect("a format state encodes");
        // RSA-2048 signs 256 bytes, P-256 raw r‖s 64.
        let _ = formats::finish(&p.state, &vec![0x5a; if rsa { 256 } else { 64 }]);
    };
    // A `.p7s` is a SEQUENCE: anything else stops at its first byte (and would only slow
    // the smoke run down, at the cost of a certificate parse per input).
    if data.first() == Some(&0x30) {
        let cosign = Job::Cades {
            digest: STANDARD.encode([0x11; 32]),
            hash_algorithm: HashAlgorithm::Sha256,
            cosign: Some(STANDARD.encode(data)),
            scheme: None,
            policy: None,
        };
        prepared(&cosign, true);
    }

    let Ok(json) = std::str::from_utf8(data) else { return };
    let Ok(plan) = libersign::plan(json) else { return };
    assert!(!plan.is_empty() && plan.len() <= libersign::MAX_DIGESTS, "{} entries", plan.len());
    let mut info = 0;
    for (i, entry) in plan.iter().enumerate() {
        assert!(entry.info >= info, "entries out of the page's order");
        info = entry.info;
        let digest = hex::decode(&entry.hex).expect("plan gives hex");
        assert_eq!(digest.len(), entry.hash_algorithm.digest_len(), "digest of the wrong length");
        serde_json::to_string(entry).expect("a plan entry encodes");
        // The first few through the formats (a plan can hold 500).
        if i < 4 {
            prepared(&entry.job, i % 2 == 0);
        }
    }
}

/// What a web page sends the extension, checked by the WASM core before anything reaches
/// the host: Paraphe's page API (`paraphe_wasm::request::validate`), Web eID messages
/// (`paraphe_wasm::webeid::validate`), and the page's origin (`origin::check`, and the
/// host's `webeid::check_origin`). Invariants: no panic; what is accepted is what the
/// protocol allows (digests of their algorithm's length, at most `MAX_DIGESTS`, nonces of
/// 44–128 characters, fingerprints of 64 hex digits, http origins only on loopback).
pub fn page_request(data: &[u8]) {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use paraphe_wasm::{request, webeid as page_webeid};

    let Ok(text) = std::str::from_utf8(data) else { return };
    let fingerprint_ok = |f: &str| f.len() == 64 && f.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match request::validate(text) {
        Ok(request::Validated::SignHash { items, certificate, .. }) => {
            assert!(!items.is_empty() && items.len() <= request::MAX_DIGESTS);
            for d in &items {
                let bytes = STANDARD.decode(&d.base64).expect("validated digests are base64");
                assert_eq!(bytes.len(), d.hash_algorithm.digest_len());
                assert_eq!(d.hex, hex::encode(&bytes));
            }
            assert!(certificate.as_deref().is_none_or(fingerprint_ok));
        }
        Ok(request::Validated::Authenticate { challenge_nonce }) => {
            assert!(webeid::check_nonce(&challenge_nonce).is_ok());
        }
        Ok(other) => {
            serde_json::to_string(&other).expect("a validated request encodes");
        }
        Err(e) => assert!(!e.code.is_empty()),
    }
    match page_webeid::validate(text, "0.1.0") {
        Ok(page_webeid::Validated::Sign { fingerprint, hex: h, base64, hash_algorithm, .. }) => {
            let bytes = STANDARD.decode(&base64).expect("validated digests are base64");
            assert_eq!(bytes.len(), hash_algorithm.digest_len());
            assert_eq!(h, hex::encode(&bytes));
            assert!(fingerprint_ok(&fingerprint));
        }
        Ok(page_webeid::Validated::Authenticate { challenge_nonce, .. }) => {
            assert!(webeid::check_nonce(&challenge_nonce).is_ok());
        }
        Ok(other) => {
            serde_json::to_string(&other).expect("a validated request encodes");
        }
        Err(e) => {
            e.to_json();
        }
    }
    // The same text as an origin (a page's own, or what the host is asked to sign for).
    let strict = paraphe_wasm::origin::check(text, false).is_ok();
    let _ = paraphe_wasm::origin::check(text, true);
    if strict {
        assert!(text.starts_with("https://"), "http accepted without the loopback option: {text}");
    }
    if webeid::check_origin(text).is_ok() {
        if let Some(rest) = text.strip_prefix("http://") {
            let host = if rest.starts_with('[') {
                rest.split_inclusive(']').next().unwrap_or(rest)
            } else {
                rest.split(':').next().unwrap_or(rest)
            };
            assert!(webeid::is_loopback(host), "http origin on a host that is not loopback: {text}");
        }
    }
}

/// Output sink shared with the host's writer.
#[derive(Clone, Default)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The host's whole conversation loop (`native::serve`: framing, JSON, dispatch, error
/// mapping) on arbitrary input bytes, with no token behind it. Invariants: the host never
/// panics; the first frame is the `hello` event; every frame it writes is at most 1 MiB and
/// parses as a host message; a response carries no id the input did not contain as a number.
pub fn frame_json(data: &[u8]) {
    use paraphe_host::dispatch::Host;
    use paraphe_host::native::{serve, Output};
    use paraphe_host::token::NoToken;
    let sink = Sink::default();
    let host = Host::new(Box::new(NoToken), "fuzz", Vec::new());
    // I/O errors cannot happen on a slice and a Vec; the result is not the point.
    let _ = serve(data, Output::new(sink.clone()), host, false);
    let out = sink.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let mut rest = &out[..];
    let mut first = true;
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "truncated frame in the host's output");
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        assert!(len <= paraphe_protocol::limits::MAX_MESSAGE_BYTES, "frame over the browser limit");
        let body = &rest[4..4 + len];
        let msg: paraphe_protocol::Outgoing =
            serde_json::from_slice(body).expect("the host wrote something unreadable");
        if first {
            assert!(matches!(&msg, paraphe_protocol::Outgoing::Event(e) if e.event == "hello"), "hello comes first");
            first = false;
        }
        if let paraphe_protocol::Outgoing::Response(r) = &msg {
            if let Some(id) = r.id {
                let text = id.to_string();
                assert!(data.windows(text.len()).any(|w| w == text.as_bytes()), "response id {id} not from the input");
            }
        }
        rest = &rest[4 + len..];
    }
    assert!(!first, "the host wrote no hello");
}

/// `main` of a target binary built without `cargo fuzz`: runs `entry` on every file named
/// on the command line (directories: every file in them), to reproduce a crash with plain
/// `cargo run`.
pub fn replay(entry: fn(&[u8])) {
    let mut count = 0usize;
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            v
        } else {
            vec![path]
        };
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            eprintln!("{}", file.display());
            entry(&data);
            count += 1;
        }
    }
    eprintln!("{count} inputs replayed without a failure");
}
