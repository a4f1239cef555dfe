//! `logout`: end a session; the token is logged out when no other session uses it
//! (`session::Sessions::end`). An unknown session is no error: it may have expired.

use crate::dispatch::Host;
use crate::error::Result;
use paraphe_protocol::command::{LogoutArgs, NoArguments};

pub fn run(host: &mut Host, args: &LogoutArgs) -> Result<NoArguments> {
    host.sessions().end(&args.session);
    Ok(NoArguments {})
}
