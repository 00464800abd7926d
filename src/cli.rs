//! Global options (runc's, parsed before the command) and the parser of the per-command options
//! that each `cmd/*.rs` declares as a `Spec`: `-x`/`--name` switches and options taking the next
//! argument, positionals, `--` and `--help`/`help`, with argh's messages.

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

/// What an option takes: nothing (a switch), any text, or a number that fits the type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    Nothing,
    Text,
    U32,
    Usize,
}

/// One option of a command: its short form ("" when none), its long form, what it takes.
pub struct Opt {
    pub short: &'static str,
    pub long: &'static str,
    pub takes: Takes,
}

impl Opt {
    pub const fn new(short: &'static str, long: &'static str, takes: Takes) -> Opt {
        Opt { short, long, takes }
    }
}

/// A command's options and positionals; the first `required` positionals must be given.
pub struct Spec {
    pub help: &'static str,
    pub opts: &'static [Opt],
    pub positionals: &'static [&'static str],
    pub required: usize,
}

/// The options given (by their index in `Spec::opts`; a switch holds "") and the positionals.
pub struct Parsed {
    values: Vec<Option<String>>,
    positionals: Vec<String>,
}

impl Parsed {
    pub fn switch(&self, opt: usize) -> bool {
        self.values[opt].is_some()
    }

    pub fn value(&mut self, opt: usize) -> Option<String> {
        self.values[opt].take()
    }

    /// Positional `n`; every required one is present.
    pub fn positional(&mut self, n: usize) -> Option<String> {
        self.positionals.get_mut(n).map(std::mem::take)
    }
}

fn usage(parts: &[&str]) -> Error {
    Error::usage(cat(parts))
}

/// Parse a command's options. `Ok(None)`: help was printed, exit 0.
pub fn parse(spec: &Spec, args: &[String]) -> Result<Option<Parsed>> {
    let mut values: Vec<Option<String>> = spec.opts.iter().map(|_| None).collect();
    let mut positionals = Vec::new();
    let (mut help, mut ended) = (false, false);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let arg = arg.as_str();
        if !ended && (arg == "--help" || arg == "help") {
            help = true;
            continue;
        }
        if !ended && arg.starts_with('-') {
            if arg == "--" {
                ended = true;
                continue;
            }
            if help {
                return Err(usage(&["Trailing arguments are not allowed after `help`."]));
            }
            let Some(n) = spec
                .opts
                .iter()
                .position(|o| o.long == arg || o.short == arg)
            else {
                return Err(usage(&["Unrecognized argument: ", arg]));
            };
            let takes = spec.opts[n].takes;
            if takes == Takes::Nothing {
                values[n] = Some(String::new());
                continue;
            }
            let Some(value) = rest.next() else {
                return Err(usage(&["No value provided for option '", arg, "'."]));
            };
            let bad = |why: &str| {
                usage(&[
                    "Error parsing option '",
                    arg,
                    "' with value '",
                    value,
                    "': ",
                    why,
                ])
            };
            if values[n].is_some() {
                return Err(bad("duplicate values provided"));
            }
            let checked = match takes {
                Takes::U32 => value.parse::<u32>().map(|_| ()),
                Takes::Usize => value.parse::<usize>().map(|_| ()),
                _ => Ok(()),
            };
            checked.map_err(|e| bad(&e.to_string()))?;
            values[n] = Some(value.clone());
            continue;
        }
        if positionals.len() == spec.positionals.len() {
            return Err(usage(&["Unrecognized argument: ", arg]));
        }
        positionals.push(arg.to_string());
    }
    if help {
        print!("{}", spec.help);
        return Ok(None);
    }
    if positionals.len() < spec.required {
        let mut msg = String::from("Required positional arguments not provided:");
        for name in &spec.positionals[positionals.len()..spec.required] {
            msg.push_str("\n    ");
            msg.push_str(name);
        }
        return Err(Error::usage(msg));
    }
    Ok(Some(Parsed {
        values,
        positionals,
    }))
}
