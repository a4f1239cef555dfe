//! `paraphe-host` as a library: the binary (`main.rs`) is a thin entry point over it, and
//! the fuzz targets (`fuzz/`) drive its framing and dispatch without a token.

pub mod cli;
pub mod commands;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod logger;
pub mod native;
pub mod nssdb;
pub mod session;
pub mod token;
pub mod transport;
