//! The command line around argh: runc's global options (parsed before the command, with their
//! defaults from the environment and the config file), and the glue that hands a command's own
//! arguments to its argh struct after splitting runc's `--opt=value` form.

use std::path::{Path, PathBuf};

use argh::FromArgs;

use crate::error::{Error, Result};
use crate::host::Host;

/// The state root when nothing else is given and the caller is root.
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
    /// The config file's image settings (`images`, `image_max_size`), read once with the rest.
    pub images: Option<String>,
    pub image_max_size: Option<String>,
}

/// What the global options at the front of the command line said.
#[derive(Default)]
struct Given {
    root: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    host_root: Option<String>,
    debug: bool,
}

/// Where parsing the global options stopped.
pub enum Next<'a> {
    /// The command and its arguments.
    Command(&'a [String]),
    /// `--help` or `-h` where the command was expected.
    Help,
}

/// Parse the global options at the front of `args`; returns them and what follows.
pub fn parse_global(args: &[String]) -> Result<(Global, Next<'_>)> {
    let mut given = Given::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--help" || arg == "-h" {
            return Ok((resolve(given)?, Next::Help));
        }
        if !arg.starts_with("--") {
            break;
        }
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let slot = match key {
            "--root" => &mut given.root,
            "--log" => &mut given.log,
            "--log-format" => &mut given.log_format,
            "--host-root" => &mut given.host_root,
            "--debug" => {
                given.debug = true;
                i += 1;
                continue;
            }
            "--systemd-cgroup" | "--no-pivot" | "--no-new-keyring" => {
                i += 1;
                continue;
            }
            _ => break,
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| Error::usage(format!("option {key} needs a value")))?
            }
        };
        *slot = Some(value);
        i += 1;
    }
    Ok((resolve(given)?, Next::Command(&args[i..])))
}

/// Fill in what the options left out: environment, then config file, then built-in defaults.
fn resolve(given: Given) -> Result<Global> {
    let config = crate::config::load()?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let root = given
        .root
        .or_else(|| env("HYBRID_ROOT"))
        .or(config.root)
        .map(PathBuf::from)
        .unwrap_or_else(default_root);
    let host_root = given
        .host_root
        .or_else(|| env("HYBRID_HOST_ROOT"))
        .or(config.host_root);
    let log_json = match given.log_format.or(config.log_format).as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(Error::usage(format!(
                "unknown --log-format {other} (use text or json)"
            )))
        }
    };
    Ok(Global {
        root,
        log: given.log.map(PathBuf::from),
        log_json,
        debug: given.debug,
        host: Host::new(Path::new(host_root.as_deref().unwrap_or("/"))),
        call_log: config.call_log.map(PathBuf::from),
        images: config.images,
        image_max_size: config.image_max_size,
    })
}

/// As runc: root's containers live in `/run/hybrid-runtime`; another user's in
/// `$XDG_RUNTIME_DIR/hybrid-runtime` (a directory of their own) when that is set.
fn default_root() -> PathBuf {
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty());
    match runtime_dir {
        Some(dir) if crate::sys::euid() != 0 => Path::new(&dir).join("hybrid-runtime"),
        _ => PathBuf::from(DEFAULT_ROOT),
    }
}

/// runc accepts `--opt=value` everywhere and engines send it (`list --format=json`): split it
/// into `--opt value` before argh, which takes only the second form. Nothing after `--` is
/// touched.
pub fn split_inline_values(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut options_ended = false;
    for arg in args {
        if arg == "--" {
            options_ended = true;
        }
        match arg.split_once('=') {
            Some((key, value)) if !options_ended && key.starts_with("--") && key.len() > 2 => {
                out.push(key.to_string());
                out.push(value.to_string());
            }
            _ => out.push(arg.clone()),
        }
    }
    out
}

/// Parse a command's arguments into its argh struct. `Ok(None)`: its help was printed.
pub fn parse<T: FromArgs>(command: &str, args: &[String]) -> Result<Option<T>> {
    let args = split_inline_values(args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let name = format!("hybrid-runtime {command}");
    match T::from_args(&[&name], &args) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(exit) if exit.status.is_ok() => {
            print!("{}", exit.output);
            Ok(None)
        }
        Err(exit) => Err(Error::usage(exit.output.trim_end())),
    }
}

#[cfg(test)]
mod tests {
    use super::split_inline_values;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_runc_inline_values_up_to_the_end_of_options() {
        assert_eq!(
            split_inline_values(&strings(&["--format=json", "-q", "--", "--x=y"])),
            strings(&["--format", "json", "-q", "--", "--x=y"])
        );
        assert_eq!(
            split_inline_values(&strings(&["--root=", "a=b"])),
            strings(&["--root", "", "a=b"])
        );
    }
}
