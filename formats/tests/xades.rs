//! PES V2 XAdES end to end, against independent implementations: each bordereau's digest is
//! computed the way s2low does (the element extracted on its own, `xmlstarlet c14n
//! --exc-without-comments`, SHA-256), the SignedInfo digest is signed with openssl as a token
//! would, the signature is inserted, and `xmlsec1 --verify` must accept every signature
//! (which checks both References, so also our SignedProperties digest). Then DGFiP-style
//! checks on the values.
#![allow(clippy::unwrap_used)]

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::pes::{self, PesError};
use common::{pki, run, scratch, token_sign, try_run, xsd, Mechanism, Xsd};
use paraphe_formats::xades::{
    self, PesSignatureRequest, ProductionPlace, XadesError, XadesFormat, XadesPolicy, XadesState, XmlEncoding,
};
use paraphe_protocol::{HashAlgorithm, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const SIGNING_TIME: i64 = 1_780_000_000; // 2026-05-28T20:26:40Z

/// A small PES_Aller with two bordereaux, accented text, entities, a comment and a CDATA
/// section, in the given encoding.
fn pes(encoding: XmlEncoding, root_id: bool) -> Vec<u8> {
    let label = encoding.label();
    let root_id = if root_id { r#" Id="PESALR2-0001""# } else { "" };
    let (b1, b2) = if root_id.is_empty() { (r#" Id="BORD-2026-001""#, r#" Id="BORD-2026-002""#) } else { ("", "") };
    let text = format!(
        r#"<?xml version="1.0" encoding="{label}"?>
<n:PES_Aller xmlns:n="http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"{root_id}>
  <Enveloppe>
    <Parametres><Version V="2"/><TypFic V="PESALR2"/><NomFic V="PESALR2_déjà_vu"/></Parametres>
  </Enveloppe>
  <EnTetePES>
    <DteStr V="2026-05-28"/>
    <LibelleColBud V="Mairie de Saint-Étienne &amp; environs"/>
  </EnTetePES>
  <!-- deux bordereaux -->
  <PES_DepenseAller>
    <EnTeteDepense><IdVer V="2"/></EnTeteDepense>
    <Bordereau{b1}>
      <BlocBordereau>
        <Exer V="2026"/>
        <IdBord V="1"/>
        <MtBordHT V="1234.56"/>
      </BlocBordereau>
      <Piece>
        <InfoPce><IdPce V="1"/><Obj V="Fournitures « café » &amp; thé &lt;lot 1&gt;   espaces"/></InfoPce>
        <Note><![CDATA[Reçu <signé> & payé]]></Note>
      </Piece>
    </Bordereau>
    <Bordereau{b2}>
      <BlocBordereau>
        <Exer V="2026"/>
        <IdBord V="2"/>
        <MtBordHT V="99.00"/>
      </BlocBordereau>
      <Piece>
        <InfoPce><IdPce V="2"/><Obj V="Réparation du clocher de l'église"/></InfoPce>
      </Piece>
    </Bordereau>
  </PES_DepenseAller>
</n:PES_Aller>
"#
    );
    match encoding {
        XmlEncoding::Utf8 => text.into_bytes(),
        XmlEncoding::Iso8859_1 => text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect(),
    }
}

/// The digest s2low sends: the element extracted on its own, exclusive C14N without
/// comments, hashed.
fn server_digest(dir: &Path, file: &Path, xpath: &str, hash: HashAlgorithm) -> Vec<u8> {
    let extracted = run(Command::new("xmlstarlet").args(["sel", "-t", "-c", xpath]).arg(file));
    let path = dir.join("extracted.xml");
    std::fs::write(&path, &extracted).unwrap();
    let canonical = run(Command::new("xmlstarlet").args(["c14n", "--exc-without-comments"]).arg(&path));
    assert!(!canonical.is_empty());
    // The same element canonicalised in place, as XML-DSig's Reference does, gives the same.
    let in_context =
        c14n_subset(dir, file, &format!("(//. | //@* | //namespace::*)[ancestor-or-self::{}]", &xpath[2..]));
    assert_eq!(String::from_utf8_lossy(&canonical), String::from_utf8_lossy(&in_context));
    match hash {
        HashAlgorithm::Sha1 => sha1::Sha1::digest(&canonical).to_vec(),
        _ => Sha256::digest(&canonical).to_vec(),
    }
}

/// Exclusive C14N (without comments) of a document subset given by an XPath, by xmlstarlet.
fn c14n_subset(dir: &Path, file: &Path, xpath: &str) -> Vec<u8> {
    let xpath_file = dir.join("subset.xpath");
    std::fs::write(
        &xpath_file,
        format!(
            r#"<XPath xmlns:ds="{DSIG}" xmlns:xad="http://uri.etsi.org/01903/v1.1.1#">{}</XPath>"#,
            xpath.replace('<', "&lt;")
        ),
    )
    .unwrap();
    run(Command::new("xmlstarlet").args(["c14n", "--exc-without-comments"]).arg(file).arg(&xpath_file))
}

fn request(
    id: &str,
    digest: Vec<u8>,
    format: XadesFormat,
    certificate: &[u8],
    encoding: XmlEncoding,
) -> PesSignatureRequest {
    PesSignatureRequest {
        id: id.into(),
        digest,
        format,
        certificate: certificate.to_vec(),
        signing_time: SIGNING_TIME,
        policy: Some(XadesPolicy {
            identifier: "urn:oid:1.2.250.1.131.1.5.18.21.1.7".into(),
            description: Some("Politique de signature Helios de la DGFiP".into()),
            hash: BASE64.decode("roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E=").unwrap(),
            hash_algorithm: HashAlgorithm::Sha256,
            spuri: Some("https://www.collectivites-locales.gouv.fr/files/files/finances_locales/dematerialisation/ps_helios_dgfip.pdf".into()),
        }),
        production_place: ProductionPlace {
            city: Some("Saint-Étienne".into()),
            postal_code: Some("42000".into()),
            country_name: Some("France".into()),
        },
        claimed_role: Some("Ordonnateur".into()),
        encoding,
    }
}

struct Signed {
    file: PathBuf,
    dir: PathBuf,
}

/// Signs every `ids` element of `document` in turn (each inserted before the next digest
/// is computed, as a batch through s2low would not, but as a stricter test does).
fn sign_all(
    document: Vec<u8>,
    id_xpaths: &[(&str, &str)],
    format: XadesFormat,
    ec: bool,
    encoding: XmlEncoding,
) -> Signed {
    let dir = scratch("pes");
    let file = dir.join("pes.xml");
    std::fs::write(&file, &document).unwrap();
    let (cert, key) = if ec { (&pki().ec_der, &pki().ec_key) } else { (&pki().rsa_der, &pki().rsa_key) };
    let mut document = document;
    for (id, xpath) in id_xpaths {
        let digest = server_digest(&dir, &file, xpath, format.hash());
        let prepared = xades::prepare(&request(id, digest, format, cert, encoding)).unwrap();
        assert_eq!(prepared.hash, format.hash());
        assert_eq!(prepared.scheme, if ec { SignatureScheme::Ecdsa } else { SignatureScheme::RsaPkcs1 });
        let state: XadesState = serde_json::from_str(&serde_json::to_string(&prepared.state).unwrap()).unwrap();
        let mechanism = match (ec, format) {
            (true, _) => Mechanism::Ecdsa,
            (false, XadesFormat::EnvelopedSha1) => Mechanism::RsaPkcs1("sha1"),
            (false, XadesFormat::EnvelopedSha256) => Mechanism::RsaPkcs1("sha256"),
        };
        let signature = xades::finish(&state, &token_sign(key, &prepared.digest, mechanism)).unwrap();
        document = pes::insert_signature(&document, id, &signature).unwrap();
        std::fs::write(&file, &document).unwrap();

        // Our canonical SignedInfo is libxml2's, taken from the finished document.
        let signed_info = c14n_subset(
            &dir,
            &file,
            &format!(
                "(//. | //@* | //namespace::*)[ancestor-or-self::ds:SignedInfo[parent::ds:Signature[@Id='{id}_SIG']]]"
            ),
        );
        assert_eq!(String::from_utf8_lossy(&signed_info), prepared.signed_info);
        xmldsig_schema_check(&dir, &file, id);
    }
    Signed { file, dir }
}

/// The signature `{id}_SIG`, taken out of the document, against the W3C XML-DSig core schema
/// (`xmllint --schema`). Its `xad:` properties are XAdES v1.1.1 (the PES V2 profile), whose XSD
/// no package ships: XML-DSig's `ds:Object` admits them (lax), so they are left to
/// `dgfip_checks`; the detached jeton, XAdES 1.3.2, is checked against ETSI's XSD as a whole
/// (tests/xades_detached.rs).
fn xmldsig_schema_check(dir: &Path, file: &Path, id: &str) {
    let signature =
        run(Command::new("xmlstarlet").args(["sel", "-t", "-c", &format!("//*[@Id='{id}_SIG']")]).arg(file));
    let path = dir.join("signature.xml");
    std::fs::write(&path, signature).unwrap();
    let (ok, out) =
        try_run(Command::new("xmllint").args(["--noout", "--nonet", "--schema"]).arg(xsd(Xsd::Xmldsig)).arg(&path));
    assert!(ok && out.contains("validates"), "xmllint --schema xmldsig-core {id}: {out}");
}

fn xmlsec_verify(file: &Path, id: &str, id_attr_node: &str) -> (bool, String) {
    try_run(
        Command::new("xmlsec1")
            .args(["--verify", "--id-attr:Id", id_attr_node, "--node-xpath", &format!("//*[@Id='{id}_SIG']")])
            .arg("--trusted-pem")
            .arg(&pki().root)
            .arg("--untrusted-pem")
            .arg(&pki().intermediate)
            .arg(file),
    )
}

fn xpath_string(file: &Path, expr: &str) -> String {
    let out = String::from_utf8(run(Command::new("xmllint").args(["--xpath", &format!("string({expr})")]).arg(file)))
        .unwrap();
    out.strip_suffix('\n').unwrap_or(&out).to_string()
}

/// The DGFiP-style checks on one signature.
fn dgfip_checks(file: &Path, id: &str, cert: &[u8], cert_pem: &Path, hash: HashAlgorithm) {
    let sp = format!("//*[local-name()='SignedProperties'][@Id='{id}_SIG_SP']");
    let signing_time = xpath_string(file, &format!("{sp}//*[local-name()='SigningTime']"));
    assert_eq!(signing_time, "2026-05-28T20:26:40Z");
    assert!(signing_time.ends_with('Z'));

    let cert_digest = xpath_string(file, &format!("{sp}//*[local-name()='CertDigest']/*[local-name()='DigestValue']"));
    let expected = match hash {
        HashAlgorithm::Sha1 => sha1::Sha1::digest(cert).to_vec(),
        _ => Sha256::digest(cert).to_vec(),
    };
    assert_eq!(cert_digest, BASE64.encode(expected));

    let serial = xpath_string(file, &format!("{sp}//*[local-name()='X509SerialNumber']"));
    let serial_hex =
        String::from_utf8(run(Command::new("openssl").args(["x509", "-noout", "-serial", "-in"]).arg(cert_pem)))
            .unwrap();
    let serial_hex = serial_hex.trim().trim_start_matches("serial=");
    assert_eq!(serial, u128::from_str_radix(serial_hex, 16).unwrap().to_string());

    let issuer = xpath_string(file, &format!("{sp}//*[local-name()='X509IssuerName']"));
    let openssl_issuer = String::from_utf8(run(Command::new("openssl")
        .args(["x509", "-noout", "-issuer", "-nameopt", "RFC2253,-esc_msb", "-in"])
        .arg(cert_pem)))
    .unwrap();
    assert_eq!(issuer, openssl_issuer.trim().trim_start_matches("issuer="));
    assert_eq!(issuer, r"CN=AC Intermédiaire #1,OU=0002 00000000000000,O=Société Paraphe Test\, Services,C=FR");

    assert_eq!(xpath_string(file, &format!("{sp}//*[local-name()='ClaimedRole']")), "Ordonnateur");
    assert_eq!(xpath_string(file, &format!("{sp}//*[local-name()='City']")), "Saint-Étienne");
    assert_eq!(
        xpath_string(file, &format!("{sp}//*[local-name()='SigPolicyId']/*[local-name()='Identifier']")),
        "urn:oid:1.2.250.1.131.1.5.18.21.1.7"
    );
    // The reference to the SignedProperties is typed (XAdES v1.1.1).
    let reference_type =
        xpath_string(file, &format!("//*[@Id='{id}_SIG']//*[local-name()='Reference'][@URI='#{id}_SIG_SP']/@Type"));
    assert_eq!(reference_type, "http://uri.etsi.org/01903/v1.1.1#SignedProperties");

    let key_usage = String::from_utf8(run(Command::new("openssl")
        .args(["x509", "-noout", "-ext", "keyUsage", "-in"])
        .arg(cert_pem)))
    .unwrap();
    assert!(key_usage.contains("Non Repudiation"), "{key_usage}");
}

#[test]
fn two_bordereaux_iso_8859_1_sha256() {
    let ids =
        [("BORD-2026-001", "//Bordereau[@Id='BORD-2026-001']"), ("BORD-2026-002", "//Bordereau[@Id='BORD-2026-002']")];
    let signed =
        sign_all(pes(XmlEncoding::Iso8859_1, false), &ids, XadesFormat::EnvelopedSha256, false, XmlEncoding::Iso8859_1);
    let bytes = std::fs::read(&signed.file).unwrap();
    assert!(bytes.starts_with(br#"<?xml version="1.0" encoding="ISO-8859-1"?>"#));
    assert!(bytes.windows(15).any(|w| w == b"<xad:City>Saint"), "signature inserted");
    assert!(bytes.windows(3).any(|w| w == b"\xc9ti"), "É written as one ISO-8859-1 byte");
    // Each signature is the last child of its bordereau.
    for (id, xpath) in ids {
        let last = xpath_string(&signed.file, &format!("name({xpath}/*[last()])"));
        assert_eq!(last, "ds:Signature", "{id}");
        let (ok, out) = xmlsec_verify(&signed.file, id, "Bordereau");
        assert!(ok && out.contains("OK"), "xmlsec1 --verify {id}: {out}");
        dgfip_checks(&signed.file, id, &pki().rsa_der, &pki().rsa_cert, HashAlgorithm::Sha256);
    }

    // Changing a signed property (the city) breaks the SignedProperties reference.
    let tampered_file = signed.dir.join("tampered.xml");
    std::fs::write(&tampered_file, replace(&bytes, b"<xad:City>Saint", b"<xad:City>Sainte")).unwrap();
    let (ok, out) = xmlsec_verify(&tampered_file, "BORD-2026-001", "Bordereau");
    assert!(!ok, "a tampered SignedProperties verified: {out}");
    // Changing a bordereau breaks its signature, not the other one.
    std::fs::write(&tampered_file, replace(&bytes, br#"<MtBordHT V="1234.56"/>"#, br#"<MtBordHT V="9234.56"/>"#))
        .unwrap();
    let (ok, _) = xmlsec_verify(&tampered_file, "BORD-2026-001", "Bordereau");
    assert!(!ok, "a tampered bordereau verified");
    let (ok, out) = xmlsec_verify(&tampered_file, "BORD-2026-002", "Bordereau");
    assert!(ok, "the other bordereau's signature still verifies: {out}");
}

/// `bytes` with the first `from` replaced by `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

#[test]
fn legacy_sha1_format_in_utf8() {
    let ids =
        [("BORD-2026-001", "//Bordereau[@Id='BORD-2026-001']"), ("BORD-2026-002", "//Bordereau[@Id='BORD-2026-002']")];
    let signed = sign_all(pes(XmlEncoding::Utf8, false), &ids, XadesFormat::EnvelopedSha1, false, XmlEncoding::Utf8);
    for (id, _) in ids {
        let (ok, out) = xmlsec_verify(&signed.file, id, "Bordereau");
        assert!(ok, "xmlsec1 --verify {id}: {out}");
        dgfip_checks(&signed.file, id, &pki().rsa_der, &pki().rsa_cert, HashAlgorithm::Sha1);
        let method = xpath_string(
            &signed.file,
            &format!("//*[@Id='{id}_SIG']/*[local-name()='SignedInfo']/*[local-name()='SignatureMethod']/@Algorithm"),
        );
        assert_eq!(method, "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
    }
}

#[test]
fn ecdsa_p256() {
    let ids = [("BORD-2026-002", "//Bordereau[@Id='BORD-2026-002']")];
    let signed =
        sign_all(pes(XmlEncoding::Iso8859_1, false), &ids, XadesFormat::EnvelopedSha256, true, XmlEncoding::Iso8859_1);
    let (ok, out) = xmlsec_verify(&signed.file, "BORD-2026-002", "Bordereau");
    assert!(ok, "xmlsec1 --verify: {out}");
}

/// Bordereaux without Id: s2low signs the whole PES_Aller, by the root's Id.
#[test]
fn whole_pes_aller() {
    let ids = [("PESALR2-0001", "//*[@Id='PESALR2-0001']")];
    let signed =
        sign_all(pes(XmlEncoding::Iso8859_1, true), &ids, XadesFormat::EnvelopedSha256, false, XmlEncoding::Iso8859_1);
    let root = "http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller:PES_Aller";
    let (ok, out) = xmlsec_verify(&signed.file, "PESALR2-0001", root);
    assert!(ok, "xmlsec1 --verify: {out}");
    assert_eq!(xpath_string(&signed.file, "name(/*/*[last()])"), "ds:Signature");
}

#[test]
fn libersign_document_and_text() {
    let req =
        request("BORD-2026-001", vec![7; 32], XadesFormat::EnvelopedSha256, &pki().rsa_der, XmlEncoding::Iso8859_1);
    let prepared = xades::prepare(&req).unwrap();
    let signature = xades::finish(&prepared.state, &[1; 256]).unwrap();
    let text = signature.as_str();
    assert!(text.starts_with(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="BORD-2026-001_SIG"><ds:SignedInfo>"##
    ));
    assert!(text.contains(r##"<xad:QualifyingProperties xmlns:xad="http://uri.etsi.org/01903/v1.1.1#" Target="#BORD-2026-001_SIG"><xad:SignedProperties Id="BORD-2026-001_SIG_SP">"##));
    assert!(!text.contains("/>"), "no empty-element tags");
    // s2low takes documentElement.firstChild of the decoded document.
    let doc = signature.libersign_document();
    let dir = scratch("libersign");
    std::fs::write(dir.join("sig.xml"), &doc).unwrap();
    assert_eq!(xpath_string(&dir.join("sig.xml"), "name(/*/node()[1])"), "ds:Signature");
    assert_eq!(signature.to_bytes().len(), text.chars().count(), "ISO-8859-1: one byte a character");
}

#[test]
fn bad_inputs_are_errors() {
    let good = request("BORD-1", vec![0; 32], XadesFormat::EnvelopedSha256, &pki().rsa_der, XmlEncoding::Utf8);

    let mut r = good.clone();
    r.digest = vec![0; 20];
    assert!(matches!(xades::prepare(&r), Err(XadesError::DigestLength { expected: 32, actual: 20, .. })));
    r.format = XadesFormat::EnvelopedSha1;
    assert!(xades::prepare(&r).is_ok());

    let mut r = good.clone();
    r.certificate = pki().rsa_der[..200].to_vec();
    assert!(matches!(xades::prepare(&r), Err(XadesError::Certificate(_))));

    let mut r = good.clone();
    r.id = "a\"><evil/>".into();
    assert!(matches!(xades::prepare(&r), Err(XadesError::InvalidId(_))));

    let mut r = good.clone();
    r.claimed_role = Some("Ordonnateur\u{1}".into());
    assert!(matches!(xades::prepare(&r), Err(XadesError::InvalidText("claimed role"))));

    let mut r = good.clone();
    r.policy.as_mut().unwrap().hash = vec![0; 20];
    assert!(matches!(xades::prepare(&r), Err(XadesError::PolicyHashLength { expected: 32, actual: 20 })));

    let mut r = good.clone();
    r.signing_time = i64::MIN;
    assert!(matches!(xades::prepare(&r), Err(XadesError::SigningTime(_))));

    // Markup in page values is escaped, not interpreted.
    let mut r = good.clone();
    r.claimed_role = Some("</xad:ClaimedRole><evil>".into());
    r.production_place.city = None;
    r.policy = None;
    let prepared = xades::prepare(&r).unwrap();
    let xml = xades::finish(&prepared.state, &[0; 256]).unwrap();
    assert!(xml.as_str().contains("&lt;/xad:ClaimedRole&gt;&lt;evil&gt;"));
    assert!(xml
        .as_str()
        .contains("<xad:SignaturePolicyIdentifier><xad:SignaturePolicyImplied></xad:SignaturePolicyImplied>"));
    assert!(!xml.as_str().contains("xad:City"));

    assert!(matches!(
        xades::finish(&prepared.state, &[0; 64]),
        Err(XadesError::SignatureLength { expected: 256, actual: 64 })
    ));

    // The tool that places signatures: every truncation of a PES document is an error, never
    // a panic, and a signature made for UTF-8 does not go into an ISO-8859-1 document.
    let document = pes(XmlEncoding::Iso8859_1, false);
    for len in 0..document.len() - 2 {
        assert!(pes::insert_bytes(&document[..len], "BORD-2026-002", &xml.to_bytes()).is_err(), "{len}");
    }
    assert!(matches!(
        pes::insert_signature(&document, "BORD-2026-002", &xml),
        Err(PesError::EncodingMismatch { document: XmlEncoding::Iso8859_1, signature: XmlEncoding::Utf8 })
    ));
}

/// Page values with characters C14N escapes (`&`, `<`, `>`, carriage return), quotes, tabs,
/// and characters ISO-8859-1 lacks (written as character references): xmlsec1's own
/// canonicalisation of the SignedProperties must give the digest we computed.
#[test]
fn tricky_text_is_canonicalised_like_libxml2() {
    let dir = scratch("tricky");
    let file = dir.join("pes.xml");
    let document = pes(XmlEncoding::Iso8859_1, false);
    std::fs::write(&file, &document).unwrap();
    let id = "BORD-2026-001";
    let digest = server_digest(&dir, &file, "//Bordereau[@Id='BORD-2026-001']", HashAlgorithm::Sha256);
    let mut req = request(id, digest, XadesFormat::EnvelopedSha256, &pki().rsa_der, XmlEncoding::Iso8859_1);
    req.claimed_role = Some("Ordonnateur & <adjoint>\r\n\t\"délégué\" 'Œuvre' €".into());
    req.production_place.city = Some("L'Haÿ-les-Roses > Paris]]>".into());
    req.policy.as_mut().unwrap().description = Some("Politique « Hélios » & co\r".into());
    let prepared = xades::prepare(&req).unwrap();
    let signature =
        xades::finish(&prepared.state, &token_sign(&pki().rsa_key, &prepared.digest, Mechanism::RsaPkcs1("sha256")))
            .unwrap();
    let bytes = signature.to_bytes();
    assert!(bytes.windows(8).any(|w| w == b"&#x152;u"), "Œ as a character reference");
    assert!(bytes.windows(5).any(|w| w == b"&#xD;"), "carriage return as a character reference");
    std::fs::write(&file, pes::insert_signature(&document, id, &signature).unwrap()).unwrap();
    let (ok, out) = xmlsec_verify(&file, id, "Bordereau");
    assert!(ok, "xmlsec1 --verify: {out}");
    assert_eq!(
        xpath_string(&file, "//*[local-name()='ClaimedRole']"),
        "Ordonnateur & <adjoint>\r\n\t\"délégué\" 'Œuvre' €"
    );
}

/// The test tool that places signatures (`common/pes.rs`): it finds the right end tag past
/// comments, CDATA, quoted `>` and lookalike Ids, and refuses what it cannot place.
#[test]
fn pes_insertion_tool() {
    let doc = br#"<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- <Bordereau Id="A"> in a comment -->
<n:PES_Aller xmlns:n="urn:x"><PES_DepenseAller>
<Bordereau Id="A"><Bordereau2 V="x>y"/><Obj V='a>b &lt;/Bordereau>'/><![CDATA[</Bordereau>]]></Bordereau>
<Bordereau Id='B'><X/></Bordereau>
</PES_DepenseAller></n:PES_Aller>"#;
    let out = pes::insert_bytes(doc, "A", b"<S>\xe9</S>").unwrap();
    let want: &[u8] = b"]]><S>\xe9</S></Bordereau>\n<Bordereau Id='B'>";
    assert!(out.windows(want.len()).any(|w| w == want), "{}", String::from_utf8_lossy(&out));
    let out = pes::insert_bytes(doc, "B", b"<S/>").unwrap();
    assert!(String::from_utf8_lossy(&out).contains("<X/><S/></Bordereau>"));

    let s = b"<S/>";
    assert!(matches!(pes::insert_bytes(b"<a Id=\"x\"></a>", "y", s), Err(PesError::IdNotFound(_))));
    assert!(matches!(
        pes::insert_bytes(b"<a><b Id=\"x\"></b><c Id=\"x\"></c></a>", "x", s),
        Err(PesError::DuplicateId(_))
    ));
    for bad in [
        &b"<a Id=\"x\"/>"[..],
        b"<a Id=\"x\"><b></a>",
        b"<a Id=\"x\">",
        b"<a Id=\"x",
        b"<a Id=x></a>",
        b"<!-- <a Id=\"x\"></a>",
    ] {
        assert!(
            matches!(pes::insert_bytes(bad, "x", s), Err(PesError::Document(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }

    assert_eq!(pes::document_encoding(b"<a/>").unwrap(), XmlEncoding::Utf8);
    assert_eq!(
        pes::document_encoding(b"<?xml version='1.0' encoding = 'iso-8859-1' ?><a/>").unwrap(),
        XmlEncoding::Iso8859_1
    );
    assert_eq!(
        pes::document_encoding(b"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>").unwrap(),
        XmlEncoding::Utf8
    );
    assert_eq!(pes::document_encoding(b"<?xml version=\"1.0\"?><a/>").unwrap(), XmlEncoding::Utf8);
    assert!(matches!(
        pes::document_encoding(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a/>"),
        Err(PesError::UnsupportedEncoding(_))
    ));
    assert!(matches!(pes::document_encoding(&[0xff, 0xfe, b'<', 0]), Err(PesError::UnsupportedEncoding(_))));
    assert!(matches!(pes::document_encoding(b"<?xml version=\"1.0\""), Err(PesError::Document(_))));
}
