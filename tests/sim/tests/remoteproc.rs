//! The sysfs remoteproc state machine through the mount: start/stop/detach,
//! power references, firmware name rules, errors and their errnos.
mod common;
use common::*;
use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;

fn sim_with_fw(args: &[&str]) -> Sim {
    let sim = Sim::start(args).unwrap();
    sim.install_firmware("rproc-m4-fw", &Firmware::new());
    sim
}

#[test]
fn start_and_stop_a_core() {
    let sim = sim_with_fw(&[]);
    assert_eq!(sim.state(0), "offline");
    assert_eq!(sim.read(&format!("{RP0}/name")).unwrap(), "m4\n");
    assert_eq!(
        sim.read(&format!("{RP0}/firmware")).unwrap(),
        "rproc-m4-fw\n"
    );
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(sim.state(0), "running");
    assert_eq!(sim.power(0), 1);
    assert_eq!(sim.read("sim/remoteproc0/starts").unwrap(), "1\n");
    let loaded = sim.read("sim/remoteproc0/loaded").unwrap();
    assert!(
        loaded.trim().ends_with("lib/firmware/rproc-m4-fw"),
        "{loaded}"
    );
    sim.write(&format!("{RP0}/state"), "stop\n").unwrap();
    assert_eq!(sim.state(0), "offline");
    assert_eq!(sim.power(0), 0);
    assert_eq!(sim.read("sim/remoteproc0/loaded").unwrap(), "\n");
    let ev = sim.events(0);
    assert_eq!(ev[1..], ["start", "stop"], "{ev:?}");
    assert!(ev[0].starts_with("load "));
    let log = kmsg_lines(&sim);
    assert!(
        log.contains(&"remoteproc remoteproc0: powering up m4".to_string()),
        "{log:?}"
    );
    assert!(log.contains(&"remoteproc remoteproc0: remote processor m4 is now up".to_string()));
    assert!(log.contains(&"remoteproc remoteproc0: stopped remote processor m4".to_string()));
}

#[test]
fn an_attribute_kept_open_shows_the_current_value_at_offset_0() {
    let sim = sim_with_fw(&[]);
    let state = format!("{RP0}/state");
    let fd = Fd::open(&sim.path(&state), libc::O_RDONLY).unwrap();
    assert_eq!(fd.pread(4096, 0), b"offline\n");
    assert_eq!(fd.pread(4096, 8), b"", "the end of that showing");
    sim.write(&state, "start").unwrap();
    assert_eq!(fd.pread(4096, 0), b"running\n", "offset 0 shows it afresh");
    // A read going on where the previous one ended stays in the same showing (seq_read)...
    assert_eq!(fd.pread(3, 0), b"run");
    sim.write(&state, "stop").unwrap();
    assert_eq!(fd.pread(4096, 3), b"ning\n");
    // ...a read anywhere else shows the attribute afresh.
    assert_eq!(fd.pread(4096, 2), b"fline\n");
    assert_eq!(fd.pread(4096, 0), b"offline\n");
    // Plain reads at the file position behave the same way.
    sim.write(&state, "start").unwrap();
    assert_eq!(fd.read(4096).unwrap(), b"running\n");
    assert_eq!(fd.read(4096).unwrap(), b"");
    sim.write(&state, "stop").unwrap();
}

#[test]
fn start_on_running_core_takes_another_reference_on_6_1() {
    let sim = sim_with_fw(&[]);
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(sim.power(0), 2);
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(
        sim.state(0),
        "running",
        "one stop leaves a second reference"
    );
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(sim.state(0), "offline");
    assert_eq!(
        sim.events(0)[1..],
        ["start", "start-ref", "stop-ref", "stop"]
    );
}

#[test]
fn start_on_running_core_is_busy_on_5_10() {
    let sim = sim_with_fw(&["--kernel", "5.10"]);
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(
        errno(sim.write(&format!("{RP0}/state"), "start")),
        libc::EBUSY
    );
    assert_eq!(sim.power(0), 1);
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(sim.state(0), "offline");
    let attached =
        Sim::start(&["--kernel", "5.10", "--processor", "name=m4;state=attached"]).unwrap();
    assert_eq!(
        errno(attached.write(&format!("{RP0}/state"), "start")),
        libc::EBUSY
    );
    assert_eq!(attached.power(0), 1);
}

#[test]
fn invalid_state_writes_are_einval() {
    let sim = sim_with_fw(&[]);
    let state = format!("{RP0}/state");
    assert_eq!(
        errno(sim.write(&state, "stop")),
        libc::EINVAL,
        "stop while offline"
    );
    assert_eq!(
        errno(sim.write(&state, "detach")),
        libc::EINVAL,
        "detach while offline"
    );
    assert_eq!(errno(sim.write(&state, "boot")), libc::EINVAL);
    assert_eq!(errno(sim.write(&state, "start\n\n")), libc::EINVAL);
    sim.write(&state, "start\n").unwrap();
    assert_eq!(
        errno(sim.write(&state, "detach")),
        libc::EINVAL,
        "detach while running"
    );
    assert_eq!(sim.state(0), "running");
}

#[test]
fn firmware_name_rules() {
    let sim = sim_with_fw(&[]);
    let fw = format!("{RP0}/firmware");
    assert_eq!(errno(sim.write(&fw, "\n")), libc::EINVAL);
    sim.write(&fw, "other.elf\n").unwrap();
    assert_eq!(sim.read(&fw).unwrap(), "other.elf\n");
    sim.write(&fw, "a.elf\nb.elf").unwrap();
    assert_eq!(
        sim.read(&fw).unwrap(),
        "a.elf\n",
        "cut at the first newline"
    );
    sim.write(&fw, "rproc-m4-fw").unwrap();
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(errno(sim.write(&fw, "x.elf")), libc::EBUSY);
    assert_eq!(sim.read(&fw).unwrap(), "rproc-m4-fw\n");
    assert!(sim.events(0).contains(&"firmware other.elf".to_string()));
}

#[test]
fn missing_or_broken_firmware_leaves_the_core_offline() {
    let sim = Sim::start(&[]).unwrap();
    let state = format!("{RP0}/state");
    let fw = format!("{RP0}/firmware");
    assert_eq!(errno(sim.write(&state, "start")), libc::ENOENT);
    assert_eq!((sim.state(0).as_str(), sim.power(0)), ("offline", 0));
    let dir = sim.path("lib/firmware");
    for (name, bytes) in [
        ("not.elf", hybrid_sim::firmware::not_elf()),
        ("short.elf", hybrid_sim::firmware::truncated_elf()),
        (
            "noload.elf",
            hybrid_sim::firmware::elf_without_load_segment(),
        ),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
        sim.write(&fw, name).unwrap();
        assert_eq!(errno(sim.write(&state, "start")), libc::EINVAL, "{name}");
        assert_eq!(
            (sim.state(0).as_str(), sim.power(0)),
            ("offline", 0),
            "{name}"
        );
    }
    let log = kmsg_lines(&sim);
    assert!(
        log.iter()
            .any(|l| l.ends_with("request_firmware failed: -2")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.ends_with("Image is corrupted (bad magic)")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.ends_with("Image is too small")),
        "{log:?}"
    );
    assert_eq!(sim.read("sim/remoteproc0/starts").unwrap(), "0\n");
}

#[test]
fn firmware_search_path_order_and_names() {
    let sim = Sim::start(&[]).unwrap();
    let state = format!("{RP0}/state");
    let fw = format!("{RP0}/firmware");
    let loaded = || {
        sim.read("sim/remoteproc0/loaded")
            .unwrap()
            .trim()
            .to_string()
    };
    let start_stop = |name: &str| -> String {
        sim.write(&fw, name).unwrap();
        sim.write(&state, "start").unwrap();
        let l = loaded();
        sim.write(&state, "stop").unwrap();
        l
    };
    sim.install_firmware("sub/dir/a.elf", &Firmware::new());
    assert!(start_stop("sub/dir/a.elf").ends_with("lib/firmware/sub/dir/a.elf"));
    sim.install_firmware("a.elf", &Firmware::new());
    assert!(start_stop("a.elf").ends_with("lib/firmware/a.elf"));
    sim.install_firmware("6.1.0-sim/a.elf", &Firmware::new());
    assert!(start_stop("a.elf").ends_with("lib/firmware/6.1.0-sim/a.elf"));
    sim.install_firmware("updates/a.elf", &Firmware::new());
    assert!(start_stop("a.elf").ends_with("lib/firmware/updates/a.elf"));
    sim.install_firmware("updates/6.1.0-sim/a.elf", &Firmware::new());
    assert!(start_stop("a.elf").ends_with("lib/firmware/updates/6.1.0-sim/a.elf"));
    // The firmware_class path parameter comes first; its value is a host path.
    std::fs::create_dir_all(sim.path("opt/fw")).unwrap();
    Firmware::new().write_to(&sim.path("opt/fw/a.elf")).unwrap();
    sim.write("sys/module/firmware_class/parameters/path", "/opt/fw\n")
        .unwrap();
    assert_eq!(
        sim.read("sys/module/firmware_class/parameters/path")
            .unwrap(),
        "/opt/fw\n"
    );
    assert!(start_stop("a.elf").ends_with("opt/fw/a.elf"));
    sim.write(&fw, "../firmware/a.elf").unwrap();
    assert_eq!(
        errno(sim.write(&state, "start")),
        libc::EINVAL,
        "`..` is refused"
    );
    assert_eq!(sim.state(0), "offline");
}

#[test]
fn attached_core_stop_and_detach() {
    let sim = Sim::start(&[
        "--processor",
        "name=m4;state=attached",
        "--processor",
        "name=r5;state=attached;detach=no",
    ])
    .unwrap();
    assert_eq!((sim.state(0).as_str(), sim.power(0)), ("attached", 1));
    assert_eq!(
        errno(sim.write(&format!("{RP0}/firmware"), "x.elf")),
        libc::EBUSY
    );
    sim.write(&format!("{RP0}/state"), "detach").unwrap();
    assert_eq!((sim.state(0).as_str(), sim.power(0)), ("detached", 0));
    assert_eq!(
        errno(sim.write(&format!("{RP0}/state"), "stop")),
        libc::EINVAL
    );
    assert_eq!(
        errno(sim.write(&format!("{RP0}/firmware"), "x.elf")),
        libc::EBUSY
    );
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(
        sim.state(0),
        "attached",
        "start re-attaches a detached core"
    );
    let rp1 = "sys/class/remoteproc/remoteproc1";
    assert_eq!(
        errno(sim.write(&format!("{rp1}/state"), "detach")),
        libc::EINVAL
    );
    assert_eq!((sim.state(1).as_str(), sim.power(1)), ("attached", 1));
    sim.write(&format!("{rp1}/state"), "stop").unwrap();
    assert_eq!(sim.state(1), "offline");
    assert_eq!(sim.events(0), ["detach", "attach"]);
}

#[test]
fn kernels_without_name_file_and_device_tree() {
    let sim = Sim::start(&[
        "--model",
        "Acme Board",
        "--compatible",
        "acme,board,acme,soc",
        "--processor",
        "name=cm4;compatible=fsl,imx8mq-cm4;name-file=no",
    ])
    .unwrap();
    assert_eq!(errno(sim.read(&format!("{RP0}/name"))), libc::ENOENT);
    assert_eq!(sim.state(0), "offline");
    assert_eq!(
        sim.read(&format!("{RP0}/firmware")).unwrap(),
        "rproc-cm4-fw\n"
    );
    assert_eq!(
        sim.read("sys/firmware/devicetree/base/model").unwrap(),
        "Acme Board\0"
    );
    assert_eq!(
        sim.read("sys/firmware/devicetree/base/compatible").unwrap(),
        "acme\0board\0acme\0soc\0"
    );
    assert_eq!(
        sim.read(&format!("{RP0}/device/of_node/compatible"))
            .unwrap(),
        "fsl,imx8mq-cm4\0"
    );
    let link = std::fs::read_link(sim.path("sys/class/remoteproc/remoteproc0")).unwrap();
    assert!(link.starts_with("../../devices/platform/"), "{link:?}");
    assert_eq!(
        sim.read("sys/kernel/debug/remoteproc/remoteproc0/name")
            .unwrap(),
        "cm4\n"
    );
}

#[test]
fn read_only_and_write_only_files_refuse_the_other_direction() {
    let sim = Sim::start(&[]).unwrap();
    assert_eq!(errno(sim.write(&format!("{RP0}/name"), "x")), libc::EACCES);
    assert_eq!(
        errno(sim.read("sys/kernel/debug/remoteproc/remoteproc0/crash")),
        libc::EACCES
    );
    // A shell's `>` truncates first: accepted, as sysfs does.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(sim.path(&format!("{RP0}/firmware")))
        .unwrap();
    drop(f);
}

#[test]
fn recovery_and_coredump_attributes() {
    let sim = Sim::start(&[]).unwrap();
    assert_eq!(sim.read(&format!("{RP0}/recovery")).unwrap(), "disabled\n");
    sim.write(&format!("{RP0}/recovery"), "enabled\n").unwrap();
    assert_eq!(
        sim.read("sys/kernel/debug/remoteproc/remoteproc0/recovery")
            .unwrap(),
        "enabled\n"
    );
    assert_eq!(
        errno(sim.write(&format!("{RP0}/recovery"), "maybe")),
        libc::EINVAL
    );
    assert_eq!(sim.read(&format!("{RP0}/coredump")).unwrap(), "disabled\n");
    sim.write(&format!("{RP0}/coredump"), "inline").unwrap();
    assert_eq!(sim.read(&format!("{RP0}/coredump")).unwrap(), "inline\n");
    assert_eq!(
        errno(sim.write(&format!("{RP0}/coredump"), "all")),
        libc::EINVAL
    );
}

#[test]
fn injected_failures_and_delays() {
    let sim = sim_with_fw(&[]);
    let state = format!("{RP0}/state");
    sim.write("sim/remoteproc0/fail", "start EIO").unwrap();
    assert_eq!(errno(sim.write(&state, "start")), libc::EIO);
    assert_eq!((sim.state(0).as_str(), sim.power(0)), ("offline", 0));
    sim.write(&state, "start").unwrap();
    sim.write("sim/remoteproc0/fail", "stop 16").unwrap();
    assert_eq!(errno(sim.write(&state, "stop")), libc::EBUSY);
    assert_eq!(sim.state(0), "running");
    sim.write(&state, "stop").unwrap();
    sim.write("sim/remoteproc0/fail", "firmware EACCES")
        .unwrap();
    assert_eq!(
        errno(sim.write(&format!("{RP0}/firmware"), "x")),
        libc::EACCES
    );
    assert_eq!(
        errno(sim.write("sim/remoteproc0/fail", "start ENOTANERRNO")),
        libc::EINVAL
    );
    assert_eq!(
        errno(sim.write("sim/remoteproc0/fail", "jump EIO")),
        libc::EINVAL
    );

    sim.write("sim/remoteproc0/hang", "state 300").unwrap();
    let t = std::time::Instant::now();
    sim.write(&state, "start").unwrap();
    assert!(t.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(sim.state(0), "running");
    let ev = sim.events(0);
    assert!(ev.contains(&"fail start 5".to_string()), "{ev:?}");
    assert!(ev.contains(&"hang state 300".to_string()), "{ev:?}");
}

#[test]
fn every_state_string_is_reachable() {
    let sim = Sim::start(&[]).unwrap();
    for s in [
        "offline",
        "suspended",
        "running",
        "crashed",
        "deleted",
        "attached",
        "detached",
        "invalid",
    ] {
        sim.write("sim/remoteproc0/force_state", s).unwrap();
        assert_eq!(sim.state(0), s);
    }
    assert_eq!(
        errno(sim.write("sim/remoteproc0/force_state", "asleep")),
        libc::EINVAL
    );
    sim.write("sim/remoteproc0/force_state", "deleted").unwrap();
    assert_eq!(
        errno(sim.write(&format!("{RP0}/firmware"), "x")),
        libc::EBUSY
    );
}

#[test]
fn the_tree_cannot_be_changed_by_file_operations() {
    let sim = Sim::start(&[]).unwrap();
    let new = sim.path(&format!("{RP0}/extra"));
    assert_eq!(errno(std::fs::write(&new, "x")), libc::EACCES);
    assert_eq!(
        errno(std::fs::create_dir(sim.path("dev/mine"))),
        libc::EACCES
    );
    assert_eq!(
        errno(std::fs::remove_file(sim.path(&format!("{RP0}/state")))),
        libc::EPERM
    );
    let long = "/x".repeat(200);
    assert_eq!(
        errno(sim.write("sys/module/firmware_class/parameters/path", &long)),
        libc::ENOSPC
    );
}

#[test]
fn every_fault_target_fails_once_and_changes_nothing() {
    let sim = Sim::start(&["--processor", "name=m4;state=attached"]).unwrap();
    let dbg = "sys/kernel/debug/remoteproc/remoteproc0";
    for (op, file, data, errno_name, code) in [
        ("detach", format!("{RP0}/state"), "detach", "EIO", libc::EIO),
        ("crash", format!("{dbg}/crash"), "1", "EPERM", libc::EPERM),
        (
            "recovery",
            format!("{RP0}/recovery"),
            "enabled",
            "ENOMEM",
            libc::ENOMEM,
        ),
    ] {
        sim.write("sim/remoteproc0/fail", &format!("{op} {errno_name}"))
            .unwrap();
        assert_eq!(errno(sim.write(&file, data)), code, "{op}");
        assert_eq!(sim.state(0), "attached", "{op}");
    }
    assert_eq!(sim.read(&format!("{RP0}/recovery")).unwrap(), "disabled\n");
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    sim.write("sim/remoteproc0/hang", "firmware 100").unwrap();
    let t = std::time::Instant::now();
    sim.write(&format!("{RP0}/firmware"), "late.elf").unwrap();
    assert!(t.elapsed() >= std::time::Duration::from_millis(100));
    assert_eq!(sim.read(&format!("{RP0}/firmware")).unwrap(), "late.elf\n");
}

#[test]
fn platform_device_and_driver_links() {
    let sim = Sim::start(&[]).unwrap();
    let dev = std::fs::canonicalize(sim.path(&format!("{RP0}/device"))).unwrap();
    assert_eq!(dev.file_name().unwrap(), "sim-rproc.0");
    let drv = std::fs::read_link(sim.path(&format!("{RP0}/device/driver"))).unwrap();
    assert_eq!(drv.file_name().unwrap(), "sim-rproc");
    let back =
        std::fs::canonicalize(sim.path("sys/bus/platform/drivers/sim-rproc/sim-rproc.0")).unwrap();
    assert_eq!(back, dev);
}
