//! « Vérifier une signature » on signatures made elsewhere: `openssl cms -sign` (.p7s, DER,
//! PEM, BER, RSA-PSS, ECDSA) and pyHanko (PAdES, one and two signatures), made by
//! `tests/verify/make-samples.sh` with a throwaway PKI; tampered copies must be reported.
#![allow(clippy::unwrap_used)]

mod common;

use common::samples::read;
use paraphe_formats::verify::{verify_cades, verify_pdf, Status, Trust};

fn trust(anchors: &[&str]) -> Trust {
    Trust { anchors: anchors.iter().map(|a| read(a)).collect(), hints: Vec::new(), now: 1_800_000_000 }
}

#[test]
fn openssl_p7s_valid_with_the_root_added() {
    let report = verify_cades(&read("acte.txt.p7s"), &read("acte.txt"), &trust(&["root.der"])).unwrap();
    assert_eq!(report.signatures.len(), 1);
    let s = &report.signatures[0];
    assert_eq!(s.status, Status::Valid, "{:?}", s.problems);
    assert!(s.intact && s.trusted);
    assert_eq!(s.chain.len(), 3, "signer, intermediate, root");
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.name, "Camille Martin");
    assert_eq!(signer.rgs_level.as_deref(), Some("**"), "level of the issuing CA's name");
    assert!(signer.qualified && signer.qscd);
    assert_eq!(signer.verified_with, ["RGS", "EIDAS"]);
    assert_eq!(signer.provider, Some("ChamberSign France"));
    assert!(s.signing_time.as_deref().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(s.digest_algorithm, "SHA-256");
}

#[test]
fn untrusted_root_is_indeterminate_not_invalid() {
    let s = &verify_cades(&read("acte.txt.p7s"), &read("acte.txt"), &trust(&["other.der"])).unwrap().signatures[0];
    assert_eq!(s.status, Status::Indeterminate);
    assert!(s.intact && !s.trusted);
    assert!(s.problems.iter().any(|p| p.code == "chain-untrusted"));
}

#[test]
fn tampered_content_is_invalid() {
    let s =
        &verify_cades(&read("acte.txt.p7s"), &read("acte-modifie.txt"), &trust(&["root.der"])).unwrap().signatures[0];
    assert_eq!(s.status, Status::Invalid);
    assert!(!s.intact);
    assert!(s.problems.iter().any(|p| p.code == "digest-mismatch"));
    // A signature altered in its signed attributes.
    let mut p7s = read("acte.txt.p7s");
    // id-signingTime (1.2.840.113549.1.9.5), SET { UTCTime }: change a digit of the time.
    let oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
    let at = p7s.windows(oid.len()).position(|w| w == oid).expect("a signing time") + oid.len();
    assert_eq!(p7s[at + 2], 0x17, "UTCTime");
    p7s[at + 6] ^= 1;
    let s = &verify_cades(&p7s, &read("acte.txt"), &trust(&["root.der"])).unwrap().signatures[0];
    assert_eq!(s.status, Status::Invalid);
    assert!(s.problems.iter().any(|p| p.code == "signature-invalid"), "{:?}", s.problems);
}

#[test]
fn ecdsa_pem_ber_and_pss() {
    for (p7s, content) in [
        ("acte.bin.p7s", "acte.bin"),
        ("acte.bin.p7s.pem", "acte.bin"),
        ("acte.pss.p7s", "acte.txt"),
        ("acte.ber.p7s", "acte.txt"),
    ] {
        let s = &verify_cades(&read(p7s), &read(content), &trust(&["root.der"])).unwrap().signatures[0];
        assert_eq!(s.status, Status::Valid, "{p7s}: {:?}", s.problems);
    }
    // The EC signer is under no known policy and no RGS CA... but its issuer's name says
    // RGS**: the level comes from the issuer, the provider from the issuer's organization.
    let s = &verify_cades(&read("acte.bin.p7s"), &read("acte.bin"), &trust(&["root.der"])).unwrap().signatures[0];
    let signer = s.signer.as_ref().unwrap();
    assert!(!signer.qualified);
    assert!(!signer.verified_with.contains(&"EIDAS"));
}

#[test]
fn pyhanko_pdf_signed_once_and_twice() {
    let once = verify_pdf(&read("signed.pdf"), &trust(&["root.der"])).unwrap();
    assert_eq!(once.signatures.len(), 1);
    let s = &once.signatures[0];
    assert_eq!(s.status, Status::Valid, "{:?}", s.problems);
    assert!(s.pdf.as_ref().unwrap().covers_whole_file);
    assert_eq!(s.pdf.as_ref().unwrap().sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert!(s.signing_time.is_some(), "/M of the signature dictionary");

    let twice = verify_pdf(&read("signed-twice.pdf"), &trust(&["root.der"])).unwrap();
    assert_eq!(twice.signatures.len(), 2);
    assert!(twice.signatures.iter().all(|s| s.status == Status::Valid));
    assert!(!twice.signatures[0].pdf.as_ref().unwrap().covers_whole_file, "signed again after it");
    assert!(twice.signatures[1].pdf.as_ref().unwrap().covers_whole_file);
}

#[test]
fn tampered_pdf_is_invalid_and_unsigned_pdf_is_an_error() {
    let r = verify_pdf(&read("signed-tampered.pdf"), &trust(&["root.der"])).unwrap();
    assert_eq!(r.signatures[0].status, Status::Invalid);
    assert!(r.signatures[0].problems.iter().any(|p| p.code == "digest-mismatch"));
    assert!(verify_pdf(&read("plain.pdf"), &trust(&[])).is_err());
    assert!(verify_pdf(b"not a pdf", &trust(&[])).is_err());
    assert!(verify_cades(b"not a signature", b"x", &trust(&[])).is_err());
}

#[test]
fn unknown_provider_gets_no_level_and_no_badge() {
    let s = &verify_cades(&read("acte.unknown.p7s"), &read("acte.txt"), &trust(&["other.der"])).unwrap().signatures[0];
    assert_eq!(s.status, Status::Valid, "{:?}", s.problems);
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.rgs_level, None);
    assert_eq!(signer.provider, None);
    assert!(signer.verified_with.is_empty());
    assert!(!signer.qualified);
}
