//! Defaults from `/etc/hybrid-runtime/config.json` (or the file named by `HYBRID_CONFIG`), for
//! engines that strip the environment. Precedence: option > environment > this file > built-in.
//! An unknown key is an error (a misspelt setting must not be ignored silently).

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
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

pub const DEFAULT_PATH: &str = "/etc/hybrid-runtime/config.json";

/// A missing file is no config; an unreadable or malformed one is an error naming it.
pub fn load() -> Result<Config> {
    let path = std::env::var("HYBRID_CONFIG").unwrap_or_else(|_| String::from(DEFAULT_PATH));
    match std::fs::read(&path) {
        Ok(bytes) => crate::document::parse(&bytes)
            .map_err(|e| Error::new(format!("invalid config file {path}: {}", e.msg))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(Error::io(&e, format!("reading config file {path}"))),
    }
}
