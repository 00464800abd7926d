//! `delete [-f|--force] <CONTAINER_ID>`: remove a container and everything it left.

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::container::{dir_of, lock, remove, Container, STATE_FILE};
use crate::error::{Context, Result};

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime delete [-f] [--] <CONTAINER_ID>

Delete a container: its state, its firmware copy and its core claim. A running container is refused unless --force, which stops its core first.

Positional Arguments:
  CONTAINER_ID      the container

Options:
  -f, --force       stop a running container first; an unknown id is not an
                    error
  --help, help      display usage information
"#,
    opts: &[Opt::new("-f", "--force", Takes::Nothing)],
    positionals: &["CONTAINER_ID"],
    required: 1,
};

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let force = p.switch(0);
    let id = p.positional(0).unwrap_or_default();
    crate::oci::id::validate(&id)?;
    let dir = dir_of(&g.root, &id);
    if dir.is_dir() && !dir.join(STATE_FILE).exists() {
        // What a create that died before writing its record left behind.
        let _lock = lock(&dir)?;
        if !dir.join(STATE_FILE).exists() {
            crate::platform::firmware::unstage(&g.host, &id);
            crate::platform::claim::remove_all_of(&g.host, &g.root.to_string_lossy(), &id);
            return std::fs::remove_dir_all(&dir)
                .ctx_path("removing", &dir)
                .map(|_| 0);
        }
    }
    let (c, _lock) = match Container::load_locked(&g.root, &id) {
        Ok(c) => c,
        Err(_) if force && !dir.exists() => return Ok(0),
        Err(e) => return Err(e),
    };
    remove::delete(g, &c, force)?;
    Ok(0)
}
