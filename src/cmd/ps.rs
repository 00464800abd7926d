//! `ps [--format table|json] <CONTAINER_ID>`: the process that stands for the container.

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::cmd::format::{print_json_list, Format};
use crate::container::Container;
use crate::error::{cat, Result};
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

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let format = p.value(0);
    let c = Container::load(&g.root, &p.positional(0).unwrap_or_default())?;
    let live =
        c.monitor_alive() && matches!(c.seen(&g.host).status, Status::Created | Status::Running);
    let pids: Vec<i32> = if live { vec![c.record.pid] } else { Vec::new() };
    match Format::parse(format.as_deref(), "format")? {
        Format::Json => print_json_list(&pids, |w, p| {
            w.raw(&p.to_string());
        }),
        Format::Table => {
            let mut out = String::from("PID\n");
            for p in &pids {
                out.push_str(&cat(&[&p.to_string(), "\n"]));
            }
            print!("{out}");
        }
    }
    Ok(0)
}
