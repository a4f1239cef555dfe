//! Opens a pli from the command line with the formats crate's streaming decryption (the
//! code the WASM core runs), reading 1 MiB at a time: for benchmarks (scripts/bench-decrypt.sh)
//! and for trying a pli by hand. The card's part (unwrapping the key) is done outside:
//!
//! ```text
//! open_pli PLI --wrapped-key OUT     writes the first recipient's wrapped key, prints its scheme
//! open_pli PLI --key HEX [--out F]   decrypts with the content-encryption key (stdout: -)
//! ```
#![allow(clippy::print_stdout)]

use paraphe_formats::cms::envelope::{Decryption, KeyTransport, Recipient};
use std::io::{Read, Write};
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("open_pli: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pli = args.first().ok_or("usage: open_pli PLI (--wrapped-key OUT | --key HEX [--out FILE])")?;
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let mut input = std::fs::File::open(pli)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut d = Decryption::new();
    let mut plain = Vec::new();
    let started = Instant::now();

    // Up to the header.
    while d.header().is_none() {
        let n = input.read(&mut buf)?;
        if n == 0 {
            return Err("the file ends before the header".into());
        }
        d.feed(&buf[..n], &mut plain)?;
    }
    let header = d.header().ok_or("no header")?.clone();
    if let Some(out) = flag("--wrapped-key") {
        let Some(Recipient::KeyTransport(r)) = header.recipients.first() else { return Err("no key transport".into()) };
        std::fs::write(out, &r.encrypted_key)?;
        match &r.key_transport {
            KeyTransport::RsaPkcs1 => println!("rsa-pkcs1"),
            KeyTransport::RsaOaep { hash } => println!("rsa-oaep {}", hash.name()),
            KeyTransport::Unsupported { oid, .. } => println!("unsupported {oid}"),
        }
        return Ok(());
    }
    let key = hex::decode(flag("--key").ok_or("--key HEX or --wrapped-key OUT")?)?;
    let mut out: Box<dyn Write> = match flag("--out").as_deref() {
        None => Box::new(std::io::sink()),
        Some("-") => Box::new(std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
        Some(f) => Box::new(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(f)?)),
    };
    d.set_key(&key, &mut plain)?;
    let mut total = 0u64;
    loop {
        out.write_all(&plain)?;
        total += plain.len() as u64;
        plain.clear();
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        d.feed(&buf[..n], &mut plain)?;
    }
    d.finish(&mut plain)?;
    out.write_all(&plain)?;
    out.flush()?;
    total += plain.len() as u64;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "open_pli: {} {} bytes in {secs:.2} s, {:.1} MB/s",
        header.content_encryption.name(),
        total,
        total as f64 / secs / 1e6
    );
    Ok(())
}
