//! « Vérifier une signature »: the page hands over the files' bytes; the verification is
//! `paraphe_formats::verify` (CAdES detached, every PAdES signature of a PDF, XAdES detached
//! jetons), its report returned as JSON text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use paraphe_formats::verify::{self, Report, Trust};

/// CA certificates the person added: a JSON array of base64 file contents, each a DER
/// certificate or PEM text with one or more certificates.
pub fn anchors(json: &str) -> Result<Vec<Vec<u8>>, String> {
    let files: Vec<String> = serde_json::from_str(json).map_err(|e| format!("CA certificates: {e}"))?;
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let bytes = STANDARD.decode(f).map_err(|e| format!("CA certificate {}: {e}", i + 1))?;
        out.extend(certificates_in(&bytes).map_err(|e| format!("CA certificate {}: {e}", i + 1))?);
    }
    Ok(out)
}

/// The certificates of a DER or PEM file.
fn certificates_in(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(bytes).ok().filter(|t| t.contains("-----BEGIN CERTIFICATE-----"));
    let ders: Vec<Vec<u8>> = match text {
        Some(t) => t
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body: String = block.split("-----END").next().unwrap_or("").split_whitespace().collect();
                STANDARD.decode(body).map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?,
        None => vec![bytes.to_vec()],
    };
    for der in &ders {
        paraphe_formats::x509::summarize(der, &[]).map_err(|e| e.to_string())?;
    }
    Ok(ders)
}

fn trust(anchors_json: &str, now_unix: i64) -> Result<Trust, String> {
    Ok(Trust { anchors: anchors(anchors_json)?, hints: Vec::new(), now: now_unix })
}

fn json(report: &Report) -> Result<String, String> {
    serde_json::to_string(report).map_err(|e| e.to_string())
}

/// A `.p7s` (DER, BER or PEM) over `content`.
pub fn cades(p7s: &[u8], content: &[u8], anchors_json: &str, now_unix: i64) -> Result<String, String> {
    json(&verify::verify_cades(p7s, content, &trust(anchors_json, now_unix)?).map_err(|e| e.0)?)
}

/// A detached XAdES jeton over the file named `file_name`.
pub fn xades(
    jeton: &[u8],
    file_name: &str,
    content: &[u8],
    anchors_json: &str,
    now_unix: i64,
) -> Result<String, String> {
    json(&verify::verify_xades(jeton, file_name, content, &trust(anchors_json, now_unix)?).map_err(|e| e.0)?)
}

/// Every signature of a PDF.
pub fn pdf(file: &[u8], anchors_json: &str, now_unix: i64) -> Result<String, String> {
    json(&verify::verify_pdf(file, &trust(anchors_json, now_unix)?).map_err(|e| e.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &[u8] = include_bytes!("../../fuzz/seeds/certificate/ed25519-ca.der");

    #[test]
    fn anchors_from_der_and_pem() {
        let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", STANDARD.encode(CA));
        let list = serde_json::to_string(&[STANDARD.encode(CA), STANDARD.encode(pem.repeat(2))]).unwrap_or_default();
        assert_eq!(anchors(&list).expect("anchors").len(), 3);
        assert!(anchors(&serde_json::to_string(&[STANDARD.encode(b"junk")]).unwrap_or_default()).is_err());
        assert!(anchors("not json").is_err());
    }

    #[test]
    fn errors_are_plain_text() {
        assert!(pdf(b"not a pdf", "[]", 0).is_err_and(|e| e.contains("PDF")));
        assert!(cades(b"junk", b"x", "[]", 0).is_err());
        assert!(xades(b"<a/>", "f", b"x", "[]", 0).is_err_and(|e| e.contains("no XML signature")));
    }
}
