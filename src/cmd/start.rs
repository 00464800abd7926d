//! `start <CONTAINER_ID>`: the monitor starts the core; returns when the kernel accepted it.

use crate::cli::{parse, Global, Spec};
use crate::container::{control, Container};
use crate::error::{cat, Error, Result};
use crate::oci::status::Status;

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime start [--] <CONTAINER_ID>

Start the firmware of a created container.

Positional Arguments:
  CONTAINER_ID      the container

Options:
  --help, help      display usage information
"#,
    opts: &[],
    positionals: &["CONTAINER_ID"],
    required: 1,
};

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let id = p.positional(0).unwrap_or_default();
    let (c, _lock) = Container::load_locked(&g.root, &id)?;
    let status = c.seen(&g.host).status;
    if !status.can_start() {
        let why = match status {
            Status::Running => " is already running",
            Status::Stopped => " has stopped: delete it and create it again",
            _ => " is still being created",
        };
        return Err(Error::new(cat(&[
            "cannot start container ",
            &id,
            ": it",
            why,
        ])));
    }
    control::request_start(&c)?;
    Ok(0)
}
