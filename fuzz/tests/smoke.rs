//! Smoke run of the fuzz entry points without libFuzzer, for CI: each target's seeds
//! (fuzz/seeds/<target>/), then inputs from a deterministic xorshift generator: random
//! bytes, mutated seeds, and for `request_json` random requests built from the protocol's
//! own names. A few seconds in all; a real fuzzing run is `cargo fuzz run` (fuzz/README.md).
//!
//! `PARAPHE_FUZZ_SMOKE_INPUTS=N` changes how many inputs of each kind (default 10000).

use paraphe_protocol::Command;
use std::path::Path;

#[test]
fn request_json() {
    let seeds = seeds("request_json");
    smoke(&seeds, paraphe_fuzz::request_json, Some(random_request));
}

#[test]
fn certificate() {
    let seeds = seeds("certificate");
    for (name, der) in &seeds {
        // Mutations of a certificate the parser accepts reach its extension code.
        assert!(
            paraphe_formats::x509::summarize(der, &[]).is_ok(),
            "seed {name} is not a certificate summarize accepts"
        );
    }
    smoke(&seeds, paraphe_fuzz::certificate, None);
}

#[test]
fn ecdsa_signature() {
    let seeds = seeds("ecdsa_signature");
    smoke(&seeds, paraphe_fuzz::ecdsa_signature, None);
    // Every length, with the high bit set or not and leading zeros, not just random ones.
    for len in 0..=140 {
        for fill in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut raw = vec![fill; len];
            if len > 2 {
                raw[len / 2 - 1] = 0x01;
            }
            paraphe_fuzz::ecdsa_signature(&raw);
        }
    }
}

#[test]
fn libersign_plan() {
    let seeds = seeds("libersign_plan");
    // The seeds must get past the parser, or mutations never reach the formats.
    let json: Vec<_> = seeds.iter().filter(|(n, _)| n.ends_with(".json") && !n.starts_with("bad-")).collect();
    assert!(json.len() >= 4);
    for (name, data) in json {
        let text = std::str::from_utf8(data).expect("UTF-8 seed");
        assert!(paraphe_wasm::libersign::plan(text).is_ok(), "seed {name} is not a plan");
    }
    smoke(&seeds, paraphe_fuzz::libersign_plan, None);
}

#[test]
fn page_request() {
    let seeds = seeds("page_request");
    smoke(&seeds, paraphe_fuzz::page_request, Some(random_page_request));
}

#[test]
fn pdf_update() {
    let seeds = seeds("pdf");
    for (name, pdf) in &seeds {
        assert!(
            paraphe_formats::pdf::inspect(pdf).is_ok(),
            "seed {name} is not a PDF the signer reads: mutations would not reach the update code"
        );
    }
    smoke(&seeds, paraphe_fuzz::pdf_update, None);
}

#[test]
fn timestamp_response() {
    let seeds = seeds("timestamp_response");
    // The granted seed must get past the parser, or mutations never reach the TSTInfo checks.
    let granted = &seeds.iter().find(|(n, _)| n == "granted.tsr").expect("granted.tsr").1;
    assert!(
        paraphe_formats::cms::timestamp::token(granted, &[0x5a; 256], &[0x5e; 8]).is_ok(),
        "seed granted.tsr is not a token for the target's message and nonce"
    );
    smoke(&seeds, paraphe_fuzz::timestamp_response, None);
}

#[test]
fn cms_envelope() {
    let seeds = seeds("cms_envelope");
    smoke(&seeds, paraphe_fuzz::cms_envelope, None);
}

#[test]
fn xades_jeton() {
    let seeds = seeds("xades_jeton");
    smoke(&seeds, paraphe_fuzz::xades_jeton, None);
}

fn inputs_per_kind() -> usize {
    std::env::var("PARAPHE_FUZZ_SMOKE_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("seed entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (name, std::fs::read(&p).expect("read a seed"))
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// Runs `entry` on the seeds, then on generated inputs. A panic names the input kind and
/// index; the failing bytes are printed so they can be saved and replayed.
fn smoke(seeds: &[(String, Vec<u8>)], entry: fn(&[u8]), structured: Option<fn(&mut XorShift) -> Vec<u8>>) {
    for (name, data) in seeds {
        run_one(entry, data, &format!("seed {name}"));
    }
    let n = inputs_per_kind();
    let mut rng = XorShift::new(0x5eed_0f9a_7a9e);
    for i in 0..n {
        let len = rng.below(512);
        let data = rng.bytes(len);
        run_one(entry, &data, &format!("random input {i}"));
    }
    for i in 0..n {
        let data = mutate(&mut rng, seeds);
        run_one(entry, &data, &format!("mutated seed {i}"));
    }
    if let Some(make) = structured {
        for i in 0..n {
            let data = make(&mut rng);
            run_one(entry, &data, &format!("generated input {i}"));
        }
    }
}

fn run_one(entry: fn(&[u8]), data: &[u8], what: &str) {
    let result = std::panic::catch_unwind(|| entry(data));
    if let Err(e) = result {
        panic!(
            "{what} broke an invariant: {}\ninput ({} bytes, hex): {}",
            e.downcast_ref::<String>().map(String::as_str).or(e.downcast_ref::<&str>().copied()).unwrap_or("?"),
            data.len(),
            data.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
    }
}

/// Marsaglia's xorshift64: deterministic, so a failure reproduces on every machine.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that sit on boundaries of JSON and DER: quotes, brackets, escapes, length bytes.
const INTERESTING: &[u8] = b"\x00\x01\x7f\x80\x81\x82\xff\"\\{}[]:,0-.eEu\n\x30\x02\x04\x05\x06\xa0\xa3";

/// One seed with 1 to 8 edits: bit flips, interesting bytes, insertions, deletions,
/// truncation, a duplicated or spliced-in slice.
fn mutate(rng: &mut XorShift, seeds: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut data = rng.choose(seeds).1.clone();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if at < data.len() => data[at] ^= 1 << rng.below(8),
            1 if at < data.len() => data[at] = rng.pick(INTERESTING),
            2 => data.insert(at, rng.pick(INTERESTING)),
            3 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            4 => data.truncate(at),
            5 if at < data.len() => {
                let end = (at + 1 + rng.below(32)).min(data.len());
                let slice = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, slice);
            }
            _ => {
                let other = &rng.choose(seeds).1;
                let from = rng.below(other.len());
                let to = (from + rng.below(64)).min(other.len());
                let slice = other[from..to].to_vec();
                data.splice(at..at, slice);
            }
        }
    }
    data
}

const ARGUMENT_NAMES: &[&str] = &[
    "extension",
    "certificate",
    "pin",
    "ttlSeconds",
    "session",
    "digest",
    "hash",
    "scheme",
    "ecdsaEncoding",
    "data",
    "oaepHash",
    "origin",
    "challengeNonce",
    "x",
];
const WORDS: &[&str] = &[
    "sha1",
    "sha256",
    "sha384",
    "sha512",
    "SHA-256",
    "md5",
    "rsa-pkcs1",
    "rsa-pss",
    "rsa-oaep",
    "ecdsa",
    "raw",
    "der",
    "s1",
    "1234",
    "",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
];

/// A request shaped like the protocol's: mostly a known command with its own fields (each
/// required one usually there, optional ones at random, plausible or odd values), else
/// fields drawn from every command's names; ids and commands of every JSON type.
fn random_request(rng: &mut XorShift) -> Vec<u8> {
    let id = match rng.below(16) {
        0 => "-1".to_owned(),
        1 => "1.5".to_owned(),
        2 => "18446744073709551616".to_owned(),
        3 => "\"7\"".to_owned(),
        _ => (rng.next() >> rng.below(64)).to_string(),
    };
    let known = rng.pick(&Command::ALL);
    let command = if rng.below(10) == 0 { json_string(&random_text(rng)) } else { json_string(known.name()) };
    let arguments = match rng.below(10) {
        0 => None,
        1 => Some(random_value(rng, 2)),
        2 => {
            let fields: Vec<String> = (0..rng.below(7))
                .map(|_| {
                    let name = rng.pick(ARGUMENT_NAMES);
                    format!("{}:{}", json_string(name), field_value(rng, name))
                })
                .collect();
            Some(format!("{{{}}}", fields.join(",")))
        }
        _ => {
            let (required, optional) = fields_of(known);
            let mut fields = Vec::new();
            for name in required {
                if rng.below(12) != 0 {
                    fields.push(format!("{}:{}", json_string(name), field_value(rng, name)));
                }
            }
            for name in optional {
                if rng.below(2) == 0 {
                    fields.push(format!("{}:{}", json_string(name), field_value(rng, name)));
                }
            }
            if rng.below(20) == 0 {
                fields.push("\"unknown\":1".to_owned());
            }
            Some(format!("{{{}}}", fields.join(",")))
        }
    };
    let mut members = vec![format!("\"id\":{id}"), format!("\"command\":{command}")];
    if let Some(a) = arguments {
        members.push(format!("\"arguments\":{a}"));
    }
    if rng.below(20) == 0 {
        members.push("\"extra\":true".to_owned());
    }
    if rng.below(2) == 0 {
        members.reverse();
    }
    format!("{{{}}}", members.join(",")).into_bytes()
}

/// Required and optional argument names of each command (protocol/src/command.rs). No
/// wildcard arm: a new command gets its fields here.
/// A page API or Web eID request from the real names and plausible or odd values.
fn random_page_request(rng: &mut XorShift) -> Vec<u8> {
    let nonce = |rng: &mut XorShift| {
        let len = rng.pick(&[43usize, 44, 60, 128, 129]);
        (0..len).map(|_| rng.pick(&['A', 'b', '9', '+', '/', '=', '-', '_', '!'])).collect::<String>()
    };
    let digest = |rng: &mut XorShift| {
        let len = rng.pick(&[0usize, 20, 32, 48, 64, 65]);
        let bytes = rng.bytes(len);
        if rng.below(2) == 0 {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        } else {
            base64_of(&bytes)
        }
    };
    let hash = |rng: &mut XorShift| {
        rng.pick(&["sha1", "sha256", "SHA-256", "sha384", "SHA-512", "sha512", "md5", "", "SHA-224"]).to_owned()
    };
    let text = match rng.below(8) {
        0 => {
            let n = rng.pick(&[0usize, 1, 2, 3]);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let name = json_string(&random_text(rng));
                    format!(r#"{{"digest":"{}","hashAlgorithm":"{}","name":{name}}}"#, digest(rng), hash(rng))
                })
                .collect();
            let format = rng.pick(&["raw", "cades", "pades", ""]);
            format!(r#"{{"type":"signHash","hashes":[{}],"format":"{format}"}}"#, items.join(","))
        }
        1 => {
            let len = rng.below(40);
            let data = base64_of(&rng.bytes(len));
            format!(r#"{{"type":"signData","data":"{data}","hashAlgorithm":"{}"}}"#, hash(rng))
        }
        2 => format!(r#"{{"type":"authenticate","challengeNonce":"{}"}}"#, nonce(rng)),
        3 => format!(r#"{{"type":"{}"}}"#, rng.pick(&["ping", "status", "listCertificates", "login", "decrypt"])),
        4 => {
            format!(r#"{{"action":"web-eid:authenticate","libraryVersion":"2.1.0","challengeNonce":"{}"}}"#, nonce(rng))
        }
        5 => {
            let version = rng.pick(&["2.1.0", "1.0.0", "3.0.0", "x"]);
            let len = rng.below(64);
            let certificate = base64_of(&rng.bytes(len));
            let len = rng.pick(&[20usize, 32, 48, 64, 33]);
            let hash = base64_of(&rng.bytes(len));
            let function = rng.pick(&["SHA-256", "SHA-384", "SHA-512", "SHA-1", "SHA3-256"]);
            format!(
                r#"{{"action":"web-eid:sign","libraryVersion":"{version}","certificate":"{certificate}","hash":"{hash}","hashFunction":"{function}"}}"#
            )
        }
        6 => format!(
            r#"{{"action":"{}","libraryVersion":"2.1.0","options":{{"userInteractionTimeout":{}}}}}"#,
            rng.pick(&["web-eid:status", "web-eid:get-signing-certificate", "web-eid:nope"]),
            rng.pick(&["1", "-1", "0", "1e99", "\"x\"", "99999999999999999999"])
        ),
        _ => {
            let scheme = rng.pick(&["https://", "http://", "ftp://", ""]);
            let host = rng.pick(&[
                "localhost",
                "127.0.0.1",
                "127.attacker.example",
                "[::1]",
                "[::1].example",
                "portail.example.fr",
                "127.0.0.01",
                "localhost.evil",
                "",
            ]);
            let port = rng.pick(&["", ":8080", ":", ":99999", ":80a"]);
            let tail = rng.pick(&["", "/", "/path", "?q", "#f", "@x"]);
            format!("{scheme}{host}{port}{tail}")
        }
    };
    text.into_bytes()
}

fn base64_of(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn fields_of(command: Command) -> (&'static [&'static str], &'static [&'static str]) {
    match command {
        Command::Hello => (&[], &["extension"]),
        Command::Status | Command::ListCertificates | Command::TlsStatus | Command::TlsRegister => (&[], &[]),
        Command::Login => (&["certificate"], &["pin", "ttlSeconds"]),
        Command::Sign => (&["session", "digest", "hash", "scheme"], &["ecdsaEncoding"]),
        Command::Decrypt => (&["session", "data", "scheme"], &["oaepHash"]),
        Command::Logout => (&["session"], &[]),
        Command::Authenticate => (&["session", "origin", "challengeNonce"], &[]),
    }
}

/// A value for argument `name`: usually one of its kind (a hash name for `hash`, base64 of
/// some length for `digest`…), sometimes anything.
fn field_value(rng: &mut XorShift, name: &str) -> String {
    if rng.below(10) == 0 {
        return random_value(rng, 1);
    }
    let base64 = |rng: &mut XorShift, len: usize| {
        use std::fmt::Write as _;
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        let n = 4 * len.div_ceil(3);
        for _ in 0..n {
            let _ = write!(out, "{}", char::from(rng.pick(ALPHABET)));
        }
        if rng.below(3) == 0 && n >= 2 {
            out.replace_range(n - 1.., "=");
        }
        json_string(&out)
    };
    match name {
        "hash" | "oaepHash" => json_string(rng.pick(&["sha1", "sha256", "sha384", "sha512", "SHA-256", "md5"])),
        "scheme" => json_string(rng.pick(&["rsa-pkcs1", "rsa-pss", "rsa-oaep", "ecdsa", "RSA-PKCS1"])),
        "ecdsaEncoding" => json_string(rng.pick(&["raw", "der", "DER"])),
        "session" => json_string(rng.pick(&["s1", "s2", "", "s18446744073709551616"])),
        "digest" => {
            let len = rng.pick(&[0, 1, 20, 31, 32, 33, 48, 64, 65, 100]);
            base64(rng, len)
        }
        "data" => {
            let len = rng.pick(&[0, 1, 128, 256, 512, 1024, 1025]);
            base64(rng, len)
        }
        "challengeNonce" => {
            let len = rng.pick(&[0, 30, 32, 33, 64, 95, 96, 97]);
            base64(rng, len)
        }
        "certificate" => json_string(rng.pick(WORDS)),
        "pin" | "extension" => json_string(&random_text(rng)),
        "ttlSeconds" => rng.pick(&["0", "1", "300", "4294967295", "4294967296", "-1", "1e3"]).to_string(),
        "origin" => json_string(rng.pick(&[
            "https://portal.example",
            "https://portal.example:8443",
            "http://localhost:8080",
            "http://127.0.0.1",
            "http://evil.example",
            "https://evil.example/path",
            "https://user@portal.example",
            "https://",
            "chrome-extension://abc",
        ])),
        _ => random_value(rng, 1),
    }
}

fn random_value(rng: &mut XorShift, depth: u32) -> String {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => "null".to_owned(),
        1 => (rng.below(2) == 0).to_string(),
        2 => (rng.next() as i64 % 100_000).to_string(),
        3 => json_string(&random_text(rng)),
        4 | 5 => json_string(rng.pick(WORDS)),
        6 => format!("[{}]", (0..rng.below(4)).map(|_| random_value(rng, depth - 1)).collect::<Vec<_>>().join(",")),
        _ => format!(
            "{{{}}}",
            (0..rng.below(4))
                .map(|_| format!("{}:{}", json_string(rng.pick(ARGUMENT_NAMES)), random_value(rng, depth - 1)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// Short text with control characters, non-ASCII and lengths around the PIN's limit.
fn random_text(rng: &mut XorShift) -> String {
    let len = rng.pick(&[0, 1, 4, 8, 63, 64, 65, 200]);
    (0..len)
        .map(|_| match rng.below(10) {
            0 => char::from(rng.below(0x20) as u8),
            1 => rng.pick(&['é', '€', '\u{7f}', '\u{85}', '\u{2028}', '𝄞']),
            _ => char::from(b' ' + rng.below(95) as u8),
        })
        .collect()
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string encodes")
}

#[test]
fn frame_json() {
    // Broken frames are the point here: keep the host's warnings out of the test log.
    std::env::set_var("PARAPHE_LOG", "error");
    let seeds = seeds("frame_json");
    smoke(&seeds, paraphe_fuzz::frame_json, None);
}
