//! `list [--format table|json]`: every container under the state root.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::cmd::format::{print_compact, Format};
use crate::cmd::state;
use crate::container::{self, Container};
use crate::error::Result;

/// List containers.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// table (default) or json
    #[argh(option, short = 'f')]
    format: Option<String>,
    /// print only the ids
    #[argh(switch, short = 'q')]
    quiet: bool,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("list", args)? else {
        return Ok(0);
    };
    let format = Format::parse(args.format.as_deref(), "format")?;
    let mut reports = Vec::new();
    for id in container::ids(&g.root) {
        // A container deleted meanwhile, or one whose state cannot be read, is left out.
        if let Ok(c) = Container::load(&g.root, &id) {
            reports.push(state::of(g, &c)?);
        }
    }
    match format {
        Format::Json => {
            let states = reports
                .iter()
                .map(state::Report::to_json)
                .collect::<Result<Vec<_>>>()?;
            print_compact(&states)?;
        }
        Format::Table if args.quiet => {
            for r in &reports {
                println!("{}", r.state.id());
            }
        }
        Format::Table => {
            let mut out = format!(
                "{:<20}  {:<8}  {:<8}  {:<24}  CREATED\n",
                "ID", "PID", "STATUS", "CORE"
            );
            for r in &reports {
                let core = format!(
                    "{} ({})",
                    r.annotation("io.hybrid-runtime.core"),
                    r.annotation("io.hybrid-runtime.core-name")
                );
                out.push_str(&format!(
                    "{:<20}  {:<8}  {:<8}  {:<24}  {}\n",
                    r.state.id(),
                    r.state.pid().unwrap_or(0),
                    r.state.status().to_string(),
                    core,
                    r.created
                ));
            }
            print!("{out}");
        }
    }
    Ok(0)
}
