//! `create <IMAGE> <CONTAINER_ID>` or `create [--bundle DIR] [--pid-file F] <CONTAINER_ID>`.

use std::path::PathBuf;

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::container::create::{create, Request};
use crate::error::{Error, Result};

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime create [-b <bundle>] [--pid-file <pid-file>] [--console-socket <console-socket>] [--no-pivot] [--no-new-keyring] [--preserve-fds <preserve-fds>] [--] <IMAGE|CONTAINER_ID> [<CONTAINER_ID>]

Create a container: `create <IMAGE> <CONTAINER_ID>`, or the OCI form `create [--bundle <DIR>] <CONTAINER_ID>`. Returns when the container is ready to start. IMAGE is tried in this order: a firmware ELF file; an OCI image layout (`oci:DIR[:NAME]`, or a directory holding oci-layout and index.json); an archive (`oci-archive:FILE[:NAME]`, `docker-archive:FILE[:NAME]`, or a tar recognised by its content); a name in the local image store (see `images`).

Positional Arguments:
  IMAGE|CONTAINER_ID
                    IMAGE (firmware file, image layout, archive or image name)
                    or CONTAINER_ID
  CONTAINER_ID      CONTAINER_ID when IMAGE is given

Options:
  -b, --bundle      the OCI bundle directory (default: the working directory)
  --pid-file        write the pid of the process that stands for the container
                    to this file
  --console-socket  unix socket to send the container's terminal to (its master,
                    with SCM_RIGHTS)
  --no-pivot        accepted for runc compatibility; no effect
  --no-new-keyring  accepted for runc compatibility; no effect
  --preserve-fds    accepted for runc compatibility; no effect
  --help, help      display usage information
"#,
    opts: &[
        Opt::new("-b", "--bundle", Takes::Text),
        Opt::new("", "--pid-file", Takes::Text),
        Opt::new("", "--console-socket", Takes::Text),
        Opt::new("", "--no-pivot", Takes::Nothing),
        Opt::new("", "--no-new-keyring", Takes::Nothing),
        Opt::new("", "--preserve-fds", Takes::U32),
    ],
    positionals: &["IMAGE|CONTAINER_ID", "CONTAINER_ID"],
    required: 1,
};

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let bundle = p.value(0).map(PathBuf::from);
    let first = p.positional(0).unwrap_or_default();
    let (image, id) = match p.positional(1) {
        Some(id) => {
            if bundle.is_some() {
                return Err(Error::usage("give either an IMAGE or --bundle, not both"));
            }
            (Some(PathBuf::from(first)), id)
        }
        None => (None, first),
    };
    let req = Request {
        id,
        image,
        bundle,
        pid_file: p.value(1).map(PathBuf::from),
        console_socket: p.value(2).map(PathBuf::from),
    };
    create(g, &req)
}
