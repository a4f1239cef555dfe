//! `tls-register`: puts every loaded module the user's NSS database lacks into it, with NSS
//! `modutil`, so that Chromium on Linux offers the token's certificates for TLS client
//! authentication (after its next start). Idempotent.

use crate::commands::tls_status::state;
use crate::dispatch::Host;
use crate::error::Result;
use crate::nssdb;
use paraphe_protocol::command::{NoArguments, TlsModules};

pub fn run(host: &mut Host, _: &NoArguments) -> Result<TlsModules> {
    let dir = nssdb::user_database();
    let before = state(host, dir.as_deref(), &[]);
    let (Some(dir), true) = (dir, before.supported) else {
        return Ok(before);
    };
    let mut added = Vec::new();
    for m in before.modules.iter().filter(|m| !m.registered) {
        if nssdb::register(&dir, &m.nss_name, &m.path)? {
            log::info!("registered {} as {} in sql:{}", m.path, m.nss_name, dir.display());
            added.push(m.path.clone());
        }
    }
    Ok(state(host, Some(&dir), &added))
}
