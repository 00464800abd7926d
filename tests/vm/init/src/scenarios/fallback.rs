//! The sysfs fallback on a real kernel: with no /dev/remoteprocN node (as on
//! kernels without CONFIG_REMOTEPROC_CDEV) nothing ties the core to the monitor,
//! so `state` must tell the truth and `delete --force` must clean up.
use std::time::Duration;

use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::{firmware, json_field, run, Bundle};
use crate::system;

const SECOND: Duration = Duration::from_secs(1);

/// Hides the core's device node for the time of `f` (renamed, so that devtmpfs
/// still owns it and removes it with the device), then puts it back.
fn without_cdev(core: &Core, f: impl FnOnce() -> Verdict) -> Verdict {
    let hidden = std::path::PathBuf::from(format!("/dev/.{}-hidden", core.dev));
    std::fs::rename(core.cdev(), &hidden)
        .map_err(|e| format!("hiding {}: {e}", core.cdev().display()))?;
    let verdict = f();
    std::fs::rename(&hidden, core.cdev())
        .map_err(|e| format!("restoring {}: {e}", core.cdev().display()))?;
    verdict
}

pub fn monitor_sigkill_without_cdev(core: &Core) -> Verdict {
    without_cdev(core, || {
        let features = run(&["features"]);
        let guard = json_field(
            &features.stdout,
            &format!("io.hybrid-runtime.guard.{}", core.dev),
        );
        ensure(guard.as_deref() == Some("sysfs"), || {
            format!("features says guard {guard:?}")
        })?;
        let bundle = Bundle::new("nocdev", Some(&firmware("trace alive\n")), &[])?;
        bundle.create().ok().map_err(|e| format!("create: {e}"))?;
        let pid = bundle.monitor_pid()?;
        run(&["start", "nocdev"])
            .ok()
            .map_err(|e| format!("start: {e}"))?;
        ensure(core.state() == "running", || {
            format!("core {} after start", core.state())
        })?;
        let state = run(&["state", "nocdev"]);
        let guard = json_field(&state.stdout, "io.hybrid-runtime.guard");
        system::kill(pid, libc::SIGKILL).map_err(|e| e.to_string())?;
        system::wait_pid(pid, SECOND);
        std::thread::sleep(SECOND / 2);
        let after = core.state();
        let lost = run(&["state", "nocdev"]);
        let status = json_field(&lost.stdout, "status");
        let note = json_field(&lost.stdout, "io.hybrid-runtime.monitor");
        run(&["delete", "--force", "nocdev"])
            .ok()
            .map_err(|e| format!("delete --force: {e}"))?;
        ensure(guard.as_deref() == Some("sysfs"), || {
            format!("state says guard {guard:?}")
        })?;
        ensure(after == "running", || {
            format!("core {after} after the monitor died without a cdev")
        })?;
        ensure(status.as_deref() == Some("running"), || {
            format!("status {status:?} with the monitor lost")
        })?;
        ensure(note.is_some_and(|n| n.starts_with("lost")), || {
            format!("state: {}", lost.stdout.trim())
        })?;
        core.wait_state("offline", SECOND)?;
        ensure(!bundle.state_dir().exists(), || {
            "state dir left after delete --force".into()
        })?;
        Ok("guard sysfs; monitor SIGKILLed → core still running, state says monitor lost; delete --force → offline".into())
    })
}
