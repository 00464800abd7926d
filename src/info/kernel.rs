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

/// An rpmsg driver the runtime reads firmware output through.
struct RpmsgDriver {
    /// What it gives the runtime.
    carries: &'static str,
    /// Its module name (`/sys/module/<module>`), as `modprobe` takes it.
    module: &'static str,
    /// Its names on the rpmsg bus (`/sys/bus/rpmsg/drivers/<name>`): mainline's and vendors'.
    drivers: &'static [&'static str],
    option: &'static str,
}

const RPMSG_DRIVERS: [RpmsgDriver; 3] = [
    RpmsgDriver {
        carries: "tty channels (/dev/ttyRPMSGn), the usual firmware console",
        module: "rpmsg_tty",
        // NXP's kernels carry their own, imx_rpmsg_tty.
        drivers: &["rpmsg_tty", "imx_rpmsg_tty"],
        option: "CONFIG_RPMSG_TTY",
    },
    RpmsgDriver {
        carries: "raw endpoints (/dev/rpmsgN)",
        module: "rpmsg_char",
        drivers: &["rpmsg_chrdev"],
        option: "CONFIG_RPMSG_CHAR",
    },
    RpmsgDriver {
        carries: "named endpoints made through /dev/rpmsg_ctrlN",
        module: "rpmsg_ctrl",
        drivers: &["rpmsg_ctrl"],
        option: "CONFIG_RPMSG_CTRL",
    },
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
        .map(|d| {
            let name = format!("rpmsg {}", d.module);
            let bound = d
                .drivers
                .iter()
                .find(|n| bus.join("drivers").join(n).is_dir());
            let loaded = host.path("/sys/module").join(d.module).is_dir();
            match bound {
                Some(driver) => Check::ok(name, format!("{driver}: {}", d.carries)),
                None if loaded => Check::ok(name, format!("module loaded: {}", d.carries)),
                None => Check::warn(
                    name,
                    format!("missing: no {}", d.carries),
                    format!("enable {}, or load it: modprobe {}", d.option, d.module),
                ),
            }
        })
        .collect()
}
