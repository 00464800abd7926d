//! `kill [--all] <CONTAINER_ID> [SIGNAL]`: stop the firmware; the monitor ends with 128+SIGNAL.

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::container::{stop, Container};
use crate::error::{Error, Result};
use crate::oci::status::Status;

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime kill [-a] [--] <CONTAINER_ID> [<SIGNAL>]

Stop a container's firmware with a signal: TERM (default), INT, QUIT or KILL, by name (with or without SIG, any case) or number.

Positional Arguments:
  CONTAINER_ID      the container
  SIGNAL            the signal (default TERM)

Options:
  -a, --all         as runc: also succeed on a stopped container (a container
                    has one process)
  --help, help      display usage information
"#,
    opts: &[Opt::new("-a", "--all", Takes::Nothing)],
    positionals: &["CONTAINER_ID", "SIGNAL"],
    required: 1,
};

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let all = p.switch(0);
    let id = p.positional(0).unwrap_or_default();
    let sig = stop::parse_signal(&p.positional(1).unwrap_or_else(|| String::from("TERM")))?;
    let (c, _lock) = Container::load_locked(&g.root, &id)?;
    let seen = c.seen(&g.host);
    if !seen.status.can_kill() {
        // As runc: `kill --all` (what containerd sends when it removes a task) has nothing
        // left to signal in a stopped container and succeeds; a plain kill is refused.
        if all && seen.status == Status::Stopped {
            return Ok(0);
        }
        return Err(Error::new("container not running"));
    }
    stop::kill(&g.host, &c, sig, seen.monitor_lost)?;
    Ok(0)
}
