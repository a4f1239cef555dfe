//! Which middleware (PKCS#11 module) a card needs, from its ATR.
//!
//! The catalogue is `host/data/middleware.json`: reviewed data, each ATR with its source,
//! embedded in the binary; administrators add entries in the config file. ATR patterns are
//! hex bytes where `..` matches any byte, as in pcsc-tools' `smartcard_list.txt`.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Middleware {
    pub id: String,
    pub name: String,
    /// What to install, in words a user can act on.
    pub install: String,
    /// Tried for cards no entry matches.
    #[serde(default)]
    pub fallback: bool,
    pub modules: Modules,
    #[serde(default)]
    pub atrs: Vec<AtrEntry>,
}

/// Module paths per OS. Windows paths may name environment variables (`%ProgramFiles%`,
/// `%SystemRoot%`), expanded where the host runs; `windowsRegistry` adds the paths vendors
/// record in the registry (their install folder), tried first.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Modules {
    #[serde(default)]
    pub linux: Vec<String>,
    #[serde(default)]
    pub windows: Vec<String>,
    #[serde(default)]
    pub macos: Vec<String>,
    #[serde(default, rename = "windowsRegistry", skip_serializing_if = "Vec::is_empty")]
    pub windows_registry: Vec<RegistryModule>,
}

/// A module found from a registry value: the value names a file (or folder) of the vendor's
/// installation, and the module is `module`, relative to that file's folder (or that folder).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RegistryModule {
    /// `HKLM\SOFTWARE\...` (64-bit view).
    pub key: String,
    pub value: String,
    /// `file` when the value names a file (the module is beside it), `folder` when a folder.
    pub names: String,
    pub module: String,
    #[serde(default)]
    pub source: Option<String>,
}

impl Modules {
    /// Module paths for the OS this host runs on, environment variables expanded, registry
    /// entries first.
    pub fn here(&self) -> Vec<String> {
        if cfg!(windows) {
            let from_registry = self.windows_registry.iter().filter_map(|r| {
                let found = super::winreg::local_machine_string(&r.key, &r.value)?;
                let base = std::path::Path::new(&found);
                let folder = if r.names == "folder" { base } else { base.parent()? };
                Some(folder.join(&r.module).to_string_lossy().into_owned())
            });
            let mut out: Vec<String> = from_registry.collect();
            out.extend(self.windows.iter().map(|p| expand_env(p, |k| std::env::var(k).ok())));
            out
        } else if cfg!(target_os = "macos") {
            self.macos.clone()
        } else {
            self.linux.clone()
        }
    }
}

/// `%NAME%` replaced by the variable's value; unknown names are left as they are (such a
/// path does not exist, so the module is just not found).
pub fn expand_env(path: &str, var: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let Some(len) = after.find('%') else { break };
        out.push_str(&rest[..start]);
        match var(&after[..len]) {
            Some(v) if len > 0 => out.push_str(&v),
            _ => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AtrEntry {
    pub atr: String,
    pub card: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
struct Catalog {
    middleware: Vec<Middleware>,
}

/// The built-in catalogue, IDOPTE first.
pub fn builtin() -> &'static [Middleware] {
    static CATALOG: OnceLock<Vec<Middleware>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The file is part of the source tree and checked by a unit test.
        serde_json::from_str::<Catalog>(include_str!("../../data/middleware.json"))
            .map(|c| c.middleware)
            .unwrap_or_default()
    })
}

/// One ATR byte pattern: `Some(b)` must equal, `None` matches anything.
fn parse_pattern(pattern: &str) -> Option<Vec<Option<u8>>> {
    let compact: String = pattern.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if compact.len() % 2 != 0 || compact.is_empty() {
        return None;
    }
    compact
        .as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            b".." => Some(None),
            _ => std::str::from_utf8(pair).ok().and_then(|s| u8::from_str_radix(s, 16).ok()).map(Some),
        })
        .collect()
}

pub fn atr_matches(pattern: &str, atr: &[u8]) -> bool {
    parse_pattern(pattern)
        .is_some_and(|p| p.len() == atr.len() && p.iter().zip(atr).all(|(want, got)| want.is_none_or(|w| w == *got)))
}

/// The middleware for `atr`: administrators' entries first, then the catalogue.
pub fn for_atr<'a>(atr: &[u8], extra: &'a [Middleware]) -> Option<(&'a Middleware, &'a AtrEntry)> {
    extra.iter().chain(builtin().iter()).find_map(|m| m.atrs.iter().find(|e| atr_matches(&e.atr, atr)).map(|e| (m, e)))
}

/// The fallback middleware (OpenSC).
pub fn fallback() -> Option<&'static Middleware> {
    builtin().iter().find(|m| m.fallback)
}

/// `(name, path)` of every module path known for this OS, in catalogue order.
pub fn known_modules() -> Vec<(&'static str, String)> {
    builtin().iter().flat_map(|m| m.modules.here().into_iter().map(move |p| (m.name.as_str(), p))).collect()
}

pub fn atr_hex(atr: &[u8]) -> String {
    atr.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_every_pattern_is_valid() {
        let all = builtin();
        assert!(all.len() >= 8, "catalogue failed to parse");
        assert_eq!(all[0].id, "idopte", "IDOPTE (ChamberSign's current middleware) comes first");
        for m in all {
            for e in &m.atrs {
                assert!(parse_pattern(&e.atr).is_some(), "{}: bad ATR pattern {}", m.id, e.atr);
                assert!(e.source.is_some(), "{}: ATR {} has no source", m.id, e.atr);
            }
        }
        assert_eq!(fallback().map(|m| m.id.as_str()), Some("opensc"));
    }

    #[test]
    fn matches_exact_and_masked_atrs() {
        let idprime_840 = [
            0x3B, 0x7F, 0x96, 0x00, 0x00, 0x80, 0x31, 0x80, 0x65, 0xB0, 0x85, 0x03, 0x00, 0xEF, 0x12, 0x0F, 0xFE, 0x82,
            0x90, 0x00,
        ];
        let (m, _) = for_atr(&idprime_840, &[]).expect("IDPrime MD 840");
        assert_eq!(m.id, "idprime");
        let mut other = idprime_840;
        other[2] = 0x18; // masked byte
        assert_eq!(for_atr(&other, &[]).map(|(m, _)| m.id.as_str()), Some("idprime"));
        assert!(for_atr(&[0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B], &[]).is_none());
        assert!(!atr_matches("3B 7F", &[0x3B]));
        assert!(!atr_matches("3G", &[0x3B]));
    }

    #[test]
    fn windows_paths_expand_environment_variables() {
        let env = |k: &str| match k {
            "ProgramFiles" => Some(r"C:\Program Files".to_owned()),
            "SystemRoot" => Some(r"C:\Windows".to_owned()),
            _ => None,
        };
        assert_eq!(
            expand_env(r"%ProgramFiles%\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll", env),
            r"C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll"
        );
        assert_eq!(expand_env(r"%SystemRoot%\System32\eTPKCS11.dll", env), r"C:\Windows\System32\eTPKCS11.dll");
        assert_eq!(expand_env(r"%Nope%\x.dll", env), r"%Nope%\x.dll");
        assert_eq!(expand_env("100% sure %", env), "100% sure %");
        assert_eq!(expand_env("%%", env), "%%");
        // Every Windows path of the catalogue is absolute once expanded.
        for m in builtin() {
            for p in &m.modules.windows {
                let x = expand_env(p, env);
                assert!(x.starts_with(r"C:\") && !x.contains('%'), "{}: {x}", m.id);
            }
        }
    }

    #[test]
    fn administrators_entries_come_first() {
        let mine = Middleware {
            id: "mine".into(),
            name: "Mine".into(),
            install: "ask IT".into(),
            fallback: false,
            modules: Modules::default(),
            atrs: vec![AtrEntry {
                atr: "3B 95 13 81 01 80 73 FF 01 00 0B".into(),
                card: "test".into(),
                source: None,
                note: None,
            }],
        };
        let extra = [mine];
        let atr = [0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B];
        assert_eq!(for_atr(&atr, &extra).map(|(m, _)| m.id.as_str()), Some("mine"));
    }
}
