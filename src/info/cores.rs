//! The remote processors: each core's name, state, firmware, recovery and coredump settings,
//! whether the kernel can guard it (`/dev/remoteprocN`), and who uses it.

use crate::cli::Global;
use crate::platform::claim;
use crate::platform::remoteproc::{self, read_attr, Core};

use super::Check;

pub fn checks(g: &Global) -> Vec<Check> {
    let cores = match remoteproc::list(&g.host) {
        Ok(c) => c,
        Err(e) => {
            return vec![Check::fail(
                "remoteproc",
                format!("cannot list {}: {e}", g.host.remoteproc_class().display()),
                "check that sysfs is mounted on /sys",
            )]
        }
    };
    if cores.is_empty() {
        return vec![Check::fail(
            "remoteproc",
            format!("no remote processor in {}", g.host.remoteproc_class().display()),
            "enable CONFIG_REMOTEPROC and your SoC's remoteproc driver (e.g. CONFIG_IMX_REMOTEPROC, \
             CONFIG_STM32_RPROC, CONFIG_TI_K3_R5_REMOTEPROC, CONFIG_ZYNQMP_R5_REMOTEPROC) and \
             its device-tree node (status = \"okay\")",
        )];
    }
    cores.iter().map(|c| core(g, c)).collect()
}

fn core(g: &Global, c: &Core) -> Check {
    let attr = |name: &str| read_attr(&c.dir.join(name)).ok().filter(|v| !v.is_empty());
    let state = attr("state").unwrap_or_else(|| String::from("unreadable"));
    let recovery = attr("recovery")
        .or_else(|| read_attr(&g.host.debugfs_remoteproc(&c.dev).join("recovery")).ok())
        .unwrap_or_else(|| String::from("unknown"));
    let guarded = c.cdev_path(&g.host).is_some();
    let detail = format!(
        "{}: {state}, firmware {}, recovery {recovery}, coredump {}, guard {}{}",
        c.name,
        attr("firmware").unwrap_or_else(|| String::from("(none)")),
        attr("coredump").unwrap_or_else(|| String::from("unknown")),
        if guarded { "/dev/" } else { "sysfs" },
        if guarded { c.dev.as_str() } else { "" },
    );
    let name = c.dev.clone();
    if let Some(by) = claim::held_by(&g.host, &c.dev) {
        return Check::ok(name, format!("{detail}; used by container {by}"));
    }
    match state.as_str() {
        "offline" if guarded => Check::ok(name, detail),
        "offline" => Check::warn(
            name,
            format!("{detail}; no /dev/{}", c.dev),
            "enable CONFIG_REMOTEPROC_CDEV (Linux 5.11 or later): with it the kernel stops a \
             core whose container's monitor dies, however it dies",
        ),
        "attached" => Check::warn(
            name,
            format!("{detail}; started before Linux (the boot loader), the driver attached to it"),
            "a container refuses it unless io.hybrid-runtime.if-running is adopt (take it as it \
             runs) or stop (load the container's firmware)",
        ),
        "running" | "suspended" => Check::warn(
            name,
            format!("{detail}; not started by a container"),
            format!(
                "stop it (echo stop > /sys/class/remoteproc/{}/state) or let a container take \
                 it with io.hybrid-runtime.if-running=stop or adopt",
                c.dev
            ),
        ),
        "crashed" => Check::warn(
            name,
            detail,
            format!(
                "the firmware crashed and nobody stopped it: echo stop > \
                 /sys/class/remoteproc/{}/state",
                c.dev
            ),
        ),
        _ => Check::fail(
            name,
            detail,
            "the core cannot take a firmware in this state: check the driver's kernel log",
        ),
    }
}
