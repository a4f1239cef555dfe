//! CAdES detached signatures end to end: prepare, sign the digest with openssl as a token
//! would, finish, then verify with `openssl cms -verify` and `openssl smime -verify` against
//! the root CA, and check the ESS signing-certificate-v2 attribute by hand (OpenSSL 3.0 does
//! not check its hash).
#![allow(clippy::unwrap_used)]

mod common;

use common::{pki, run, scratch, token_sign, try_run, Mechanism, Tlv};
use paraphe_formats::cms::{self, CadesRequest, CadesState, CmsError, SignaturePolicy};
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const DOCUMENT: &[u8] = "Délibération n° 2026-042 du conseil municipal\r\nobjet : café & <croissants>\n".as_bytes();

fn hash_of(hash: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    match hash {
        HashAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
        HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

fn request(hash: HashAlgorithm, scheme: SignatureScheme, certificate: &[u8]) -> CadesRequest {
    CadesRequest {
        digest: hash_of(hash, DOCUMENT),
        hash,
        scheme,
        certificate: certificate.to_vec(),
        chain: vec![pki().intermediate_der.clone()],
        signing_time: 1_780_000_000,
        policy: None,
        cosign: None,
    }
}

fn mechanism(scheme: SignatureScheme, hash: HashAlgorithm) -> Mechanism {
    let md = match hash {
        HashAlgorithm::Sha1 => "sha1",
        HashAlgorithm::Sha256 => "sha256",
        HashAlgorithm::Sha384 => "sha384",
        HashAlgorithm::Sha512 => "sha512",
    };
    match scheme {
        SignatureScheme::RsaPkcs1 => Mechanism::RsaPkcs1(md),
        SignatureScheme::RsaPss => Mechanism::RsaPss(md),
        SignatureScheme::Ecdsa => Mechanism::Ecdsa,
    }
}

/// Both steps, with the state going through JSON as it does between the WASM core's calls.
fn sign(req: &CadesRequest, key: &Path) -> Vec<u8> {
    let prepared = cms::prepare(req).unwrap();
    assert_eq!(prepared.hash, req.hash);
    assert_eq!(prepared.digest.len(), req.hash.digest_len());
    let json = serde_json::to_string(&prepared.state).unwrap();
    let state: CadesState = serde_json::from_str(&json).unwrap();
    let signature = token_sign(key, &prepared.digest, mechanism(req.scheme, req.hash));
    cms::finish(&state, &signature).unwrap()
}

/// `openssl cms -verify` and, where the PKCS#7 code knows the algorithm, `openssl smime
/// -verify`, against the root CA only (the intermediate comes from the p7s).
fn verify(p7s: &[u8], smime_too: bool) {
    let dir = scratch("verify");
    std::fs::write(dir.join("doc"), DOCUMENT).unwrap();
    std::fs::write(dir.join("sig.p7s"), p7s).unwrap();
    let tools: &[&str] = if smime_too { &["cms", "smime"] } else { &["cms"] };
    for tool in tools {
        let (ok, out) = try_run(
            Command::new("openssl")
                .args([
                    tool, "-verify", "-binary", "-content", "doc", "-inform", "DER", "-in", "sig.p7s", "-purpose",
                    "any",
                ])
                .arg("-CAfile")
                .arg(&pki().root)
                .args(["-out", "/dev/null"])
                .current_dir(&dir),
        );
        assert!(ok && out.contains("Verification successful"), "openssl {tool} -verify: {out}");
    }
    // And a tampered document does not verify.
    std::fs::write(dir.join("doc"), b"another document").unwrap();
    let (ok, _) = try_run(
        Command::new("openssl")
            .args([
                "cms", "-verify", "-binary", "-content", "doc", "-inform", "DER", "-in", "sig.p7s", "-purpose", "any",
            ])
            .arg("-CAfile")
            .arg(&pki().root)
            .args(["-out", "/dev/null"])
            .current_dir(&dir),
    );
    assert!(!ok, "a signature over another document verified");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The SignerInfos of a DER ContentInfo(SignedData).
fn signer_infos(p7s: &[u8]) -> Vec<Tlv<'_>> {
    let ci = Tlv::parse(p7s).0.children();
    let sd = ci[1].children()[0].children();
    sd.last().unwrap().children()
}

/// The values of the signed attribute `oid` (dotted) in a SignerInfo.
fn signed_attribute<'a>(signer_info: &Tlv<'a>, oid: &[u8]) -> Option<Tlv<'a>> {
    let attrs = signer_info.children().into_iter().find(|t| t.tag == 0xa0)?;
    attrs.children().into_iter().find(|a| a.children()[0].content == oid).map(|a| a.children()[1].children()[0])
}

const OID_SIGNING_CERTIFICATE_V2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f];
const OID_SIG_POLICY_ID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0f];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];

/// ESS signing-certificate-v2 (RFC 5035): certHash = SHA-256 of the certificate, and
/// issuerSerial = the certificate's issuer and serial.
fn check_signing_certificate_v2(signer_info: &Tlv<'_>, cert: &[u8]) {
    let value = signed_attribute(signer_info, OID_SIGNING_CERTIFICATE_V2).expect("signing-certificate-v2 present");
    let ess_cert_id = value.children()[0].children()[0];
    let fields = ess_cert_id.children();
    assert_eq!(fields[0].tag, 0x04, "hashAlgorithm left out: SHA-256 by default");
    assert_eq!(fields[0].content, Sha256::digest(cert).as_slice(), "certHash is SHA-256 of the certificate");
    let issuer_serial = fields[1].children();
    let general_name = issuer_serial[0].children()[0];
    assert_eq!(general_name.tag, 0xa4, "directoryName");
    let (issuer, serial) = common::issuer_and_serial(cert);
    assert_eq!(general_name.content, issuer.as_slice());
    assert_eq!(issuer_serial[1].raw, serial.as_slice());
}

fn sign_and_verify(hash: HashAlgorithm, scheme: SignatureScheme) -> Vec<u8> {
    let (cert, key) = match scheme {
        SignatureScheme::Ecdsa => (&pki().ec_der, &pki().ec_key),
        _ => (&pki().rsa_der, &pki().rsa_key),
    };
    let p7s = sign(&request(hash, scheme, cert), key);
    // The PKCS#7 code behind `smime` does not know RSA-PSS.
    verify(&p7s, scheme != SignatureScheme::RsaPss);
    let signers = signer_infos(&p7s);
    assert_eq!(signers.len(), 1);
    check_signing_certificate_v2(&signers[0], cert);
    let md = signed_attribute(&signers[0], OID_MESSAGE_DIGEST).unwrap();
    assert_eq!(md.content, hash_of(hash, DOCUMENT));
    p7s
}

#[test]
fn rsa_pkcs1_sha1_legacy() {
    sign_and_verify(HashAlgorithm::Sha1, SignatureScheme::RsaPkcs1);
}

#[test]
fn rsa_pkcs1_sha256() {
    let p7s = sign_and_verify(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1);
    // The p7s carries the signer and the intermediate, not the root.
    let dir = scratch("certs");
    std::fs::write(dir.join("sig.p7s"), &p7s).unwrap();
    let certs = run(Command::new("openssl")
        .args(["pkcs7", "-inform", "DER", "-in", "sig.p7s", "-print_certs", "-noout"])
        .current_dir(&dir));
    let certs = String::from_utf8_lossy(&certs);
    assert_eq!(certs.matches("subject=").count(), 2, "{certs}");
}

#[test]
fn rsa_pkcs1_sha384() {
    sign_and_verify(HashAlgorithm::Sha384, SignatureScheme::RsaPkcs1);
}

#[test]
fn rsa_pkcs1_sha512() {
    sign_and_verify(HashAlgorithm::Sha512, SignatureScheme::RsaPkcs1);
}

#[test]
fn rsa_pss_sha256() {
    sign_and_verify(HashAlgorithm::Sha256, SignatureScheme::RsaPss);
}

#[test]
fn rsa_pss_sha1_and_sha512() {
    sign_and_verify(HashAlgorithm::Sha1, SignatureScheme::RsaPss);
    sign_and_verify(HashAlgorithm::Sha512, SignatureScheme::RsaPss);
}

#[test]
fn ecdsa_p256_sha256_and_sha384() {
    sign_and_verify(HashAlgorithm::Sha256, SignatureScheme::Ecdsa);
    sign_and_verify(HashAlgorithm::Sha384, SignatureScheme::Ecdsa);
}

#[test]
fn signature_policy_identifier() {
    let mut req = request(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, &pki().rsa_der);
    let policy_hash = Sha256::digest(b"policy document").to_vec();
    req.policy = Some(SignaturePolicy {
        oid: "1.2.250.1.131.1.5.18.21.1.7".into(),
        hash: policy_hash.clone(),
        hash_algorithm: HashAlgorithm::Sha256,
        uri: Some("https://example.invalid/ps_helios_dgfip.pdf".into()),
    });
    let p7s = sign(&req, &pki().rsa_key);
    verify(&p7s, true);
    let signer = signer_infos(&p7s)[0];
    let policy = signed_attribute(&signer, OID_SIG_POLICY_ID).expect("signature-policy-identifier present").children();
    assert_eq!(policy[0].content, [0x2a, 0x81, 0x7a, 0x01, 0x81, 0x03, 0x01, 0x05, 0x12, 0x15, 0x01, 0x07]);
    assert_eq!(policy[1].children()[1].content, policy_hash.as_slice());
    let qualifier = policy[2].children()[0].children();
    assert_eq!(qualifier[1].tag, 0x16, "SPuri is an IA5String");
    assert_eq!(qualifier[1].content, b"https://example.invalid/ps_helios_dgfip.pdf");
    // openssl's own reading of the structure.
    let dir = scratch("print");
    std::fs::write(dir.join("sig.p7s"), &p7s).unwrap();
    let printed = run(Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.p7s"])
        .current_dir(&dir));
    let printed = String::from_utf8_lossy(&printed);
    for expected in [
        "contentType",
        "signingTime",
        "messageDigest",
        "id-smime-aa-signingCertificateV2",
        "id-smime-aa-ets-sigPolicyId",
    ] {
        assert!(printed.contains(expected), "{expected} missing from\n{printed}");
    }
}

#[test]
fn signed_attributes_are_what_was_hashed() {
    let req = request(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, &pki().rsa_der);
    let prepared = cms::prepare(&req).unwrap();
    let signature = token_sign(&pki().rsa_key, &prepared.digest, Mechanism::RsaPkcs1("sha256"));
    let p7s = cms::finish(&prepared.state, &signature).unwrap();
    let signer = signer_infos(&p7s)[0];
    let attrs = signer.children().into_iter().find(|t| t.tag == 0xa0).unwrap();
    let mut as_set = attrs.raw.to_vec();
    as_set[0] = 0x31;
    assert_eq!(Sha256::digest(&as_set).as_slice(), prepared.digest.as_slice());
}

/// A second signer on a p7s made by Paraphe (DER), then on one made by `openssl cms -sign
/// -stream` (BER, indefinite lengths): openssl must accept both signers, and the first
/// signer's SignerInfo and certificate must be there byte for byte.
#[test]
fn cosignature_of_der_and_ber_p7s() {
    let first = sign(&request(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, &pki().rsa_der), &pki().rsa_key);
    let mut second = request(HashAlgorithm::Sha256, SignatureScheme::Ecdsa, &pki().ec_der);
    second.cosign = Some(first.clone());
    let both = sign(&second, &pki().ec_key);
    verify(&both, true);
    let signers = signer_infos(&both);
    assert_eq!(signers.len(), 2);
    let original = signer_infos(&first)[0];
    assert!(signers.iter().any(|s| s.raw == original.raw), "the first SignerInfo is kept byte for byte");
    for s in &signers {
        let cert = if s.raw == original.raw { &pki().rsa_der } else { &pki().ec_der };
        check_signing_certificate_v2(s, cert);
    }

    // BER from openssl.
    let dir = scratch("ber");
    std::fs::write(dir.join("doc"), DOCUMENT).unwrap();
    run(Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-stream", "-in", "doc", "-outform", "DER", "-out", "ber.p7s", "-md", "sha256",
        ])
        .arg("-signer")
        .arg(&pki().rsa_cert)
        .arg("-inkey")
        .arg(&pki().rsa_key)
        .arg("-certfile")
        .arg(&pki().intermediate)
        .current_dir(&dir));
    let ber = std::fs::read(dir.join("ber.p7s")).unwrap();
    assert_eq!(&ber[..2], [0x30, 0x80], "openssl -stream writes indefinite lengths");
    assert!(cms::ber::to_der(&ber).is_ok());
    let mut second = request(HashAlgorithm::Sha256, SignatureScheme::Ecdsa, &pki().ec_der);
    second.cosign = Some(ber);
    let both = sign(&second, &pki().ec_key);
    verify(&both, true);
    assert_eq!(signer_infos(&both).len(), 2);

    // A third signer on top, with SHA-1 (a different digest algorithm is added).
    let mut third = request(HashAlgorithm::Sha1, SignatureScheme::RsaPkcs1, &pki().rsa_der);
    third.cosign = Some(both);
    let all = sign(&third, &pki().rsa_key);
    verify(&all, true);
    assert_eq!(signer_infos(&all).len(), 3);
}

#[test]
fn cosignature_of_another_document_is_refused() {
    let first = sign(&request(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, &pki().rsa_der), &pki().rsa_key);
    let mut second = request(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, &pki().rsa_der);
    second.digest = Sha256::digest(b"another document").to_vec();
    second.cosign = Some(first);
    assert_eq!(cms::prepare(&second).unwrap_err(), CmsError::CosignOtherDocument);
}

#[test]
fn bad_inputs_are_errors() {
    let good = request(HashAlgorithm::Sha256, SignatureScheme::RsaPkcs1, &pki().rsa_der);

    let mut r = good.clone();
    r.digest.pop();
    assert!(matches!(cms::prepare(&r), Err(CmsError::DigestLength { expected: 32, actual: 31, .. })));

    let mut r = good.clone();
    r.certificate = b"not a certificate".to_vec();
    assert!(matches!(cms::prepare(&r), Err(CmsError::Certificate(_))));
    r.certificate = pki().rsa_der[..100].to_vec();
    assert!(matches!(cms::prepare(&r), Err(CmsError::Certificate(_))));

    let mut r = good.clone();
    r.scheme = SignatureScheme::Ecdsa;
    assert!(matches!(cms::prepare(&r), Err(CmsError::KeyMismatch { .. })));

    let mut r = good.clone();
    r.chain = vec![vec![0x30, 0x03, 0x01]];
    assert!(matches!(cms::prepare(&r), Err(CmsError::Certificate(_))));

    let mut r = good.clone();
    r.signing_time = -1_000_000_000_000;
    assert!(matches!(cms::prepare(&r), Err(CmsError::SigningTime(_))));

    let mut r = good.clone();
    r.policy = Some(SignaturePolicy {
        oid: "not.an.oid".into(),
        hash: vec![0; 32],
        hash_algorithm: HashAlgorithm::Sha256,
        uri: None,
    });
    assert!(matches!(cms::prepare(&r), Err(CmsError::Policy(_))));
    r.policy = Some(SignaturePolicy {
        oid: "1.2.3".into(),
        hash: vec![0; 20],
        hash_algorithm: HashAlgorithm::Sha256,
        uri: None,
    });
    assert!(matches!(cms::prepare(&r), Err(CmsError::Policy(_))));

    // Untrusted p7s bytes: truncated, garbage, another content type, PEM.
    let valid = sign(&good, &pki().rsa_key);
    for bad in [
        &valid[..valid.len() / 2],
        &valid[..1],
        b"-----BEGIN PKCS7-----".as_slice(),
        &[0x30, 0x80, 0x30, 0x80][..],
        &[],
    ] {
        let mut r = good.clone();
        r.cosign = Some(bad.to_vec());
        assert!(matches!(cms::prepare(&r), Err(CmsError::Cosign(_))), "{bad:02x?}");
    }
    // Every truncation of a valid p7s is an error, never a panic.
    for len in 0..valid.len() {
        let mut r = good.clone();
        r.cosign = Some(valid[..len].to_vec());
        assert!(cms::prepare(&r).is_err());
    }

    // Single-byte corruptions anywhere (lengths, tags, contents): an error or a co-signature,
    // never a panic.
    for i in 0..valid.len() {
        for value in [0x00, 0x80, 0xff] {
            let mut corrupted = valid.clone();
            corrupted[i] = value;
            let mut r = good.clone();
            r.cosign = Some(corrupted);
            let _ = cms::prepare(&r);
        }
    }

    // A signature of the wrong length (a P-256 signature for an RSA-2048 key).
    let prepared = cms::prepare(&good).unwrap();
    assert_eq!(
        cms::finish(&prepared.state, &[1; 64]).unwrap_err(),
        CmsError::SignatureLength { expected: 256, actual: 64 }
    );
    // A state from elsewhere.
    assert!(serde_json::from_str::<CadesState>(r#"{"version":1}"#).is_err());
}

#[test]
fn state_json_shape() {
    let prepared = cms::prepare(&request(HashAlgorithm::Sha256, SignatureScheme::RsaPss, &pki().rsa_der)).unwrap();
    let json: serde_json::Value = serde_json::to_value(&prepared.state).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "certificates",
            "cosign",
            "hash",
            "scheme",
            "signatureLength",
            "signedAttributes",
            "signerIdentifier",
            "version"
        ]
    );
    assert_eq!(json["hash"], "sha256");
    assert_eq!(json["scheme"], "rsa-pss");
    assert_eq!(json["signatureLength"], 256);
    assert!(json["cosign"].is_null());
}

#[test]
fn cades_b_t_with_an_openssl_authority() {
    // ECDSA: the time-stamp covers the DER signature value, not the card's raw r || s.
    for (scheme, cert, key) in [
        (SignatureScheme::RsaPkcs1, &pki().rsa_der, &pki().rsa_key),
        (SignatureScheme::Ecdsa, &pki().ec_der, &pki().ec_key),
    ] {
        let req = request(HashAlgorithm::Sha256, scheme, cert);
        let prepared = cms::prepare(&req).unwrap();
        let signature = token_sign(key, &prepared.digest, mechanism(scheme, HashAlgorithm::Sha256));
        let nonce = [0xa5; 12];
        let query = cms::timestamp_request(&prepared.state, &signature, &nonce).unwrap();
        let response = common::tsa::tsa().reply(&query);
        let p7s = cms::finish_timestamped(&prepared.state, &signature, &response, &nonce).unwrap();
        verify(&p7s, false);
        let si = signer_infos(&p7s)[0].children();
        assert_eq!(si.len(), 7, "unsigned attributes last");
        assert_eq!(si[6].tag, 0xa1);
        let attribute = si[6].children()[0].children();
        assert_eq!(attribute[0].raw, [6, 11, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 9, 16, 2, 14]);
        let token = attribute[1].children()[0].raw;
        let value = si[5].content;
        let (ok, out) = common::tsa::tsa().verify_token(token, &hash_of(HashAlgorithm::Sha256, value));
        assert!(ok && out.contains("Verification: OK"), "openssl ts -verify: {out}");
        // The same answer for another signature, or without the right nonce, is refused.
        assert!(cms::finish_timestamped(&prepared.state, &signature, &response, &[0xa6; 12]).is_err());
        assert!(cms::finish(&prepared.state, &signature).is_ok(), "B-B is the state's other way out");
    }
}
