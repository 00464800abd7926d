//! UTC timestamps for log lines: fixed-width RFC 3339 with microseconds
//! (`2026-01-31T12:00:00.000000Z`), written by humantime.

use std::time::SystemTime;

/// Length of every timestamp written by `push_now`.
pub const LEN: usize = 27;

/// Append the current time to `out`.
pub fn push_now(out: &mut Vec<u8>) {
    push(out, SystemTime::now());
}

fn push(out: &mut Vec<u8>, at: SystemTime) {
    let text = humantime::format_rfc3339_micros(at).to_string();
    out.extend_from_slice(text.as_bytes());
}

/// True when `s` starts with something shaped like a timestamp from `push_now` and a space.
pub fn starts_line(s: &[u8]) -> bool {
    s.len() > LEN && s[4] == b'-' && s[10] == b'T' && s[LEN - 1] == b'Z' && s[LEN] == b' '
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u32) -> String {
        use std::time::{Duration, UNIX_EPOCH};
        let mut v = Vec::new();
        push(
            &mut v,
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into()),
        );
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
