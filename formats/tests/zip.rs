//! The zip writer (`formats::zip`) checked by independent readers: Info-ZIP's `unzip -t`
//! (every member's CRC-32 tested) and `zipinfo`, and Python's `zipfile` (`testzip`, the
//! names read as UTF-8 from general purpose bit 11, each member extracted and compared byte
//! for byte with what went in).
#![allow(clippy::unwrap_used)]

mod common;

use common::{run, scratch, try_run};
use paraphe_formats::zip::{archive, Crc32, DosTime, Member};
use std::process::Command;

/// Info-ZIP's tools in a UTF-8 locale (in the C locale they cannot write the names out).
fn unzip() -> Command {
    let mut c = Command::new("unzip");
    c.env("LC_ALL", "C.UTF-8");
    c
}

fn zipinfo() -> Command {
    let mut c = Command::new("zipinfo");
    c.env("LC_ALL", "C.UTF-8");
    c
}

/// The archive of `members`, each CRC-32 fed in pieces as a stream would.
fn write(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let list: Vec<Member<'_>> = members
        .iter()
        .map(|(name, bytes)| {
            let mut crc = Crc32::new();
            for piece in bytes.chunks(65_536) {
                crc.update(piece);
            }
            Member { name, size: bytes.len() as u64, crc32: crc.value() }
        })
        .collect();
    let a = archive(&list, DosTime::new(2026, 12, 3, 8, 15, 42).unwrap()).unwrap();
    let mut out = Vec::new();
    for (h, (_, bytes)) in a.headers.iter().zip(members) {
        out.extend_from_slice(h);
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(&a.trailer);
    assert_eq!(out.len() as u64, a.size);
    out
}

fn members() -> Vec<(&'static str, Vec<u8>)> {
    let noise: Vec<u8> = (0..300_001u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    vec![
        ("Offre technique (signé).pdf", b"%PDF-1.7\n% a pretend signed PDF\n%%EOF\n".to_vec()),
        ("déjà signé (signé).pdf", noise),
        ("DC1.xml.xml", b"<?xml version=\"1.0\"?><ds:Signature/>".to_vec()),
        ("annexe financière.ods.p7s", vec![0x30, 0x82, 0x01, 0x00]),
        ("vide.txt.p7s", Vec::new()),
    ]
}

const PYTHON: &str = r#"
import json, os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
assert bad is None, f"bad member {bad!r}"
out = []
for k, i in enumerate(z.infolist()):
    with open(os.path.join(sys.argv[2], str(k)), "wb") as f:
        f.write(z.read(i))
    out.append({"name": i.filename, "method": i.compress_type, "utf8": bool(i.flag_bits & 0x800),
                "date": list(i.date_time), "size": i.file_size})
print(json.dumps(out))
"#;

#[test]
fn independent_readers_read_every_member_back() {
    let dir = scratch("zip");
    let members = members();
    let zip = dir.join("signatures.zip");
    std::fs::write(&zip, write(&members)).unwrap();

    let (ok, out) = try_run(unzip().arg("-t").arg(&zip));
    assert!(ok, "unzip -t: {out}");
    assert!(out.contains("No errors detected in compressed data"), "unzip -t: {out}");
    let info = String::from_utf8(run(zipinfo().arg(&zip))).unwrap();
    assert!(info.contains("5 files"), "zipinfo: {info}");
    assert_eq!(info.matches(" stor ").count(), 5, "zipinfo: every member stored: {info}");
    assert_eq!(info.matches("-rw-r--r--").count(), 5, "zipinfo: plain files: {info}");
    for (name, _) in &members {
        assert!(info.contains(name), "zipinfo lists {name}: {info}");
    }

    let extracted = dir.join("python");
    std::fs::create_dir(&extracted).unwrap();
    let json = run(Command::new("python3").arg("-c").arg(PYTHON).arg(&zip).arg(&extracted));
    let listed: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), members.len());
    for (k, ((name, bytes), entry)) in members.iter().zip(listed).enumerate() {
        assert_eq!(entry["name"], *name, "the UTF-8 name, read as such");
        assert_eq!(entry["utf8"], true);
        assert_eq!(entry["method"], 0, "stored");
        assert_eq!(entry["date"], serde_json::json!([2026, 12, 3, 8, 15, 42]));
        assert_eq!(entry["size"], bytes.len());
        assert_eq!(&std::fs::read(extracted.join(k.to_string())).unwrap(), bytes, "{name}: byte for byte");
    }
}

#[test]
fn unzip_extracts_the_utf8_names() {
    let dir = scratch("zip-unzip");
    let members = members();
    let zip = dir.join("signatures.zip");
    std::fs::write(&zip, write(&members)).unwrap();
    let out = dir.join("out");
    run(unzip().arg("-q").arg(&zip).arg("-d").arg(&out));
    for (name, bytes) in &members {
        assert_eq!(&std::fs::read(out.join(name)).unwrap(), bytes, "{name}");
    }
}

#[test]
fn a_damaged_member_is_caught_by_unzip() {
    // The readers do check the CRC-32: one byte changed in a member, and both say so.
    let dir = scratch("zip-damaged");
    let mut bytes = write(&members());
    let at = bytes.windows(8).position(|w| w == b"%PDF-1.7").unwrap() + 3;
    bytes[at] ^= 1;
    let zip = dir.join("damaged.zip");
    std::fs::write(&zip, bytes).unwrap();
    let (ok, out) = try_run(unzip().arg("-t").arg(&zip));
    assert!(!ok, "unzip -t: {out}");
    let (ok, out) = try_run(Command::new("python3").arg("-c").arg(PYTHON).arg(&zip).arg(&dir));
    assert!(!ok, "python zipfile: {out}");
}
