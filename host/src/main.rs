//! `paraphe-host`: Paraphe's native-messaging host and its command-line interface.
//!
//! Started by a browser (Chromium passes `chrome-extension://ID/`; Firefox passes the
//! manifest path and the extension id) it speaks native messaging on stdin/stdout;
//! started by a person it is a CLI (`paraphe-host help`).

use paraphe_host::{cli, dispatch, logger, native};
use std::process::ExitCode;

fn main() -> ExitCode {
    logger::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(cli::Invocation::Native { caller, modules }) => {
            let result = native::run(dispatch::Host::start(caller, &modules));
            // Never return through main's normal exit while a module call may be stuck:
            // exit() could wait on the module's own locks in its destructors.
            native::exit(match result {
                Ok(()) => 0,
                Err(e) => {
                    log::error!("native messaging: {e}");
                    1
                }
            })
        }
        Ok(cli::Invocation::Cli(command)) => cli::run(command),
        Err(message) => {
            cli::usage_error(&message);
            ExitCode::from(2)
        }
    }
}
