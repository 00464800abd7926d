//! `delete`: end what still runs (with `--force`), then remove every trace: the state dir, the
//! firmware copy and the core claim.

use crate::cli::Global;
use crate::error::{cat, Error, Result};
use crate::oci::status::Status;
use crate::platform::{claim, firmware};

use super::{stop, Container};

pub fn delete(g: &Global, c: &Container, force: bool) -> Result<()> {
    let seen = c.seen(&g.host);
    if !seen.status.can_delete() && !force {
        return Err(Error::new(cat(&[
            "container ",
            &c.record.id,
            " is running: stop it with kill first, or use delete --force",
        ])));
    }
    match seen.status {
        Status::Running | Status::Created if c.monitor_alive() => {
            stop::kill(&g.host, c, libc::SIGKILL, false)?;
        }
        Status::Running => stop::kill(&g.host, c, libc::SIGKILL, true)?,
        _ => {
            // A crashed core keeps our firmware loaded until it is stopped.
            if let Some(core) = c.core(&g.host) {
                let ours = !c.record.firmware.is_empty()
                    && core.firmware().is_ok_and(|f| f == c.record.firmware);
                if ours && core.state().is_ok_and(|s| s == "crashed") {
                    stop::clear_crash(&g.host, &core)?;
                }
            }
        }
    }
    if !c.record.firmware.is_empty() {
        firmware::unstage(&g.host, &c.record.id);
    }
    if c.record.guard == "cdev" {
        claim::clear_release_flag(&g.host, &c.record.core);
    }
    if !c.record.core.is_empty() {
        claim::remove_if_free(
            &g.host,
            &c.record.core,
            &g.root.to_string_lossy(),
            &c.record.id,
        );
    }
    std::fs::remove_dir_all(&c.dir)
        .map_err(|e| Error::io(&e, cat(&["removing ", &c.dir.to_string_lossy()])))
}
