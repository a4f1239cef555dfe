//! Entry points of Paraphe's fuzz targets, one per parser of untrusted bytes.
//!
//! Each takes arbitrary bytes, must never panic except on a broken invariant (the asserts
//! below), and is called three ways: by libFuzzer (`fuzz_targets/*.rs` under `cargo fuzz`),
//! by the smoke run (`tests/smoke.rs`, seeds plus generated inputs, no libFuzzer), and by
//! the target binaries built without `cargo fuzz`, which replay files (`replay`).
//!
//! What the host reads from the browser, before any token is touched, is reachable here
//! through `paraphe-protocol` (the envelope and every command's arguments) and
//! `paraphe-formats` (certificates read off tokens, ECDSA signatures returned by them).
//! The frame reader (`host/src/transport.rs`) and `Host::handle` live in the host binary
//! and are not reachable from outside it: see fuzz/README.md.

use paraphe_formats::policies::PolicyHint;
use paraphe_formats::webeid::{self, Algorithm};
use paraphe_formats::{ecdsa, x509};
use paraphe_protocol::command::{
    AuthenticateArgs, DecryptArgs, HelloArgs, LoginArgs, LogoutArgs, NoArguments, SignArgs,
};
use paraphe_protocol::{Command, Outgoing, Pin, RawRequest, RequestId};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A request frame's body, decoded as the host decodes it (`Host::handle` in
/// host/src/dispatch.rs): the envelope, or else the salvage of its `id`; then the
/// arguments, as the type of the command it names and as every other command's type.
/// Also the host → browser envelope ([`Outgoing`]), which the extension decodes.
pub fn request_json(data: &[u8]) {
    let _ = serde_json::from_slice::<Outgoing>(data);
    let request: RawRequest<'_> = match serde_json::from_slice(data) {
        Ok(r) => r,
        Err(_) => {
            let _ = serde_json::from_slice::<RequestId>(data);
            return;
        }
    };
    // What was read writes back and reads again the same.
    let text = serde_json::to_string(&request).expect("a decoded request encodes");
    let again: RawRequest<'_> = serde_json::from_str(&text).expect("an encoded request decodes");
    assert_eq!((again.id, again.command), (request.id, request.command));
    assert_eq!(again.arguments.map(|a| a.get()), request.arguments.map(|a| a.get()));

    let raw = request.arguments.map_or("{}", |a| a.get());
    if let Some(command) = Command::from_name(request.command) {
        assert_eq!(command.name(), request.command);
        arguments_of(command)(raw);
    }
    for command in Command::ALL {
        arguments_of(command)(raw);
    }
}

/// Each command's argument type, as `dispatch.rs` picks it. No wildcard arm: a new command
/// must be added here.
fn arguments_of(command: Command) -> fn(&str) {
    match command {
        Command::Hello => arguments::<HelloArgs>,
        Command::Status | Command::ListCertificates | Command::TlsStatus | Command::TlsRegister => {
            arguments::<NoArguments>
        }
        Command::Login => login_arguments,
        Command::Sign => arguments::<SignArgs>,
        Command::Decrypt => arguments::<DecryptArgs>,
        Command::Logout => arguments::<LogoutArgs>,
        Command::Authenticate => authenticate_arguments,
    }
}

/// Decodes `raw` as `T`; what decodes must encode and decode again.
fn arguments<T: DeserializeOwned + Serialize>(raw: &str) {
    if let Ok(value) = serde_json::from_str::<T>(raw) {
        let text = serde_json::to_string(&value).expect("decoded arguments encode");
        serde_json::from_str::<T>(&text).expect("encoded arguments decode");
    }
}

/// `login` carries the PIN: whatever decodes must hold `Pin`'s invariants.
fn login_arguments(raw: &str) {
    arguments::<LoginArgs>(raw);
    if let Ok(LoginArgs { pin: Some(pin), .. }) = serde_json::from_str::<LoginArgs>(raw) {
        let secret = pin.expose();
        assert!(!secret.is_empty() && secret.len() <= Pin::MAX_LEN);
        assert!(!secret.chars().any(char::is_control));
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }
}

/// `authenticate` carries the page's origin and the server's nonce, which the host checks
/// (`webeid::check_origin`, `check_nonce`) before it hashes them for the card.
fn authenticate_arguments(raw: &str) {
    arguments::<AuthenticateArgs>(raw);
    let Ok(args) = serde_json::from_str::<AuthenticateArgs>(raw) else {
        return;
    };
    let origin_ok = webeid::check_origin(&args.origin).is_ok();
    let nonce_ok = webeid::check_nonce(&args.challenge_nonce).is_ok();
    if origin_ok {
        let rest = args.origin.split_once("://").map_or("", |(_, r)| r);
        assert!(!rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' ']));
        assert!(args.origin.len() <= 255);
    }
    if nonce_ok {
        assert!((webeid::NONCE_MIN..=webeid::NONCE_MAX).contains(&args.challenge_nonce.len()));
    }
    if origin_ok && nonce_ok {
        for alg in [Algorithm::ES256, Algorithm::RS384, Algorithm::PS512] {
            let digest = webeid::digest_to_sign(alg, &args.origin, &args.challenge_nonce);
            assert_eq!(digest.len(), alg.hash().digest_len());
        }
    }
}

/// A certificate as a token returns it (`CKA_VALUE`): any bytes. `summarize` must refuse
/// or describe, and what it describes must encode as the protocol's JSON.
pub fn certificate(data: &[u8]) {
    let hints = [
        PolicyHint {
            oid: "2.25.329800735698586629295641978511506172918".into(),
            name: Some("Paraphe test PKI".into()),
            rgs_level: Some("**".into()),
        },
        PolicyHint { oid: "1.2.250.1".into(), name: None, rgs_level: Some("*".into()) },
    ];
    assert_eq!(x509::fingerprint(data).len(), 64);
    if let Ok(info) = x509::summarize(data, &hints) {
        serde_json::to_string(&info).expect("certificate facts encode");
    }
}

/// A raw ECDSA signature (`r || s`) as a token returns it. `raw_to_der` must refuse what is
/// not two equal halves of at most 66 bytes, and otherwise return a DER
/// `Ecdsa-Sig-Value` (RFC 3279 §2.2.3) holding the same two integers.
pub fn ecdsa_signature(data: &[u8]) {
    let Some(der) = ecdsa::raw_to_der(data) else {
        assert!(data.is_empty() || !data.len().is_multiple_of(2) || data.len() > 2 * 66);
        return;
    };
    assert!(!data.is_empty() && data.len().is_multiple_of(2) && data.len() <= 2 * 66);
    let (r, s) = data.split_at(data.len() / 2);
    let body = der_element(&der, 0x30).expect("a SEQUENCE");
    assert_eq!(body.total, der.len(), "nothing after the SEQUENCE");
    let first = der_element(body.content, 0x02).expect("r INTEGER");
    let second = der_element(&body.content[first.total..], 0x02).expect("s INTEGER");
    assert_eq!(first.total + second.total, body.content.len(), "two INTEGERs only");
    for (int, half) in [(first.content, r), (second.content, s)] {
        assert!(!int.is_empty());
        assert!(int[0] & 0x80 == 0, "INTEGER must stay positive");
        if int.len() > 1 {
            assert!(int[0] != 0 || int[1] & 0x80 != 0, "INTEGER not minimal");
        }
        assert_eq!(trim_zeros(int), trim_zeros(half), "value changed");
    }
}

/// A pli (CMS EnvelopedData / AuthEnvelopedData, DER or BER) as a page or the user hands
/// it to the extension: `paraphe_formats::cms::envelope::decrypt`, the streaming parser and
/// decryptor the WASM core runs. Input: byte 0 picks the chunk size the pli is fed in
/// (1 to 256, or 0 for whole), byte 1 fills the content-encryption key (of the length the
/// header asks for), the rest is the pli. Invariants: no panic; the result does not depend
/// on how the input is cut (the parser only pauses between chunks); plaintext only comes
/// with `Ok`.
pub fn cms_envelope(data: &[u8]) {
    let (Some(&cut), Some(&fill)) = (data.first(), data.get(1)) else { return };
    let pli = &data[2..];
    let key = |h: &paraphe_formats::cms::envelope::Header| Some(vec![fill; h.content_encryption.key_len()]);
    let chunk = if cut == 0 { pli.len().max(1) } else { usize::from(cut) };
    let cut_up = paraphe_formats::cms::envelope::decrypt(pli, chunk, key);
    let whole = paraphe_formats::cms::envelope::decrypt(pli, pli.len().max(1), key);
    assert_eq!(cut_up, whole, "the result depends on the chunk size ({chunk})");
}

struct Element<'a> {
    content: &'a [u8],
    /// Header and content.
    total: usize,
}

/// One DER element with `tag`, definite length in short form or `0x81` (all an ECDSA
/// signature up to P-521 needs).
fn der_element(bytes: &[u8], tag: u8) -> Option<Element<'_>> {
    if *bytes.first()? != tag {
        return None;
    }
    let (len, header) = match *bytes.get(1)? {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => {
            let n = *bytes.get(2)?;
            // DER: the long form only for lengths the short form cannot say.
            (n >= 0x80).then_some((usize::from(n), 3))?
        }
        _ => return None,
    };
    let content = bytes.get(header..header + len)?;
    Some(Element { content, total: header + len })
}

fn trim_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[start..]
}

/// Output sink shared with the host's writer.
#[derive(Clone, Default)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The host's whole conversation loop (`native::serve`: framing, JSON, dispatch, error
/// mapping) on arbitrary input bytes, with no token behind it. Invariants: the host never
/// panics; the first frame is the `hello` event; every frame it writes is at most 1 MiB and
/// parses as a host message; a response carries no id the input did not contain as a number.
pub fn frame_json(data: &[u8]) {
    use paraphe_host::dispatch::Host;
    use paraphe_host::native::{serve, Output};
    use paraphe_host::token::NoToken;
    let sink = Sink::default();
    let host = Host::new(Box::new(NoToken), "fuzz", Vec::new());
    // I/O errors cannot happen on a slice and a Vec; the result is not the point.
    let _ = serve(data, Output::new(sink.clone()), host, false);
    let out = sink.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let mut rest = &out[..];
    let mut first = true;
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "truncated frame in the host's output");
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        assert!(len <= paraphe_protocol::limits::MAX_MESSAGE_BYTES, "frame over the browser limit");
        let body = &rest[4..4 + len];
        let msg: paraphe_protocol::Outgoing =
            serde_json::from_slice(body).expect("the host wrote something unreadable");
        if first {
            assert!(matches!(&msg, paraphe_protocol::Outgoing::Event(e) if e.event == "hello"), "hello comes first");
            first = false;
        }
        if let paraphe_protocol::Outgoing::Response(r) = &msg {
            if let Some(id) = r.id {
                let text = id.to_string();
                assert!(data.windows(text.len()).any(|w| w == text.as_bytes()), "response id {id} not from the input");
            }
        }
        rest = &rest[4 + len..];
    }
    assert!(!first, "the host wrote no hello");
}

/// `main` of a target binary built without `cargo fuzz`: runs `entry` on every file named
/// on the command line (directories: every file in them), to reproduce a crash with plain
/// `cargo run`.
pub fn replay(entry: fn(&[u8])) {
    let mut count = 0usize;
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            v
        } else {
            vec![path]
        };
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            eprintln!("{}", file.display());
            entry(&data);
            count += 1;
        }
    }
    eprintln!("{count} inputs replayed without a failure");
}
