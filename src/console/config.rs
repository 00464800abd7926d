//! Log settings of one container, from its annotations (`io.hybrid-runtime.log.*`) or, for
//! engines that cannot pass annotations, its environment (`HYBRID_LOG_*`); annotations win.

use crate::error::{Error, Result};
use crate::platform::rpmsg;

/// Where the firmware's output is read from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// The tty channel if there is one, else a raw endpoint, else the trace buffer.
    Auto,
    Tty,
    Trace,
    Endpoint,
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub source: Source,
    /// rpmsg channel, device or endpoint name to read, when not the default.
    pub channel: Option<rpmsg::Name>,
    /// Sent to the firmware once the source is open.
    pub hello: Option<String>,
    /// Cap of `console.log` in bytes before it is rotated.
    pub max_size: u64,
    /// Rotated files kept besides `console.log`.
    pub max_files: u32,
}

pub const DEFAULT_MAX_SIZE: u64 = 1 << 20;
pub const MIN_MAX_SIZE: u64 = 1024;
pub const MAX_MAX_FILES: u32 = 100;

/// (annotation, environment variable) for each setting.
const SOURCE: (&str, &str) = ("io.hybrid-runtime.log.source", "HYBRID_LOG_SOURCE");
const CHANNEL: (&str, &str) = ("io.hybrid-runtime.log.channel", "HYBRID_LOG_CHANNEL");
const HELLO: (&str, &str) = ("io.hybrid-runtime.log.hello", "HYBRID_LOG_HELLO");
const MAX_SIZE: (&str, &str) = ("io.hybrid-runtime.log.max-size", "HYBRID_LOG_MAX_SIZE");
const MAX_FILES: (&str, &str) = ("io.hybrid-runtime.log.max-files", "HYBRID_LOG_MAX_FILES");

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            source: Source::Auto,
            channel: None,
            hello: None,
            max_size: DEFAULT_MAX_SIZE,
            max_files: 1,
        }
    }
}

impl LogConfig {
    /// Read the settings; `annotation` looks one up by key, `env` is `process.env` (`K=V`).
    pub fn from_settings<'a>(
        annotation: &dyn Fn(&str) -> Option<&'a str>,
        env: &'a [String],
    ) -> Result<LogConfig> {
        let get = |key: (&'static str, &'static str)| -> Option<(&'static str, &'a str)> {
            // An empty value is no value, as for the core selectors.
            if let Some(v) = annotation(key.0).filter(|v| !v.is_empty()) {
                return Some((key.0, v));
            }
            env.iter()
                .rev()
                .find_map(|kv| kv.strip_prefix(key.1)?.strip_prefix('='))
                .filter(|v| !v.is_empty())
                .map(move |v| (key.1, v))
        };
        let mut cfg = LogConfig::default();
        if let Some((key, v)) = get(SOURCE) {
            cfg.source = match v.trim() {
                "auto" | "" => Source::Auto,
                "tty" => Source::Tty,
                "trace" => Source::Trace,
                "endpoint" => Source::Endpoint,
                "none" => Source::None,
                _ => {
                    return Err(invalid(key, v, "auto, tty, trace, endpoint or none"));
                }
            };
        }
        if let Some((key, v)) = get(CHANNEL) {
            cfg.channel = Some(channel(key, v.trim())?);
        }
        if let Some((_, v)) = get(HELLO) {
            cfg.hello = Some(v.to_owned());
        }
        if let Some((key, v)) = get(MAX_SIZE) {
            cfg.max_size = parse_size(v)
                .filter(|&n| n >= MIN_MAX_SIZE)
                .ok_or_else(|| invalid(key, v, "a size of at least 1k such as 256k or 4M"))?;
        }
        if let Some((key, v)) = get(MAX_FILES) {
            cfg.max_files = v
                .trim()
                .parse()
                .ok()
                .filter(|&n| n <= MAX_MAX_FILES)
                .ok_or_else(|| invalid(key, v, "a number of rotated files from 0 to 100"))?;
        }
        Ok(cfg)
    }
}

/// `4096`, `256k`, `1M`, `1G` (powers of 1024; case and a trailing `b`/`iB` ignored).
fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_lowercase();
    let v = v
        .strip_suffix("ib")
        .or_else(|| v.strip_suffix('b'))
        .unwrap_or(&v);
    let (digits, shift) = match v.as_bytes().last()? {
        b'k' => (&v[..v.len() - 1], 10),
        b'm' => (&v[..v.len() - 1], 20),
        b'g' => (&v[..v.len() - 1], 30),
        _ => (v, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// A channel, device or endpoint name: it must fit the kernel's rpmsg structures, which take
/// 31 bytes (an endpoint created with a longer name would not be the one asked for).
fn channel(key: &str, v: &str) -> Result<rpmsg::Name> {
    if v.is_empty() || v.contains('/') {
        return Err(invalid(key, v, "an rpmsg channel, device or endpoint name"));
    }
    rpmsg::Name::try_from(v).map_err(|_| {
        Error::new(format!(
            "invalid {key} \"{v}\": {} bytes long, but the kernel takes rpmsg channel and \
             endpoint names of at most {} bytes",
            v.len(),
            rpmsg::NAME_MAX
        ))
    })
}

fn invalid(key: &str, value: &str, expected: &str) -> Error {
    Error::new(format!("invalid {key} \"{value}\": expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(ann: &[(&str, &str)], env: &[&str]) -> Result<LogConfig> {
        let env: Vec<String> = env.iter().map(|s| s.to_string()).collect();
        let ann: Vec<(String, String)> = ann
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |k: &str| ann.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        LogConfig::from_settings(&lookup, &env)
    }

    #[test]
    fn defaults() {
        assert_eq!(cfg(&[], &["PATH=/bin"]).unwrap(), LogConfig::default());
    }

    #[test]
    fn annotations_are_read_and_win_over_env() {
        let c = cfg(
            &[
                ("io.hybrid-runtime.log.source", "endpoint"),
                ("io.hybrid-runtime.log.channel", "my-log"),
                ("io.hybrid-runtime.log.hello", "hi"),
                ("io.hybrid-runtime.log.max-size", "256k"),
                ("io.hybrid-runtime.log.max-files", "3"),
            ],
            &["HYBRID_LOG_SOURCE=trace", "HYBRID_LOG_MAX_SIZE=2M"],
        )
        .unwrap();
        assert_eq!(c.source, Source::Endpoint);
        assert_eq!(c.channel.as_deref(), Some("my-log"));
        assert_eq!(c.hello.as_deref(), Some("hi"));
        assert_eq!((c.max_size, c.max_files), (256 * 1024, 3));
    }

    #[test]
    fn empty_values_are_no_values() {
        let c = cfg(
            &[
                ("io.hybrid-runtime.log.source", ""),
                ("io.hybrid-runtime.log.channel", ""),
            ],
            &["HYBRID_LOG_SOURCE=trace", "HYBRID_LOG_HELLO="],
        )
        .unwrap();
        assert_eq!((c.source, c.channel, c.hello), (Source::Trace, None, None));
    }

    #[test]
    fn environment_is_the_fallback() {
        let c = cfg(&[], &["HYBRID_LOG_SOURCE=trace", "HYBRID_LOG_MAX_SIZE=2M"]).unwrap();
        assert_eq!((c.source, c.max_size), (Source::Trace, 2 << 20));
        assert_eq!(
            cfg(&[], &["HYBRID_LOG_SOURCE_X=tty"]).unwrap().source,
            Source::Auto
        );
    }

    #[test]
    fn sizes() {
        for (s, n) in [
            ("4096", 4096),
            ("1k", 1024),
            ("1M", 1 << 20),
            ("2MiB", 2 << 20),
            ("1g", 1 << 30),
        ] {
            assert_eq!(parse_size(s), Some(n), "{s}");
        }
        for s in ["", "k", "1x", "-1k", "99999999999999G"] {
            assert_eq!(parse_size(s), None, "{s}");
        }
    }

    #[test]
    fn bad_values_name_the_key_and_what_is_expected() {
        let e = cfg(&[("io.hybrid-runtime.log.source", "serial")], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid io.hybrid-runtime.log.source \"serial\": expected auto, tty, trace, endpoint or none"
        );
        let e = cfg(&[], &["HYBRID_LOG_MAX_SIZE=12"]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid HYBRID_LOG_MAX_SIZE \"12\""),
            "{e}"
        );
        assert!(cfg(&[("io.hybrid-runtime.log.max-files", "101")], &[]).is_err());
        assert!(cfg(&[("io.hybrid-runtime.log.channel", "a/b")], &[]).is_err());
    }

    #[test]
    fn channel_names_longer_than_the_kernel_takes_are_refused_not_cut() {
        let longest = "c".repeat(31);
        let c = cfg(&[("io.hybrid-runtime.log.channel", &longest)], &[]).unwrap();
        assert_eq!(c.channel.as_deref(), Some(longest.as_str()));
        let e = cfg(&[("io.hybrid-runtime.log.channel", &"c".repeat(32))], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "invalid io.hybrid-runtime.log.channel \"{}\": 32 bytes long, but the kernel \
                 takes rpmsg channel and endpoint names of at most 31 bytes",
                "c".repeat(32)
            )
        );
        // Bytes count, not characters: 16 two-byte characters are 32 bytes.
        let e = cfg(&[], &[&format!("HYBRID_LOG_CHANNEL={}", "é".repeat(16))]).unwrap_err();
        assert!(
            e.to_string().starts_with("invalid HYBRID_LOG_CHANNEL")
                && e.to_string().contains("32 bytes long"),
            "{e}"
        );
    }
}
