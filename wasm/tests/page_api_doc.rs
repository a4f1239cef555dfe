//! docs/PAGE-API.md is the page API's contract: its error table must list the extension's own
//! codes (`PageCode`) in order, its « host codes » row only host codes (`ErrorCode`), and every
//! code the extension's JavaScript gives a page must be one of the two. The same pattern as
//! protocol/tests/protocol_doc.rs for docs/PROTOCOL.md.

use paraphe_protocol::ErrorCode;
use paraphe_wasm::error::PageCode;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the table under `### Error codes`: (first cell, second cell).
fn error_table(doc: &str) -> Vec<(String, String)> {
    let start = doc.find("### Error codes").expect("docs/PAGE-API.md has an « Error codes » section");
    doc[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_owned(), cells[2].to_owned())
        })
        .collect()
}

/// The `CODE` names in backticks in `text`.
fn codes_in(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(str::to_owned)
        .collect()
}

fn is_host_code(name: &str) -> bool {
    ErrorCode::ALL.iter().any(|c| c.name() == name)
}

fn is_page_code(name: &str) -> bool {
    PageCode::ALL.iter().any(|c| c.name() == name)
}

#[test]
fn error_table_matches_page_codes() {
    let doc = read(&root().join("docs/PAGE-API.md"));
    let mut own = Vec::new();
    let mut host_row = None;
    for (first, second) in error_table(&doc) {
        if first == "host codes" {
            host_row = Some(second);
        } else {
            own.extend(codes_in(&first));
        }
    }
    // LiberSign-only codes are documented in docs/LIBERSIGN.md.
    let expected: Vec<String> =
        PageCode::ALL.iter().filter(|c| **c != PageCode::UnsupportedFormat).map(|c| c.name().to_owned()).collect();
    assert_eq!(own, expected, "docs/PAGE-API.md error table is out of step with PageCode");
    let host_row = host_row.expect("docs/PAGE-API.md error table has a « host codes » row");
    for code in codes_in(&host_row) {
        assert!(is_host_code(&code), "docs/PAGE-API.md names {code} as a host code; ErrorCode has no such code");
    }
    let libersign = read(&root().join("docs/LIBERSIGN.md"));
    assert!(libersign.contains(PageCode::UnsupportedFormat.name()), "docs/LIBERSIGN.md lacks UNSUPPORTED_FORMAT");
}

/// Every `.js` file under `dir`, recursively.
fn js_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            js_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "js") {
            out.push(path);
        }
    }
}

/// The codes a JavaScript file gives: `ParapheError('CODE'` and `code: 'CODE'`.
fn js_codes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["ParapheError('", "code: '"] {
        for (i, _) in text.match_indices(marker) {
            let rest = &text[i + marker.len()..];
            let end = rest.find('\'').unwrap_or(0);
            out.push(rest[..end].to_owned());
        }
    }
    out
}

#[test]
fn extension_throws_documented_codes_only() {
    let mut files = Vec::new();
    js_files(&root().join("extension/src"), &mut files);
    assert!(files.len() > 20, "extension/src/**/*.js not found");
    let mut seen = 0;
    for file in &files {
        for code in js_codes(&read(file)) {
            // Web eID answers carry web-eid.js's own codes (docs/WEB-EID.md, wasm/src/webeid.rs).
            if code.starts_with("ERR_WEBEID_") {
                continue;
            }
            assert!(
                is_page_code(&code) || is_host_code(&code),
                "{} gives pages the code {code:?}, which is neither a PageCode (docs/PAGE-API.md) nor a host ErrorCode",
                file.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 20, "the scan found only {seen} codes: has the way errors are thrown changed?");
}

#[test]
fn page_codes_are_not_host_codes_unless_the_meaning_is_the_same() {
    // error.rs: the names never collide except where the meaning is the same.
    for c in PageCode::ALL {
        if is_host_code(c.name()) {
            assert!(
                ["USER_CANCELLED", "PIN_LOCKED", "INTERNAL", "RAW_SIGNATURE_REFUSED"].contains(&c.name()),
                "{} is both a page code and a host code",
                c.name()
            );
        }
    }
}
