//! `status`: modules and tokens, without reading certificates (cheap, for the popup).

use crate::dispatch::Host;
use crate::error::Result;
use paraphe_protocol::command::{NoArguments, StatusResult};

pub fn run(host: &mut Host, _: &NoArguments) -> Result<StatusResult> {
    let modules = host.backend.modules();
    let tokens = if modules.iter().any(|m| m.loaded) { host.backend.tokens()? } else { Vec::new() };
    Ok(StatusResult { modules, tokens })
}
