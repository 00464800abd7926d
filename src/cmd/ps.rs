//! `ps [--format table|json] <CONTAINER_ID>`: the process that stands for the container.

use argh::FromArgs;

use crate::cli::{parse, Global};
use crate::container::Container;
use crate::error::{cat, Error, Result};
use crate::oci::status::Status;

#[derive(FromArgs)]
/// Print the process that stands for a container (the monitor).
struct Args {
    /// table (default) or json (an array of pids)
    #[argh(option, short = 'f', default = "String::from(\"table\")")]
    format: String,
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    container_id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(a) = parse::<Args>("ps", args)? else {
        return Ok(0);
    };
    let c = Container::load(&g.root, &a.container_id)?;
    let live =
        c.monitor_alive() && matches!(c.seen(&g.host).status, Status::Created | Status::Running);
    let pids: Vec<i32> = if live { vec![c.record.pid] } else { Vec::new() };
    match a.format.as_str() {
        "json" => {
            let mut w = crate::json::write::Writer::new(false);
            w.list();
            for p in &pids {
                w.raw(&p.to_string());
            }
            w.end_list();
            println!("{}", w.out);
        }
        "table" => {
            let mut out = String::from("PID\n");
            for p in &pids {
                out.push_str(&cat(&[&p.to_string(), "\n"]));
            }
            print!("{out}");
        }
        other => {
            return Err(Error::usage(cat(&[
                "unknown format ",
                other,
                " (use table or json)",
            ])))
        }
    }
    Ok(0)
}
