//! The host's configuration files (JSON): extra PKCS#11 modules, whether to probe the
//! built-in middleware list, certificate policies to name (with their RGS level), extra
//! middleware entries.
//!
//! Two layers, both read when present:
//!
//! - the **administrator's** file: `/etc/paraphe/config.json`,
//!   `%PROGRAMDATA%\Paraphe\config.json`, `/Library/Application Support/Paraphe/config.json`;
//! - the **user's** file: `PARAPHE_CONFIG` if set, else `$XDG_CONFIG_HOME/paraphe/config.json`
//!   (`~/.config/…`), `%APPDATA%\Paraphe\config.json`,
//!   `~/Library/Application Support/Paraphe/config.json`.
//!
//! The user's file adds to the administrator's, never undoes it ([`merge`]): modules are the
//! administrator's then the user's; `builtinModules: false` in either wins; the
//! administrator's policy entries stand, and a user's entry whose arc overlaps one of them
//! is ignored; middleware entries are the administrator's first (the first match wins).

use crate::token::middleware::Middleware;
use crate::token::worker::Deadlines;
use paraphe_formats::policies::PolicyHint;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Extra PKCS#11 module paths (absolute).
    #[serde(default)]
    pub modules: Vec<PathBuf>,
    /// Probe the built-in list of well-known middleware. Default: true.
    #[serde(default = "yes")]
    pub builtin_modules: bool,
    #[serde(default)]
    pub policies: Vec<PolicyEntry>,
    /// Extra middleware entries (same shape as `host/data/middleware.json`), matched
    /// before the built-in ones.
    #[serde(default)]
    pub middleware: Vec<Middleware>,
    /// How long module calls may take, in milliseconds (`callMs`, `pinPadMs`, `removedMs`;
    /// `token::worker::Deadlines`).
    #[serde(default)]
    pub deadlines: Deadlines,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyEntry {
    /// A policy OID, or an arc covering several.
    pub oid: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub rgs_level: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Self {
            modules: Vec::new(),
            builtin_modules: true,
            policies: Vec::new(),
            middleware: Vec::new(),
            deadlines: Deadlines::default(),
        }
    }
}

impl Config {
    pub fn policy_hints(&self) -> Vec<PolicyHint> {
        self.policies
            .iter()
            .map(|p| PolicyHint { oid: p.oid.clone(), name: p.name.clone(), rgs_level: p.rgs_level.clone() })
            .collect()
    }
}

/// Whose file a layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    System,
    User,
}

/// One configuration file read (or found broken).
#[derive(Debug, Clone, serde::Serialize)]
pub struct File {
    pub layer: Layer,
    pub path: PathBuf,
    /// Why it was ignored (then that layer's defaults apply: a broken file must not lock
    /// the user out of their card).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The merged configuration and the files it came from.
pub struct Loaded {
    pub config: Config,
    pub files: Vec<File>,
}

/// The administrator's file for this OS. Debug builds (the tests') read
/// `PARAPHE_SYSTEM_CONFIG` instead when it is set, so that a machine's own
/// `/etc/paraphe/config.json` stays out of the tests; release builds never do: a user's
/// environment must not move the administrator's file.
pub fn system_path() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    if cfg!(debug_assertions) {
        if let Some(p) = env("PARAPHE_SYSTEM_CONFIG") {
            return Some(p);
        }
    }
    if cfg!(windows) {
        env("PROGRAMDATA").map(|d| d.join("Paraphe").join("config.json"))
    } else if cfg!(target_os = "macos") {
        Some(PathBuf::from("/Library/Application Support/Paraphe/config.json"))
    } else {
        Some(PathBuf::from("/etc/paraphe/config.json"))
    }
}

/// The user's file: `PARAPHE_CONFIG`, else the per-user file for this OS.
pub fn user_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PARAPHE_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    if cfg!(windows) {
        env("APPDATA").map(|d| d.join("Paraphe").join("config.json"))
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support/Paraphe/config.json"))
    } else {
        let xdg = env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")));
        xdg.map(|d| d.join("paraphe").join("config.json"))
    }
}

pub fn load() -> Loaded {
    load_from(system_path().as_deref(), user_path().as_deref())
}

/// Reads both layers from these paths (absent files are skipped) and merges them.
pub fn load_from(system: Option<&Path>, user: Option<&Path>) -> Loaded {
    let mut files = Vec::new();
    let mut read = |layer: Layer, path: Option<&Path>| -> Option<Config> {
        let path = path?;
        let parsed = match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => Err(e.to_string()),
            Ok(text) => serde_json::from_str::<Config>(&text).map_err(|e| e.to_string()),
        };
        let (config, error) = match parsed {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        };
        files.push(File { layer, path: path.to_path_buf(), error });
        config
    };
    let system = read(Layer::System, system);
    let user = read(Layer::User, user);
    let config = match (system, user) {
        (Some(s), Some(u)) => merge(s, u),
        (Some(c), None) | (None, Some(c)) => c,
        (None, None) => Config::default(),
    };
    Loaded { config, files }
}

/// The user's configuration on top of the administrator's (module documentation).
pub fn merge(system: Config, user: Config) -> Config {
    let overlaps = |a: &str, b: &str| {
        let under = |x: &str, arc: &str| x == arc || (x.starts_with(arc) && x.as_bytes().get(arc.len()) == Some(&b'.'));
        under(a, b) || under(b, a)
    };
    let user_policies: Vec<PolicyEntry> = user
        .policies
        .into_iter()
        .filter(|u| {
            let kept = !system.policies.iter().any(|s| overlaps(&s.oid, &u.oid));
            if !kept {
                log::warn!("user configuration: policy {} ignored (the administrator's file names it)", u.oid);
            }
            kept
        })
        .collect();
    Config {
        modules: system.modules.into_iter().chain(user.modules).collect(),
        builtin_modules: system.builtin_modules && user.builtin_modules,
        policies: system.policies.into_iter().chain(user_policies).collect(),
        middleware: system.middleware.into_iter().chain(user.middleware).collect(),
        // The administrator's deadlines when their file sets any, else the user's.
        deadlines: if system.deadlines == Deadlines::default() { user.deadlines } else { system.deadlines },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_unknown_keys() {
        let c: Config = serde_json::from_str(
            r#"{"modules":["/opt/x.so"],"builtinModules":false,"policies":[{"oid":"1.2.3","rgsLevel":"**"}]}"#,
        )
        .expect("config");
        assert!(!c.builtin_modules);
        assert_eq!(c.policy_hints()[0].rgs_level.as_deref(), Some("**"));
        assert!(serde_json::from_str::<Config>(r#"{"modulez":[]}"#).is_err());
        assert!(serde_json::from_str::<Config>("{}").map(|c| c.builtin_modules).unwrap_or(false));
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("paraphe-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    #[test]
    fn the_users_file_adds_to_the_administrators_and_never_undoes_it() {
        let d = tmpdir("merge");
        let system = write(
            &d,
            "system.json",
            r#"{"modules":["/opt/admin/libpkcs11.so"],"builtinModules":false,
                "policies":[{"oid":"1.2.250.1.86.2","name":"Certinomis","rgsLevel":"**"}]}"#,
        );
        let user = write(
            &d,
            "user.json",
            r#"{"modules":["/home/u/libmine.so"],"builtinModules":true,
                "policies":[{"oid":"1.2.250.1.86.2.5","rgsLevel":"***"},{"oid":"1.2.250.1.86","rgsLevel":"*"},
                            {"oid":"1.2.250.1.999","name":"Mine","rgsLevel":"*"}]}"#,
        );
        let loaded = load_from(Some(&system), Some(&user));
        let c = &loaded.config;
        assert_eq!(c.modules, [PathBuf::from("/opt/admin/libpkcs11.so"), PathBuf::from("/home/u/libmine.so")]);
        assert!(!c.builtin_modules, "the administrator's builtinModules:false stands");
        let oids: Vec<&str> = c.policies.iter().map(|p| p.oid.as_str()).collect();
        assert_eq!(oids, ["1.2.250.1.86.2", "1.2.250.1.999"], "user entries overlapping the administrator's go");
        assert_eq!(loaded.files.len(), 2);
        assert!(loaded.files.iter().all(|f| f.error.is_none()));

        // The user can restrict, not widen.
        let open = write(&d, "open.json", r#"{"builtinModules":true}"#);
        let closed = write(&d, "closed.json", r#"{"builtinModules":false}"#);
        assert!(!load_from(Some(&open), Some(&closed)).config.builtin_modules);
        assert!(load_from(Some(&open), None).config.builtin_modules);

        // Either file alone; none at all.
        assert_eq!(load_from(None, Some(&user)).config.modules, [PathBuf::from("/home/u/libmine.so")]);
        assert!(!load_from(Some(&system), Some(&d.join("absent.json"))).config.builtin_modules);
        let none = load_from(Some(&d.join("a.json")), Some(&d.join("b.json")));
        assert!(none.files.is_empty() && none.config.builtin_modules);

        // A broken user file is reported and the administrator's settings still apply.
        let broken = write(&d, "broken.json", "{not json");
        let loaded = load_from(Some(&system), Some(&broken));
        assert!(!loaded.config.builtin_modules);
        assert_eq!(loaded.config.modules, [PathBuf::from("/opt/admin/libpkcs11.so")]);
        assert_eq!(loaded.files[1].layer, Layer::User);
        assert!(loaded.files[1].error.is_some());
        let _ = std::fs::remove_dir_all(&d);
    }
}
