//! `delete`: end what still runs (with `--force`), then remove every trace: the state dir, the
//! firmware copy and the core claim; then run the bundle's `poststop` hooks.

use crate::cli::Global;
use crate::error::{Error, Result};
use crate::oci::status::Status;
use crate::platform::{claim, firmware};

use super::{dir_of, lock, statedir, stop, Container, STATE_FILE};

/// Delete container `id`. With `force` a running one is stopped first and an unknown id is
/// not an error.
pub fn delete_by_id(g: &Global, id: &str, force: bool) -> Result<()> {
    crate::oci::id::validate(id)?;
    let dir = dir_of(&g.root, id);
    if dir.is_dir() && !dir.join(STATE_FILE).exists() {
        // What a create that died before writing its record left behind (a create still at
        // work holds the lock: this waits for it).
        let _lock = lock(&dir)?;
        if !dir.join(STATE_FILE).exists() {
            firmware::unstage(&g.host, id);
            claim::remove_all_of(&g.host, &g.root.to_string_lossy(), id);
            return statedir::remove(&dir);
        }
    }
    let (c, _lock) = match Container::load_locked(&g.root, id) {
        Ok(c) => c,
        Err(_) if force && !dir.exists() => return Ok(()),
        Err(e) => return Err(e),
    };
    delete(g, &c, force)
}

pub fn delete(g: &Global, c: &Container, force: bool) -> Result<()> {
    let seen = c.seen(&g.host);
    if !seen.status.can_delete() && !force {
        return Err(Error::new(format!(
            "container {} is running: stop it with kill first, or use delete --force",
            c.record.id
        )));
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
    // The state the poststop hooks receive: the container as it ends.
    let last_state = crate::oci::hooks::state_json(g, c).unwrap_or_default();
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
    statedir::remove(&c.dir)?;
    crate::oci::hooks::run_after(g, c, "poststop", &last_state);
    Ok(())
}
