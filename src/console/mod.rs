//! Firmware logs: settings from annotations, line framing, the stdout and file sinks with
//! rotation, the monitor's log stream, and reading the saved log back for `logs`.

pub mod config;
pub mod history;
pub mod lines;
pub mod stdout;
pub mod store;
pub mod stream;
pub mod timestamp;
