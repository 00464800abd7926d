//! Global options (runc's, parsed by hand before the command) and the argh glue for the
//! per-command options that each `cmd/*.rs` declares.

use std::path::PathBuf;

use crate::error::{cat, Error, Result};
use crate::host::Host;

pub const DEFAULT_ROOT: &str = "/run/hybrid-runtime";

/// Options that apply to every command.
pub struct Global {
    /// Container state root (`--root`).
    pub root: PathBuf,
    /// Where errors are appended (`--log`), as JSON lines with `--log-format json`.
    pub log: Option<PathBuf>,
    pub log_json: bool,
    pub debug: bool,
    pub host: Host,
    /// Where every invocation is recorded (config file `call_log`), if anywhere.
    pub call_log: Option<PathBuf>,
}

#[derive(Default)]
struct Given {
    root: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    host_root: Option<String>,
    debug: bool,
}

/// Parse the global options at the front of `args`; returns them and the rest.
pub fn parse_global(args: &[String]) -> Result<(Global, &[String])> {
    let mut given = Given::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if !a.starts_with("--") {
            break;
        }
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (a, None),
        };
        let slot = match key {
            "--root" => Some(&mut given.root),
            "--log" => Some(&mut given.log),
            "--log-format" => Some(&mut given.log_format),
            "--host-root" => Some(&mut given.host_root),
            "--debug" => {
                given.debug = true;
                None
            }
            "--systemd-cgroup" | "--no-pivot" | "--no-new-keyring" => None,
            _ => break,
        };
        if let Some(slot) = slot {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => v.clone(),
                        None => return Err(Error::usage(cat(&["option ", key, " needs a value"]))),
                    }
                }
            };
            *slot = Some(value);
        }
        i += 1;
    }
    let config = crate::config::load()?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let root = given.root.or_else(|| env("HYBRID_ROOT")).or(config.root);
    let host_root = given
        .host_root
        .or_else(|| env("HYBRID_HOST_ROOT"))
        .or(config.host_root);
    let log_format = given.log_format.or(config.log_format);
    let log_json = match log_format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(Error::usage(cat(&[
                "unknown --log-format ",
                other,
                " (use text or json)",
            ])))
        }
    };
    let global = Global {
        root: PathBuf::from(root.as_deref().unwrap_or(DEFAULT_ROOT)),
        log: given.log.map(PathBuf::from),
        log_json,
        debug: given.debug,
        host: Host::new(std::path::Path::new(host_root.as_deref().unwrap_or("/"))),
        call_log: config.call_log.map(PathBuf::from),
    };
    Ok((global, &args[i..]))
}

/// Parse a command's options with argh. `Ok(None)`: help was printed, exit 0.
pub fn parse<T: argh::FromArgs>(cmd: &str, args: &[String]) -> Result<Option<T>> {
    let name = cat(&["hybrid-runtime ", cmd]);
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    match T::from_args(&[&name], &strs) {
        Ok(t) => Ok(Some(t)),
        Err(early) => match early.status {
            Ok(()) => {
                print!("{}", early.output);
                Ok(None)
            }
            Err(()) => Err(Error::usage(early.output.trim_end().to_string())),
        },
    }
}
