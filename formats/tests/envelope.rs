//! Plis made by `openssl cms -encrypt` at test time for the demo token's encryption
//! certificate (tests/kit, CKA_ID 03), opened with `paraphe_formats::cms::envelope`: every
//! content cipher (AES-128/192/256-CBC, AES-GCM, 3DES), every key transport (RSA PKCS#1
//! v1.5, OAEP SHA-1, OAEP SHA-256), DER and BER (`-stream`: indefinite lengths, 4 KiB
//! chunks), recipient named by issuer+serial or by subject key identifier. The card is
//! simulated by `openssl pkeyutl -decrypt` with the key file. The plaintext is compared
//! byte for byte; truncated and tampered plis must fail, never yield plaintext.
#![allow(clippy::unwrap_used)]

mod common;

use common::{run, scratch, try_run};
use paraphe_formats::cms::envelope::{
    self, find_recipient, ContentEncryption, Decryption, EnvelopeError, EnvelopeKind, KeyTransport, Recipient,
};
use paraphe_protocol::HashAlgorithm;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// A file name of its own for each openssl run (the tests run in parallel threads).
fn unique(prefix: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    kit().dir.join(format!("{prefix}-{}", N.fetch_add(1, Ordering::SeqCst)))
}

struct Kit {
    dir: PathBuf,
    cert_pem: PathBuf,
    cert_der: Vec<u8>,
    key: PathBuf,
    /// Another certificate of the token (01): a pli for it must not match 03.
    other_der: Vec<u8>,
    document: PathBuf,
    plaintext: Vec<u8>,
}

fn kit() -> &'static Kit {
    static KIT: OnceLock<Kit> = OnceLock::new();
    KIT.get_or_init(|| {
        let dir = scratch("envelope");
        let kit = dir.join("kit");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/kit/make-token.sh");
        run(Command::new(script).arg(&kit));
        let pki = kit.join("pki");
        let der = |id: &str| {
            run(Command::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(pki.join(format!("{id}.crt"))))
        };
        // 100 KB with every byte value, not a multiple of any block size.
        let plaintext: Vec<u8> = (0..100_003u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let document = dir.join("offre.pdf");
        std::fs::write(&document, &plaintext).unwrap();
        Kit {
            cert_pem: pki.join("03.crt"),
            cert_der: der("03"),
            key: pki.join("03.key"),
            other_der: der("01"),
            document,
            plaintext,
            dir,
        }
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Transport {
    Pkcs1,
    OaepSha1,
    OaepSha256,
}

impl Transport {
    fn keyopts(self) -> &'static [&'static str] {
        match self {
            Transport::Pkcs1 => &[],
            Transport::OaepSha1 => &["-keyopt", "rsa_padding_mode:oaep"],
            Transport::OaepSha256 => &["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"],
        }
    }
}

/// `openssl cms -encrypt` of `input` for 03; `ber` adds `-stream` (indefinite lengths).
fn make_pli(input: &Path, cipher: &str, transport: Transport, ber: bool, keyid: bool) -> Vec<u8> {
    let k = kit();
    let out = unique("pli");
    let mut cmd = Command::new("openssl");
    cmd.args(["cms", "-encrypt", "-binary", &format!("-{cipher}"), "-outform", "DER", "-in"]).arg(input);
    if ber {
        cmd.arg("-stream");
    }
    if keyid {
        cmd.arg("-keyid");
    }
    cmd.arg("-out").arg(&out).arg("-recip").arg(&k.cert_pem).args(transport.keyopts());
    run(&mut cmd);
    std::fs::read(&out).unwrap()
}

/// The card: unwraps a key with `openssl pkeyutl -decrypt` and the key file.
fn card_unwrap(key_transport: &KeyTransport, wrapped: &[u8]) -> Vec<u8> {
    let k = kit();
    let file = unique("wrapped");
    std::fs::write(&file, wrapped).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["pkeyutl", "-decrypt", "-inkey"]).arg(&k.key).arg("-in").arg(&file);
    match key_transport {
        KeyTransport::RsaPkcs1 => {}
        KeyTransport::RsaOaep { hash } => {
            let md = hash.name();
            cmd.args(["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", &format!("rsa_oaep_md:{md}")]);
            cmd.args(["-pkeyopt", &format!("rsa_mgf1_md:{md}")]);
        }
        KeyTransport::Unsupported { oid, .. } => panic!("unsupported key transport {oid}"),
    }
    run(&mut cmd)
}

/// Opens a pli fed in `chunk`-byte pieces, as the extension does: header, recipient match,
/// key from the card, then the content.
fn open(pli: &[u8], chunk: usize) -> Result<Vec<u8>, EnvelopeError> {
    let k = kit();
    let mut d = Decryption::new();
    let mut out = Vec::new();
    let mut keyed = false;
    for piece in pli.chunks(chunk) {
        d.feed(piece, &mut out)?;
        if !keyed {
            if let Some(header) = d.header() {
                let m = find_recipient(header, &[&k.other_der, &k.cert_der])?;
                assert_eq!(m.certificate, 1, "matched the encryption certificate, not 01");
                let Recipient::KeyTransport(r) = &header.recipients[m.recipient] else { unreachable!() };
                let cek = card_unwrap(&r.key_transport, &r.encrypted_key);
                d.set_key(&cek, &mut out)?;
                keyed = true;
            }
        }
    }
    d.finish(&mut out)?;
    Ok(out)
}

const CIPHERS: [&str; 6] = ["aes128", "aes192", "aes256", "aes-128-gcm", "aes-256-gcm", "des3"];

#[test]
fn every_combination_decrypts_byte_for_byte() {
    let k = kit();
    for cipher in CIPHERS {
        for transport in [Transport::Pkcs1, Transport::OaepSha1, Transport::OaepSha256] {
            for ber in [false, true] {
                let pli = make_pli(&k.document, cipher, transport, ber, false);
                // Chunk sizes that split headers, lengths and blocks everywhere.
                for chunk in [7, 4096, 1 << 20] {
                    let what = format!("{cipher} {transport:?} {} chunk {chunk}", if ber { "BER" } else { "DER" });
                    let plaintext = open(&pli, chunk).unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert!(plaintext == k.plaintext, "{what}: plaintext differs");
                }
            }
        }
    }
}

#[test]
fn header_names_algorithms_and_parameters() {
    let k = kit();
    let header = |pli: &[u8]| {
        let mut d = Decryption::new();
        d.feed(pli, &mut Vec::new()).unwrap();
        d.header().unwrap().clone()
    };
    let h = header(&make_pli(&k.document, "aes-256-gcm", Transport::OaepSha256, true, false));
    assert_eq!(h.kind, EnvelopeKind::AuthEnveloped);
    assert_eq!(h.content_type, "1.2.840.113549.1.7.1");
    assert!(
        matches!(&h.content_encryption, ContentEncryption::AesGcm { key_len: 32, nonce, icv_len: 16 } if nonce.len() == 12)
    );
    let Recipient::KeyTransport(r) = &h.recipients[0] else { panic!() };
    assert_eq!(r.key_transport, KeyTransport::RsaOaep { hash: HashAlgorithm::Sha256 });
    assert_eq!(r.encrypted_key.len(), 256);

    let h = header(&make_pli(&k.document, "des3", Transport::Pkcs1, false, false));
    assert_eq!(h.kind, EnvelopeKind::Enveloped);
    assert!(matches!(h.content_encryption, ContentEncryption::DesEde3Cbc { .. }));
    assert_eq!(h.content_encryption.key_len(), 24);
}

#[test]
fn recipient_by_subject_key_identifier() {
    let k = kit();
    for (cipher, transport) in [("aes256", Transport::OaepSha1), ("aes-128-gcm", Transport::Pkcs1)] {
        let pli = make_pli(&k.document, cipher, transport, true, true);
        let mut d = Decryption::new();
        d.feed(&pli[..2000], &mut Vec::new()).unwrap();
        let Recipient::KeyTransport(r) = &d.header().unwrap().recipients[0] else { panic!() };
        assert!(matches!(r.rid, envelope::RecipientIdentifier::SubjectKeyIdentifier(_)));
        assert_eq!(open(&pli, 65536).unwrap(), k.plaintext);
    }
}

#[test]
fn small_documents_and_block_boundaries() {
    let k = kit();
    for len in [0usize, 1, 15, 16, 17, 4095, 4096, 4097] {
        let doc = k.dir.join(format!("small-{len}.bin"));
        std::fs::write(&doc, &k.plaintext[..len]).unwrap();
        for cipher in ["aes128", "aes-256-gcm", "des3"] {
            for ber in [false, true] {
                if len == 0 && ber && cipher.ends_with("gcm") {
                    continue; // OpenSSL 3.0 cannot stream an empty GCM content ("Error writing CMS output").
                }
                let pli = make_pli(&doc, cipher, Transport::Pkcs1, ber, false);
                assert_eq!(open(&pli, 1000).unwrap(), &k.plaintext[..len], "{cipher} {len} bytes, BER {ber}");
            }
        }
    }
}

#[test]
fn openssl_agrees() {
    // The same pli through `openssl cms -decrypt`: both implementations read it the same.
    let k = kit();
    let pli = make_pli(&k.document, "aes-256-gcm", Transport::OaepSha1, true, false);
    let file = k.dir.join("agree.p7m");
    std::fs::write(&file, &pli).unwrap();
    let theirs = run(Command::new("openssl")
        .args(["cms", "-decrypt", "-binary", "-inform", "DER", "-in"])
        .arg(&file)
        .arg("-inkey")
        .arg(&k.key)
        .arg("-recip")
        .arg(&k.cert_pem));
    assert_eq!(open(&pli, 3000).unwrap(), theirs);
}

#[test]
fn truncated_plis_fail_and_yield_nothing_complete() {
    let k = kit();
    for cipher in ["aes256", "aes-256-gcm", "des3"] {
        for ber in [false, true] {
            let pli = make_pli(&k.document, cipher, Transport::Pkcs1, ber, false);
            // In the header, in the content, on a chunk boundary, in the trailer, one byte short.
            for cut in [0, 1, 100, 600, pli.len() / 2, pli.len() - 40, pli.len() - 3, pli.len() - 1] {
                match open(&pli[..cut], 4096) {
                    Err(EnvelopeError::Truncated) => {}
                    other => panic!("{cipher} BER {ber} cut at {cut}/{}: {other:?}", pli.len()),
                }
            }
        }
    }
}

#[test]
fn tampered_gcm_reports_the_tag_failure() {
    let k = kit();
    for ber in [false, true] {
        let pli = make_pli(&k.document, "aes-256-gcm", Transport::OaepSha1, ber, false);
        // A byte of ciphertext in the middle, and the last byte of the MAC (at the end in
        // DER; before the three end-of-contents in BER).
        let mac_end = if ber { pli.len() - 7 } else { pli.len() - 1 };
        for at in [pli.len() / 2, mac_end] {
            let mut bad = pli.clone();
            bad[at] ^= 0x01;
            assert_eq!(open(&bad, 8192), Err(EnvelopeError::TagMismatch), "BER {ber}, byte {at}");
        }
    }
}

#[test]
fn tampered_cbc_reports_bad_padding() {
    let k = kit();
    for (cipher, block) in [("aes128", 16), ("des3", 8)] {
        let pli = make_pli(&k.document, cipher, Transport::Pkcs1, false, false);
        // Flipping the last byte of the second-to-last block flips the padding length byte
        // of the last plaintext block: p ^ 0xff is never a valid PKCS#7 padding.
        let mut bad = pli.clone();
        let at = pli.len() - block - 1;
        bad[at] ^= 0xff;
        assert_eq!(open(&bad, 4096), Err(EnvelopeError::Padding), "{cipher}");
    }
}

#[test]
fn not_for_this_card() {
    let k = kit();
    let pli = make_pli(&k.document, "aes128", Transport::Pkcs1, false, false);
    let mut d = Decryption::new();
    d.feed(&pli, &mut Vec::new()).unwrap();
    assert_eq!(find_recipient(d.header().unwrap(), &[&k.other_der]), Err(EnvelopeError::NoMatchingRecipient));
    assert_eq!(find_recipient(d.header().unwrap(), &[]), Err(EnvelopeError::NoMatchingRecipient));
}

#[test]
fn other_cms_and_other_encodings_are_refused_clearly() {
    let k = kit();
    // A signature is CMS, but not a pli.
    let signed = k.dir.join("signed.p7s");
    let (ok, out) = try_run(
        Command::new("openssl")
            .args(["cms", "-sign", "-binary", "-outform", "DER", "-nodetach", "-in"])
            .arg(&k.document)
            .arg("-signer")
            .arg(&k.cert_pem)
            .arg("-inkey")
            .arg(&k.key)
            .arg("-out")
            .arg(&signed),
    );
    assert!(ok, "{out}");
    let err = envelope::decrypt(&std::fs::read(&signed).unwrap(), 4096, |_| None).unwrap_err();
    assert_eq!(err, EnvelopeError::NotEnveloped { content_type: "1.2.840.113549.1.7.2".into() });

    // PEM and S/MIME are text: the error says so.
    let pem = k.dir.join("pli.pem");
    run(Command::new("openssl")
        .args(["cms", "-encrypt", "-binary", "-aes128", "-outform", "PEM", "-in"])
        .arg(&k.document)
        .arg("-out")
        .arg(&pem)
        .arg(&k.cert_pem));
    let err = envelope::decrypt(&std::fs::read(&pem).unwrap(), 4096, |_| None).unwrap_err();
    assert!(matches!(err, EnvelopeError::Malformed(m) if m.contains("PEM")), "{err:?}");
}
