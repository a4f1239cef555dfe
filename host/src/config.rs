//! The host's configuration file (JSON), for administrators: extra PKCS#11 modules,
//! whether to probe the built-in middleware list, and certificate policies to name (with
//! their RGS level).
//!
//! Found at `PARAPHE_CONFIG`, else the user's file (`$XDG_CONFIG_HOME/paraphe/config.json`,
//! `%APPDATA%\Paraphe\config.json`, `~/Library/Application Support/Paraphe/config.json`),
//! else the system file (`/etc/paraphe/config.json`, `%PROGRAMDATA%\Paraphe\config.json`,
//! `/Library/Application Support/Paraphe/config.json`). The first one found is used.

use crate::token::middleware::Middleware;
use crate::token::worker::Deadlines;
use paraphe_formats::policies::PolicyHint;
use serde::Deserialize;
use std::path::PathBuf;

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

/// The configuration, the file it came from, and why it could not be read (then the
/// defaults apply: a broken config file must not lock the user out of their card).
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
    pub error: Option<String>,
}

pub fn candidates() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("PARAPHE_CONFIG") {
        return vec![PathBuf::from(p)];
    }
    let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
    let mut out = Vec::new();
    if cfg!(windows) {
        out.extend(env("APPDATA").map(|d| d.join("Paraphe").join("config.json")));
        out.extend(env("PROGRAMDATA").map(|d| d.join("Paraphe").join("config.json")));
    } else if cfg!(target_os = "macos") {
        out.extend(env("HOME").map(|h| h.join("Library/Application Support/Paraphe/config.json")));
        out.push(PathBuf::from("/Library/Application Support/Paraphe/config.json"));
    } else {
        let xdg = env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")));
        out.extend(xdg.map(|d| d.join("paraphe").join("config.json")));
        out.push(PathBuf::from("/etc/paraphe/config.json"));
    }
    out
}

pub fn load() -> Loaded {
    for path in candidates() {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Loaded { config: Config::default(), error: Some(e.to_string()), path: Some(path) },
        };
        return match serde_json::from_str(&text) {
            Ok(config) => Loaded { config, path: Some(path), error: None },
            Err(e) => Loaded { config: Config::default(), error: Some(e.to_string()), path: Some(path) },
        };
    }
    Loaded { config: Config::default(), path: None, error: None }
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
}
