//! docs/PROTOCOL.md is the contract: its error table and command list must match the code.

use paraphe_protocol::{Command, ErrorCode};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn error_table_matches_error_codes() {
    let doc = doc();
    let rows: Vec<(u16, String)> = doc
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let num = cells.get(1)?.parse::<u16>().ok()?;
            Some((num, cells.get(2)?.trim_matches('`').to_owned()))
        })
        .collect();
    let code_rows: Vec<(u16, String)> = ErrorCode::ALL.iter().map(|c| (c.number(), c.name().to_owned())).collect();
    assert_eq!(rows, code_rows, "docs/PROTOCOL.md error table is out of step with ErrorCode");
}

#[test]
fn every_command_has_a_section() {
    let doc = doc();
    for c in Command::ALL {
        assert!(doc.contains(&format!("### `{}`", c.name())), "docs/PROTOCOL.md lacks a section for {}", c.name());
    }
}

#[test]
fn every_documented_command_exists() {
    for line in doc().lines().filter(|l| l.starts_with("### `")) {
        let name = line.trim_start_matches("### `").trim_end_matches('`');
        assert!(Command::from_name(name).is_some(), "docs/PROTOCOL.md documents {name}, which Command::ALL lacks");
    }
}
