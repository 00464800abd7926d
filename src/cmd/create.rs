//! `create <IMAGE> <CONTAINER_ID>` or `create [--bundle DIR] [--pid-file F] <CONTAINER_ID>`:
//! the bundle (given, or made from the image), then a pod sandbox or a firmware container.

use std::path::PathBuf;

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::container::create::{self, Request};
use crate::container::statedir;
use crate::container::{dir_of, sandbox};
use crate::error::{Context, Error, Result};
use crate::image::Resolved;
use crate::oci::bundle::Bundle;

/// Create a container: `create <IMAGE> <CONTAINER_ID>`, or the OCI form `create [--bundle <DIR>]
/// <CONTAINER_ID>`. Returns when the container is ready to start. IMAGE is tried in this order:
/// a firmware ELF file; an OCI image layout (`oci:DIR[:NAME]`, or a directory holding
/// oci-layout and index.json); an archive (`oci-archive:FILE[:NAME]`, `docker-archive:FILE[:NAME]`,
/// or a tar recognised by its content); a name in the local image store (see `images`).
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// the OCI bundle directory (default: the working directory)
    #[argh(option, short = 'b')]
    bundle: Option<PathBuf>,
    /// write the pid of the process that stands for the container to this file
    #[argh(option)]
    pid_file: Option<PathBuf>,
    /// unix socket to send the container's terminal to (its master, with SCM_RIGHTS)
    #[argh(option)]
    console_socket: Option<PathBuf>,
    /// accepted for runc compatibility; no effect
    #[argh(switch)]
    no_pivot: bool,
    /// accepted for runc compatibility; no effect
    #[argh(switch)]
    no_new_keyring: bool,
    /// accepted for runc compatibility; no effect
    #[argh(option)]
    preserve_fds: Option<u32>,
    /// IMAGE (firmware file, image layout, archive or image name) or CONTAINER_ID
    #[argh(positional, arg_name = "IMAGE|CONTAINER_ID")]
    first: String,
    /// CONTAINER_ID when IMAGE is given
    #[argh(positional, arg_name = "CONTAINER_ID")]
    id: Option<String>,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("create", args)? else {
        return Ok(0);
    };
    // runc's options that mean nothing for a remote core: accepted, then ignored.
    let _ignored = (args.no_pivot, args.no_new_keyring, args.preserve_fds);
    let (image, id) = match args.id {
        Some(_) if args.bundle.is_some() => {
            return Err(Error::usage("give either an IMAGE or --bundle, not both"))
        }
        Some(id) => (Some(PathBuf::from(args.first)), id),
        None => (None, args.first),
    };
    let req = Request {
        id,
        image,
        bundle: args.bundle,
        pid_file: args.pid_file,
        console_socket: args.console_socket,
    };
    crate::oci::id::validate(&req.id)?;
    statedir::check_reserved(&g.host, &g.root, &req.id)?;
    let dir = dir_of(&g.root, &req.id);
    if dir.exists() {
        return Err(Error::new(format!("container {} already exists", req.id)));
    }
    // Everything that can be read and checked before anything changes on disk.
    let source = match &req.image {
        Some(image) => crate::image::resolve(g, image, &dir)?,
        None => {
            let b = match &req.bundle {
                Some(b) => b.clone(),
                None => std::env::current_dir().ctx("reading the working directory")?,
            };
            Resolved::Bundle(Box::new(Bundle::load(&b)?))
        }
    };
    // The container's directory, locked from now on until the container is complete.
    let (dir, lock) = statedir::create(&g.root, &req.id)?;
    let bundle = match source {
        Resolved::Bundle(bundle) => *bundle,
        Resolved::Image(image) => image.unpack_into(&dir.path)?,
    };
    if sandbox::is_sandbox(&bundle) {
        return sandbox::create(g, &req, &bundle, dir, lock);
    }
    create::create(g, &req, &bundle, dir, lock)
}
