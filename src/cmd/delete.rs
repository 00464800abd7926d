//! `delete [-f|--force] <CONTAINER_ID>`: remove a container and everything it left.

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::container::remove;
use crate::error::Result;

/// Delete a container: its state, its firmware copy and its core claim. A running container is
/// refused unless --force, which stops its core first.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// stop a running container first; an unknown id is not an error
    #[argh(switch, short = 'f')]
    force: bool,
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    id: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("delete", args)? else {
        return Ok(0);
    };
    remove::delete_by_id(g, &args.id, args.force)?;
    Ok(0)
}
