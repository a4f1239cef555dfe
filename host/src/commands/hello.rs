//! `hello`: versions, so the extension can detect a mismatch. The host also sends this
//! unprompted as the `hello` event when it starts.

use crate::dispatch::Host;
use crate::error::Result;
use paraphe_protocol::command::{HelloArgs, HelloInfo};

pub fn run(host: &mut Host, args: &HelloArgs) -> Result<HelloInfo> {
    if let Some(v) = &args.extension {
        log::info!("extension {v} says hello");
    }
    Ok(host.hello())
}
