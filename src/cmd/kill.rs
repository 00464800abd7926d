//! `kill [--all] <CONTAINER_ID> [SIGNAL]`: stop the firmware; the monitor ends with 128+SIGNAL.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::container::{stop, Container};
use crate::error::{Error, Result};
use crate::oci::status::Status;

/// Stop a container's firmware with a signal: TERM (default), INT, QUIT or KILL, by name (with
/// or without SIG, any case) or number.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// as runc: also succeed on a stopped container (a container has one process)
    #[argh(switch, short = 'a')]
    all: bool,
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    id: String,
    /// the signal (default TERM)
    #[argh(positional, arg_name = "SIGNAL")]
    signal: Option<String>,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("kill", args)? else {
        return Ok(0);
    };
    let sig = stop::parse_signal(args.signal.as_deref().unwrap_or("TERM"))?;
    let (c, _lock) = Container::load_locked(&g.root, &args.id)?;
    let seen = c.seen(&g.host);
    if !seen.status.can_kill() {
        // As runc: `kill --all` (what containerd sends when it removes a task) has nothing
        // left to signal in a stopped container and succeeds; a plain kill is refused.
        if args.all && seen.status == Status::Stopped {
            return Ok(0);
        }
        return Err(Error::new("container not running"));
    }
    stop::kill(&g.host, &c, sig, seen.monitor_lost)?;
    Ok(0)
}
