//! The kernel's side of a board: its release, the device tree that names the board, debugfs
//! (trace buffers), and the rpmsg drivers that carry firmware consoles.

use crate::host::Host;
use crate::platform::devicetree;

use super::Check;

pub fn release() -> Check {
    match std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        Ok(r) => Check::ok("kernel", format!("Linux {}", r.trim())),
        Err(e) => Check::warn(
            "kernel",
            format!("cannot read /proc/sys/kernel/osrelease: {e}"),
            "mount /proc",
        ),
    }
}

pub fn board(host: &Host) -> Check {
    let compatible = devicetree::compatible(host);
    match devicetree::model(host) {
        Some(model) => Check::ok(
            "board",
            format!("model \"{model}\", compatible {}", compatible.join(", ")),
        ),
        None => Check::warn(
            "board",
            format!("no device tree in {}", host.devicetree().display()),
            "images and bundles that name a board (io.hybrid-runtime.board) cannot match here; \
             nothing else needs it",
        ),
    }
}

pub fn debugfs(host: &Host) -> Check {
    let dir = host.path("/sys/kernel/debug/remoteproc");
    if dir.is_dir() {
        return Check::ok("debugfs", format!("{} is there", dir.display()));
    }
    Check::warn(
        "debugfs",
        "debugfs is not mounted (or has no remoteproc directory)",
        "trace-buffer logs and crash recovery need it: mount -t debugfs none /sys/kernel/debug \
         (the kernel needs CONFIG_DEBUG_FS)",
    )
}

/// (what it carries, module name, driver name on the rpmsg bus, kernel option).
const RPMSG_DRIVERS: [(&str, &str, &str, &str); 3] = [
    (
        "tty channels (/dev/ttyRPMSGn), the usual firmware console",
        "rpmsg_tty",
        "rpmsg_tty",
        "CONFIG_RPMSG_TTY",
    ),
    (
        "raw endpoints (/dev/rpmsgN)",
        "rpmsg_char",
        "rpmsg_chrdev",
        "CONFIG_RPMSG_CHAR",
    ),
    (
        "named endpoints made through /dev/rpmsg_ctrlN",
        "rpmsg_ctrl",
        "rpmsg_ctrl",
        "CONFIG_RPMSG_CTRL",
    ),
];

pub fn rpmsg(host: &Host) -> Vec<Check> {
    let bus = host.path("/sys/bus/rpmsg");
    if !bus.is_dir() {
        return vec![Check::warn(
            "rpmsg",
            "no rpmsg bus (/sys/bus/rpmsg)",
            "firmware consoles over rpmsg need CONFIG_RPMSG_VIRTIO (and the drivers below); \
             without it only the trace buffer is read",
        )];
    }
    RPMSG_DRIVERS
        .iter()
        .map(|(carries, module, driver, option)| {
            let name = format!("rpmsg {module}");
            let bound = bus.join("drivers").join(driver).is_dir();
            let loaded = host.path("/sys/module").join(module).is_dir();
            if bound || loaded {
                Check::ok(name, format!("present: {carries}"))
            } else {
                Check::warn(
                    name,
                    format!("missing: no {carries}"),
                    format!("enable {option}, or load it: modprobe {module}"),
                )
            }
        })
        .collect()
}
