//! `paraphe-host`: Paraphe's native-messaging host and its command-line interface.
//!
//! Started by a browser (Chromium passes `chrome-extension://ID/`; Firefox passes the
//! manifest path and the extension id) it speaks native messaging on stdin/stdout;
//! started by a person it is a CLI (`paraphe-host help`).

use paraphe_host::{cli, dispatch, log, native, token};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(cli::Invocation::Native { caller, modules }) => {
            let (backend, middleware, auto_modules) = token::from_environment(&modules);
            let mut host = dispatch::Host::new(Box::new(backend), caller, middleware);
            host.auto_modules = auto_modules;
            match native::run(host) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    log::error(&format!("native messaging: {e}"));
                    ExitCode::FAILURE
                }
            }
        }
        Ok(cli::Invocation::Cli(command)) => cli::run(command),
        Err(message) => {
            cli::usage_error(&message);
            ExitCode::from(2)
        }
    }
}
