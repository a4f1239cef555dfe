//! Verifying signatures made elsewhere: CAdES/CMS detached (`.p7s` + the file), PAdES
//! (every signature of a PDF) and XAdES detached « jetons » (`.xml` + the file, [`xades`]),
//! for the « Vérifier une signature » page.
//!
//! For each signature: integrity (the content's digest against `messageDigest`, the
//! signature over the signed attributes with the signer's key), the signer's certificate
//! (found by `sid`, checked against ESS signing-certificate(-v2) when present), the chain up
//! to a trust anchor (CA certificates the person adds, or a built-in root of
//! [`crate::policies::AUTHORITIES`]), the certificate's facts ([`crate::x509::summarize`]:
//! RGS level, qualified status) and the signing time. No network: no revocation check.

mod c14n;
mod cms;
pub mod pdf;
pub mod xades;

pub use xades::{canonicalize, verify_xades, MAX_JETON};

use paraphe_protocol::cert::{CertificateInfo, KeyUsage};
use serde::Serialize;

use crate::asn1::Reader;
use crate::policies::{self, PolicyHint};

/// Why a signature could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError(pub String);

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerifyError {}

/// The overall result of one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Intact, signed by the certificate it names, chain up to a trust anchor.
    Valid,
    /// Intact and correctly signed, but the chain reaches no trust anchor or the certificate
    /// was not valid at the signing time.
    Indeterminate,
    /// The signed data or the signature was altered, or the signature cannot be checked.
    Invalid,
}

/// A problem found, as a stable code and a detail for people who want it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `digest-mismatch`, `signature-invalid`, `signer-certificate-missing`,
    /// `signing-certificate-mismatch`, `chain-untrusted`, `certificate-expired`,
    /// `certificate-not-yet-valid`, `byte-range-invalid`, `unsupported`, `malformed`;
    /// XAdES also: `signed-properties-modified`, `reference-modified`, `reference-missing`,
    /// `content-missing`, `weak-algorithm` (SHA-1), and `file-name-differs` (a note only).
    pub code: &'static str,
    pub detail: String,
}

fn problem(code: &'static str, detail: impl Into<String>) -> Problem {
    Problem { code, detail: detail.into() }
}

/// A certificate of the chain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainLink {
    pub subject: String,
    pub fingerprint: String,
}

/// The signer, as a person checks it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerFacts {
    pub name: String,
    pub organization: Option<String>,
    pub email: Option<String>,
    pub issuer: String,
    pub serial_number: String,
    pub not_before: String,
    pub not_after: String,
    pub rgs_level: Option<String>,
    /// QcCompliance (eIDAS qualified certificate), QcSSCD (key on a qualified device).
    pub qualified: bool,
    pub qscd: bool,
    /// LiberSign-style badges: `RGS`, `EIDAS`.
    pub verified_with: Vec<&'static str>,
    /// The French provider of the built-in list that issued it, if any.
    pub provider: Option<&'static str>,
    pub policies: Vec<String>,
    pub non_repudiation: bool,
    /// DER, base64.
    pub certificate: String,
}

/// PDF facts of a PAdES signature.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdfFacts {
    pub byte_range: [u64; 4],
    /// The signed bytes run to the end of the file: nothing was appended after it.
    pub covers_whole_file: bool,
    pub sub_filter: Option<String>,
    pub field: Option<String>,
    /// `/M` as written in the dictionary (not signed by the CMS; PAdES has no signing-time).
    pub declared_time: Option<String>,
}

/// One signature's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    pub status: Status,
    /// The signed content and attributes are as signed, and the signature matches.
    pub intact: bool,
    pub problems: Vec<Problem>,
    pub signer: Option<SignerFacts>,
    pub chain: Vec<ChainLink>,
    pub trusted: bool,
    pub trust_anchor: Option<String>,
    /// RFC 3339: the signed `signingTime` (XAdES: `SigningTime`, in UTC), else a PDF's `/M`.
    pub signing_time: Option<String>,
    pub digest_algorithm: &'static str,
    pub timestamped: bool,
    pub pdf: Option<PdfFacts>,
}

/// All signatures of a file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `cades`, `pades` or `xades`.
    pub format: &'static str,
    pub signatures: Vec<SignatureReport>,
}

/// Trust settings: CA certificates (DER) the person added, hints, and the time to check at.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub anchors: Vec<Vec<u8>>,
    pub hints: Vec<PolicyHint>,
    /// Unix seconds: validity is checked at the signing time when known, else at this.
    pub now: i64,
}

/// A detached CAdES/CMS signature (`.p7s`, DER, BER or PEM) over `content`.
pub fn verify_cades(p7s: &[u8], content: &[u8], trust: &Trust) -> Result<Report, VerifyError> {
    let der = pem_or_der(p7s)?;
    let sd = cms::parse(&der)?;
    let content = match (&sd.content, content.is_empty()) {
        (Some(c), true) => c.as_slice(),
        _ => content,
    };
    let signatures = sd
        .signers
        .iter()
        .map(|s| {
            let digest = crate::hash::digest(s.digest, content);
            check_signer(&sd, s, &digest, trust, None)
        })
        .collect();
    Ok(Report { format: "cades", signatures })
}

/// Every signature of a PDF (PAdES / `adbe.pkcs7.detached`), in file order.
pub fn verify_pdf(file: &[u8], trust: &Trust) -> Result<Report, VerifyError> {
    let found = pdf::signatures(file)?;
    if found.is_empty() {
        return Err(VerifyError("no signature in this PDF".into()));
    }
    let signatures = found
        .into_iter()
        .map(|sig| match sig.facts_or_error(file) {
            Ok((contents, facts)) => verify_pdf_signature(file, &contents, facts, trust),
            Err(p) => failed(vec![p], None),
        })
        .collect();
    Ok(Report { format: "pades", signatures })
}

fn verify_pdf_signature(file: &[u8], contents: &[u8], facts: PdfFacts, trust: &Trust) -> SignatureReport {
    let sd = match cms::parse(contents) {
        Ok(sd) => sd,
        Err(e) => return failed(vec![problem("malformed", e.0)], Some(facts)),
    };
    let Some(first) = sd.signers.first() else {
        return failed(vec![problem("malformed", "no signer")], Some(facts));
    };
    let [a, b, c, d] = facts.byte_range;
    let mut hasher = crate::hash::Hasher::new(first.digest);
    for (start, len) in [(a, b), (c, d)] {
        let range = usize::try_from(start).ok().zip(usize::try_from(len).ok());
        match range.and_then(|(s, l)| file.get(s..s.checked_add(l)?)) {
            Some(bytes) => hasher.update(bytes),
            None => return failed(vec![problem("byte-range-invalid", "outside the file")], Some(facts)),
        }
    }
    let digest = hasher.finish();
    check_signer(&sd, first, &digest, trust, Some(facts))
}

fn failed(problems: Vec<Problem>, pdf: Option<PdfFacts>) -> SignatureReport {
    SignatureReport {
        status: Status::Invalid,
        intact: false,
        problems,
        signer: None,
        chain: Vec::new(),
        trusted: false,
        trust_anchor: None,
        signing_time: pdf.as_ref().and_then(|p| p.declared_time.clone()),
        digest_algorithm: "",
        timestamped: false,
        pdf,
    }
}

fn pem_or_der(input: &[u8]) -> Result<Vec<u8>, VerifyError> {
    use base64::Engine;
    let text = std::str::from_utf8(input).ok().map(str::trim_start);
    match text {
        Some(t) if t.starts_with("-----BEGIN") => {
            let body: String = t.lines().filter(|l| !l.starts_with("-----")).collect();
            base64::engine::general_purpose::STANDARD
                .decode(body.trim())
                .map_err(|e| VerifyError(format!("PEM signature: {e}")))
        }
        _ => Ok(input.to_vec()),
    }
}

/// The Certificate parts: (tbs raw, signature algorithm, signature bits, issuer raw, subject raw, spki raw).
struct CertParts<'a> {
    tbs: &'a [u8],
    alg: (String, Vec<u8>),
    signature: &'a [u8],
    serial: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    spki: &'a [u8],
}

fn cert_parts(der: &[u8]) -> Option<CertParts<'_>> {
    let cert = crate::asn1::single(der, "").ok()?;
    let mut r = Reader::new(cert.content);
    let tbs = r.expect(0x30, "").ok()?;
    let alg = r.expect(0x30, "").ok()?;
    let sig = r.expect(0x03, "").ok()?;
    let mut t = Reader::new(tbs.content);
    t.optional(0xa0).ok()?;
    let serial = t.expect(0x02, "").ok()?;
    t.expect(0x30, "").ok()?;
    let issuer = t.expect(0x30, "").ok()?;
    t.expect(0x30, "").ok()?;
    let subject = t.expect(0x30, "").ok()?;
    let spki = t.expect(0x30, "").ok()?;
    let mut ar = Reader::new(alg.content);
    let alg_oid = ar.expect(0x06, "").ok()?;
    Some(CertParts {
        tbs: tbs.raw,
        alg: (cms::oid_of(alg_oid.content), ar.rest().to_vec()),
        signature: sig.content.get(1..)?,
        serial: serial.content,
        issuer: issuer.raw,
        subject: subject.raw,
        spki: spki.raw,
    })
}

fn ski_of(der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    })
}

/// Whether `child` is signed by `parent`'s key.
fn issued_by(child: &CertParts<'_>, parent: &CertParts<'_>) -> bool {
    child.issuer == parent.subject
        && cms::check_signature(
            parent.spki,
            &child.alg,
            paraphe_protocol::HashAlgorithm::Sha256,
            child.tbs,
            child.signature,
        )
        .is_ok()
}

fn check_signer(
    sd: &cms::SignedData,
    s: &cms::Signer,
    content_digest: &[u8],
    trust: &Trust,
    pdf: Option<PdfFacts>,
) -> SignatureReport {
    let mut problems = Vec::new();
    let mut report = failed(Vec::new(), pdf);
    report.digest_algorithm = cms::hash_name(s.digest);
    report.timestamped = s.timestamped;
    if let Some(t) = &s.signing_time {
        report.signing_time = Some(t.clone());
    }

    // The signer's certificate, by sid.
    let signer_cert = sd.certificates.iter().find(|der| {
        let Some(p) = cert_parts(der) else { return false };
        match (&s.issuer_serial, &s.ski) {
            (Some((issuer, serial)), _) => p.issuer == issuer.as_slice() && p.serial == serial.as_slice(),
            (None, Some(ski)) => ski_of(der).as_deref() == Some(ski.as_slice()),
            _ => false,
        }
    });
    let Some(signer_der) = signer_cert else {
        report.problems =
            vec![problem("signer-certificate-missing", "the signature does not carry its signer's certificate")];
        return report;
    };
    let Some(parts) = cert_parts(signer_der) else {
        report.problems = vec![problem("malformed", "the signer's certificate cannot be read")];
        return report;
    };

    // Integrity: messageDigest, then the signature over the signed attributes.
    let mut intact = true;
    let signed: &[u8] = match &s.signed_attrs {
        Some(attrs) => {
            if s.message_digest.as_deref() != Some(content_digest) {
                intact = false;
                problems.push(problem("digest-mismatch", "the signed content was modified"));
            }
            if !s.content_type_ok {
                problems.push(problem("malformed", "no content-type signed attribute"));
            }
            attrs
        }
        None => content_digest,
    };
    let sig_check = if s.signed_attrs.is_some() {
        cms::check_signature(parts.spki, &s.signature_algorithm, s.digest, signed, &s.signature)
    } else {
        // Without signed attributes the signature is over the content itself, whose digest
        // was computed with the signer's digest algorithm.
        if cms::effective_hash(&s.signature_algorithm, s.digest) == s.digest {
            cms::check_prehashed(parts.spki, &s.signature_algorithm, s.digest, content_digest, &s.signature)
        } else {
            Err(VerifyError("signature algorithm not supported with this digest algorithm".into()))
        }
    };
    if let Err(e) = sig_check {
        intact = false;
        let code = if e.0.contains("not supported") { "unsupported" } else { "signature-invalid" };
        problems.push(problem(code, e.0));
    }
    if let Some((hash, cert_hash)) = &s.signing_certificate {
        if crate::hash::digest(*hash, signer_der) != *cert_hash {
            intact = false;
            problems.push(problem(
                "signing-certificate-mismatch",
                "the signed certificate reference names another certificate",
            ));
        }
    }

    conclude(report, problems, intact, signer_der, &sd.certificates, trust)
}

/// What every format's report shares once integrity is known: the signer's facts, the
/// certificate's validity at the signing time (else now), the chain (from `pool`, the
/// certificates the signature carries, and the anchors) and the status.
fn conclude(
    mut report: SignatureReport,
    mut problems: Vec<Problem>,
    intact: bool,
    signer_der: &[u8],
    pool: &[Vec<u8>],
    trust: &Trust,
) -> SignatureReport {
    // The signer's facts.
    let info = crate::x509::summarize(signer_der, &trust.hints).ok();
    if let Some(info) = &info {
        report.signer = Some(signer_facts(info, signer_der));
        let at = report.signing_time.clone().unwrap_or_else(|| crate::x509::rfc3339(trust.now));
        if at < info.not_before {
            problems.push(problem("certificate-not-yet-valid", format!("valid from {}", info.not_before)));
        } else if at > info.not_after {
            problems.push(problem("certificate-expired", format!("expired on {}", info.not_after)));
        }
    }

    // The chain.
    let (chain, anchor) = build_chain(signer_der, pool, &trust.anchors);
    report.chain = chain;
    report.trusted = anchor.is_some();
    report.trust_anchor = anchor;
    if !report.trusted {
        problems.push(problem("chain-untrusted", "no trusted certification authority was reached"));
    }

    let time_ok = !problems.iter().any(|p| p.code.starts_with("certificate-"));
    report.intact = intact;
    report.status = if !intact {
        Status::Invalid
    } else if report.trusted && time_ok {
        Status::Valid
    } else {
        Status::Indeterminate
    };
    report.problems = problems;
    report
}

fn signer_facts(info: &CertificateInfo, der: &[u8]) -> SignerFacts {
    use base64::Engine;
    let issuer_org = issuer_organization(der);
    SignerFacts {
        name: info.subject_common_name.clone().unwrap_or_else(|| info.subject.clone()),
        organization: info.organization.clone(),
        email: info.email.clone(),
        issuer: info.issuer_common_name.clone().unwrap_or_else(|| info.issuer.clone()),
        serial_number: info.serial_number.clone(),
        not_before: info.not_before.clone(),
        not_after: info.not_after.clone(),
        rgs_level: info.rgs_level.clone(),
        qualified: info.qualified.qc_compliance,
        qscd: info.qualified.qc_sscd,
        verified_with: policies::verified_with(info),
        provider: policies::authority_of(info.policies.iter().map(|p| p.oid.as_str()), issuer_org.as_deref())
            .map(|a| a.name),
        policies: info.policies.iter().map(|p| p.name.clone().unwrap_or_else(|| p.oid.clone())).collect(),
        non_repudiation: info.key_usage.contains(&KeyUsage::NonRepudiation),
        certificate: base64::engine::general_purpose::STANDARD.encode(der),
    }
}

fn issuer_organization(der: &[u8]) -> Option<String> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let org = cert.issuer().iter_organization().next()?.as_str().ok()?.to_owned();
    Some(org)
}

fn subject_name(der: &[u8]) -> String {
    use x509_parser::prelude::*;
    X509Certificate::from_der(der).map(|(_, c)| c.subject().to_string()).unwrap_or_default()
}

/// From the signer up: issuers found among the signature's certificates and the anchors,
/// each checked by its signature. Returns the chain and the anchor reached, if any: an added
/// CA certificate, or a built-in root (by SHA-256 fingerprint).
fn build_chain(signer: &[u8], pool: &[Vec<u8>], anchors: &[Vec<u8>]) -> (Vec<ChainLink>, Option<String>) {
    let link = |der: &[u8]| ChainLink { subject: subject_name(der), fingerprint: crate::x509::fingerprint(der) };
    let is_anchor = |der: &[u8]| {
        let fp = crate::x509::fingerprint(der);
        anchors.iter().any(|a| a.as_slice() == der) || policies::is_builtin_root(&fp)
    };
    let mut chain = vec![link(signer)];
    let mut current = signer.to_vec();
    for _ in 0..8 {
        if is_anchor(&current) {
            let name = subject_name(&current);
            return (chain, Some(name));
        }
        let Some(cur) = cert_parts(&current) else { break };
        let next = anchors
            .iter()
            .chain(pool.iter())
            .filter(|c| c.as_slice() != current.as_slice())
            .find(|c| cert_parts(c).is_some_and(|p| issued_by(&cur, &p)));
        let Some(next) = next else { break };
        chain.push(link(next));
        current = next.clone();
    }
    (chain, None)
}
