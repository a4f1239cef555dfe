//! The detached XAdES baseline B-B « jeton » end to end: the file's SHA-256, the SignedInfo
//! digest signed with openssl as a token would, and `xmlsec1 --verify` run beside the file:
//! it resolves the relative `Reference URI` (the percent-encoded file name) against its own
//! working directory, not the jeton's location, so it runs in the folder holding both; it
//! reads the file and checks its digest, the SignedProperties digest
//! and the signature against the root CA. Then a schema validation, `xmllint --schema` against
//! ETSI's XAdES 1.3.2 XSD (`XAdES01903v132-201601.xsd`, EN 319 132-1) with the W3C XML-DSig
//! schema it imports, both fetched at test time by `scripts/xades-xsd.sh` (pinned, checked by
//! SHA-256); and the values the schema cannot check, with xmllint's XPath.
#![allow(clippy::unwrap_used)]

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::{pki, run, scratch, token_sign, try_run, xsd, Mechanism, Xsd};
use paraphe_formats::xades::detached::{self, DetachedRequest};
use paraphe_formats::xades::{self, XadesError, XadesState};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const SIGNING_TIME: i64 = 1_780_000_000; // 2026-05-28T20:26:40Z
const FILE: &[u8] = b"%PDF-1.7 pretend\nD\xc3\xa9lib\xc3\xa9ration n\xc2\xb0 2026-042\n";

fn sign(dir: &Path, name: &str, ec: bool) -> std::path::PathBuf {
    let p = pki();
    std::fs::write(dir.join(name), FILE).unwrap();
    let (cert, key, mechanism) = if ec {
        (&p.ec_der, &p.ec_key, Mechanism::Ecdsa)
    } else {
        (&p.rsa_der, &p.rsa_key, Mechanism::RsaPkcs1("sha256"))
    };
    let request = DetachedRequest {
        file_name: name.to_string(),
        digest: Sha256::digest(FILE).to_vec(),
        mime_type: Some("application/pdf".into()),
        certificate: cert.clone(),
        signing_time: SIGNING_TIME,
    };
    let prepared = detached::prepare(&request).unwrap();
    let state: XadesState = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
    let signature = token_sign(key, &prepared.digest, mechanism);
    let jeton = xades::finish(&state, &signature).unwrap().jeton();
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, jeton).unwrap();
    path
}

fn xmlsec_verify(jeton: &Path) -> (bool, String) {
    try_run(
        Command::new("xmlsec1")
            .args(["--verify", "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"])
            .arg("--trusted-pem")
            .arg(&pki().root)
            .arg("--untrusted-pem")
            .arg(&pki().intermediate)
            .arg(jeton.file_name().unwrap())
            .current_dir(jeton.parent().unwrap()),
    )
}

/// `xmllint --schema` of a file against the XAdES 1.3.2 XSD (which imports XML-DSig's):
/// (valid, xmllint's output). `--nonet`: the schemas are local, nothing is fetched.
fn schema_check(file: &Path) -> (bool, String) {
    try_run(Command::new("xmllint").args(["--noout", "--nonet", "--schema"]).arg(xsd(Xsd::Xades132)).arg(file))
}

fn xpath(file: &Path, expr: &str) -> String {
    let out = String::from_utf8(run(Command::new("xmllint").args(["--xpath", &format!("string({expr})")]).arg(file)))
        .unwrap();
    out.strip_suffix('\n').unwrap_or(&out).to_string()
}

/// Names of the element children of the node `expr` selects, in order.
fn children(file: &Path, expr: &str) -> Vec<String> {
    let count: usize = xpath(file, &format!("count({expr}/*)")).parse().unwrap();
    (1..=count).map(|i| xpath(file, &format!("name({expr}/*[{i}])"))).collect()
}

fn structure(jeton: &Path, name: &str) {
    let ds = "*[local-name()='Signature']";
    assert_eq!(xpath(jeton, "namespace-uri(/*)"), "http://www.w3.org/2000/09/xmldsig#");
    let uri = xpath(jeton, &format!("/{ds}/*[local-name()='SignedInfo']/*[local-name()='Reference'][1]/@URI"));
    assert_eq!(uri, detached::file_uri(name));
    let digest = xpath(
        jeton,
        &format!("/{ds}/*[local-name()='SignedInfo']/*[local-name()='Reference'][1]/*[local-name()='DigestValue']"),
    );
    assert_eq!(BASE64.decode(digest).unwrap(), Sha256::digest(FILE).to_vec());
    let qp = format!("/{ds}/*[local-name()='Object']/*[local-name()='QualifyingProperties']");
    assert_eq!(xpath(jeton, &format!("namespace-uri({qp})")), "http://uri.etsi.org/01903/v1.3.2#");
    assert_eq!(xpath(jeton, &format!("{qp}/@Target")), format!("#{}", xpath(jeton, &format!("/{ds}/@Id"))));
    let sp = format!("{qp}/*[local-name()='SignedProperties']");
    assert_eq!(children(jeton, &sp), ["xades:SignedSignatureProperties", "xades:SignedDataObjectProperties"]);
    let ssp = format!("{sp}/*[local-name()='SignedSignatureProperties']");
    assert_eq!(children(jeton, &ssp), ["xades:SigningTime", "xades:SigningCertificateV2"]);
    assert_eq!(xpath(jeton, &format!("{ssp}/*[local-name()='SigningTime']")), "2026-05-28T20:26:40Z");
    let cert = format!("{ssp}/*[local-name()='SigningCertificateV2']/*[local-name()='Cert']");
    assert_eq!(children(jeton, &cert), ["xades:CertDigest", "xades:IssuerSerialV2"]);
    let dof = format!("{sp}/*[local-name()='SignedDataObjectProperties']/*[local-name()='DataObjectFormat']");
    assert_eq!(xpath(jeton, &format!("{dof}/*[local-name()='MimeType']")), "application/pdf");
    let reference_id = xpath(jeton, &format!("/{ds}/*[local-name()='SignedInfo']/*[local-name()='Reference'][1]/@Id"));
    assert_eq!(xpath(jeton, &format!("{dof}/@ObjectReference")), format!("#{reference_id}"));
    assert_eq!(
        xpath(jeton, &format!("/{ds}/*[local-name()='SignedInfo']/*[local-name()='Reference'][2]/@Type")),
        "http://uri.etsi.org/01903#SignedProperties"
    );
}

#[test]
fn rsa_jeton_beside_a_file_with_an_accented_name() {
    let dir = scratch("jeton-rsa");
    let name = "Délibération n°42 (version #2).pdf";
    let jeton = sign(&dir, name, false);
    let (ok, out) = xmlsec_verify(&jeton);
    assert!(ok && out.contains("OK"), "xmlsec1 --verify: {out}");
    let (ok, out) = schema_check(&jeton);
    assert!(ok && out.contains("validates"), "xmllint --schema XAdES 1.3.2: {out}");
    structure(&jeton, name);

    // The file changed: the first Reference no longer verifies.
    std::fs::write(dir.join(name), b"something else").unwrap();
    let (ok, out) = xmlsec_verify(&jeton);
    assert!(!ok, "a changed file must not verify: {out}");
}

#[test]
fn ecdsa_jeton() {
    let dir = scratch("jeton-ec");
    let jeton = sign(&dir, "rapport.pdf", true);
    let (ok, out) = xmlsec_verify(&jeton);
    assert!(ok, "xmlsec1 --verify: {out}");
    let (ok, out) = schema_check(&jeton);
    assert!(ok && out.contains("validates"), "xmllint --schema XAdES 1.3.2: {out}");
    structure(&jeton, "rapport.pdf");
}

/// The schema check bites: a jeton whose signed properties are out of the XSD's order, or
/// that holds an element XAdES 1.3.2 does not define, fails it.
#[test]
fn schema_refuses_what_xades_132_does_not_allow() {
    let dir = scratch("jeton-xsd");
    let jeton = sign(&dir, "marché.pdf", false);
    let text = std::fs::read_to_string(&jeton).unwrap();
    let time = between(&text, "<xades:SigningTime>", "</xades:SigningTime>");
    let swapped = text.replacen(&time, "", 1).replacen(
        "</xades:SigningCertificateV2>",
        &format!("</xades:SigningCertificateV2>{time}"),
        1,
    );
    let unknown =
        text.replacen("<xades:SigningTime>", "<xades:SigningHour>01</xades:SigningHour><xades:SigningTime>", 1);
    for (what, bad) in [("SigningTime after SigningCertificateV2", swapped), ("an unknown element", unknown)] {
        assert_ne!(bad, text, "{what}");
        let file = dir.join("bad.xml");
        std::fs::write(&file, bad).unwrap();
        let (ok, out) = schema_check(&file);
        assert!(!ok && out.contains("fails to validate"), "{what}: {out}");
    }
}

/// `text` from `start` to the end of `end`, both included.
fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).unwrap();
    let to = from + text[from..].find(end).unwrap() + end.len();
    text[from..to].to_string()
}

#[test]
fn refusals() {
    let p = pki();
    let good = DetachedRequest {
        file_name: "a.pdf".into(),
        digest: vec![1; 32],
        mime_type: None,
        certificate: p.rsa_der.clone(),
        signing_time: SIGNING_TIME,
    };
    assert!(detached::prepare(&good).is_ok());
    assert!(matches!(
        detached::prepare(&DetachedRequest { digest: vec![1; 20], ..good.clone() }),
        Err(XadesError::DigestLength { .. })
    ));
    for name in ["", "..", "a\u{1}b"] {
        assert_eq!(
            detached::prepare(&DetachedRequest { file_name: name.into(), ..good.clone() }).unwrap_err(),
            XadesError::InvalidText("file name")
        );
    }
    assert_eq!(
        detached::prepare(&DetachedRequest { mime_type: Some("pdf".into()), ..good.clone() }).unwrap_err(),
        XadesError::InvalidText("MIME type")
    );
    assert!(detached::prepare(&DetachedRequest { certificate: b"x".to_vec(), ..good }).is_err());
}
