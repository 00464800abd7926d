//! `start <CONTAINER_ID>`: the monitor starts the core; returns when the kernel accepted it.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::container::{control, Container};
use crate::error::{Error, Result};
use crate::oci::status::Status;

/// Start the firmware of a created container.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(Args { id }) = cli::parse("start", args)? else {
        return Ok(0);
    };
    let (c, _lock) = Container::load_locked(&g.root, &id)?;
    let status = c.seen(&g.host).status;
    if !status.can_start() {
        let why = match status {
            Status::Running => "is already running",
            Status::Stopped => "has stopped: delete it and create it again",
            _ => "is still being created",
        };
        return Err(Error::new(format!("cannot start container {id}: it {why}")));
    }
    control::request_start(&c)?;
    Ok(0)
}
