//! `ps [--format table|json] <CONTAINER_ID>`: the process that stands for the container.

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::container::Container;
use crate::error::{cat, Error, Result};
use crate::oci::status::Status;

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime ps [-f <format>] [--] <CONTAINER_ID>

Print the process that stands for a container (the monitor).

Positional Arguments:
  CONTAINER_ID      the container

Options:
  -f, --format      table (default) or json (an array of pids)
  --help, help      display usage information
"#,
    opts: &[Opt::new("-f", "--format", Takes::Text)],
    positionals: &["CONTAINER_ID"],
    required: 1,
};

struct Args {
    format: String,
    container_id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let a = Args {
        format: p.value(0).unwrap_or_else(|| String::from("table")),
        container_id: p.positional(0).unwrap_or_default(),
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
