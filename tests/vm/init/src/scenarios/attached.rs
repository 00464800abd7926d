//! A core that was already running when Linux booted (`attached`): what the
//! kernel allows, and how the runtime refuses or adopts it.
use std::time::Duration;

use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::{run, Bundle, CORE_KEY};
use crate::system;

const SECOND: Duration = Duration::from_secs(1);

fn r5() -> Result<Core, String> {
    Core::find("r5").map_err(|e| e.to_string())
}

pub fn kernel_detach_reattach(_: &Core) -> Verdict {
    let core = r5()?;
    ensure(core.state() == "attached", || {
        format!("r5 at boot: {}", core.state())
    })?;
    core.set_state("detach")
        .map_err(|e| format!("detach: {e}"))?;
    core.wait_state("detached", SECOND)?;
    core.set_state("start")
        .map_err(|e| format!("start on detached: {e}"))?;
    core.wait_state("attached", SECOND)?;
    Ok("attached at boot; detach → detached; start re-attaches".into())
}

pub fn refused_by_default(_: &Core) -> Verdict {
    let core = r5()?;
    ensure(core.state() == "attached", || {
        format!("r5 is {}", core.state())
    })?;
    let bundle = Bundle::new("attached", None, &[(CORE_KEY, "r5")])?;
    let out = bundle.create();
    ensure(out.code > 0, || {
        format!("create on an attached core exited {}", out.code)
    })?;
    ensure(!bundle.state_dir().exists(), || {
        "state dir left after a refused create".into()
    })?;
    ensure(core.state() == "attached", || {
        format!("r5 {} after a refused create", core.state())
    })?;
    Ok(out.stderr.trim().to_string())
}

/// create + start of a container adopting the attached r5; returns the monitor pid.
fn adopt(core: &Core, id: &str) -> Result<(Bundle, i32), String> {
    ensure(core.state() == "attached", || {
        format!("r5 is {}", core.state())
    })?;
    let annotations = [(CORE_KEY, "r5"), ("io.hybrid-runtime.if-running", "adopt")];
    let bundle = Bundle::new(id, None, &annotations)?;
    bundle.create().ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    run(&["start", id])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    let status = bundle.status()?;
    ensure(status == "running", || {
        format!("status of the adopted core: {status}")
    })?;
    ensure(core.state() == "attached", || {
        format!("r5 {} while adopted", core.state())
    })?;
    Ok((bundle, pid))
}

pub fn adopted(_: &Core) -> Verdict {
    let core = r5()?;
    // The monitor dies: the kernel detaches the core, it never stops it.
    let (_, pid) = adopt(&core, "adopt")?;
    system::kill(pid, libc::SIGKILL).map_err(|e| e.to_string())?;
    system::wait_pid(pid, 5 * SECOND);
    let after_kill = core.wait_state("detached", SECOND);
    run(&["delete", "--force", "adopt"])
        .ok()
        .map_err(|e| format!("delete --force: {e}"))?;
    after_kill?;
    // Re-attached and adopted again, then ended with kill TERM.
    core.set_state("start")
        .map_err(|e| format!("re-attach: {e}"))?;
    let (_, pid) = adopt(&core, "adopt2")?;
    run(&["kill", "adopt2", "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    let after_term = core.state();
    run(&["delete", "--force", "adopt2"])
        .ok()
        .map_err(|e| format!("delete --force: {e}"))?;
    ensure(code == Some(143), || {
        format!("monitor exit status {code:?}, expected 143")
    })?;
    if after_term != "offline" {
        let _ = core.set_state("stop");
    }
    // `kill` ends the firmware on request, adopted or not (README, exit codes).
    ensure(after_term == "offline", || {
        format!("r5 {after_term} after kill TERM")
    })?;
    Ok(
        "monitor SIGKILLed → detached by the kernel; kill TERM → 143, core stopped on request"
            .into(),
    )
}

pub fn needs_a_selector(_: &Core) -> Verdict {
    let bundle = Bundle::new(
        "which",
        Some(&crate::runtime::firmware("trace x\n")),
        &[(CORE_KEY, "")],
    )?;
    let out = bundle.create();
    let msg = out.stderr.trim().to_string();
    ensure(out.code > 0, || {
        format!("create with two cores and no selector exited {}", out.code)
    })?;
    ensure(msg.contains("m4") && msg.contains("r5"), || {
        format!("cores not listed: {msg}")
    })?;
    ensure(!bundle.state_dir().exists(), || {
        "state dir left after a refused create".into()
    })?;
    Ok(msg)
}
