//! The signatures made elsewhere that « Vérifier une signature » is tested on: made once per
//! test binary by `tests/verify/make-samples.sh` (openssl, pyHanko, xmlsec1, lxml) into
//! `tests/.work/verify-samples`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The samples' directory, made on the first call.
pub fn samples() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = root.join("tests/.work/verify-samples");
        let status = Command::new(root.join("tests/verify/make-samples.sh")).arg(&dir).status().unwrap();
        assert!(status.success(), "make-samples.sh failed");
        dir
    })
}

/// A sample's bytes.
pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(samples().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}
