//! Board presets (`--board`): the remote cores of real boards as their kernel
//! drivers register them, their device tree, the rpmsg channel names their tty
//! drivers bind and the vendors' example firmware announces. Every value and
//! where it comes from is listed in README.md, "Board presets".
use crate::config::{Detach, Kernel, ProcSpec, TtyDriver};

/// The boards `--board` knows.
pub const NAMES: [&str; 5] = ["imx8mp", "stm32mp157", "am62x", "zynqmp", "zynqmp-lockstep"];

/// What a preset sets.
pub struct Preset {
    pub model: String,
    pub compatible: Vec<String>,
    pub tty: TtyDriver,
    pub processors: Vec<ProcSpec>,
}

/// One core as its driver registers it.
struct Core {
    /// `rproc->name`, the sysfs `name` attribute.
    name: &'static str,
    /// Device-tree node.
    node: &'static str,
    compatible: &'static str,
    /// Platform device below which `remoteprocN` is registered.
    device: &'static str,
    /// Its driver; empty when the device is a child of the bound one (a core of a cluster).
    driver: &'static str,
    /// Default firmware name: the device tree's `firmware-name`, else `rproc-<name>-fw`.
    firmware: &'static str,
    detach: Detach,
    /// The driver leaves `recovery_disabled` false (the kernel's default).
    recovery: bool,
    /// Started by the boot loader on the board as shipped (the kernel attaches to it).
    attached: bool,
    /// What the vendor's example firmware announces: (channel, address).
    channels: &'static [(&'static str, u32)],
}

impl Core {
    fn spec(&self) -> ProcSpec {
        let mut p = ProcSpec::named(self.name);
        p.compatible = self.compatible.into();
        p.node = Some(self.node.into());
        p.device = Some(self.device.into());
        p.driver = Some(self.driver.into());
        p.firmware = self.firmware.into();
        p.detach = self.detach;
        p.recovery = self.recovery;
        p.attached = self.attached;
        p.channels = self
            .channels
            .iter()
            .map(|(name, addr)| (name.to_string(), *addr))
            .collect();
        p
    }
}

/// Mainline `rpmsg_tty`: channel `rpmsg-tty`, ttys numbered in order.
fn mainline_tty() -> TtyDriver {
    TtyDriver {
        driver: String::from("rpmsg_tty"),
        channels: vec!["rpmsg-tty".into()],
        named_by_address: false,
        hello: None,
    }
}

fn preset_of(model: &str, compatible: &[&str], tty: TtyDriver, cores: &[Core]) -> Preset {
    Preset {
        model: model.into(),
        compatible: compatible.iter().map(|c| c.to_string()).collect(),
        tty,
        processors: cores.iter().map(Core::spec).collect(),
    }
}

/// ZynqMP R5F core `n` (0 or 1) of the ZCU102, in split or lock-step mode.
fn zynqmp_r5(n: usize) -> Core {
    let (name, node, firmware) = [
        ("ffe00000.r5f", "r5f@0", "rproc-ffe00000.r5f-fw"),
        ("ffe90000.r5f", "r5f@1", "rproc-ffe90000.r5f-fw"),
    ][n];
    Core {
        name,
        node,
        compatible: "xlnx,zynqmp-r5f",
        device: name,
        driver: "",
        firmware,
        detach: Detach::Yes,
        recovery: true,
        attached: false,
        channels: &[("rpmsg-openamp-demo-channel", 0x400)],
    }
}

/// The preset `name` for `kernel` (which chooses the STM32MP1's vendor kernel and firmware
/// generation).
pub fn preset(name: &str, kernel: Kernel) -> Option<Preset> {
    let zcu102 = (
        "ZynqMP ZCU102 Rev1.0",
        &[
            "xlnx,zynqmp-zcu102-rev1.0",
            "xlnx,zynqmp-zcu102",
            "xlnx,zynqmp",
        ][..],
    );
    Some(match name {
        "imx8mp" => preset_of(
            "NXP i.MX8MPlus EVK board",
            &["fsl,imx8mp-evk", "fsl,imx8mp"],
            TtyDriver {
                // NXP's own driver, drivers/rpmsg/imx_rpmsg_tty.c in nxp-imx/linux-imx.
                driver: String::from("imx_rpmsg_tty"),
                channels: [
                    "rpmsg-virtual-tty-channel-1",
                    "rpmsg-virtual-tty-channel",
                    "rpmsg-openamp-demo-channel",
                ]
                .map(String::from)
                .to_vec(),
                named_by_address: true,
                hello: Some("hello world!".into()),
            },
            &[Core {
                name: "imx-rproc",
                node: "imx8mp-cm7",
                compatible: "fsl,imx8mn-cm7",
                device: "imx8mp-cm7",
                driver: "imx-rproc",
                firmware: "rproc-imx-rproc-fw",
                detach: Detach::Refused(libc::EOPNOTSUPP),
                recovery: true,
                attached: false,
                channels: &[("rpmsg-virtual-tty-channel-1", 30)],
            }],
        ),
        "stm32mp157" => {
            // OpenSTLinux 4.0 (Linux 5.15) moved to mainline rpmsg_tty and STM32CubeMP1 1.6.0
            // renamed its channel to match; the 5.10 generation has ST's own driver.
            let tty: &'static [(&'static str, u32)] = match kernel {
                Kernel::V5_10 => &[("rpmsg-tty-channel", 0x400)],
                Kernel::V6_1 => &[("rpmsg-tty", 0x400)],
            };
            preset_of(
                "STMicroelectronics STM32MP157C-DK2 Discovery Board",
                &["st,stm32mp157c-dk2", "st,stm32mp157"],
                TtyDriver {
                    channels: vec![tty[0].0.into()],
                    ..mainline_tty()
                },
                &[Core {
                    name: "m4",
                    node: "m4@10000000",
                    compatible: "st,stm32mp1-m4",
                    device: "10000000.m4",
                    driver: "stm32-rproc",
                    firmware: "rproc-m4-fw",
                    detach: Detach::Yes,
                    recovery: true,
                    attached: false,
                    channels: tty,
                }],
            )
        }
        "am62x" => preset_of(
            "Texas Instruments AM625 SK",
            &["ti,am625-sk", "ti,am625"],
            mainline_tty(),
            &[
                Core {
                    name: "5000000.m4fss",
                    node: "m4fss@5000000",
                    compatible: "ti,am64-m4fss",
                    device: "5000000.m4fss",
                    driver: "k3-m4-rproc",
                    firmware: "am62-mcu-m4f0_0-fw",
                    detach: Detach::Yes,
                    recovery: false,
                    attached: false,
                    channels: &[("ti.ipc4.ping-pong", 14)],
                },
                Core {
                    name: "78000000.r5f",
                    node: "r5f@78000000",
                    compatible: "ti,am62-r5f",
                    device: "78000000.r5f",
                    driver: "",
                    firmware: "am62-wkup-r5f0_0-fw",
                    detach: Detach::Yes,
                    recovery: false,
                    attached: true,
                    channels: &[("ti.ipc4.ping-pong", 14)],
                },
            ],
        ),
        "zynqmp" => preset_of(
            zcu102.0,
            zcu102.1,
            mainline_tty(),
            &[zynqmp_r5(0), zynqmp_r5(1)],
        ),
        "zynqmp-lockstep" => preset_of(zcu102.0, zcu102.1, mainline_tty(), &[zynqmp_r5(0)]),
        _ => return None,
    })
}
