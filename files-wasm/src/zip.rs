//! The zip of « Signer des fichiers »' outputs (`formats::zip`): the members (name, size,
//! CRC-32, computed by the page as each output streamed through a `Crc32`) as JSON, and what
//! goes around them. The page lays the parts end to end with the outputs' Blobs: no output is
//! copied.

use paraphe_formats::zip::{self, Archive, DosTime, ZipError};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberJson {
    name: String,
    size: u64,
    crc32: u32,
}

/// A refusal, as thrown to the page: `{code: "INVALID_REQUEST", message, tooLarge}`;
/// `tooLarge`: the archive would need ZIP64, which the page says in its own words.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZipFailure {
    code: &'static str,
    message: String,
    too_large: bool,
}

impl ZipFailure {
    fn invalid(message: String) -> Self {
        Self { code: paraphe_wasm::error::PageCode::InvalidRequest.name(), message, too_large: false }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"code":"INTERNAL","message":"unserializable error"}"#.to_owned())
    }
}

impl From<ZipError> for ZipFailure {
    fn from(e: ZipError) -> Self {
        let too_large = e == ZipError::TooLarge;
        Self { too_large, ..Self::invalid(e.to_string()) }
    }
}

/// The archive of `members_json` (`[{name, size, crc32}]`, in order), its members modified at
/// the given local date and time.
pub fn archive(members_json: &str, date: [u32; 6]) -> Result<Archive, ZipFailure> {
    let members: Vec<MemberJson> =
        serde_json::from_str(members_json).map_err(|e| ZipFailure::invalid(format!("zip members: {e}")))?;
    let [year, month, day, hour, minute, second] = date;
    let time = DosTime::new(year, month, day, hour, minute, second)
        .ok_or_else(|| ZipFailure::invalid(format!("not a date: {date:?}")))?;
    let list: Vec<zip::Member<'_>> =
        members.iter().map(|m| zip::Member { name: &m.name, size: m.size, crc32: m.crc32 }).collect();
    Ok(zip::archive(&list, time)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NOW: [u32; 6] = [2026, 12, 3, 9, 30, 0];

    #[test]
    fn members_from_json() {
        let a = archive(r#"[{"name":"a (signé).pdf","size":3,"crc32":1},{"name":"b.xml","size":0,"crc32":0}]"#, NOW)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(a.headers.len(), 2);
        assert_eq!(a.headers[0].len(), 30 + "a (signé).pdf".len());
        assert_eq!(a.size, 3 + (30 + 14) + (30 + 5) + (46 + 14) + (46 + 5) + 22);
    }

    #[test]
    fn refusals_say_what() {
        let e = archive(r#"[{"name":"a","size":4294967295,"crc32":0}]"#, NOW).unwrap_err();
        assert!(e.too_large, "{e:?}");
        assert!(e.to_json().contains(r#""tooLarge":true"#), "{}", e.to_json());
        let e = archive(r#"[{"name":"a/b","size":1,"crc32":0}]"#, NOW).unwrap_err();
        assert!(!e.too_large);
        assert_eq!(e.code, "INVALID_REQUEST");
        assert!(archive(r#"[{"name":"a","size":1,"crc32":0,"more":1}]"#, NOW).is_err());
        assert!(archive("[]", [2026, 2, 30, 25, 0, 0]).is_err());
    }
}
