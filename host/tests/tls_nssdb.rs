//! `tls-status` / `tls-register` (Chromium on Linux, TLS client authentication): the host
//! puts the token's module in a throw-away NSS database (`HOME/.pki/nssdb`), once, and NSS
//! itself (`modutil -list`, `certutil -L -h all`) then sees the module and the token's
//! certificates. Needs NSS's tools (libnss3-tools, installed by scripts/setup.sh); skipped
//! with a message without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{demo, softhsm_module, Host, Kit};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn nss_tools() -> bool {
    let ok = ["modutil", "certutil"]
        .iter()
        .all(|t| Command::new(t).arg("-help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok());
    if !ok {
        eprintln!("SKIPPED: modutil/certutil not installed (apt install libnss3-tools; scripts/setup.sh does)");
    }
    ok
}

fn home(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-home-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cli(kit: &Kit, home: &Path, args: &[&str]) -> Output {
    kit.command().env("HOME", home).args(args).stdin(Stdio::null()).output().unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `tool ARGS -d|-dbdir sql:DB` with the kit's SoftHSM configuration.
fn nss(kit: &Kit, tool: &str, args: &[&str], db: &Path) -> String {
    let flag = if tool == "modutil" { "-dbdir" } else { "-d" };
    let out = Command::new(tool)
        .args(args)
        .arg(flag)
        .arg(format!("sql:{}", db.display()))
        .env("SOFTHSM2_CONF", kit.dir.join("softhsm2.conf"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn register_puts_the_module_in_the_users_nss_database_once() {
    if !nss_tools() {
        return;
    }
    let kit = &*demo();
    let home = home("cli");
    let db = home.join(".pki/nssdb");
    let module = softhsm_module();

    let before = json_of(&cli(kit, &home, &["tls-status", "--json"]));
    assert_eq!(before["supported"], json!(true));
    assert_eq!(before["database"], json!(format!("sql:{}", db.display())));
    assert_eq!(before["modules"][0]["path"], json!(module));
    assert_eq!(before["modules"][0]["nssName"], json!("fr.paraphe.pkcs11.libsofthsm2"));
    assert_eq!(before["modules"][0]["registered"], json!(false));
    assert!(!db.exists(), "tls-status must not create the database");

    let first = json_of(&cli(kit, &home, &["tls-register", "--json"]));
    assert_eq!(first["modules"][0]["registered"], json!(true));
    assert_eq!(first["modules"][0]["added"], json!(true));
    let second = json_of(&cli(kit, &home, &["tls-register", "--json"]));
    assert_eq!(second["modules"][0]["registered"], json!(true));
    assert!(second["modules"][0].get("added").is_none(), "registered twice: {second}");

    // NSS sees the module once, and through it the token's certificates.
    let list = nss(kit, "modutil", &["-list"], &db);
    assert_eq!(list.matches("fr.paraphe.pkcs11.libsofthsm2").count(), 1, "{list}");
    assert!(list.contains(&format!("library name: {module}")), "{list}");
    let certs = nss(kit, "certutil", &["-L", "-h", "all"], &db);
    for label in ["Paraphe Demo:Authentication", "Paraphe Demo:Signature"] {
        assert!(certs.contains(label), "certutil does not see {label}:\n{certs}");
    }

    // The same over native messaging, as the options page asks for it.
    let mut child = kit
        .command()
        .env("HOME", &home)
        .arg("chrome-extension://abcdefghijklmnopabcdefghijklmnop/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take().unwrap());
    let mut host = Host::from_parts(child, stdin, stdout);
    let status = host.ok("tls-status", json!({}));
    assert_eq!(status["modules"][0]["registered"], json!(true));
    assert_eq!(status["modutil"], json!(true));
    let (code, _) = host.err("tls-register", json!({"database": "/tmp/elsewhere"}));
    assert_eq!(code, "INVALID_ARGUMENT", "no path from the wire");
    host.finish();
}

#[test]
fn register_without_modutil_says_what_to_install() {
    let kit = &*demo();
    let home = home("nomodutil");
    let out = kit
        .command()
        .env("HOME", &home)
        .env("PARAPHE_MODUTIL", home.join("no-such-modutil"))
        .args(["tls-register", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], json!("TOOL_MISSING"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("libnss3-tools"), "{v}");
    // Reading needs no tool.
    let status = json_of(&cli(kit, &home, &["tls-status", "--json"]));
    assert_eq!(status["modules"][0]["registered"], json!(false));
}
