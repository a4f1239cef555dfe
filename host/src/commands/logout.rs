//! `logout`: end a session; the token is logged out when no other session uses it.

use crate::dispatch::Host;
use crate::error::Result;
use crate::token::KeyRef;
use paraphe_protocol::command::{LogoutArgs, NoArguments};

pub fn run(host: &mut Host, args: &LogoutArgs) -> Result<NoArguments> {
    if let Some(s) = host.sessions.remove(&args.session) {
        end(host, &s.key);
    }
    Ok(NoArguments {})
}

/// Logs out of `key`'s token unless another session still uses that key.
pub fn end(host: &mut Host, key: &KeyRef) {
    if host.sessions.values().any(|s| s.key.handle == key.handle) {
        return;
    }
    if let Err(e) = host.backend.logout(key) {
        crate::log::warn(&format!("logout: {e}"));
    }
}
