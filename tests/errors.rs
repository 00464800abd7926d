//! Every refusal: the message says what and where, the exit code is non-zero, and nothing
//! changed (no state dir, no firmware copy, no claim, the core as it was).

mod common;

use common::{bundle, fw_bundle, reap, Firmware, Rt};

/// Annotations, environment, and what to expect.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);

/// `create` with `args` fails with `needle` in its message and leaves nothing behind.
fn refused(rt: &Rt, id: &str, args: &[&str], needle: &str) {
    let events = rt.sim.events(0);
    let core = rt.sim.state(0);
    let o = rt.create(args);
    assert_eq!(o.code, 1, "{args:?} should fail");
    assert!(o.stderr.starts_with("hybrid-runtime: "), "{}", o.stderr);
    assert!(
        o.stderr.contains(needle),
        "expected {needle:?} in {}",
        o.stderr
    );
    assert_eq!(o.stderr.lines().count(), 1, "one error line: {}", o.stderr);
    assert!(!rt.state_dir(id).exists(), "state dir left by {args:?}");
    assert!(
        !rt.firmware_copy(id).exists(),
        "firmware copy left by {args:?}"
    );
    assert!(!rt.claim(0).exists(), "claim left by {args:?}");
    assert_eq!(rt.sim.state(0), core);
    assert_eq!(rt.sim.events(0), events, "the core was touched by {args:?}");
}

#[test]
fn bad_ids_bundles_and_firmware_change_nothing() {
    let rt = Rt::new(&[]);
    Firmware::new().write_to(&rt.work.join("ok.elf")).unwrap();
    std::fs::write(rt.work.join("text.elf"), hybrid_sim::firmware::not_elf()).unwrap();
    std::fs::write(
        rt.work.join("trunc.elf"),
        hybrid_sim::firmware::truncated_elf(),
    )
    .unwrap();
    std::fs::write(
        rt.work.join("noload.elf"),
        hybrid_sim::firmware::elf_without_load_segment(),
    )
    .unwrap();
    refused(&rt, "a", &["ok.elf", "a/b"], "invalid container id");
    refused(&rt, "..", &["ok.elf", ".."], "invalid container id");
    refused(&rt, "t", &["text.elf", "t"], "not an ELF file");
    refused(
        &rt,
        "t",
        &["trunc.elf", "t"],
        "is not a usable firmware image",
    );
    refused(&rt, "t", &["noload.elf", "t"], "no loadable segment");
    refused(&rt, "m", &["missing.elf", "m"], "missing.elf");
    refused(
        &rt,
        "nb",
        &["--bundle", "/nonexistent-bundle", "nb"],
        "cannot read the bundle's config",
    );
    std::fs::create_dir_all(rt.work.join("broken")).unwrap();
    std::fs::write(rt.work.join("broken/config.json"), "{ not json").unwrap();
    refused(&rt, "br", &["--bundle", "broken", "br"], "invalid");
}

#[test]
fn firmware_paths_never_leave_the_root_filesystem() {
    let rt = Rt::new(&[]);
    let b = bundle(&rt.work.join("b1"), "/abs.elf", &[], &[]);
    std::os::unix::fs::symlink("/etc/hostname", b.join("rootfs/abs.elf")).unwrap();
    refused(
        &rt,
        "x",
        &["--bundle", b.to_str().unwrap(), "x"],
        "absolute symbolic link",
    );
    let b = bundle(&rt.work.join("b2"), "esc.elf", &[], &[]);
    Firmware::new()
        .write_to(&rt.work.join("b2/outside.elf"))
        .unwrap();
    std::os::unix::fs::symlink("../outside.elf", b.join("rootfs/esc.elf")).unwrap();
    refused(
        &rt,
        "x",
        &["--bundle", b.to_str().unwrap(), "x"],
        "outside the root filesystem",
    );
    let b = bundle(&rt.work.join("b3"), "../outside.elf", &[], &[]);
    refused(&rt, "x", &["--bundle", b.to_str().unwrap(), "x"], "\"..\"");
    // A relative link that stays inside is followed; a bare name is found through PATH.
    let b = bundle(
        &rt.work.join("b4"),
        "fw.elf",
        &[],
        &["PATH=/usr/bin:/lib/firmware"],
    );
    std::fs::create_dir_all(b.join("rootfs/lib/firmware")).unwrap();
    Firmware::new()
        .write_to(&b.join("rootfs/lib/firmware/real.elf"))
        .unwrap();
    std::os::unix::fs::symlink("real.elf", b.join("rootfs/lib/firmware/fw.elf")).unwrap();
    let o = rt.create(&["--bundle", b.to_str().unwrap(), "inside"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        rt.annotation("inside", "io.hybrid-runtime.firmware"),
        "hybrid-runtime/inside/real.elf"
    );
    rt.ok(&["delete", "inside"]);
}

#[test]
fn duplicate_ids_are_refused_and_the_first_is_untouched() {
    let rt = Rt::new(&["--processor", "name=m4", "--processor", "name=r5f"]);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let b = fw_bundle(
        &rt.work.join("b"),
        &Firmware::new(),
        &[("io.hybrid-runtime.core", "m4")],
        &[],
    );
    let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "dup");
    let b2 = fw_bundle(
        &rt.work.join("b2"),
        &Firmware::new(),
        &[("io.hybrid-runtime.core", "r5f")],
        &[],
    );
    let o = rt.create(&["--bundle", b2.to_str().unwrap(), "dup"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("container dup already exists"),
        "{}",
        o.stderr
    );
    assert_eq!(rt.status("dup"), "created");
    assert_eq!(
        rt.annotation("dup", "io.hybrid-runtime.core"),
        "remoteproc0"
    );
    assert!(!rt.claim(1).exists());
    rt.ok(&["delete", "dup"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
}

#[test]
fn core_selection_lists_the_cores_when_it_cannot_choose() {
    let rt = Rt::new(&[
        "--processor",
        "name=m4;compatible=fsl,imx8mp-cm7",
        "--processor",
        "name=r5f",
        "--model",
        "Acme Board",
    ]);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let listed = "remoteproc0 (m4, offline), remoteproc1 (r5f, offline)";
    refused(&rt, "x", &["a.elf", "x"], listed);
    refused(&rt, "x", &["a.elf", "x"], "io.hybrid-runtime.core");
    let cases: &[Case] = &[
        (&[("io.hybrid-runtime.core", "dsp")], &[], "no core \"dsp\""),
        (
            &[("io.hybrid-runtime.board", "Other Board")],
            &[],
            "this board is not \"Other Board\"",
        ),
        (
            &[],
            &["HYBRID_CORE=remoteproc7"],
            "environment variable HYBRID_CORE",
        ),
    ];
    for (i, (ann, env, needle)) in cases.iter().enumerate() {
        let b = fw_bundle(&rt.work.join(format!("bad{i}")), &Firmware::new(), ann, env);
        refused(&rt, "x", &["--bundle", b.to_str().unwrap(), "x"], needle);
        if !needle.starts_with("this board") {
            refused(&rt, "x", &["--bundle", b.to_str().unwrap(), "x"], listed);
        }
    }
    // Every way of naming a core.
    let picks: &[Case] = &[
        (&[("io.hybrid-runtime.core", "r5f")], &[], "remoteproc1"),
        (&[("io.hybrid-runtime.core", "1")], &[], "remoteproc1"),
        (
            &[("io.hybrid-runtime.core", "remoteproc1")],
            &[],
            "remoteproc1",
        ),
        (
            &[("io.hybrid-runtime.core", "fsl,imx8mp-cm7")],
            &[],
            "remoteproc0",
        ),
        (&[("remoteproc.name", "m4")], &[], "remoteproc0"),
        (&[("mcu", "r5f")], &[], "remoteproc1"),
        (&[], &["HYBRID_CORE=r5f"], "remoteproc1"),
        (&[], &["MCU=m4"], "remoteproc0"),
        (
            &[
                ("io.hybrid-runtime.core", "m4"),
                ("io.hybrid-runtime.board", "hybrid,sim-board"),
            ],
            &[],
            "remoteproc0",
        ),
        (
            &[("board", "Acme Board")],
            &["HYBRID_CORE=m4"],
            "remoteproc0",
        ),
    ];
    for (i, (ann, env, dev)) in picks.iter().enumerate() {
        let b = fw_bundle(&rt.work.join(format!("ok{i}")), &Firmware::new(), ann, env);
        let o = rt.create(&["--bundle", b.to_str().unwrap(), "pick"]);
        assert_eq!(o.code, 0, "{ann:?} {env:?}: {}", o.stderr);
        assert_eq!(
            rt.annotation("pick", "io.hybrid-runtime.core"),
            *dev,
            "{ann:?} {env:?}"
        );
        rt.ok(&["delete", "pick"]);
    }
}

#[test]
fn a_running_core_is_refused_and_left_running() {
    let rt = Rt::new(&[]);
    rt.start_through_sysfs(0);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    refused(
        &rt,
        "r",
        &["a.elf", "r"],
        "core remoteproc0 (m4) is already running",
    );
    let b = bundle(
        &rt.work.join("bad"),
        "/a.elf",
        &[("io.hybrid-runtime.if-running", "maybe")],
        &[],
    );
    refused(
        &rt,
        "r",
        &["--bundle", b.to_str().unwrap(), "r"],
        "use refuse, stop or adopt",
    );
    assert_eq!(rt.sim.state(0), "running");
}

#[test]
fn start_failures_say_what_the_kernel_said() {
    let rt = Rt::new(&[]);
    for (fail, needle) in [
        ("start EINVAL", "the kernel rejected the image"),
        ("start EBUSY", "is in use"),
        ("start EIO", "Input/output error"),
    ] {
        let pid = rt.create_fw("sf", "s.elf", &Firmware::new());
        rt.sim.write("sim/remoteproc0/fail", fail).unwrap();
        let o = rt.run(&["start", "sf"]);
        assert_eq!(o.code, 1, "{fail}");
        assert!(o.stderr.contains(needle), "{fail}: {}", o.stderr);
        assert_eq!(rt.sim.state(0), "offline");
        assert_eq!(rt.status("sf"), "created");
        rt.ok(&["delete", "sf"]);
        assert_eq!(reap(pid), Err(libc::SIGKILL));
        rt.assert_no_trace("sf", 0, "offline");
    }
    // The firmware copy vanished before start: the kernel cannot find it.
    let pid = rt.create_fw("gone", "g.elf", &Firmware::new());
    std::fs::remove_dir_all(rt.firmware_copy("gone")).unwrap();
    let o = rt.run(&["start", "gone"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("firmware hybrid-runtime/gone/g.elf not found in"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("/lib/firmware"), "{}", o.stderr);
    rt.ok(&["delete", "gone"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
}

#[test]
fn start_refuses_a_core_that_is_another_processor_since_create() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("moved", "m.elf", &Firmware::new());
    // The driver is reloaded and another processor registers as remoteproc0.
    rt.sim
        .write(
            "sim/remoteproc0/replace",
            "name=r5;compatible=hybrid,sim-r5",
        )
        .unwrap();
    let o = rt.run(&["start", "moved"]);
    o.fails_with(
        1,
        "remoteproc0 is now another processor (r5, device-tree node /r5@0) than the one it \
             was created for (m4, device-tree node /m4@0)",
    );
    assert!(
        o.stderr
            .contains("delete the container and create it again"),
        "{}",
        o.stderr
    );
    assert_eq!(rt.sim.state(0), "offline");
    assert!(
        !rt.sim.events(0).iter().any(|e| e.starts_with("start")),
        "the new processor was started: {:?}",
        rt.sim.events(0)
    );
    rt.ok(&["delete", "moved"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    // The same processor under a new name counts too (a driver that names it otherwise).
    rt.create_fw("renamed", "r.elf", &Firmware::new());
    rt.sim
        .write("sim/remoteproc0/replace", "name=m4-core")
        .unwrap();
    let o = rt.run(&["start", "renamed"]);
    o.fails_with(1, "(m4-core, device-tree node /m4-core@0)");
    rt.ok(&["delete", "--force", "renamed"]);
}

#[test]
fn an_unwritable_firmware_directory_is_named() {
    let rt = Rt::new(&["--fw-path", "/sys/fw-readonly"]);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let o = rt.create(&["a.elf", "ro"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("firmware directory /sys/fw-readonly"),
        "{}",
        o.stderr
    );
    assert!(!rt.state_dir("ro").exists());
    assert!(!rt.claim(0).exists());
    assert_eq!(rt.sim.state(0), "offline");
}

#[test]
fn unknown_ids_and_unsupported_commands() {
    let rt = Rt::new(&[]);
    for cmd in [
        &["state", "nope"][..],
        &["start", "nope"],
        &["kill", "nope"],
        &["delete", "nope"],
        &["ps", "nope"],
    ] {
        let o = rt.run(cmd);
        assert_eq!(o.code, 1, "{cmd:?}");
        assert_eq!(
            o.stderr, "hybrid-runtime: container nope does not exist\n",
            "{cmd:?}"
        );
    }
    assert_eq!(rt.run(&["delete", "--force", "nope"]).code, 0);
    for cmd in ["pause", "resume", "exec", "update", "checkpoint"] {
        let o = rt.run(&[cmd, "x"]);
        assert_eq!(o.code, 1, "{cmd}");
        assert!(o.stderr.contains("not supported"), "{cmd}: {}", o.stderr);
    }
    let o = rt.run(&["frobnicate"]);
    assert_eq!(o.code, 127);
    assert!(o.stderr.contains("unknown applet frobnicate"));
    let o = rt.run(&["kill"]);
    assert_eq!(o.code, 2, "usage error: {}", o.stderr);
}

#[test]
fn errors_reach_the_json_log_that_engines_read() {
    let rt = Rt::new(&[]);
    let log = rt.work.join("log.json");
    let o = rt.run(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "delete",
        "ghost",
    ]);
    assert_eq!(o.code, 1);
    let text = std::fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["level"], "error");
    assert_eq!(last["msg"], "container ghost does not exist");
    let time = last["time"].as_str().unwrap();
    assert!(time.len() >= 20 && time.as_bytes()[10] == b'T', "{time}");
}

#[test]
fn features_say_which_mechanism_guards_each_core() {
    let rt = Rt::new(&["--processor", "name=m4", "--processor", "name=r5f;cdev=no"]);
    let f: serde_json::Value = serde_json::from_str(&rt.ok(&["features"])).unwrap();
    assert_eq!(
        f["annotations"]["io.hybrid-runtime.guard.remoteproc0"],
        "cdev"
    );
    assert_eq!(
        f["annotations"]["io.hybrid-runtime.guard.remoteproc1"],
        "sysfs"
    );
    assert!(f["ociVersionMax"].as_str().unwrap().starts_with("1."));
}

#[test]
fn the_claims_directory_is_no_container() {
    let rt = Rt::new(&[]);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    // With the default layout the state root and the claims share /run/hybrid-runtime.
    let root = rt.sim.path("run/hybrid-runtime");
    let o = rt.output(&mut rt.command_in_root(&root, &["create", "a.elf", "cores"]));
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("is reserved in this state root"),
        "{}",
        o.stderr
    );
    assert_eq!(rt.sim.state(0), "offline");
    assert!(!rt.claim(0).exists());
}

#[test]
fn copies_go_to_the_firmware_path_parameter() {
    // (A value written with a newline, which the kernel keeps, is refused with an explanation:
    // the real-kernel suite checks that; the simulator strips the newline.)
    let rt = Rt::new(&[]);
    std::fs::create_dir_all(rt.sim.path("extra-fw")).unwrap();
    rt.sim
        .write("sys/module/firmware_class/parameters/path", "/extra-fw")
        .unwrap();
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let o = rt.create(&["a.elf", "nl"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(rt.sim.path("extra-fw/hybrid-runtime/nl/a.elf").exists());
    assert!(!rt.sim.path("lib/firmware/hybrid-runtime/nl").exists());
    rt.ok(&["start", "nl"]);
    assert_eq!(rt.sim.state(0), "running");
    rt.ok(&["delete", "--force", "nl"]);
    assert!(!rt.sim.path("extra-fw/hybrid-runtime/nl").exists());
}
