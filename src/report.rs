//! Printing the one error of a run: `hybrid-runtime: <msg>` on stderr, and a line in `--log`
//! (`{"level":"error","msg":…,"time":…}` with `--log-format json`, which engines show users).

use std::io::Write;

use crate::cli::Global;
use crate::error::Error;
use crate::json::write::quote_into;

pub fn error(global: Option<&Global>, err: &Error) {
    let mut line = String::from("hybrid-runtime: ");
    line.push_str(&err.msg);
    line.push('\n');
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(g) = global {
        log_line(g, "error", &err.msg);
        if err.errno != 0 {
            debug(g, &crate::error::cat(&["errno ", &err.errno.to_string()]));
        }
    }
}

/// Append one record to `--log`, if given. Failures to log are ignored: the message is on stderr.
pub fn log_line(g: &Global, level: &str, msg: &str) {
    let Some(path) = &g.log else { return };
    let time = rfc3339_now();
    let mut line = String::new();
    if g.log_json {
        line.push_str("{\"level\":\"");
        line.push_str(level);
        line.push_str("\",\"msg\":");
        quote_into(&mut line, msg);
        line.push_str(",\"time\":\"");
        line.push_str(&time);
        line.push_str("\"}\n");
    } else {
        line.push_str("time=\"");
        line.push_str(&time);
        line.push_str("\" level=");
        line.push_str(level);
        line.push_str(" msg=");
        quote_into(&mut line, msg);
        line.push('\n');
    }
    append(path, &line);
}

/// One JSON line per invocation in the config's `call_log`: time, working directory, argv, exit.
pub fn call(g: &Global, argv: &[String], code: i32) {
    let Some(path) = &g.call_log else { return };
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut line = String::from("{\"time\":\"");
    line.push_str(&rfc3339_now());
    line.push_str("\",\"cwd\":");
    quote_into(&mut line, &cwd.to_string_lossy());
    line.push_str(",\"argv\":");
    line.push('[');
    for (n, a) in argv.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        quote_into(&mut line, a);
    }
    line.push(']');
    line.push_str(",\"exit\":");
    line.push_str(&code.to_string());
    line.push_str("}\n");
    append(path, &line);
}

/// Append `line` to the file at `path`, created if missing; a failure is ignored (the caller
/// has nothing better to do with it).
fn append(path: &std::path::Path, line: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Debug records go to `--log` only with `--debug`.
pub fn debug(g: &Global, msg: &str) {
    if g.debug {
        log_line(g, "debug", msg);
    }
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut s = String::with_capacity(20);
    push_num(&mut s, y as u64, 4);
    s.push('-');
    push_num(&mut s, m as u64, 2);
    s.push('-');
    push_num(&mut s, d as u64, 2);
    s.push('T');
    push_num(&mut s, rem / 3600, 2);
    s.push(':');
    push_num(&mut s, rem / 60 % 60, 2);
    s.push(':');
    push_num(&mut s, rem % 60, 2);
    s.push('Z');
    s
}

fn push_num(s: &mut String, n: u64, width: usize) {
    let digits = n.to_string();
    for _ in digits.len()..width {
        s.push('0');
    }
    s.push_str(&digits);
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
