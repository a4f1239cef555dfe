//! « Vérifier une signature » on XAdES detached jetons made elsewhere: `xmlsec1 --sign` from
//! templates (exclusive C14N + RSA, inclusive C14N + ECDSA, SHA-1), RSA-PSS by lxml's C14N and
//! openssl (`tests/verify/xades_pss.py`), by
//! `tests/verify/make-samples.sh`, and tampered copies of them (file, SignedProperties,
//! SignedInfo, certificate), each also checked by `xmlsec1 --verify` so that what is called
//! tampered is tampered for an independent verifier too; and jetons made by our own signer
//! ([`paraphe_formats::xades::detached`]) with keys signed by openssl.
#![allow(clippy::unwrap_used)]

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::samples::{read, samples};
use common::{token_sign, try_run, Mechanism};
use paraphe_formats::verify::{verify_xades, SignatureReport, Status, Trust};
use paraphe_formats::xades::{self, detached};
use sha2::{Digest, Sha256};
use std::process::Command;

fn pem_der(name: &str) -> Vec<u8> {
    let text = String::from_utf8(read(name)).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    BASE64.decode(body).unwrap()
}

fn trust() -> Trust {
    Trust { anchors: vec![read("root.der")], hints: Vec::new(), now: 1_800_000_000 }
}

fn verify(jeton: &str, file: &str) -> SignatureReport {
    let report = verify_xades(&read(jeton), file, &read(file), &trust()).unwrap();
    assert_eq!(report.format, "xades");
    assert_eq!(report.signatures.len(), 1);
    report.signatures.into_iter().next().unwrap()
}

fn codes(s: &SignatureReport) -> Vec<&'static str> {
    s.problems.iter().map(|p| p.code).collect()
}

/// `xmlsec1 --verify` in the samples' folder (where the file reference resolves).
fn xmlsec_accepts(jeton: &str) -> bool {
    try_run(
        Command::new("xmlsec1")
            .args(["--verify", "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"])
            .args(["--trusted-pem", "root.pem", "--untrusted-pem", "ca.pem", jeton])
            .current_dir(samples()),
    )
    .0
}

#[test]
fn xmlsec1_jetons_exc_c14n_rsa_and_c14n_ecdsa_are_valid() {
    for (jeton, file, name) in
        [("acte.txt.xml", "acte.txt", "Camille Martin"), ("acte.bin.xml", "acte.bin", "Dominique Bernard")]
    {
        assert!(xmlsec_accepts(jeton), "{jeton}");
        let s = verify(jeton, file);
        assert_eq!(s.status, Status::Valid, "{jeton}: {:?}", s.problems);
        assert!(s.intact && s.trusted);
        assert_eq!(s.chain.len(), 3, "signer, intermediate (in KeyInfo), root");
        assert_eq!(s.signer.as_ref().unwrap().name, name);
        let expected = String::from_utf8(read("jeton-time.txt")).unwrap();
        assert_eq!(s.signing_time.as_deref(), Some(expected.trim()), "+02:00 in the jeton, reported in UTC");
        assert_eq!(s.digest_algorithm, "SHA-256");
    }
    // RSA-PSS (sha256-rsa-MGF1), signed over lxml's canonical SignedInfo by openssl.
    let s = verify("acte.txt.pss.xml", "acte.txt");
    assert_eq!(s.status, Status::Valid, "PSS: {:?}", s.problems);
    let s = verify("acte.txt.xml", "acte.txt");
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.rgs_level.as_deref(), Some("**"));
    assert!(signer.qualified);
    assert_eq!(signer.provider, Some("ChamberSign France"));
}

#[test]
fn tampered_file_signed_properties_signed_info_and_certificate_are_reported() {
    // The file: xmlsec1 reads acte.txt itself, so it is checked on a copy of the jeton
    // naming the modified file.
    let s = verify_xades(&read("acte.txt.xml"), "acte.txt", &read("acte-modifie.txt"), &trust()).unwrap();
    let s = &s.signatures[0];
    assert_eq!(s.status, Status::Invalid);
    assert_eq!(codes(s), ["digest-mismatch"]);

    for (jeton, code) in [
        ("acte.txt.sp-modifie.xml", "signed-properties-modified"),
        ("acte.txt.si-modifie.xml", "signature-invalid"),
        ("acte.txt.autre-cert.xml", "signing-certificate-mismatch"),
    ] {
        assert!(!xmlsec_accepts(jeton), "xmlsec1 takes {jeton}");
        let s = verify(jeton, "acte.txt");
        assert_eq!(s.status, Status::Invalid, "{jeton}");
        assert!(!s.intact);
        assert!(codes(&s).contains(&code), "{jeton}: {:?}", s.problems);
        assert!(!codes(&s).contains(&"digest-mismatch"), "{jeton}: the file is intact");
    }
    // Another certificate in KeyInfo: the signature does not match its key either.
    assert!(codes(&verify("acte.txt.autre-cert.xml", "acte.txt")).contains(&"signature-invalid"));
}

#[test]
fn sha1_is_refused_and_files_are_matched_by_name() {
    let s = verify("acte.txt.sha1.xml", "acte.txt");
    assert_eq!(s.status, Status::Invalid);
    assert!(codes(&s).contains(&"weak-algorithm"), "{:?}", s.problems);

    // A renamed file (a browser's « acte (1).txt ») is still checked, with a note.
    let r = verify_xades(&read("acte.txt.xml"), "acte (1).txt", &read("acte.txt"), &trust()).unwrap();
    assert_eq!(r.signatures[0].status, Status::Valid);
    assert!(codes(&r.signatures[0]).contains(&"file-name-differs"));
    assert!(verify_xades(b"<a/>", "acte.txt", b"", &trust()).is_err());
    assert!(verify_xades(&read("acte.txt"), "acte.txt", b"", &trust()).is_err());
}

/// A jeton made by our own signer, the card's part done by openssl.
fn own_jeton(cert: &str, key: &str, mechanism: Mechanism, name: &str, content: &[u8]) -> Vec<u8> {
    let request = detached::DetachedRequest {
        file_name: name.into(),
        digest: Sha256::digest(content).to_vec(),
        mime_type: None,
        certificate: pem_der(cert),
        signing_time: now() + 60,
    };
    let prepared = detached::prepare(&request).unwrap();
    let signature = token_sign(&samples().join(key), &prepared.digest, mechanism);
    xades::finish(&prepared.state, &signature).unwrap().jeton()
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

#[test]
fn our_own_jetons_rsa_and_ecdsa() {
    let content = b"Offre technique, lot 2.\n";
    let name = "Offre technique n\u{b0}2 (lot 2).pdf";
    let mut anchors = trust();
    anchors.anchors.push(pem_der("ca.pem"));
    for (cert, key, mechanism) in
        [("rsa.pem", "rsa.key", Mechanism::RsaPkcs1("sha256")), ("ec.pem", "ec.key", Mechanism::Ecdsa)]
    {
        let jeton = own_jeton(cert, key, mechanism, name, content);
        let s = &verify_xades(&jeton, name, content, &anchors).unwrap().signatures[0];
        assert_eq!(s.status, Status::Valid, "{cert}: {:?}", s.problems);
        assert!(s.signing_time.as_deref().is_some_and(|t| t.ends_with('Z')));
        let s = &verify_xades(&jeton, name, b"Offre technique, lot 3.\n", &anchors).unwrap().signatures[0];
        assert_eq!(codes(s), ["digest-mismatch"]);
        // Its signing time changed: the SignedProperties no longer match their digest.
        let time = s.signing_time.clone().unwrap();
        let text = String::from_utf8(jeton.clone()).unwrap().replace(&time, &time.replacen("20", "19", 1));
        assert_ne!(text.as_bytes(), jeton.as_slice());
        let s = &verify_xades(text.as_bytes(), name, content, &anchors).unwrap().signatures[0];
        assert_eq!(s.status, Status::Invalid);
        assert!(codes(s).contains(&"signed-properties-modified"), "{:?}", s.problems);
    }
}

/// Our canonical forms against `xmllint --c14n` / `--exc-c14n` (libxml2's C14N, which
/// xmlsec1 uses too), on documents without comments (xmllint keeps them): namespaces
/// declared, redeclared, undeclared (`xmlns=""`) and unused, attributes to sort, escapes,
/// CDATA, processing instructions; and the sample jetons.
#[test]
fn canonical_forms_are_xmllint_s() {
    let dir = common::scratch("c14n");
    let doc = "<?xml version=\"1.0\"?>\n<?before root?>\n\
        <r:Root xmlns:r=\"urn:r\" xmlns:u=\"urn:unused\" xmlns=\"urn:d\" xml:lang=\"fr\">\r\n\
        <r:A Id=\"a\" b=\"2\" a=\"1\" r:z=\"&lt;&quot;&#9;&#xD;&#xA;\" u:y='&apos;'>x &amp; y &#xD;<![CDATA[<>&]]><?pi  data?></r:A>\n\
        <C xmlns=\"\"><D xmlns=\"urn:d\"/><E xmlns:r=\"urn:other\" r:q=\"1\"><F xmlns=\"\"/></E></C>\n\
        <ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo a=\"\u{e9}\"/></ds:Signature>\n\
        </r:Root>\n<?after?>\n";
    std::fs::write(dir.join("doc.xml"), doc).unwrap();
    // The same in ISO-8859-1 (`é` as one byte): the canonical form is UTF-8.
    let latin1: Vec<u8> = doc
        .replace("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    std::fs::write(dir.join("latin1.xml"), latin1).unwrap();
    let mut files = vec![dir.join("doc.xml"), dir.join("latin1.xml")];
    for jeton in ["acte.txt.xml", "acte.bin.xml"] {
        files.push(samples().join(jeton));
    }
    for file in &files {
        let input = std::fs::read(file).unwrap();
        for (exclusive, flag) in [(false, "--c14n"), (true, "--exc-c14n")] {
            let expected = common::run(Command::new("xmllint").arg(flag).arg(file));
            let ours = paraphe_formats::verify::canonicalize(&input, exclusive).unwrap();
            assert_eq!(ours, String::from_utf8(expected).unwrap(), "{} {flag}", file.display());
        }
    }
}
