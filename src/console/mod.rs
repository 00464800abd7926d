//! Firmware logs: settings from annotations, line framing, the stdout and file sinks with
//! rotation, the log source the monitor polls and the log stream behind it, and reading the
//! saved log back for `logs`.

pub mod config;
pub mod history;
pub mod lines;
pub mod source;
pub mod stdout;
pub mod store;
pub mod stream;
pub mod timestamp;
