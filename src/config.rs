//! Defaults from `/etc/hybrid-runtime/config.json` (or the file named by `HYBRID_CONFIG`), for
//! engines that strip the environment. Precedence: option > environment > this file > built-in.

use crate::json::{self, At};

#[derive(Default)]
pub struct Config {
    pub root: Option<String>,
    pub host_root: Option<String>,
    pub log_format: Option<String>,
    /// The local image store (an OCI image layout directory).
    pub images: Option<String>,
    /// Cap on what one image may unpack to (bytes, or with K, M, G).
    pub image_max_size: Option<String>,
    /// Append every invocation (argv, working directory, exit code) to this file: shows what an
    /// engine calls.
    pub call_log: Option<String>,
}

/// The settings of the file, in the order `Config::parse` takes them.
const KEYS: [&str; 6] = [
    "root",
    "host_root",
    "log_format",
    "images",
    "image_max_size",
    "call_log",
];

impl Config {
    pub fn parse(data: &[u8]) -> Result<Config, String> {
        let doc = json::parse(data)?;
        let top = At::root(&doc);
        // One loop, one error path: every setting is an optional string.
        let mut values = Vec::new();
        for key in KEYS {
            values.push(top.get(key)?.opt_string()?);
        }
        let mut values = values.into_iter();
        let mut next = || values.next().flatten();
        Ok(Config {
            root: next(),
            host_root: next(),
            log_format: next(),
            images: next(),
            image_max_size: next(),
            call_log: next(),
        })
    }
}

pub const DEFAULT_PATH: &str = "/etc/hybrid-runtime/config.json";

/// A missing file is no config; an unreadable or malformed one is an error naming it.
pub fn load() -> crate::error::Result<Config> {
    let path = std::env::var("HYBRID_CONFIG").unwrap_or_else(|_| String::from(DEFAULT_PATH));
    match std::fs::read(&path) {
        Ok(bytes) => Config::parse(&bytes).map_err(|e| {
            crate::error::Error::new(crate::error::cat(&[
                "invalid config file ",
                &path,
                ": ",
                &e,
            ]))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(crate::error::Error::io(
            &e,
            crate::error::cat(&["reading config file ", &path]),
        )),
    }
}
