//! The user's NSS database (`sql:$HOME/.pki/nssdb`), where Chromium on Linux finds the
//! PKCS#11 modules whose certificates it offers for TLS client authentication.
//!
//! Reading needs no tool: an `sql:` database lists its modules in `pkcs11.txt`. Writing goes
//! through NSS `modutil` (package libnss3-tools / nss-tools), run directly with its
//! arguments (never a shell), with `-force` so that it asks nothing.

use crate::error::{Error, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The program, found through `PATH`; `PARAPHE_MODUTIL` names another one (tests).
fn modutil_program() -> PathBuf {
    std::env::var_os("PARAPHE_MODUTIL").map_or_else(|| PathBuf::from("modutil"), PathBuf::from)
}

/// `sql:` + the folder of the user's database: `$HOME/.pki/nssdb`, as Chromium uses it.
pub fn user_database() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".pki").join("nssdb"))
}

/// The module's name in the database, the same as its Firefox PKCS#11 manifest's
/// (`manifests/generate.sh pkcs11-name`): `fr.paraphe.pkcs11.` + the file name without its
/// extension, lower case, every run of other characters than `[a-z0-9]` made one `_`.
pub fn module_name(path: &str) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = match base.rfind('.') {
        Some(i) => &base[..i],
        None => base,
    };
    let mut slug = String::new();
    for c in stem.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    format!("fr.paraphe.pkcs11.{}", slug.trim_matches('_'))
}

/// One module of the database: its name and library (empty for NSS's internal module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub library: String,
}

/// The modules listed in `pkcs11.txt` (blocks of `key=value` lines separated by blank lines);
/// none when the database does not exist.
pub fn entries(dir: &Path) -> Vec<Entry> {
    let Ok(text) = std::fs::read_to_string(dir.join("pkcs11.txt")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let field = |key: &str| {
            block.lines().find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('='))).map(str::trim)
        };
        if let (Some(name), Some(library)) = (field("name"), field("library")) {
            out.push(Entry { name: name.to_owned(), library: library.to_owned() });
        }
    }
    out
}

/// Whether `library` is in `entries`, by path or by the file it resolves to.
pub fn holds(entries: &[Entry], library: &str) -> bool {
    let canonical = Path::new(library).canonicalize().ok();
    entries.iter().any(|e| {
        !e.library.is_empty()
            && (e.library == library || (canonical.is_some() && Path::new(&e.library).canonicalize().ok() == canonical))
    })
}

/// Whether `modutil` runs here.
pub fn modutil_available() -> bool {
    Command::new(modutil_program())
        .arg("-help")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs `modutil ARGS -dbdir sql:DIR -force`; its output becomes the error's message.
fn modutil(dir: &Path, args: &[&str]) -> Result<()> {
    let program = modutil_program();
    let mut db = std::ffi::OsString::from("sql:");
    db.push(dir);
    let output =
        Command::new(&program).args(args).arg("-dbdir").arg(&db).arg("-force").stdin(Stdio::null()).output().map_err(
            |e| match e.kind() {
                ErrorKind::NotFound => Error::ToolMissing(format!(
                    "{} not found: install NSS's tools (Debian/Ubuntu: libnss3-tools; Fedora/RHEL: nss-tools)",
                    program.display()
                )),
                _ => Error::ToolFailed(format!("{} could not run: {e}", program.display())),
            },
        )?;
    if output.status.success() {
        return Ok(());
    }
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Err(Error::ToolFailed(format!("modutil {} ({}): {}", args.join(" "), output.status, said.trim())))
}

/// Adds `library` as `name`, creating the database first when `dir` holds none, and
/// replacing a module of that name that points elsewhere. Returns false when the database
/// already held the library (nothing done).
pub fn register(dir: &Path, name: &str, library: &str) -> Result<bool> {
    if !dir.join("cert9.db").exists() || !dir.join("pkcs11.txt").exists() {
        create_private_dir(dir)?;
        modutil(dir, &["-create"])?;
    }
    let now = entries(dir);
    if holds(&now, library) {
        return Ok(false);
    }
    if now.iter().any(|e| e.name == name) {
        modutil(dir, &["-delete", name])?;
    }
    modutil(dir, &["-add", name, "-libfile", library])?;
    Ok(true)
}

/// The database folder, readable by its owner only (as NSS's own tools make it).
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Error::ToolFailed(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_generate_sh() {
        assert_eq!(module_name("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"), "fr.paraphe.pkcs11.opensc_pkcs11");
        assert_eq!(module_name("/usr/lib/softhsm/libsofthsm2.so"), "fr.paraphe.pkcs11.libsofthsm2");
        assert_eq!(module_name("C:\\Windows\\System32\\eTPKCS11.dll"), "fr.paraphe.pkcs11.etpkcs11");
        assert_eq!(module_name("/opt/x/--Lib IAS.v2.so"), "fr.paraphe.pkcs11.lib_ias_v2");
    }

    #[test]
    fn reads_pkcs11_txt() {
        let dir = std::env::temp_dir().join(format!("paraphe-nssdb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        std::fs::write(
            dir.join("pkcs11.txt"),
            "library=\nname=NSS Internal PKCS #11 Module\nparameters=configdir='sql:/x'\nNSS=Flags=internal\n\n\
             library=/usr/lib/softhsm/libsofthsm2.so\nname=fr.paraphe.pkcs11.libsofthsm2\n\n",
        )
        .ok();
        let got = entries(&dir);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].name, "fr.paraphe.pkcs11.libsofthsm2");
        assert!(holds(&got, "/usr/lib/softhsm/libsofthsm2.so"));
        assert!(!holds(&got, "/usr/lib/other.so"));
        assert!(!holds(&got, ""));
        assert!(entries(&dir.join("absent")).is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }
}
