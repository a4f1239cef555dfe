//! `status`: modules and tokens, without reading certificates (cheap, for the popup), and
//! the PC/SC readers with their cards and the middleware each card needs.

use crate::dispatch::Host;
use crate::error::Result;
use crate::token::monitor;
use paraphe_protocol::cert::ModuleInfo;
use paraphe_protocol::command::{NoArguments, PcscStatus, StatusResult};
use std::path::Path;

pub fn run(host: &mut Host, _: &NoArguments) -> Result<StatusResult> {
    let modules = host.sessions().backend().modules();
    let tokens = if modules.iter().any(|m| m.loaded) { host.sessions().backend().tokens()? } else { Vec::new() };
    let pcsc = Some(pcsc(host, &modules));
    Ok(StatusResult { modules, tokens, pcsc })
}

/// The card monitor's view when it runs, else PC/SC asked now (CLI, `PARAPHE_PCSC=off`).
fn pcsc(host: &Host, modules: &[ModuleInfo]) -> PcscStatus {
    let snapshot = match host.pcsc_view() {
        Some(monitor::View { unavailable: Some(message), .. }) => Err(message.clone()),
        Some(view) => Ok(view.readers.clone()),
        None => monitor::readers_now(),
    };
    match snapshot {
        Ok(readers) => PcscStatus {
            available: true,
            message: None,
            readers: readers
                .iter()
                .map(|(reader, atr)| {
                    let mut r = monitor::reader_status(reader, atr.as_deref(), host.middleware());
                    if let Some(m) = &mut r.middleware {
                        m.loaded = Some(m.module.as_deref().is_some_and(|p| is_loaded(p, modules)));
                    }
                    r
                })
                .collect(),
        },
        Err(message) => PcscStatus { available: false, message: Some(message), readers: Vec::new() },
    }
}

/// Whether `path` is one of the loaded modules (the same file, whatever the link).
fn is_loaded(path: &str, modules: &[ModuleInfo]) -> bool {
    let canonical = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| Path::new(p).to_path_buf());
    let want = canonical(path);
    modules.iter().any(|m| m.loaded && canonical(&m.path) == want)
}
