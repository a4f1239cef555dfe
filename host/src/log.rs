//! Logging to stderr (stdout belongs to the protocol) or to `PARAPHE_LOG_FILE`.
//! Level from `PARAPHE_LOG`: `error`, `warn` (default), `info`, `debug`. Never log a PIN:
//! the only type that holds one prints as `Pin(<redacted>)`.

use std::io::Write;
use std::sync::OnceLock;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| match std::env::var("PARAPHE_LOG").as_deref() {
        Ok("error") => Level::Error,
        Ok("info") => Level::Info,
        Ok("debug") => Level::Debug,
        _ => Level::Warn,
    })
}

fn emit(lvl: Level, tag: &str, msg: &str) {
    if lvl > level() {
        return;
    }
    let line = format!("paraphe-host[{}] {tag}: {msg}\n", std::process::id());
    if let Some(path) = std::env::var_os("PARAPHE_LOG_FILE") {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(line.as_bytes());
            return;
        }
    }
    let _ = std::io::stderr().write_all(line.as_bytes());
}

pub fn error(msg: &str) {
    emit(Level::Error, "error", msg);
}
pub fn warn(msg: &str) {
    emit(Level::Warn, "warn", msg);
}
pub fn info(msg: &str) {
    emit(Level::Info, "info", msg);
}
pub fn debug(msg: &str) {
    emit(Level::Debug, "debug", msg);
}
