//! Test PKI and tools shared by the CMS and XAdES tests: keys and certificates made with
//! openssl at test time (throwaway, never committed), signing as a token would (openssl
//! pkeyutl over a digest), a small DER walker to check what openssl does not, and (`pes`)
//! a PES document's signature placed where the server would put it.
#![allow(dead_code, clippy::unwrap_used)]

pub mod pes;
pub mod samples;
pub mod tsa;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Pki {
    pub dir: PathBuf,
    /// Root CA (trust anchor), PEM.
    pub root: PathBuf,
    /// Intermediate CA, PEM and DER.
    pub intermediate: PathBuf,
    pub intermediate_der: Vec<u8>,
    /// RSA-2048 signer issued by the intermediate; nonRepudiation only; serial with the high
    /// bit set (a leading zero in DER).
    pub rsa_key: PathBuf,
    pub rsa_cert: PathBuf,
    pub rsa_der: Vec<u8>,
    /// EC P-256 signer issued by the intermediate.
    pub ec_key: PathBuf,
    pub ec_cert: PathBuf,
    pub ec_der: Vec<u8>,
}

/// Runs a command, panicking with its output if it fails. Returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a command and returns (success, stdout + stderr).
pub fn try_run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    run(Command::new("openssl").args(args).current_dir(dir))
}

const EXTENSIONS: &str = "\
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// The PKI of this test binary, made once.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn make_pki() -> Pki {
    let dir = scratch("pki");
    std::fs::write(dir.join("ext.cnf"), EXTENSIONS).unwrap();
    let d = &dir;
    openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "root.key"], d);
    openssl(
        &[
            "req",
            "-new",
            "-utf8",
            "-config",
            "ext.cnf",
            "-key",
            "root.key",
            "-subj",
            "/C=FR/O=Paraphe Test/CN=AC Racine Paraphe Test",
            "-out",
            "root.csr",
        ],
        d,
    );
    openssl(
        &["x509", "-req", "-in", "root.csr", "-signkey", "root.key", "-set_serial", "1", "-days", "3650"]
            .iter()
            .chain(&["-extfile", "ext.cnf", "-extensions", "root", "-out", "root.crt"])
            .copied()
            .collect::<Vec<_>>(),
        d,
    );
    let issue = |name: &str, key_args: &[&str], subject: &str, issuer: &str, ext: &str, serial: &str| {
        let key = format!("{name}.key");
        let mut args = vec!["genpkey", "-out", key.as_str()];
        args.extend_from_slice(key_args);
        openssl(&args, d);
        openssl(
            &[
                "req",
                "-new",
                "-utf8",
                "-config",
                "ext.cnf",
                "-key",
                &key,
                "-subj",
                subject,
                "-out",
                &format!("{name}.csr"),
            ],
            d,
        );
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.crt"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                serial,
                "-days",
                "365",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-out",
                &format!("{name}.crt"),
            ],
            d,
        );
        openssl(&["x509", "-in", &format!("{name}.crt"), "-outform", "DER", "-out", &format!("{name}.der")], d);
    };
    let rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
    issue(
        "intermediate",
        &rsa,
        "/C=FR/O=Société Paraphe Test, Services/OU=0002 00000000000000/CN=AC Intermédiaire #1",
        "root",
        "ca",
        "2",
    );
    let holder = "/C=FR/O=Mairie de Testville/OU=0002 21750001600001";
    issue(
        "rsa",
        &rsa,
        &format!("{holder}/CN=Camille Martin/emailAddress=camille.martin@testville.example"),
        "intermediate",
        "signer",
        "0xC5DBDB0C3011F22D",
    );
    issue(
        "ec",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &format!("{holder}/CN=Camille Martin (ECC)"),
        "intermediate",
        "signer",
        "0x1234",
    );
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    Pki {
        root: dir.join("root.crt"),
        intermediate: dir.join("intermediate.crt"),
        intermediate_der: read("intermediate.der"),
        rsa_key: dir.join("rsa.key"),
        rsa_cert: dir.join("rsa.crt"),
        rsa_der: read("rsa.der"),
        ec_key: dir.join("ec.key"),
        ec_cert: dir.join("ec.crt"),
        ec_der: read("ec.der"),
        dir,
    }
}

/// The schemas `xsd` finds.
#[derive(Clone, Copy, Debug)]
pub enum Xsd {
    /// ETSI's XAdES 1.3.2 (`XAdES01903v132-201601.xsd`), which imports XML-DSig's.
    Xades132,
    /// The W3C XML-DSig core schema alone (`xmldsig-core-schema.xsd`).
    Xmldsig,
}

/// The path of an XSD, from `scripts/xades-xsd.sh`, the one entry point to them (it fetches
/// them, pinned, into tests/.work when missing).
pub fn xsd(which: Xsd) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/xades-xsd.sh");
    let arg: &[&str] = match which {
        Xsd::Xades132 => &[],
        Xsd::Xmldsig => &["--xmldsig"],
    };
    let out = String::from_utf8(run(Command::new(script).args(arg))).unwrap();
    PathBuf::from(out.trim_end())
}

/// A fresh directory under the target's scratch space.
pub fn scratch(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "paraphe-formats-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How the token signs the digest.
#[derive(Clone, Copy, Debug)]
pub enum Mechanism {
    /// RSASSA-PKCS1-v1_5 over a DigestInfo (CKM_RSA_PKCS with the DigestInfo prefix).
    RsaPkcs1(&'static str),
    /// RSASSA-PSS, MGF1 with the same hash, salt length = digest length.
    RsaPss(&'static str),
    /// ECDSA, output as raw r || s (CKM_ECDSA).
    Ecdsa,
}

/// Signs `digest` as a token would, with openssl pkeyutl.
pub fn token_sign(key: &Path, digest: &[u8], mechanism: Mechanism) -> Vec<u8> {
    let dir = scratch("sign");
    let input = dir.join("digest.bin");
    std::fs::write(&input, digest).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["pkeyutl", "-sign", "-inkey"]).arg(key).arg("-in").arg(&input);
    match mechanism {
        Mechanism::RsaPkcs1(md) => {
            cmd.args(["-pkeyopt", &format!("digest:{md}")]);
        }
        Mechanism::RsaPss(md) => {
            cmd.args([
                "-pkeyopt",
                "rsa_padding_mode:pss",
                "-pkeyopt",
                "rsa_pss_saltlen:digest",
                "-pkeyopt",
                &format!("digest:{md}"),
            ]);
        }
        Mechanism::Ecdsa => {}
    }
    let out = run(&mut cmd);
    let _ = std::fs::remove_dir_all(&dir);
    match mechanism {
        Mechanism::Ecdsa => ecdsa_der_to_raw(&out, 32),
        _ => out,
    }
}

/// `Ecdsa-Sig-Value` DER to `r || s`, each left-padded to `size` bytes, as a card returns it.
pub fn ecdsa_der_to_raw(der: &[u8], size: usize) -> Vec<u8> {
    let seq = Tlv::parse(der).0;
    let mut out = Vec::new();
    for int in seq.children() {
        let v: Vec<u8> = int.content.iter().copied().skip_while(|b| *b == 0).collect();
        out.extend(std::iter::repeat_n(0u8, size - v.len()));
        out.extend(v);
    }
    out
}

/// A DER element, for checking structures in tests.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The element at the start of `bytes` and what follows it.
    pub fn parse(bytes: &'a [u8]) -> (Tlv<'a>, &'a [u8]) {
        let tag = bytes[0];
        let (len, header) = match bytes[1] {
            n if n < 0x80 => (usize::from(n), 2),
            n => {
                let k = usize::from(n & 0x7f);
                (bytes[2..2 + k].iter().fold(0, |a, b| (a << 8) | usize::from(*b)), 2 + k)
            }
        };
        let raw = &bytes[..header + len];
        (Tlv { tag, content: &raw[header..], raw }, &bytes[header + len..])
    }

    pub fn children(&self) -> Vec<Tlv<'a>> {
        let mut rest = self.content;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let (t, r) = Tlv::parse(rest);
            out.push(t);
            rest = r;
        }
        out
    }
}

/// The issuer Name and serial INTEGER elements of a DER certificate.
pub fn issuer_and_serial(cert: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let tbs = Tlv::parse(cert).0.children()[0];
    let fields = tbs.children();
    let skip = usize::from(fields[0].tag == 0xa0);
    (fields[skip + 2].raw.to_vec(), fields[skip].raw.to_vec())
}

/// The content of the serial number INTEGER.
pub fn serial_content(cert: &[u8]) -> Vec<u8> {
    let (_, serial) = issuer_and_serial(cert);
    Tlv::parse(&serial).0.content.to_vec()
}
