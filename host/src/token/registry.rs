//! Where PKCS#11 modules come from, and the process-wide table of initialised modules.
//!
//! Sources, searched in this order: `--module` paths, `PARAPHE_PKCS11_MODULES`, the config
//! file, then the well-known middleware of `host/data/middleware.json` (only the paths that
//! exist).
//! Duplicates (same file through a symlink) are dropped, because loading one library twice
//! would list its tokens twice.

use super::middleware;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use paraphe_protocol::cert::ModuleSource;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// A module to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSpec {
    pub path: PathBuf,
    pub source: ModuleSource,
    pub name: Option<String>,
}

/// Name of the middleware at `path`, when it is a well-known one.
pub fn known_name(path: &Path) -> Option<String> {
    let canonical = path.canonicalize().ok();
    middleware::known_modules()
        .into_iter()
        .find(|(_, p)| {
            let p = Path::new(p);
            p == path || (canonical.is_some() && p.canonicalize().ok() == canonical)
        })
        .map(|(name, _)| name.to_owned())
}

/// The modules to try, most specific source first, without duplicates.
pub fn resolve(cli: &[PathBuf], env: Option<&str>, config: &[PathBuf], builtin: bool) -> Vec<ModuleSpec> {
    let mut out: Vec<ModuleSpec> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut push = |path: PathBuf, source: ModuleSource| {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if !seen.contains(&key) {
            seen.push(key);
            let name = known_name(&path);
            out.push(ModuleSpec { path, source, name });
        }
    };
    for p in cli {
        push(p.clone(), ModuleSource::Cli);
    }
    if let Some(list) = env {
        for p in std::env::split_paths(list).filter(|p| !p.as_os_str().is_empty()) {
            push(p, ModuleSource::Env);
        }
    }
    for p in config {
        push(p.clone(), ModuleSource::Config);
    }
    if builtin {
        for (_, p) in middleware::known_modules() {
            let path = PathBuf::from(p);
            if path.exists() {
                push(path, ModuleSource::Builtin);
            }
        }
    }
    out
}

/// C_Initialize may be called once per module per process (PKCS#11 3.0 §5.4), and
/// `cargo test` runs many backends in one process: keep one initialised context per
/// canonical path for the life of the process.
fn contexts() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Loads and initialises the module at `path`, or returns the context already made.
/// Errors are plain text for the module list: a module that fails is reported, not fatal.
pub fn load(path: &Path) -> Result<Pkcs11, String> {
    if !path.is_absolute() {
        // A relative path would be searched in the browser-chosen working directory.
        return Err("module paths must be absolute".into());
    }
    if !path.exists() {
        return Err("file not found".into());
    }
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut table = contexts().lock().map_err(|_| "module table poisoned".to_owned())?;
    if let Some(ctx) = table.get(&key) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| match e {
        CkError::LibraryLoading(e) => describe_load_error(&e.to_string()),
        other => other.to_string(),
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(format!("C_Initialize failed: {e}")),
    }
    table.insert(key, ctx.clone());
    Ok(ctx)
}

/// The loader's message, with the usual cause spelled out.
fn describe_load_error(msg: &str) -> String {
    if msg.contains("wrong ELF class")
        || msg.contains("mach-o, but wrong architecture")
        || msg.contains("%1 is not a valid Win32")
    {
        format!("{msg} (the module is built for another architecture than this host, e.g. 32-bit or ARM64)")
    } else {
        msg.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_ordered_and_deduplicated() {
        let tmp = std::env::temp_dir().join(format!("paraphe-reg-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).ok();
        let a = tmp.join("a.so");
        std::fs::write(&a, b"").ok();
        let env = std::env::join_paths([a.clone(), tmp.join("b.so")]).ok();
        let specs =
            resolve(std::slice::from_ref(&a), env.as_ref().and_then(|e| e.to_str()), &[tmp.join("b.so")], false);
        let got: Vec<_> = specs.iter().map(|s| (s.path.clone(), s.source)).collect();
        assert_eq!(got, vec![(a, ModuleSource::Cli), (tmp.join("b.so"), ModuleSource::Env)]);
        std::fs::remove_dir_all(&tmp).ok();
    }

    #[test]
    fn bad_modules_are_reported_not_fatal() {
        assert_eq!(load(Path::new("relative.so")).err().as_deref(), Some("module paths must be absolute"));
        assert_eq!(load(Path::new("/nonexistent/x.so")).err().as_deref(), Some("file not found"));
        let not_a_lib = std::env::temp_dir().join(format!("paraphe-notlib-{}.so", std::process::id()));
        std::fs::write(&not_a_lib, b"not an ELF file").ok();
        assert!(load(&not_a_lib).is_err());
        std::fs::remove_file(&not_a_lib).ok();
    }
}
