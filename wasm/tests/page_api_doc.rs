//! docs/PAGE-API.md is the page API's contract: its error table must list the extension's own
//! codes (`PageCode`) in order, its « host codes » row only host codes (`ErrorCode`), and every
//! code the extension's JavaScript gives a page must be one of the two. The same pattern as
//! protocol/tests/protocol_doc.rs for docs/PROTOCOL.md.
//!
//! The page library's TypeScript types (`extension/src/page/paraphe.d.ts`, the `ErrorCode`
//! union) and the localized messages (`error_CODE` keys of `extension/src/_locales/*/messages.json`)
//! are written by hand and kept in step by the tests below rather than generated: the union must
//! name exactly the table's codes (the extension's own first, then, after its « passed through
//! from the host » comment, the table's host codes), and every `error_` message must name a code.

use paraphe_protocol::ErrorCode;
use paraphe_wasm::error::PageCode;
use std::collections::BTreeSet;
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

/// docs/PAGE-API.md's error table: the extension's own codes in order, and the text of the
/// « host codes » row.
fn doc_codes() -> (Vec<String>, String) {
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
    (own, host_row.expect("docs/PAGE-API.md error table has a « host codes » row"))
}

#[test]
fn error_table_matches_page_codes() {
    let (own, host_row) = doc_codes();
    // LiberSign-only codes are documented in docs/LIBERSIGN.md.
    let expected: Vec<String> =
        PageCode::ALL.iter().filter(|c| **c != PageCode::UnsupportedFormat).map(|c| c.name().to_owned()).collect();
    assert_eq!(own, expected, "docs/PAGE-API.md error table is out of step with PageCode");
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
    let host_row = codes_in(&doc_codes().1);
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
            assert!(
                is_page_code(&code) || host_row.contains(&code),
                "{} gives pages the host code {code}, which docs/PAGE-API.md's « host codes » row does not name",
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

/// The comment in paraphe.d.ts's `ErrorCode` union after which the host's codes come.
const HOST_MARKER: &str = "// passed through from the host";

/// The quoted codes of paraphe.d.ts's `export type ErrorCode = …;` union, comments left out:
/// (those before [`HOST_MARKER`], those after it).
fn dts_union(dts: &str) -> (Vec<String>, Vec<String>) {
    let start = dts.find("export type ErrorCode =").expect("paraphe.d.ts declares « export type ErrorCode = … »");
    let mut body = String::new();
    for line in dts[start..].lines() {
        body.push_str(line);
        body.push('\n');
        if line.trim_end().ends_with(';') {
            break;
        }
    }
    let (own, host) = body.split_once(HOST_MARKER).unwrap_or_else(|| {
        panic!("paraphe.d.ts's ErrorCode union lacks the comment « {HOST_MARKER} » before the host codes")
    });
    (quoted(own), quoted(host))
}

/// The single-quoted strings of TypeScript `text`, `//` and `/* */` comments left out.
fn quoted(text: &str) -> Vec<String> {
    let mut code = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        code.push_str(&rest[..i]);
        rest = rest[i..].split_once("*/").map_or("", |(_, after)| after);
    }
    code.push_str(rest);
    let code: String = code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    code.split('\'').skip(1).step_by(2).map(str::to_owned).collect()
}

/// `label`: what `found` lacks and what it has too many of, compared with `wanted`.
fn difference(label: &str, found: &[String], wanted: &[String]) -> Option<String> {
    let found: BTreeSet<&str> = found.iter().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
    let missing: Vec<&str> = wanted.difference(&found).copied().collect();
    let extra: Vec<&str> = found.difference(&wanted).copied().collect();
    (!missing.is_empty() || !extra.is_empty()).then(|| format!("{label}: missing {missing:?}, extra {extra:?}"))
}

#[test]
fn typescript_error_codes_match_the_table() {
    let path = root().join("extension/src/page/paraphe.d.ts");
    let (own, host) = dts_union(&read(&path));
    let (doc_own, host_row) = doc_codes();
    let doc_host = codes_in(&host_row);
    let problems: Vec<String> = [
        difference("the extension's own codes (PageCode, docs/PAGE-API.md's table)", &own, &doc_own),
        difference(
            &format!("the host codes after « {HOST_MARKER} » (the table's « host codes » row)"),
            &host,
            &doc_host,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(
        problems.is_empty(),
        "{}'s ErrorCode union is out of step with docs/PAGE-API.md's error table (and PageCode):\n{}",
        path.display(),
        problems.join("\n")
    );
    let mut all = own.clone();
    all.extend(host.iter().cloned());
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "{} names a code twice in its ErrorCode union", path.display());
}

#[test]
fn localized_error_messages_name_codes() {
    let dir = root().join("extension/src/_locales");
    let mut keys_by_locale = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path().join("messages.json");
        let messages: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let keys: BTreeSet<String> =
            messages.keys().filter_map(|k| k.strip_prefix("error_")).map(str::to_owned).collect();
        for code in &keys {
            assert!(
                is_page_code(code) || is_host_code(code),
                "{} has a message error_{code}, but {code} is neither a PageCode nor a host ErrorCode",
                path.display()
            );
        }
        keys_by_locale.push((path, keys));
    }
    assert!(keys_by_locale.len() >= 2, "extension/src/_locales/*/messages.json not found");
    let (first_path, first) = &keys_by_locale[0];
    for (path, keys) in &keys_by_locale[1..] {
        assert_eq!(
            keys,
            first,
            "{} and {} translate different error codes (error_ keys)",
            path.display(),
            first_path.display()
        );
    }
}
