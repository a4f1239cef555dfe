//! The host's logger behind the `log` facade: the host's own messages and those of the
//! crates it uses (cryptoki reports module troubles through `log`).
//!
//! Lines go to stderr (stdout belongs to the protocol) or to `PARAPHE_LOG_FILE`, as
//! `paraphe-host[PID] LEVEL: message`; another crate's lines name it
//! (`paraphe-host[PID] warn: cryptoki::session: …`). Level from `PARAPHE_LOG`: `error`,
//! `warn` (default), `info`, `debug`. Never log a PIN: the only type that holds one prints
//! as `Pin(<redacted>)`, and cryptoki keeps its own in a `secrecy` box.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct Logger;

static LOGGER: Logger = Logger;

/// `PARAPHE_LOG`'s level.
fn level() -> LevelFilter {
    match std::env::var("PARAPHE_LOG").as_deref() {
        Ok("error") => LevelFilter::Error,
        Ok("info") => LevelFilter::Info,
        Ok("debug") => LevelFilter::Debug,
        _ => LevelFilter::Warn,
    }
}

/// Installs the logger (once; later calls change nothing).
pub fn init() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level());
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let tag = match record.level() {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug | Level::Trace => "debug",
        };
        let pid = std::process::id();
        let target = record.target();
        let line = if target.starts_with("paraphe_host") {
            format!("paraphe-host[{pid}] {tag}: {}\n", record.args())
        } else {
            format!("paraphe-host[{pid}] {tag}: {target}: {}\n", record.args())
        };
        if let Some(path) = std::env::var_os("PARAPHE_LOG_FILE") {
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
                let _ = f.write_all(line.as_bytes());
                return;
            }
        }
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}
