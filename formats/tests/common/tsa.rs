//! A real RFC 3161 time-stamp authority for the tests: `openssl ts -reply`, with a TSA key and
//! certificate (extendedKeyUsage critical timeStamping) issued by the test PKI's root, so that
//! validators that trust the root trust its tokens. Made once per test binary.

use super::{pki, run, scratch};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

pub struct Tsa {
    pub dir: PathBuf,
    /// `openssl ts` configuration (section `tsa_config1`).
    pub config: PathBuf,
    /// The TSA certificate, PEM.
    pub cert: PathBuf,
    /// One `openssl ts -reply` at a time: each one reads and writes the serial file.
    serial: Mutex<()>,
}

const TSA_EXTENSIONS: &str = "\
[req]
distinguished_name = dn
[dn]
[tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// `openssl ts` configuration (openssl.cnf's TSA section, man ts(1)).
fn ts_config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "\
[tsa]
default_tsa = tsa_config1
[tsa_config1]
dir = {d}
serial = {d}/serial
crypto_device = builtin
signer_cert = {d}/tsa.crt
certs = {d}/tsa.crt
signer_key = {d}/tsa.key
signer_digest = sha256
default_policy = 1.2.250.1.999.1
other_policies = 1.2.250.1.999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"
    )
}

pub fn tsa() -> &'static Tsa {
    static TSA: OnceLock<Tsa> = OnceLock::new();
    TSA.get_or_init(make_tsa)
}

fn make_tsa() -> Tsa {
    let p = pki();
    let dir = scratch("tsa");
    let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(&dir));
    std::fs::write(dir.join("ext.cnf"), TSA_EXTENSIONS).unwrap();
    openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "tsa.key"]);
    openssl(&[
        "req",
        "-new",
        "-utf8",
        "-config",
        "ext.cnf",
        "-key",
        "tsa.key",
        "-subj",
        "/C=FR/O=Paraphe Test/CN=Horodatage Paraphe Test",
        "-out",
        "tsa.csr",
    ]);
    let root_key = p.dir.join("root.key");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        p.root.to_str().unwrap(),
        "-CAkey",
        root_key.to_str().unwrap(),
        "-set_serial",
        "3",
        "-days",
        "365",
        "-extfile",
        "ext.cnf",
        "-extensions",
        "tsa",
        "-out",
        "tsa.crt",
    ]);
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let config = dir.join("ts.cnf");
    std::fs::write(&config, ts_config(&dir)).unwrap();
    Tsa { cert: dir.join("tsa.crt"), config, dir, serial: Mutex::new(()) }
}

impl Tsa {
    /// The authority's `TimeStampResp` (DER) to a `TimeStampReq` (DER).
    pub fn reply(&self, request: &[u8]) -> Vec<u8> {
        let work = scratch("tsa-reply");
        let query = work.join("query.tsq");
        let response = work.join("reply.tsr");
        std::fs::write(&query, request).unwrap();
        let _one = self.serial.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        run(Command::new("openssl")
            .args(["ts", "-reply", "-config"])
            .arg(&self.config)
            .arg("-queryfile")
            .arg(&query)
            .arg("-out")
            .arg(&response));
        let out = std::fs::read(&response).unwrap();
        let _ = std::fs::remove_dir_all(&work);
        out
    }

    /// A request made by `openssl ts -query` itself for `data` with extra arguments (a policy
    /// the authority does not accept, no nonce…).
    pub fn openssl_query(&self, data: &[u8], args: &[&str]) -> Vec<u8> {
        let work = scratch("tsa-query");
        let input = work.join("data.bin");
        std::fs::write(&input, data).unwrap();
        let out = run(Command::new("openssl").args(["ts", "-query", "-data"]).arg(&input).args(args));
        let _ = std::fs::remove_dir_all(&work);
        out
    }

    /// `openssl ts -verify` of a token (DER ContentInfo) for the SHA-256 `digest`, trusting
    /// the test root: (success, output).
    pub fn verify_token(&self, token: &[u8], digest: &[u8]) -> (bool, String) {
        let work = scratch("tsa-verify");
        let file = work.join("token.der");
        std::fs::write(&file, token).unwrap();
        let out = super::try_run(
            Command::new("openssl")
                .args(["ts", "-verify", "-token_in", "-in"])
                .arg(&file)
                .arg("-digest")
                .arg(hex::encode(digest))
                .arg("-CAfile")
                .arg(&pki().root)
                .arg("-untrusted")
                .arg(&self.cert),
        );
        let _ = std::fs::remove_dir_all(&work);
        out
    }
}
