//! `list-certificates`: every certificate on every token, with the facts a user chooses by.

use crate::dispatch::Host;
use crate::error::Result;
use paraphe_protocol::command::{CertificateList, NoArguments};

pub fn run(host: &mut Host, _: &NoArguments) -> Result<CertificateList> {
    let backend = host.sessions().backend();
    let modules = backend.modules();
    if !modules.iter().any(|m| m.loaded) {
        return Ok(CertificateList { certificates: Vec::new(), tokens: Vec::new(), modules });
    }
    let tokens = backend.tokens()?;
    let certificates = backend.certificates()?;
    Ok(CertificateList { certificates, tokens, modules })
}
