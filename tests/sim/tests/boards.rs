//! Board presets (`--board`): each board's cores, device tree, default firmware,
//! recovery and detach, the cores attached at boot, and the rpmsg names and tty
//! numbering of its kernel; combined with the other options.
mod common;
use common::*;
use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hybrid-sim");

/// What one core of a board shows.
struct Core {
    name: &'static str,
    compatible: &'static str,
    device: &'static str,
    driver: Option<&'static str>,
    firmware: &'static str,
    recovery: &'static str,
    state: &'static str,
}

fn nul_list(sim: &Sim, rel: &str) -> Vec<String> {
    std::fs::read(sim.path(rel))
        .unwrap()
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn check_board(args: &[&str], model: &str, compatible: &[&str], cores: &[Core]) {
    let sim = Sim::start(args).unwrap();
    assert_eq!(
        nul_list(&sim, "sys/firmware/devicetree/base/model"),
        [model]
    );
    assert_eq!(
        nul_list(&sim, "sys/firmware/devicetree/base/compatible"),
        compatible
    );
    let count = std::fs::read_dir(sim.path("sys/class/remoteproc"))
        .unwrap()
        .count();
    assert_eq!(count, cores.len(), "{args:?}");
    for (n, c) in cores.iter().enumerate() {
        let dir = format!("sys/class/remoteproc/remoteproc{n}");
        let attr = |f: &str| sim.read(&format!("{dir}/{f}")).unwrap();
        assert_eq!(attr("name"), format!("{}\n", c.name), "{args:?}");
        assert_eq!(attr("firmware"), format!("{}\n", c.firmware), "{}", c.name);
        assert_eq!(attr("recovery"), format!("{}\n", c.recovery), "{}", c.name);
        assert_eq!(sim.state(n as u32), c.state, "{}", c.name);
        assert_eq!(
            nul_list(&sim, &format!("{dir}/device/of_node/compatible")),
            [c.compatible]
        );
        let real = std::fs::canonicalize(sim.path(&dir)).unwrap();
        assert!(
            real.ends_with(format!(
                "devices/platform/{}/remoteproc/remoteproc{n}",
                c.device
            )),
            "{real:?}"
        );
        let driver = std::fs::read_link(sim.path(&format!("{dir}/device/driver"))).ok();
        assert_eq!(
            driver.as_ref().and_then(|d| d.file_name()),
            c.driver.map(std::ffi::OsStr::new),
            "{}",
            c.name
        );
        assert_eq!(
            sim.read(&format!("sys/kernel/debug/remoteproc/remoteproc{n}/name"))
                .unwrap(),
            format!("{}\n", c.name)
        );
    }
}

#[test]
fn imx8mp_evk() {
    check_board(
        &["--board", "imx8mp"],
        "NXP i.MX8MPlus EVK board",
        &["fsl,imx8mp-evk", "fsl,imx8mp"],
        &[Core {
            name: "imx-rproc",
            compatible: "fsl,imx8mn-cm7",
            device: "imx8mp-cm7",
            driver: Some("imx-rproc"),
            firmware: "rproc-imx-rproc-fw",
            recovery: "enabled",
            state: "offline",
        }],
    );
}

#[test]
fn stm32mp157c_dk2() {
    check_board(
        &["--board", "stm32mp157"],
        "STMicroelectronics STM32MP157C-DK2 Discovery Board",
        &["st,stm32mp157c-dk2", "st,stm32mp157"],
        &[Core {
            name: "m4",
            compatible: "st,stm32mp1-m4",
            device: "10000000.m4",
            driver: Some("stm32-rproc"),
            firmware: "rproc-m4-fw",
            recovery: "enabled",
            state: "offline",
        }],
    );
}

#[test]
fn am625_sk_with_its_device_manager_r5f_attached() {
    let m4f = || Core {
        name: "5000000.m4fss",
        compatible: "ti,am64-m4fss",
        device: "5000000.m4fss",
        driver: Some("k3-m4-rproc"),
        firmware: "am62-mcu-m4f0_0-fw",
        recovery: "disabled",
        state: "offline",
    };
    let r5f = |state| Core {
        name: "78000000.r5f",
        compatible: "ti,am62-r5f",
        device: "78000000.r5f",
        driver: None,
        firmware: "am62-wkup-r5f0_0-fw",
        recovery: "disabled",
        state,
    };
    let (model, compatible) = ("Texas Instruments AM625 SK", &["ti,am625-sk", "ti,am625"]);
    check_board(
        &["--board", "am62x"],
        model,
        compatible,
        &[m4f(), r5f("attached")],
    );
    check_board(
        &["--board", "am62x", "--attached", "none"],
        model,
        compatible,
        &[m4f(), r5f("offline")],
    );
}

#[test]
fn zcu102_split_and_lockstep() {
    let r5 = |name, firmware| Core {
        name,
        compatible: "xlnx,zynqmp-r5f",
        device: name,
        driver: None,
        firmware,
        recovery: "enabled",
        state: "offline",
    };
    let model = "ZynqMP ZCU102 Rev1.0";
    let compatible = &[
        "xlnx,zynqmp-zcu102-rev1.0",
        "xlnx,zynqmp-zcu102",
        "xlnx,zynqmp",
    ];
    check_board(
        &["--board", "zynqmp"],
        model,
        compatible,
        &[
            r5("ffe00000.r5f", "rproc-ffe00000.r5f-fw"),
            r5("ffe90000.r5f", "rproc-ffe90000.r5f-fw"),
        ],
    );
    check_board(
        &["--board", "zynqmp-lockstep"],
        model,
        compatible,
        &[r5("ffe00000.r5f", "rproc-ffe00000.r5f-fw")],
    );
}

#[test]
fn attached_cores_are_chosen_by_name_or_index() {
    let sim = Sim::start(&["--board", "zynqmp", "--attached", "1"]).unwrap();
    assert_eq!(
        (sim.state(0), sim.state(1)),
        ("offline".into(), "attached".into())
    );
    assert_eq!(sim.power(1), 1);
    drop(sim);
    let sim = Sim::start(&["--board", "zynqmp", "--attached", "all"]).unwrap();
    assert_eq!(
        (sim.state(0), sim.state(1)),
        ("attached".into(), "attached".into())
    );
    drop(sim);
    let sim = Sim::start(&["--board", "imx8mp", "--attached", "imx-rproc"]).unwrap();
    assert_eq!(sim.state(0), "attached");
    let log = kmsg_lines(&sim);
    assert!(
        log.contains(&"remoteproc remoteproc0: remote processor imx-rproc is now attached".into()),
        "{log:?}"
    );
}

#[test]
fn imx8mp_cannot_detach_an_attached_core() {
    let sim = Sim::start(&["--board", "imx8mp", "--attached", "all"]).unwrap();
    let e = errno(sim.write(&format!("{RP0}/state"), "detach"));
    assert_eq!(e, libc::EOPNOTSUPP);
    assert_eq!(sim.state(0), "attached");
    assert_eq!(sim.power(0), 1);
    assert!(kmsg_lines(&sim)
        .contains(&"remoteproc remoteproc0: can't detach from rproc: -95".to_string()));
    // The other boards' drivers detach.
    let sim = Sim::start(&["--board", "stm32mp157", "--attached", "all"]).unwrap();
    sim.write(&format!("{RP0}/state"), "detach").unwrap();
    assert_eq!(sim.state(0), "detached");
}

/// Starts core 0 of `board` with an rpmsg firmware running `script`; returns the
/// simulator and the channel directories below `sys/bus/rpmsg/devices`.
fn rpmsg_board(args: &[&str], firmware: &str, script: &str) -> (Sim, Vec<String>) {
    let sim = Sim::start(args).unwrap();
    sim.install_firmware(firmware, &Firmware::new().with_rpmsg().script(script));
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    let mut devices: Vec<String> = std::fs::read_dir(sim.path("sys/bus/rpmsg/devices"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    devices.sort();
    (sim, devices)
}

#[test]
fn nxp_tty_is_named_after_the_firmware_address_and_greets_it() {
    let (sim, devices) = rpmsg_board(
        &["--board", "imx8mp"],
        "rproc-imx-rproc-fw",
        "wait-rx\ntty got it",
    );
    assert_eq!(
        devices,
        [
            "virtio0.rpmsg-virtual-tty-channel-1.-1.30",
            "virtio0.rpmsg_ctrl.0.0",
            "virtio0.rpmsg_ns.53.53",
        ]
    );
    let chan = "sys/bus/rpmsg/devices/virtio0.rpmsg-virtual-tty-channel-1.-1.30";
    assert!(sim.path(&format!("{chan}/tty/ttyRPMSG30")).is_dir());
    let tty = Fd::open(&sim.path("dev/ttyRPMSG30"), libc::O_RDWR | libc::O_NOCTTY).unwrap();
    // The kernel's "hello world!" ended the firmware's wait.
    assert!(eventually(|| sim
        .read("sim/remoteproc0/rx")
        .unwrap()
        .contains("rpmsg-virtual-tty-channel-1 hello world!")));
    assert_ne!(tty.poll(libc::POLLIN, 5000), 0);
    assert_eq!(tty.read(64).unwrap(), b"got it\n");
}

#[test]
fn stm32mp1_channel_follows_the_kernel_generation() {
    for (kernel, name, tty) in [
        ("6.1", "rpmsg-tty", "ttyRPMSG0"),
        ("5.10", "rpmsg-tty-channel", "ttyRPMSG0"),
    ] {
        let (sim, devices) = rpmsg_board(
            &["--board", "stm32mp157", "--kernel", kernel],
            "rproc-m4-fw",
            "",
        );
        let chan = format!("virtio0.{name}.-1.1024");
        assert!(devices.contains(&chan), "{kernel}: {devices:?}");
        assert!(sim
            .path(&format!("sys/bus/rpmsg/devices/{chan}/tty/{tty}"))
            .is_dir());
        // A channel named after the other generation gets no tty.
        drop(sim);
        let other = if kernel == "6.1" {
            "rpmsg-tty-channel"
        } else {
            "rpmsg-tty"
        };
        let (sim, devices) = rpmsg_board(
            &["--board", "stm32mp157", "--kernel", kernel],
            "rproc-m4-fw",
            &format!("announce {other}"),
        );
        let chan = format!("virtio0.{other}.-1.1024");
        assert!(devices.contains(&chan), "{devices:?}");
        assert!(!sim
            .path(&format!("sys/bus/rpmsg/devices/{chan}/tty"))
            .exists());
    }
}

#[test]
fn vendor_example_channels_are_announced_by_default() {
    for (args, firmware, chan) in [
        (
            &["--board", "am62x"][..],
            "am62-mcu-m4f0_0-fw",
            "virtio0.ti.ipc4.ping-pong.-1.14",
        ),
        (
            &["--board", "zynqmp"][..],
            "rproc-ffe00000.r5f-fw",
            "virtio0.rpmsg-openamp-demo-channel.-1.1024",
        ),
    ] {
        let (sim, devices) = rpmsg_board(args, firmware, "");
        assert!(devices.contains(&chan.to_string()), "{args:?}: {devices:?}");
        assert!(!sim
            .path(&format!("sys/bus/rpmsg/devices/{chan}/tty"))
            .exists());
        // The mainline tty driver binds rpmsg-tty on these boards.
        drop(sim);
        let (sim, devices) = rpmsg_board(args, firmware, "announce rpmsg-tty 0x401");
        assert_eq!(devices[0], "virtio0.rpmsg-tty.-1.1025", "{args:?}");
        assert!(sim
            .path("sys/bus/rpmsg/devices/virtio0.rpmsg-tty.-1.1025/tty/ttyRPMSG0")
            .is_dir());
    }
}

#[test]
fn presets_combine_with_the_other_options() {
    let sim = Sim::start(&[
        "--board",
        "imx8mp",
        "--kernel",
        "5.10",
        "--model",
        "Custom i.MX8MP board",
    ])
    .unwrap();
    assert_eq!(
        nul_list(&sim, "sys/firmware/devicetree/base/model"),
        ["Custom i.MX8MP board"]
    );
    assert_eq!(
        nul_list(&sim, "sys/firmware/devicetree/base/compatible"),
        ["fsl,imx8mp-evk", "fsl,imx8mp"]
    );
    sim.install_firmware("rproc-imx-rproc-fw", &Firmware::new());
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    // 5.10 refuses a second start.
    assert_eq!(
        errno(sim.write(&format!("{RP0}/state"), "start")),
        libc::EBUSY
    );
}

#[test]
fn bad_board_arguments_are_refused() {
    for (args, needle) in [
        (&["--board", "rpi5"][..], "unknown board `rpi5`"),
        (
            &["--board", "imx8mp", "--processor", "name=m4"][..],
            "cannot be combined with --processor",
        ),
        (
            &["--board", "imx8mp", "--attached", "m4"][..],
            "no core `m4`",
        ),
    ] {
        let out = Command::new(BIN)
            .args(args)
            .args(["--root", "/nonexistent-root"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
