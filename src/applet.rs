//! The static applet table and dispatch: `hybrid-<cmd>` as argv[0] or `hybrid-runtime <cmd>`,
//! plus `--install [-s] DIR`, `--list`, `--help` and `--version` of the multi-call binary.

use std::path::Path;

use crate::cli::{self, Global, Next};
use crate::cmd;
use crate::error::{Context, Error, Result};

type Handler = fn(&Global, &[String]) -> Result<i32>;

pub struct Applet {
    pub name: &'static str,
    pub summary: &'static str,
    pub run: Handler,
}

pub const APPLETS: &[Applet] = &[
    Applet {
        name: "create",
        summary: "create a container from a firmware file or an OCI bundle",
        run: cmd::create::run,
    },
    Applet {
        name: "start",
        summary: "start the firmware of a created container",
        run: cmd::start::run,
    },
    Applet {
        name: "state",
        summary: "print the OCI state of a container as JSON",
        run: cmd::state::run,
    },
    Applet {
        name: "kill",
        summary: "stop a container's firmware with a signal",
        run: cmd::kill::run,
    },
    Applet {
        name: "delete",
        summary: "delete a container and everything it left",
        run: cmd::delete::run,
    },
    Applet {
        name: "list",
        summary: "list containers",
        run: cmd::list::run,
    },
    Applet {
        name: "ps",
        summary: "print the process that stands for a container",
        run: cmd::ps::run,
    },
    Applet {
        name: "logs",
        summary: "print the firmware output of a container",
        run: cmd::logs::run,
    },
    Applet {
        name: "images",
        summary: "list the images in the local image store",
        run: cmd::images::run,
    },
    Applet {
        name: "info",
        summary: "check whether this board is ready for firmware containers",
        run: cmd::info::run,
    },
    Applet {
        name: "features",
        summary: "print what this runtime supports as JSON",
        run: cmd::features::run,
    },
    Applet {
        name: "pause",
        summary: "not supported for remote cores",
        run: cmd::unsupported::pause,
    },
    Applet {
        name: "resume",
        summary: "not supported for remote cores",
        run: cmd::unsupported::resume,
    },
    Applet {
        name: "exec",
        summary: "not supported for remote cores",
        run: cmd::unsupported::exec,
    },
    Applet {
        name: "update",
        summary: "not supported for remote cores",
        run: cmd::unsupported::update,
    },
    Applet {
        name: "checkpoint",
        summary: "not supported for remote cores",
        run: cmd::unsupported::checkpoint,
    },
];

const USAGE: &str = "Usage: hybrid-runtime [GLOBAL OPTIONS] <COMMAND> [ARGS]
       hybrid-<COMMAND> [GLOBAL OPTIONS] [ARGS]
       hybrid-runtime --install [-s] <DIR> | --list | --help | --version

OCI runtime for the microcontroller cores of hybrid SoCs (Linux remoteproc).

Global options:
  --root <DIR>          container state (default /run/hybrid-runtime; for users other
                        than root, $XDG_RUNTIME_DIR/hybrid-runtime when that is set)
  --log <FILE>          append errors to FILE
  --log-format <FMT>    text (default) or json
  --host-root <DIR>     resolve sysfs, /dev and firmware paths under DIR (default /)
  --debug               log debug records too
  --systemd-cgroup, --no-pivot, --no-new-keyring   accepted, no effect

Commands:
";

fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| a.name == name)
}

fn usage() -> String {
    let mut s = String::from(USAGE);
    for a in APPLETS {
        s.push_str(&format!("  {:<12}{}\n", a.name, a.summary));
    }
    s
}

/// Run the program; returns the global options (when parsed) and the outcome.
pub fn run(argv: &[String]) -> (Option<Global>, Result<i32>) {
    let argv0 = argv.first().map(String::as_str).unwrap_or("hybrid-runtime");
    let base = Path::new(argv0)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or(argv0);
    let rest = argv.get(1..).unwrap_or(&[]);
    match base.strip_prefix("hybrid-") {
        Some("runtime") | None => multi(rest),
        Some(cmd) => match find(cmd) {
            Some(applet) => with_global(rest, applet),
            None => (None, Err(Error::unknown_applet(base))),
        },
    }
}

fn multi(args: &[String]) -> (Option<Global>, Result<i32>) {
    match args.first().map(String::as_str) {
        None | Some("-h") | Some("--help") | Some("help") => {
            print!("{}", usage());
            return (None, Ok(0));
        }
        Some("-V") | Some("--version") => {
            println!("hybrid-runtime {}", env!("CARGO_PKG_VERSION"));
            return (None, Ok(0));
        }
        Some("--list") => {
            for a in APPLETS {
                println!("hybrid-{}", a.name);
            }
            return (None, Ok(0));
        }
        Some("--install") => return (None, install(&args[1..])),
        _ => {}
    }
    let (global, rest) = match cli::parse_global(args) {
        Ok((global, Next::Command(rest))) => (global, rest),
        Ok((global, Next::Help)) => {
            print!("{}", usage());
            return (Some(global), Ok(0));
        }
        Err(e) => return (None, Err(e)),
    };
    let outcome = match rest.first() {
        None => Err(Error::usage("no command given (try --help)")),
        Some(cmd) => match find(cmd) {
            Some(applet) => (applet.run)(&global, &rest[1..]),
            None => Err(Error::unknown_applet(cmd)),
        },
    };
    (Some(global), outcome)
}

/// `hybrid-<cmd> [GLOBAL OPTIONS] [ARGS]`: the global options, then the applet's own.
fn with_global(args: &[String], applet: &Applet) -> (Option<Global>, Result<i32>) {
    match cli::parse_global(args) {
        Ok((global, Next::Command(rest))) => {
            let outcome = (applet.run)(&global, rest);
            (Some(global), outcome)
        }
        Ok((global, Next::Help)) => {
            let outcome = (applet.run)(&global, &[String::from("--help")]);
            (Some(global), outcome)
        }
        Err(e) => (None, Err(e)),
    }
}

/// `--install [-s] DIR`: one link per applet to this executable (hard links, symlinks with -s).
fn install(args: &[String]) -> Result<i32> {
    let (symbolic, dir) = match args {
        [s, dir] if s == "-s" => (true, dir),
        [dir] => (false, dir),
        _ => return Err(Error::usage("usage: hybrid-runtime --install [-s] <DIR>")),
    };
    let exe = std::fs::read_link("/proc/self/exe").ctx("finding this executable")?;
    for a in APPLETS {
        let link = Path::new(dir).join(format!("hybrid-{}", a.name));
        let _ = std::fs::remove_file(&link);
        let made = if symbolic {
            std::os::unix::fs::symlink(&exe, &link)
        } else {
            std::fs::hard_link(&exe, &link)
        };
        made.ctx_path("creating", &link)?;
    }
    Ok(0)
}
