//! Test harness: a SoftHSM token made by the project's test kit, and the built
//! `paraphe-host` binary spoken to over real native-messaging framing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

pub const PIN: &str = "1234";
/// The test PKI's RGS** policy arc (tests/kit/README.md).
pub const TEST_POLICY_ARC: &str = "2.25.329800735698586629295641978511506172918.2";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn softhsm_module() -> String {
    for p in ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"] {
        if Path::new(p).exists() {
            return p.to_owned();
        }
    }
    panic!("SoftHSM2 is not installed: run scripts/setup.sh");
}

/// A token made by a kit script, with the host configuration that points at it.
pub struct Kit {
    pub dir: PathBuf,
    pub config: PathBuf,
}

impl Kit {
    /// Runs `tests/kit/<script> DIR` into a fresh directory.
    pub fn make(script: &str, name: &str) -> Kit {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kit-{name}-{}", std::process::id()));
        let out = Command::new("bash").arg(repo().join("tests/kit").join(script)).arg(&dir).output().unwrap();
        assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
        let config = dir.join("paraphe-config.json");
        let cfg = json!({
            "builtinModules": false,
            "modules": [softhsm_module()],
            "policies": [{"oid": TEST_POLICY_ARC, "name": "Paraphe test PKI", "rgsLevel": "**"}],
        });
        std::fs::write(&config, cfg.to_string()).unwrap();
        Kit { dir, config }
    }

    pub fn pki(&self, file: &str) -> PathBuf {
        self.dir.join("pki").join(file)
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paraphe-host"));
        c.env("SOFTHSM2_CONF", self.dir.join("softhsm2.conf"))
            .env("PARAPHE_CONFIG", &self.config)
            // Debug builds only: this machine's /etc/paraphe/config.json stays out.
            .env("PARAPHE_SYSTEM_CONFIG", self.dir.join("no-system-config.json"))
            .env_remove("PARAPHE_PKCS11_MODULES")
            .env("LANG", "C");
        c
    }

    /// SHA-256 fingerprint of `pki/<id>.crt`, computed by openssl.
    pub fn fingerprint(&self, id: &str) -> String {
        fingerprint_of(&self.pki(&format!("{id}.crt")))
    }
}

/// SHA-256 fingerprint (lowercase hex) of the certificate in `pem`, computed by openssl.
pub fn fingerprint_of(pem: &Path) -> String {
    let out =
        Command::new("openssl").args(["x509", "-noout", "-fingerprint", "-sha256", "-in"]).arg(pem).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().rsplit('=').next().unwrap().replace(':', "").to_ascii_lowercase()
}

/// The shared demo token for this test binary (made once, ~2 s), held for one test at a
/// time: SoftHSM rewrites its token file on login, and several processes logging in to one
/// token at once fail at random (tests/kit/README.md).
pub fn demo() -> Demo {
    static KIT: OnceLock<Kit> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Demo { kit: KIT.get_or_init(|| Kit::make("make-token.sh", "demo")), _guard: guard }
}

pub struct Demo {
    kit: &'static Kit,
    _guard: MutexGuard<'static, ()>,
}

impl std::ops::Deref for Demo {
    type Target = Kit;
    fn deref(&self) -> &Kit {
        self.kit
    }
}

/// A running host, spoken to as a browser would.
pub struct Host {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    next_id: u64,
    pub hello: Value,
    /// Events (card monitor) received while waiting for responses.
    pub events: Vec<Value>,
}

impl Host {
    pub fn spawn(kit: &Kit) -> Host {
        Self::spawn_with(kit, &["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"])
    }

    pub fn spawn_with(kit: &Kit, args: &[&str]) -> Host {
        let mut child = kit
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let mut host = Host { child, stdin, stdout, next_id: 1, hello: Value::Null, events: Vec::new() };
        host.hello = host.read_any().expect("hello");
        host
    }

    pub fn from_parts(child: Child, stdin: Option<ChildStdin>, stdout: ChildStdout) -> Host {
        let mut host = Host { child, stdin, stdout, next_id: 1, hello: Value::Null, events: Vec::new() };
        host.hello = host.read_any().expect("hello");
        host
    }

    pub fn write_raw(&mut self, bytes: &[u8]) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    pub fn send_frame(&mut self, body: &[u8]) {
        let mut frame = u32::try_from(body.len()).unwrap().to_ne_bytes().to_vec();
        frame.extend_from_slice(body);
        self.write_raw(&frame);
    }

    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// Reads the next response (events met on the way are kept in `events`).
    pub fn read(&mut self) -> Value {
        self.try_read().expect("host closed its output")
    }

    pub fn try_read(&mut self) -> Option<Value> {
        loop {
            let frame = self.read_any()?;
            if frame.get("event").is_some() {
                self.events.push(frame);
            } else {
                return Some(frame);
            }
        }
    }

    /// Reads one host → browser frame as JSON, whatever it is.
    pub fn read_any(&mut self) -> Option<Value> {
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len).ok()?;
        let len = u32::from_ne_bytes(len) as usize;
        assert!(len <= 1024 * 1024, "host frame over the browser limit");
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body).unwrap();
        Some(serde_json::from_slice(&body).unwrap())
    }

    /// Sends a request and returns the whole response object.
    pub fn call(&mut self, command: &str, arguments: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"id": id, "command": command, "arguments": arguments});
        self.send_frame(req.to_string().as_bytes());
        let resp = self.read();
        assert_eq!(resp["id"], json!(id), "response to another request: {resp}");
        resp
    }

    /// `call`, expecting success; returns `result`.
    pub fn ok(&mut self, command: &str, arguments: Value) -> Value {
        let resp = self.call(command, arguments);
        assert!(resp.get("error").is_none(), "{command} failed: {resp}");
        resp["result"].clone()
    }

    /// `call`, expecting an error; returns its code.
    pub fn err(&mut self, command: &str, arguments: Value) -> (String, Value) {
        let resp = self.call(command, arguments);
        let error = resp.get("error").unwrap_or_else(|| panic!("{command} should fail: {resp}")).clone();
        (error["code"].as_str().unwrap().to_owned(), error)
    }

    /// Logs in for `purpose` (`authenticate`, `sign-structured`, `sign-raw`, `decrypt`).
    pub fn login(&mut self, fingerprint: &str, pin: &str, purpose: &str) -> String {
        let r = self.ok("login", json!({"certificate": fingerprint, "pin": pin, "purpose": purpose}));
        r["session"].as_str().unwrap().to_owned()
    }

    /// Closes the port and waits for the host to exit.
    pub fn finish(mut self) -> std::process::ExitStatus {
        self.close_input();
        self.child.wait().unwrap()
    }
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("work-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Digest of `data` with `alg` (`sha1`, `sha256`, …), by openssl.
pub fn openssl_digest(alg: &str, data: &Path) -> Vec<u8> {
    let out = Command::new("openssl").args(["dgst", &format!("-{alg}"), "-binary"]).arg(data).output().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// Verifies `sig` over the file `data` with `openssl dgst -verify`; `extra` adds -sigopt.
pub fn openssl_verify(alg: &str, pubkey: &Path, data: &Path, sig: &[u8], extra: &[&str]) -> bool {
    let sig_path = tmp(&format!("sig-{}", rand_suffix()));
    std::fs::write(&sig_path, sig).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", &format!("-{alg}"), "-verify"])
        .arg(pubkey)
        .arg("-signature")
        .arg(&sig_path)
        .args(extra)
        .arg(data)
        .output()
        .unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
