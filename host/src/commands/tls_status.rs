//! `tls-status`: which loaded modules the user's NSS database holds (Chromium on Linux offers
//! their certificates for TLS client authentication). Reads only; needs no tool.

use crate::dispatch::Host;
use crate::error::Result;
use crate::nssdb;
use paraphe_protocol::command::{NoArguments, TlsModule, TlsModules};
use std::path::Path;

pub fn run(host: &mut Host, _: &NoArguments) -> Result<TlsModules> {
    Ok(state(host, nssdb::user_database().as_deref(), &[]))
}

/// The modules the host loaded, each with whether `dir` holds it; `added` marks those
/// `tls-register` added. Unsupported (empty) off Linux or without a home folder.
pub(crate) fn state(host: &mut Host, dir: Option<&Path>, added: &[String]) -> TlsModules {
    let Some(dir) = dir.filter(|_| cfg!(target_os = "linux")) else {
        return TlsModules { supported: false, database: None, modutil: false, modules: Vec::new() };
    };
    let entries = nssdb::entries(dir);
    let modules = host
        .sessions()
        .backend()
        .modules()
        .into_iter()
        .filter(|m| m.loaded)
        .map(|m| TlsModule {
            nss_name: nssdb::module_name(&m.path),
            registered: nssdb::holds(&entries, &m.path),
            added: added.contains(&m.path),
            name: m.name,
            path: m.path,
        })
        .collect();
    TlsModules {
        supported: true,
        database: Some(format!("sql:{}", dir.display())),
        modutil: nssdb::modutil_available(),
        modules,
    }
}
