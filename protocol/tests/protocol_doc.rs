//! docs/PROTOCOL.md is the contract: its error table and command list must match the code.

use paraphe_protocol::command::{KeyHint, LoginArgs};
use paraphe_protocol::{Command, ErrorCode, LoginPurpose, Pin};

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

/// The argument names of a command's table in docs/PROTOCOL.md (rows `| `name` | required |`
/// or `optional`), in order.
fn argument_table(doc: &str, command: &str) -> Vec<String> {
    let section = doc.split(&format!("### `{command}`")).nth(1).unwrap_or_default();
    let section = section.split("\n### ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?;
            let kind = cells.get(2)?;
            (name.starts_with('`') && matches!(*kind, "required" | "optional"))
                .then(|| name.trim_matches('`').to_owned())
        })
        .collect()
}

#[test]
fn login_argument_table_matches_login_args() {
    let args = LoginArgs {
        certificate: "ab".repeat(32),
        pin: Pin::new("1234".into()).ok(),
        ttl_seconds: Some(60),
        purpose: LoginPurpose::SignStructured,
        hint: Some(KeyHint { token: "3f1c9a0be2d4c871".into(), cka_id: "01".into() }),
    };
    let value = serde_json::to_value(&args).unwrap_or_default();
    let mut members: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let mut rows = argument_table(&doc(), "login");
    members.sort();
    rows.sort();
    assert_eq!(rows, members, "docs/PROTOCOL.md's login table is out of step with LoginArgs");
}
