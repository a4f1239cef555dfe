//! ECDSA signature encodings (RFC 3279 §2.2.3).

/// Converts PKCS#11 `CKM_ECDSA` output (`r || s`, equal halves) to DER
/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`.
pub fn raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || raw.len() % 2 != 0 || raw.len() > 2 * 66 {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::with_capacity(raw.len() + 8);
    for int in [r, s] {
        let content = crate::cms::der::unsigned_integer_content(int);
        body.push(0x02);
        body.push(u8::try_from(content.len()).ok()?);
        body.extend_from_slice(&content);
    }
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(0x30);
    if body.len() < 0x80 {
        out.push(u8::try_from(body.len()).ok()?);
    } else {
        out.push(0x81);
        out.push(u8::try_from(body.len()).ok()?);
    }
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_trims() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a pad
        raw[63] = 0x01; // s is 1 after trimming
        let der = raw_to_der(&raw).expect("der");
        assert_eq!(&der[..4], &[0x30, 2 + 33 + 3, 0x02, 33]);
        assert_eq!(der[4], 0x00);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
    }

    #[test]
    fn long_form_length_for_p521() {
        let raw = vec![0xffu8; 132];
        let der = raw_to_der(&raw).expect("der");
        assert_eq!(&der[..3], &[0x30, 0x81, 2 * (2 + 67)]);
    }

    #[test]
    fn refuses_odd_or_empty() {
        assert!(raw_to_der(&[]).is_none());
        assert!(raw_to_der(&[1, 2, 3]).is_none());
    }
}
