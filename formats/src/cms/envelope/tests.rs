//! Hand-built envelopes for what openssl does not write: authenticated attributes (GCM AAD
//! placed after the content), BER with indefinite lengths everywhere and nested chunks,
//! unprotected attributes, detached content, trailing bytes; and garbage that must not panic.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::cms::der::{self, octet_string, sequence, tag, tlv};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};

const ID_DATA: &[u128] = &[1, 2, 840, 113_549, 1, 7, 1];
const ID_CONTENT_TYPE: &[u128] = &[1, 2, 840, 113_549, 1, 9, 3];
const KEY: [u8; 32] = [0x11; 32];

/// A KeyTransRecipientInfo naming a subject key identifier (the key is not used here).
fn ktri() -> Vec<u8> {
    let rsa = sequence(&[&der::oid_arcs(&[1, 2, 840, 113_549, 1, 1, 1]), &der::null()]);
    sequence(&[&der::small_integer(2), &tlv(0x80, &[0xab; 20]), &rsa, &octet_string(&[0x5a; 256])])
}

/// BER writer: indefinite length when `ber`, else DER.
fn cons(ber: bool, t: u8, parts: &[&[u8]]) -> Vec<u8> {
    if ber {
        let mut out = vec![t, 0x80];
        parts.iter().for_each(|p| out.extend_from_slice(p));
        out.extend_from_slice(&[0, 0]);
        out
    } else {
        der::constructed(t, parts)
    }
}

/// The encrypted content `[0]`: primitive in DER; in BER, chunks of `n` bytes, the second
/// half of them inside a nested constructed OCTET STRING.
fn content(ber: bool, ciphertext: &[u8], n: usize) -> Vec<u8> {
    if !ber {
        return tlv(0x80, ciphertext);
    }
    let chunks: Vec<Vec<u8>> = ciphertext.chunks(n).map(octet_string).collect();
    let (a, b) = chunks.split_at(chunks.len() / 2);
    let nested = cons(true, 0x24, &b.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let mut parts: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
    parts.push(&nested);
    cons(true, 0xa0, &parts)
}

fn auth_attrs_set() -> Vec<u8> {
    let attr = sequence(&[&der::oid_arcs(ID_CONTENT_TYPE), &der::constructed(tag::SET, &[&der::oid_arcs(ID_DATA)])]);
    der::constructed(tag::SET, &[&attr])
}

/// AuthEnvelopedData, AES-256-GCM, with authAttrs.
fn auth_enveloped(ber: bool, plaintext: &[u8], tamper_aad: bool) -> Vec<u8> {
    let nonce = [0x22u8; 12];
    let aad = auth_attrs_set();
    let sealed =
        Aes256Gcm::new_from_slice(&KEY).unwrap().encrypt(&nonce.into(), Payload { msg: plaintext, aad: &aad }).unwrap();
    let (ciphertext, mac) = sealed.split_at(sealed.len() - 16);
    let alg = sequence(&[
        &der::oid_arcs(&[2, 16, 840, 1, 101, 3, 4, 1, 46]),
        &sequence(&[&octet_string(&nonce), &der::small_integer(16)]),
    ]);
    let eci = cons(ber, tag::SEQUENCE, &[&der::oid_arcs(ID_DATA), &alg, &content(ber, ciphertext, 100)]);
    let mut attrs = auth_attrs_set();
    attrs[0] = tag::context(1);
    if tamper_aad {
        let last = attrs.len() - 1;
        attrs[last] ^= 1;
    }
    let recipients = der::constructed(tag::SET, &[&ktri()]);
    let aed = cons(ber, tag::SEQUENCE, &[&der::small_integer(0), &recipients, &eci, &attrs, &octet_string(mac)]);
    cons(
        ber,
        tag::SEQUENCE,
        &[&der::oid_arcs(&[1, 2, 840, 113_549, 1, 9, 16, 1, 23]), &cons(ber, tag::context(0), &[&aed])],
    )
}

/// EnvelopedData, AES-128-CBC, with unprotectedAttrs; `with_content` false leaves the content out.
fn enveloped_cbc(ber: bool, plaintext: &[u8], with_content: bool) -> Vec<u8> {
    enveloped_cbc_with(ber, plaintext, |ciphertext| with_content.then(|| content(ber, ciphertext, 48)))
}

/// The same, with the encrypted content `[0]` that `content` makes of the ciphertext.
fn enveloped_cbc_with(ber: bool, plaintext: &[u8], content: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockEncryptMut, KeyIvInit};
    let iv = [0x33u8; 16];
    let mut buf = plaintext.to_vec();
    buf.resize(plaintext.len() / 16 * 16 + 16, 0);
    let ciphertext = cbc::Encryptor::<aes::Aes128>::new_from_slices(&KEY[..16], &iv)
        .unwrap()
        .encrypt_padded_mut::<Pkcs7>(&mut buf, plaintext.len())
        .unwrap()
        .to_vec();
    let alg = sequence(&[&der::oid_arcs(&[2, 16, 840, 1, 101, 3, 4, 1, 2]), &octet_string(&iv)]);
    let enc = content(&ciphertext);
    let id_data = der::oid_arcs(ID_DATA);
    let mut eci_parts: Vec<&[u8]> = vec![&id_data, &alg];
    if let Some(enc) = &enc {
        eci_parts.push(enc);
    }
    let eci = cons(ber, tag::SEQUENCE, &eci_parts);
    let mut unprotected = auth_attrs_set();
    unprotected[0] = tag::context(1);
    let recipients = cons(ber, tag::SET, &[&ktri(), &tlv(0xa1, &[0x02, 0x01, 0x03])]);
    let ed = cons(ber, tag::SEQUENCE, &[&der::small_integer(2), &recipients, &eci, &unprotected]);
    cons(ber, tag::SEQUENCE, &[&der::oid_arcs(&[1, 2, 840, 113_549, 1, 7, 3]), &cons(ber, tag::context(0), &[&ed])])
}

fn plaintext() -> Vec<u8> {
    (0..1000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn gcm_with_authenticated_attributes_after_the_content() {
    for ber in [false, true] {
        let pli = auth_enveloped(ber, &plaintext(), false);
        for chunk in [1, 5, 64, 10_000] {
            let out = decrypt(&pli, chunk, |h| {
                assert_eq!(h.kind, EnvelopeKind::AuthEnveloped);
                assert!(matches!(&h.recipients[0], Recipient::KeyTransport(k)
                    if k.rid == RecipientIdentifier::SubjectKeyIdentifier(vec![0xab; 20])));
                Some(KEY.to_vec())
            });
            assert_eq!(out.unwrap(), plaintext(), "BER {ber}, chunk {chunk}");
        }
        let tampered = auth_enveloped(ber, &plaintext(), true);
        assert_eq!(decrypt(&tampered, 300, |_| Some(KEY.to_vec())), Err(EnvelopeError::TagMismatch));
        assert_eq!(decrypt(&pli, 300, |_| Some(vec![0x12; 32])), Err(EnvelopeError::TagMismatch), "wrong key");
    }
}

#[test]
fn cbc_ber_nested_chunks_other_recipients_unprotected_attributes() {
    for ber in [false, true] {
        let pli = enveloped_cbc(ber, &plaintext(), true);
        for chunk in [1, 3, 47, 4096] {
            let out = decrypt(&pli, chunk, |h| {
                assert_eq!(h.recipients.len(), 2);
                assert_eq!(h.recipients[1], Recipient::Other { kind: "key agreement" });
                Some(KEY[..16].to_vec())
            });
            assert_eq!(out.unwrap(), plaintext(), "BER {ber}, chunk {chunk}");
        }
    }
}

#[test]
fn detached_content_and_trailing_data() {
    for ber in [false, true] {
        let detached = enveloped_cbc(ber, b"x", false);
        assert_eq!(decrypt(&detached, 64, |_| Some(KEY[..16].to_vec())), Err(EnvelopeError::DetachedContent));
        let mut trailing = enveloped_cbc(ber, b"x", true);
        trailing.push(0);
        assert_eq!(decrypt(&trailing, 64, |_| Some(KEY[..16].to_vec())), Err(EnvelopeError::TrailingData));
    }
}

#[test]
fn one_header_reader_one_set_of_limits_whatever_the_chunk_size() {
    use crate::asn1::MAX_DEPTH;
    // The ciphertext in one OCTET STRING, inside `depth` constructed ones, inside `[0]`.
    let nested = |depth: usize| {
        move |ciphertext: &[u8]| {
            let mut c = octet_string(ciphertext);
            for _ in 0..depth {
                c = cons(true, 0x24, &[&c]);
            }
            Some(cons(true, 0xa0, &[&c]))
        }
    };
    // ContentInfo, [0], EnvelopedData, EncryptedContentInfo and [0] are open around the
    // chunks: the deepest chunk is at depth 4 + `depth` (0 for the ContentInfo).
    let deepest = MAX_DEPTH - 4;
    let key = |_: &Header| Some(KEY[..16].to_vec());
    for chunk in [1, 5, 4096] {
        let pli = enveloped_cbc_with(true, &plaintext(), nested(deepest));
        assert_eq!(decrypt(&pli, chunk, key).unwrap(), plaintext(), "chunk {chunk}");
        let pli = enveloped_cbc_with(true, &plaintext(), nested(deepest + 1));
        assert_eq!(decrypt(&pli, chunk, key), Err(EnvelopeError::Malformed("nested too deeply")), "chunk {chunk}");

        // A length over the limit is refused as soon as its octets are in, not waited for.
        let mut huge = vec![0x30, 0x86, 0x01, 0, 0, 0, 0, 1];
        huge.extend(enveloped_cbc(false, b"x", true));
        assert_eq!(decrypt(&huge, chunk, key), Err(EnvelopeError::Malformed("length too large")), "chunk {chunk}");
        // A high tag number where `[0]` is expected.
        let mut pli = enveloped_cbc(true, b"x", true);
        let at = 2 + der::oid_arcs(&[1, 2, 840, 113_549, 1, 7, 3]).len();
        assert_eq!(pli[at], 0xa0);
        pli.splice(at..=at, [0xbf, 0x80, 0x00]);
        assert_eq!(
            decrypt(&pli, chunk, key),
            Err(EnvelopeError::Malformed("the ContentInfo content [0] was expected")),
            "chunk {chunk}"
        );
    }
}

#[test]
fn key_length_is_checked() {
    let pli = auth_enveloped(false, b"abc", false);
    assert_eq!(decrypt(&pli, 64, |_| Some(vec![0; 16])), Err(EnvelopeError::KeyLength { expected: 32, actual: 16 }));
}

#[test]
fn provisional_until_finish() {
    let pli = auth_enveloped(true, &plaintext(), false);
    let mut d = Decryption::new();
    let mut out = Vec::new();
    d.feed(&pli[..600], &mut out).unwrap();
    d.set_key(&KEY, &mut out).unwrap();
    d.feed(&pli[600..], &mut out).unwrap();
    assert!(d.is_provisional());
    assert_eq!(out, plaintext(), "all decrypted, not yet authenticated");
    d.finish(&mut out).unwrap();
    assert!(!d.is_provisional());
}

#[test]
fn garbage_and_mutations_never_panic() {
    let seeds = [
        auth_enveloped(true, &plaintext(), false),
        enveloped_cbc(true, &plaintext(), true),
        enveloped_cbc(false, b"x", true),
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..3000 {
        let mut data = seeds[i % seeds.len()].clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % data.len() as u64) as usize;
            match next() % 3 {
                0 => data[at] = next() as u8,
                1 => data.truncate(at),
                _ => data.insert(at, next() as u8),
            }
            if data.is_empty() {
                break;
            }
        }
        let chunk = 1 + (next() % 200) as usize;
        let key_len = [16, 24, 32][(next() % 3) as usize];
        let _ = decrypt(&data, chunk, |_| Some(vec![0x11; key_len]));
    }
    for len in 0..64 {
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = decrypt(&data, 7, |_| Some(KEY.to_vec()));
    }
}

#[test]
fn oids_read_back() {
    assert_eq!(dotted_oid(&der::oid_arcs(&[1, 2, 840, 113_549, 1, 9, 16, 1, 23])[2..]), "1.2.840.113549.1.9.16.1.23");
    assert_eq!(dotted_oid(&der::oid_arcs(&[2, 999, 3])[2..]), "2.999.3");
    assert_eq!(dotted_oid(&[]), "(empty OID)");
}

/// What the browser does with [`Decryption::set_key_external`]: each piece `feed` hands out
/// is decrypted on its own, as one WebCrypto call would (CBC chaining on the last block of
/// the previous piece, CTR from the first counter plus the blocks done; GCM's GHASH of the
/// piece as WebCrypto's AES-GCM tag), then `finish`'s
/// plaintext is appended. CBC here is AES-128, GCM AES-256 (the keys of the builders above).
fn decrypt_external(input: &[u8], chunk: usize, key: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, StreamCipher};
    let mut d = Decryption::new();
    let mut bulk: Option<BulkCipher> = None;
    let mut blocks_done: u32 = 0;
    let mut chain: Option<[u8; 16]> = None;
    let mut plain = Vec::new();
    let mut piece = Vec::new();
    for part in input.chunks(chunk.max(1)) {
        d.feed(part, &mut piece)?;
        if d.header().is_some() && bulk.is_none() {
            bulk = Some(d.set_key_external(key, &mut piece)?.expect("AES has an external form"));
        }
        d.end_piece(&mut piece);
        assert_eq!(piece.len() % 16, 0, "whole blocks only");
        match &bulk {
            _ if piece.is_empty() => {}
            None => panic!("ciphertext before the key"),
            Some(BulkCipher::AesGcm { counter }) => {
                d.absorb_ghash(&super::gcm::tests::ghash_tag(key, &piece))?;
                let c = super::gcm::inc32(counter, blocks_done);
                ctr::Ctr32BE::<aes::Aes256>::new_from_slices(key, &c).unwrap().apply_keystream(&mut piece);
            }
            Some(BulkCipher::AesCbc { iv }) => {
                // As WebCrypto: the piece ends with a block that decrypts to a whole padding
                // block, checked and stripped.
                let iv = chain.unwrap_or(*iv);
                chain = Some(piece[piece.len() - 32..piece.len() - 16].try_into().unwrap());
                let mut dec = cbc::Decryptor::<aes::Aes128>::new_from_slices(key, &iv).unwrap();
                piece.chunks_exact_mut(16).for_each(|b| dec.decrypt_block_mut(b.into()));
                assert_eq!(piece.split_off(piece.len() - 16), [16u8; 16], "a whole padding block");
            }
        }
        blocks_done += (piece.len() / 16) as u32;
        plain.append(&mut piece);
    }
    d.finish(&mut plain)?;
    Ok(plain)
}

#[test]
fn external_bulk_cipher_gcm_and_cbc() {
    for len in [0usize, 1, 15, 16, 17, 992, 1000, 4096] {
        let text: Vec<u8> = (0..len as u32).map(|i| (i * 7 % 251) as u8).collect();
        for ber in [false, true] {
            let gcm = auth_enveloped(ber, &text, false);
            let cbc = enveloped_cbc(ber, &text, true);
            for chunk in [1, 5, 64, 333, 100_000] {
                assert_eq!(decrypt_external(&gcm, chunk, &KEY).unwrap(), text, "GCM len {len} BER {ber} chunk {chunk}");
                assert_eq!(
                    decrypt_external(&cbc, chunk, &KEY[..16]).unwrap(),
                    text,
                    "CBC len {len} BER {ber} chunk {chunk}"
                );
            }
            let tampered = auth_enveloped(ber, &text, true);
            assert_eq!(decrypt_external(&tampered, 77, &KEY), Err(EnvelopeError::TagMismatch));
            assert_eq!(decrypt_external(&gcm, 77, &[0x12; 32]), Err(EnvelopeError::TagMismatch), "wrong key");
            assert_eq!(decrypt_external(&cbc, 77, &[0x12; 16]), Err(EnvelopeError::Padding), "wrong key");
            // Truncated inside the content.
            assert_eq!(decrypt_external(&gcm[..gcm.len() - 40], 77, &KEY), Err(EnvelopeError::Truncated));
        }
    }
}

#[test]
fn external_falls_back_for_3des() {
    let alg = ContentEncryption::DesEde3Cbc { iv: [0; 8] };
    assert!(ContentDecryptor::new_external(&alg, &[1; 24]).unwrap().is_none());
}
