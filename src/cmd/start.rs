//! `start <CONTAINER_ID>`: the monitor starts the core; returns when the kernel accepted it.

use argh::FromArgs;

use crate::cli::{parse, Global};
use crate::container::{control, Container};
use crate::error::{cat, Error, Result};
use crate::oci::status::Status;

#[derive(FromArgs)]
/// Start the firmware of a created container.
struct Args {
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    container_id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(a) = parse::<Args>("start", args)? else {
        return Ok(0);
    };
    let (c, _lock) = Container::load_locked(&g.root, &a.container_id)?;
    let status = c.seen(&g.host).status;
    if !status.can_start() {
        let why = match status {
            Status::Running => " is already running",
            Status::Stopped => " has stopped: delete it and create it again",
            _ => " is still being created",
        };
        return Err(Error::new(cat(&[
            "cannot start container ",
            &a.container_id,
            ": it",
            why,
        ])));
    }
    control::request_start(&c)?;
    Ok(0)
}
