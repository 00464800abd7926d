//! `ps [--format table|json] <CONTAINER_ID>`: the process that stands for the container.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::cmd::format::{print_compact, Format};
use crate::container::Container;
use crate::error::Result;
use crate::oci::status::Status;

/// Print the process that stands for a container (the monitor).
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// table (default) or json (an array of pids)
    #[argh(option, short = 'f')]
    format: Option<String>,
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("ps", args)? else {
        return Ok(0);
    };
    let format = Format::parse(args.format.as_deref(), "format")?;
    let c = Container::load(&g.root, &args.id)?;
    let live =
        c.monitor_alive() && matches!(c.seen(&g.host).status, Status::Created | Status::Running);
    let pids: Vec<i32> = if live { vec![c.record.pid] } else { Vec::new() };
    match format {
        Format::Json => print_compact(&pids)?,
        Format::Table => {
            println!("PID");
            for p in &pids {
                println!("{p}");
            }
        }
    }
    Ok(0)
}
