//! The man page `paraphe-host man` writes (clap_mangen, from the command line's grammar): it
//! names every command and the options of `sign`, and groff renders it without a warning. The
//! rendering checks run where groff is installed and say so where it is not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

const COMMANDS: [&str; 8] = ["native", "list", "diagnose", "tls-status", "tls-register", "version", "help", "sign"];
const SIGN_OPTIONS: [&str; 8] =
    ["--cert", "--hash-alg", "--digest", "--out", "--pss", "--ecdsa-der", "--pin-stdin", "--allow-login-key"];

fn man_page() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_paraphe-host")).arg("man").output().unwrap();
    assert!(out.status.success(), "paraphe-host man failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("the man page is UTF-8")
}

#[test]
fn man_page_names_every_command() {
    let page = man_page();
    assert!(page.starts_with(".TH PARAPHE-HOST 1 "), "no title line: {}", page.lines().next().unwrap_or_default());
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "FILES", "ENVIRONMENT"] {
        assert!(page.contains(&format!("\n.SH {section}\n")), "the man page lacks the section {section}");
    }
    // roff escapes the hyphens of names.
    for name in COMMANDS.iter().chain(&SIGN_OPTIONS) {
        assert!(page.contains(&name.replace('-', "\\-")), "the man page does not name {name}");
    }
    // The hidden `man` command is not in its own page.
    assert!(!page.contains(".B man\n"), "the man page lists the hidden man command");
}

#[test]
fn groff_renders_the_man_page_without_warnings() {
    if Command::new("groff").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        eprintln!("skipped: groff is not installed (apt install groff-base), the man page was not rendered");
        return;
    }
    let page = man_page();
    // -ww: every warning; -P-cbou: plain text, no overstriking, to look for the names.
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && warnings.trim().is_empty(), "groff -man -Tutf8 -ww: {warnings}");
    // Hyphens and minus signs may come out as U+2010 / U+2212 depending on groff's setup.
    let text = String::from_utf8_lossy(&out.stdout).replace(['\u{2010}', '\u{2212}'], "-");
    for name in COMMANDS.iter().chain(&SIGN_OPTIONS) {
        assert!(text.contains(name), "the rendered man page does not show {name}:\n{text}");
    }
}
