//! `start <CONTAINER_ID>`: the monitor starts the core; returns when the kernel accepted it.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::container::{control, Container};
use crate::error::{Error, Result};
use crate::oci::hooks;
use crate::oci::status::Status;
use crate::platform::{devicetree, remoteproc};

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
    check_same_core(g, &c)?;
    control::request_start(&c)?;
    // As the spec says: poststart hooks after the firmware runs, before `start` returns.
    if let Ok(state) = hooks::state_json(g, &c) {
        hooks::run_after(g, &c, "poststart", &state);
    }
    Ok(0)
}

/// The core must still be the processor `create` claimed: a driver unbound and bound again
/// (a module reload, a device-tree overlay) can register another processor under the same
/// `remoteprocN`, and the firmware is not for it.
fn check_same_core(g: &Global, c: &Container) -> Result<()> {
    let r = &c.record;
    let Some(core) = c.core(&g.host) else {
        return Ok(());
    };
    let name = remoteproc::read_attr(&core.dir.join("name")).unwrap_or_else(|_| r.core.clone());
    let node = devicetree::core_node(&g.host, &core.dir).unwrap_or_default();
    if name == r.core_name && node == r.core_node {
        return Ok(());
    }
    let shown = |name: &str, node: &str| {
        if node.is_empty() {
            name.to_string()
        } else {
            format!("{name}, device-tree node {node}")
        }
    };
    Err(Error::new(format!(
        "cannot start container {}: {} is now another processor ({}) than the one it was \
         created for ({}); the driver was reloaded or the device tree changed: delete the \
         container and create it again",
        r.id,
        r.core,
        shown(&name, &node),
        shown(&r.core_name, &r.core_node)
    )))
}
