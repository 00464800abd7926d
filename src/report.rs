//! Printing the one error of a run: `hybrid-runtime: <msg>` on stderr, and a line in `--log`
//! (`{"level":"error","msg":…,"time":…}` with `--log-format json`, which engines show users);
//! and the config file's call log, one JSON line per invocation.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::cli::Global;
use crate::error::Error;

/// A record of `--log`, as runc writes it.
#[derive(Serialize)]
struct LogRecord<'a> {
    level: &'a str,
    msg: &'a str,
    time: String,
}

/// A record of the call log.
#[derive(Serialize)]
struct CallRecord<'a> {
    time: String,
    cwd: String,
    argv: &'a [String],
    exit: i32,
}

pub fn error(global: Option<&Global>, err: &Error) {
    let msg = with_advice(err);
    eprintln!("hybrid-runtime: {msg}");
    if let Some(g) = global {
        log_line(g, "error", &msg);
        if err.errno != 0 {
            debug(g, &format!("errno {}", err.errno));
        }
    }
}

/// The message, and for a permission refused to an ordinary user, what is missing.
fn with_advice(err: &Error) -> String {
    let denied = err.errno == libc::EACCES || err.errno == libc::EPERM;
    if denied && crate::sys::euid() != 0 {
        return format!(
            "{}: hybrid-runtime needs root to drive remote processors (remoteproc in sysfs, \
             /dev/remoteprocN, the firmware directory, /run/hybrid-runtime)",
            err.msg
        );
    }
    err.msg.clone()
}

/// Append one record to `--log`, if given. Failures to log are ignored: the message is on stderr.
pub fn log_line(g: &Global, level: &str, msg: &str) {
    let Some(path) = &g.log else { return };
    let time = rfc3339_now();
    let line = if g.log_json {
        let record = LogRecord { level, msg, time };
        crate::document::to_line(&record).unwrap_or_default()
    } else {
        let quoted = crate::document::to_line(msg).unwrap_or_default();
        format!("time=\"{time}\" level={level} msg={quoted}")
    };
    append(path, &line);
}

/// One JSON line per invocation in the config's `call_log`: time, working directory, argv, exit.
pub fn call(g: &Global, argv: &[String], code: i32) {
    let Some(path) = &g.call_log else { return };
    let cwd = std::env::current_dir().unwrap_or_default();
    let record = CallRecord {
        time: rfc3339_now(),
        cwd: cwd.to_string_lossy().into_owned(),
        argv,
        exit: code,
    };
    if let Ok(line) = crate::document::to_line(&record) {
        append(path, &line);
    }
}

/// Append `line` and a newline to the file at `path`, created if missing; a failure is ignored
/// (the caller has nothing better to do with it).
fn append(path: &Path, line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// Debug records go to `--log` only with `--debug`.
pub fn debug(g: &Global, msg: &str) {
    if g.debug {
        log_line(g, "debug", msg);
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
