//! `kill [--all] <CONTAINER_ID> [SIGNAL]`: stop the firmware; the monitor ends with 128+SIGNAL.

use argh::FromArgs;

use crate::cli::{parse, Global};
use crate::container::{stop, Container};
use crate::error::{Error, Result};

#[derive(FromArgs)]
/// Stop a container's firmware with a signal: TERM (default), INT, QUIT or KILL, by name
/// (with or without SIG, any case) or number.
struct Args {
    /// accepted for runc compatibility (a container has one process)
    #[argh(switch, short = 'a')]
    all: bool,
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    container_id: String,
    /// the signal (default TERM)
    #[argh(positional, arg_name = "SIGNAL", default = "String::from(\"TERM\")")]
    signal: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(a) = parse::<Args>("kill", args)? else {
        return Ok(0);
    };
    let _ = a.all;
    let sig = stop::parse_signal(&a.signal)?;
    let (c, _lock) = Container::load_locked(&g.root, &a.container_id)?;
    let seen = c.seen(&g.host);
    if !seen.status.can_kill() {
        return Err(Error::new("container not running"));
    }
    stop::kill(&g.host, &c, sig, seen.monitor_lost)?;
    Ok(0)
}
