//! `create <IMAGE> <CONTAINER_ID>` or `create [--bundle DIR] [--pid-file F] <CONTAINER_ID>`.

use std::path::PathBuf;

use argh::FromArgs;

use crate::cli::{parse, Global};
use crate::container::create::{create, Request};
use crate::error::{Error, Result};

#[derive(FromArgs)]
/// Create a container: `create <IMAGE> <CONTAINER_ID>`, or the OCI form
/// `create [--bundle <DIR>] <CONTAINER_ID>`. Returns when the container is ready to start.
/// IMAGE is tried in this order: a firmware ELF file; an OCI image layout (`oci:DIR[:NAME]`, or
/// a directory holding oci-layout and index.json); an archive (`oci-archive:FILE[:NAME]`,
/// `docker-archive:FILE[:NAME]`, or a tar recognised by its content); a name in the local image
/// store (see `images`).
struct Args {
    /// the OCI bundle directory (default: the working directory)
    #[argh(option, short = 'b')]
    bundle: Option<String>,
    /// write the pid of the process that stands for the container to this file
    #[argh(option)]
    pid_file: Option<String>,
    /// unix socket to send the container's terminal to (its master, with SCM_RIGHTS)
    #[argh(option)]
    console_socket: Option<String>,
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
    second: Option<String>,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(a) = parse::<Args>("create", args)? else {
        return Ok(0);
    };
    let _ = (a.no_pivot, a.no_new_keyring, a.preserve_fds);
    let (image, id) = match a.second {
        Some(id) => {
            if a.bundle.is_some() {
                return Err(Error::usage("give either an IMAGE or --bundle, not both"));
            }
            (Some(PathBuf::from(a.first)), id)
        }
        None => (None, a.first),
    };
    let req = Request {
        id,
        image,
        bundle: a.bundle.map(PathBuf::from),
        pid_file: a.pid_file.map(PathBuf::from),
        console_socket: a.console_socket.map(PathBuf::from),
    };
    create(g, &req)
}
