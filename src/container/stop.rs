//! Ending a container from the outside (`kill`, `delete --force`): which signals end a firmware,
//! stopping a core and checking it really went offline, and stopping the monitor.

use crate::error::{Error, Result};
use crate::host::Host;
use crate::platform::remoteproc::Core;

use super::{process, Container};

/// Signals that end a firmware, by number and name.
pub const SIGNALS: &[(i32, &str)] = &[
    (libc::SIGTERM, "TERM"),
    (libc::SIGINT, "INT"),
    (libc::SIGQUIT, "QUIT"),
    (libc::SIGKILL, "KILL"),
];

pub fn signal_name(sig: i32) -> &'static str {
    SIGNALS
        .iter()
        .find(|(n, _)| *n == sig)
        .map(|(_, s)| *s)
        .unwrap_or("?")
}

/// `TERM`, `sigterm`, `SIGTERM` or `15`; refused unless it ends a firmware.
pub fn parse_signal(text: &str) -> Result<i32> {
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let digits = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
    let found = match name.parse::<i32>() {
        Ok(n) if digits => SIGNALS.iter().find(|(num, _)| *num == n),
        _ => SIGNALS.iter().find(|(_, s)| *s == name),
    };
    found.map(|(n, _)| *n).ok_or_else(|| {
        let shown: String = text
            .chars()
            .take(32)
            .flat_map(char::escape_default)
            .collect();
        Error::new(format!(
            "signal {shown} does not stop a firmware and has no other meaning here: use TERM, \
             INT, QUIT or KILL"
        ))
    })
}

/// Write `stop` through sysfs and check the core went offline.
pub fn stop_core(core: &Core) -> Result<()> {
    if let Err(e) = core.set_state("stop") {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        let state = core.state().unwrap_or_default();
        if state == "offline" {
            return Ok(());
        }
        return Err(Error::os(
            errno,
            format!("stopping core {} ({state})", core.label()),
        ));
    }
    still_running(core)
}

/// Bring a crashed core back offline. Kernels that refuse `stop` on a crashed core (`EINVAL`)
/// only leave that state through recovery: reload the (still staged) firmware, then stop.
pub fn clear_crash(host: &Host, core: &Core) -> Result<()> {
    if core.set_state("stop").is_ok() || core.state().is_ok_and(|s| s != "crashed") {
        return still_running(core);
    }
    let recovery = host.debugfs_remoteproc(&core.dev).join("recovery");
    crate::platform::remoteproc::write_attr(&recovery, "recover").map_err(|e| {
        Error::io(
            &e,
            format!(
                "core {} stays crashed: this kernel cannot stop a crashed core, and recovering \
                 it failed",
                core.label()
            ),
        )
    })?;
    let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while core.state().is_ok_and(|s| s == "crashed") && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    stop_core(core)
}

/// After a stop: a core still running means another reference holds it.
pub fn still_running(core: &Core) -> Result<()> {
    let state = core.state().unwrap_or_default();
    if state == "running" || state == "attached" {
        return Err(Error::new(format!(
            "core {} is still {state} after stop: someone else holds a reference to it (a start \
             through sysfs or /dev/remoteprocN outside this runtime); stop it there",
            core.label()
        )));
    }
    Ok(())
}

/// Send `sig` to the container: the monitor stops the core and ends with 128+sig. For KILL,
/// the exit is recorded, the monitor killed (with the device guard the kernel stops the core as
/// it dies), then whatever still runs is stopped here. Killed itself at any point, this leaves
/// a live monitor or a core that `state` reports as running: never a core nobody owns.
/// Waits until the monitor is gone.
pub fn kill(host: &Host, c: &Container, sig: i32, monitor_lost: bool) -> Result<()> {
    let (pid, start) = (c.record.pid, c.record.pid_start);
    let reason = format!("stopped by signal {}", signal_name(sig));
    if monitor_lost {
        if let Some(core) = c.core(host) {
            stop_core(&core)?;
        }
        return c.write_exit(128 + sig, &reason);
    }
    if sig == libc::SIGKILL {
        c.write_exit(128 + sig, &reason)?;
    }
    if process::alive(pid, start) {
        crate::sys::kill(pid, sig).map_err(|e| Error::io(&e, "signalling the monitor"))?;
    }
    if !process::wait_gone(pid, start, 10_000) {
        return Err(Error::new(format!(
            "the monitor (pid {pid}) did not end within 10 s of the signal"
        )));
    }
    if sig == libc::SIGKILL {
        if c.started() || !c.record.adopted {
            if let Some(core) = c.core(host) {
                let ours =
                    c.record.adopted || core.firmware().is_ok_and(|f| f == c.record.firmware);
                if ours && core.state().is_ok_and(|s| s != "offline") {
                    stop_core(&core)?;
                }
            }
        }
        if c.record.guard == "cdev" {
            crate::platform::claim::clear_release_flag(host, &c.record.core);
        }
    }
    Ok(())
}
