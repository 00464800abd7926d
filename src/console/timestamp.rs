//! UTC timestamps for log lines: fixed-width RFC 3339 with microseconds
//! (`2026-01-31T12:00:00.000000Z`), written without the formatting machinery.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of every timestamp written by `push_now` / `push_at`.
pub const LEN: usize = 27;

/// Append the current time to `out`.
pub fn push_now(out: &mut Vec<u8>) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    push_at(out, since.as_secs(), since.subsec_micros());
}

/// Append `secs` seconds plus `micros` after the Unix epoch, UTC.
pub fn push_at(out: &mut Vec<u8>, secs: u64, micros: u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    push_num(out, y as u64, 4);
    out.push(b'-');
    push_num(out, m as u64, 2);
    out.push(b'-');
    push_num(out, d as u64, 2);
    out.push(b'T');
    push_num(out, rem / 3600, 2);
    out.push(b':');
    push_num(out, rem / 60 % 60, 2);
    out.push(b':');
    push_num(out, rem % 60, 2);
    out.push(b'.');
    push_num(out, micros as u64, 6);
    out.push(b'Z');
}

/// True when `s` starts with something shaped like a timestamp from `push_at` and a space.
pub fn starts_line(s: &[u8]) -> bool {
    s.len() > LEN && s[4] == b'-' && s[10] == b'T' && s[LEN - 1] == b'Z' && s[LEN] == b' '
}

fn push_num(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let start = out.len();
    for _ in 0..width {
        out.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
    out[start..].reverse();
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u32) -> String {
        let mut v = Vec::new();
        push_at(&mut v, secs, micros);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(at(1_798_761_599, 999_999), "2026-12-31T23:59:59.999999Z");
    }

    #[test]
    fn now_has_the_fixed_width_and_is_recognised() {
        let mut v = Vec::new();
        push_now(&mut v);
        assert_eq!(v.len(), LEN);
        v.extend_from_slice(b" line");
        assert!(starts_line(&v));
        assert!(!starts_line(
            b"plain text that is long enough to fool a length check"
        ));
    }
}
