//! The whole container lifecycle on the simulator, through the built binary and its applet
//! links, with the cdev guard and with the sysfs fallback, and every way a container ends.

mod common;

use common::{reap, Firmware, Rt};

fn lifecycle(rt: &Rt, guard: &str) {
    let pid = rt.create_fw(
        "demo",
        "demo.elf",
        &Firmware::new().with_trace(512).script("trace hello"),
    );
    assert_eq!(rt.status("demo"), "created");
    assert_eq!(rt.state("demo")["pid"], pid);
    assert_eq!(rt.annotation("demo", "io.hybrid-runtime.guard"), guard);
    assert_eq!(rt.sim.state(0), "offline");
    assert!(rt.claim(0).exists());
    let ps: Vec<i32> = serde_json::from_str(&rt.ok(&["ps", "--format", "json", "demo"])).unwrap();
    assert_eq!(ps, vec![pid]);

    rt.ok(&["start", "demo"]);
    assert_eq!(rt.sim.state(0), "running");
    assert_eq!(rt.status("demo"), "running");
    assert_eq!(
        rt.sim.power(0),
        1,
        "exactly one power reference: {:?}",
        rt.sim.events(0)
    );
    let ev = rt.sim.events(0);
    assert!(
        ev.contains(&"firmware hybrid-runtime/demo/demo.elf".to_string()),
        "{ev:?}"
    );
    assert!(rt.firmware_copy("demo").join("demo.elf").exists());
    if guard == "cdev" {
        assert!(ev.contains(&format!("cdev-open {pid}")), "{ev:?}");
        assert!(
            ev.contains(&"set-shutdown-on-release 1".to_string()),
            "{ev:?}"
        );
        assert_eq!(
            rt.sim.read("sim/remoteproc0/cdev_holders").unwrap().trim(),
            pid.to_string()
        );
    }
    let list: serde_json::Value =
        serde_json::from_str(&rt.ok(&["list", "--format", "json"])).unwrap();
    assert_eq!(list[0]["id"], "demo");
    assert_eq!(list[0]["status"], "running");
    assert!(rt.ok(&["list"]).contains("remoteproc0 (m4)"));

    rt.ok(&["kill", "demo", "TERM"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.sim.state(0), "offline");
    assert_eq!(rt.sim.power(0), 0);
    assert_eq!(rt.status("demo"), "stopped");
    assert_eq!(rt.annotation("demo", "io.hybrid-runtime.exit-code"), "143");
    assert_eq!(rt.state("demo")["pid"], 0);
    let o = rt.run(&["kill", "demo"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("container not running"), "{}", o.stderr);
    rt.ok(&["delete", "demo"]);
    rt.assert_no_trace("demo", 0, "offline");
    let o = rt.run(&["state", "demo"]);
    assert!(
        o.stderr.contains("container demo does not exist"),
        "{}",
        o.stderr
    );
}

#[test]
fn lifecycle_guarded_by_the_character_device() {
    let rt = Rt::new(&[]);
    lifecycle(&rt, "cdev");
}

#[test]
fn lifecycle_guarded_by_sysfs_without_the_character_device() {
    let rt = Rt::new(&["--processor", "name=m4;cdev=no"]);
    lifecycle(&rt, "sysfs");
    assert!(!rt.sim.events(0).iter().any(|e| e.starts_with("cdev")));
}

#[test]
fn applet_links_run_the_same_handlers() {
    let rt = Rt::new(&[]);
    let bin = rt.work.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let o = rt.output(
        rt.bare_command(common::BIN)
            .args(["--install", "-s"])
            .arg(&bin),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let listed = rt.output(rt.bare_command(common::BIN).arg("--list")).stdout;
    for name in listed.lines() {
        assert!(bin.join(name).exists(), "{name} installed");
    }
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let run = |applet: &str, args: &[&str]| {
        let o = rt.output(&mut rt.command_of(bin.join(applet), args));
        assert_eq!(o.code, 0, "{applet} {args:?}: {}", o.stderr);
    };
    run("hybrid-create", &["a.elf", "linked"]);
    run("hybrid-start", &["linked"]);
    assert_eq!(rt.sim.state(0), "running");
    run("hybrid-delete", &["--force", "linked"]);
    rt.assert_no_trace("linked", 0, "offline");
    let o = rt.output(rt.bare_command(bin.join("hybrid-state")).arg("--help"));
    assert!(o.code == 0 && o.stdout.contains("Usage"), "{}", o.stderr);
    std::os::unix::fs::symlink(common::BIN, bin.join("hybrid-frobnicate")).unwrap();
    let o = rt.output(&mut rt.bare_command(bin.join("hybrid-frobnicate")));
    assert_eq!(o.code, 127);
    assert!(
        o.stderr.contains("unknown applet hybrid-frobnicate"),
        "{}",
        o.stderr
    );
}

#[test]
fn kill_signals_give_128_plus_n() {
    let rt = Rt::new(&[]);
    for (sig, name) in [
        (libc::SIGINT, "sigint"),
        (libc::SIGQUIT, "QUIT"),
        (libc::SIGTERM, "15"),
    ] {
        let pid = rt.create_fw("k", "k.elf", &Firmware::new());
        rt.ok(&["start", "k"]);
        rt.ok(&["kill", "k", name]);
        assert_eq!(reap(pid), Err(sig), "{name}");
        assert_eq!(rt.sim.state(0), "offline");
        assert_eq!(
            rt.annotation("k", "io.hybrid-runtime.exit-code"),
            (128 + sig).to_string()
        );
        rt.ok(&["delete", "k"]);
    }
}

#[test]
fn kill_with_sigkill_stops_the_core_first() {
    for args in [&[][..], &["--processor", "name=m4;cdev=no"][..]] {
        let rt = Rt::new(args);
        let pid = rt.create_fw("k9", "k9.elf", &Firmware::new());
        rt.ok(&["start", "k9"]);
        rt.ok(&["kill", "--all", "k9", "KILL"]);
        assert_eq!(reap(pid), Err(libc::SIGKILL));
        assert_eq!(rt.sim.state(0), "offline");
        assert_eq!(rt.status("k9"), "stopped");
        assert_eq!(rt.annotation("k9", "io.hybrid-runtime.exit-code"), "137");
        rt.ok(&["delete", "k9"]);
        rt.assert_no_trace("k9", 0, "offline");
    }
}

#[test]
fn kill_before_start_ends_the_monitor_without_touching_the_core() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("early", "e.elf", &Firmware::new());
    rt.ok(&["kill", "early"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.status("early"), "stopped");
    assert!(!rt.sim.events(0).iter().any(|e| e == "start"));
    let o = rt.run(&["start", "early"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("has stopped"), "{}", o.stderr);
    rt.ok(&["delete", "early"]);
    rt.assert_no_trace("early", 0, "offline");
}

#[test]
fn signals_that_do_not_end_a_firmware_are_refused() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("hup", "h.elf", &Firmware::new());
    rt.ok(&["start", "hup"]);
    for s in ["HUP", "USR1", "10", "SIGWINCH"] {
        let o = rt.run(&["kill", "hup", s]);
        assert_eq!(o.code, 1, "{s}");
        assert!(
            o.stderr.contains("use TERM, INT, QUIT or KILL"),
            "{}",
            o.stderr
        );
    }
    assert_eq!(rt.status("hup"), "running");
    let o = rt.run(&["delete", "hup"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("is running"), "{}", o.stderr);
    rt.ok(&["delete", "--force", "hup"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    rt.assert_no_trace("hup", 0, "offline");
}

#[test]
fn crash_without_recovery_exits_134() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("c", "c.elf", &Firmware::new().with_trace(256));
    rt.ok(&["start", "c"]);
    rt.sim
        .write("sys/kernel/debug/remoteproc/remoteproc0/crash", "watchdog")
        .unwrap();
    assert_eq!(reap(pid), Ok(134));
    assert_eq!(rt.status("c"), "stopped");
    assert_eq!(rt.annotation("c", "io.hybrid-runtime.exit-code"), "134");
    assert!(rt
        .annotation("c", "io.hybrid-runtime.exit-reason")
        .contains("crashed (watchdog)"));
    rt.ok(&["delete", "c"]);
    rt.assert_no_trace("c", 0, "offline");
}

#[test]
fn crash_in_the_firmware_script_exits_134() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw(
        "cs",
        "cs.elf",
        &Firmware::new().script("sleep 50\ncrash mmu-fault"),
    );
    rt.ok(&["start", "cs"]);
    assert_eq!(reap(pid), Ok(134));
    assert!(rt
        .annotation("cs", "io.hybrid-runtime.exit-reason")
        .contains("crashed"));
    rt.ok(&["delete", "cs"]);
    rt.assert_no_trace("cs", 0, "offline");
}

#[test]
fn recovered_crash_is_not_an_exit() {
    let rt = Rt::new(&["--processor", "name=m4;recovery=enabled"]);
    let pid = rt.create_fw("r", "r.elf", &Firmware::new());
    rt.ok(&["start", "r"]);
    rt.sim
        .write(
            "sys/kernel/debug/remoteproc/remoteproc0/crash",
            "fatal-error",
        )
        .unwrap();
    assert!(rt
        .wait_for(2000, || rt
            .sim
            .events(0)
            .iter()
            .any(|e| e.starts_with("recover")))
        .is_some());
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(rt.status("r"), "running");
    assert_eq!(rt.sim.state(0), "running");
    rt.ok(&["kill", "r"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.sim.state(0), "offline");
    rt.ok(&["delete", "r"]);
}

#[test]
fn core_stopped_by_someone_else_exits_100() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("o", "o.elf", &Firmware::new());
    rt.ok(&["start", "o"]);
    rt.sim
        .write("sys/class/remoteproc/remoteproc0/state", "stop")
        .unwrap();
    assert_eq!(reap(pid), Ok(100));
    assert_eq!(rt.annotation("o", "io.hybrid-runtime.exit-code"), "100");
    rt.ok(&["delete", "o"]);
    rt.assert_no_trace("o", 0, "offline");
}

/// Create container `id`, end its monitor with SIGKILL before `start`, and write its state
/// record anew as `edit` changes it.
fn killed_then_record_edited(rt: &Rt, id: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let pid = rt.create_fw(id, "k.elf", &Firmware::new());
    rt.ok(&["kill", id, "KILL"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    let path = rt.state_dir(id).join("state.json");
    let mut rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut rec);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, rec.to_string()).unwrap();
}

#[test]
fn a_reused_pid_is_not_taken_for_the_monitor() {
    let rt = Rt::new(&[]);
    // Point the record at a live process that is not the monitor (this test), same pid slot.
    killed_then_record_edited(&rt, "p", |rec| {
        rec["pid"] = serde_json::Value::from(std::process::id())
    });
    assert_eq!(rt.status("p"), "stopped");
    assert_eq!(rt.run(&["kill", "p"]).code, 1);
    rt.ok(&["delete", "p"]);
}

#[test]
fn crash_that_recovery_cannot_fix_exits_134() {
    let rt = Rt::new(&["--processor", "name=m4;recovery=enabled"]);
    let pid = rt.create_fw("rf", "rf.elf", &Firmware::new());
    rt.ok(&["start", "rf"]);
    // The kernel reloads the same file to recover: without it, the core stays crashed.
    std::fs::remove_dir_all(rt.firmware_copy("rf")).unwrap();
    rt.sim
        .write("sys/kernel/debug/remoteproc/remoteproc0/crash", "watchdog")
        .unwrap();
    assert_eq!(reap(pid), Ok(134));
    let reason = rt.annotation("rf", "io.hybrid-runtime.exit-reason");
    assert!(reason.contains("did not recover"), "{reason}");
    rt.ok(&["delete", "rf"]);
    rt.assert_no_trace("rf", 0, "offline");
}

#[test]
fn leftovers_of_a_create_that_died_are_creating_then_deleted() {
    let rt = Rt::new(&[]);
    // What a create killed before its monitor reported ready leaves: a record without a monitor.
    killed_then_record_edited(&rt, "half", |rec| {
        rec["pid"] = serde_json::Value::from(0);
        rec["pid_start"] = serde_json::Value::from(0);
    });
    std::fs::remove_file(rt.state_dir("half").join("exit.json")).unwrap();
    assert_eq!(rt.status("half"), "creating");
    assert_eq!(rt.state("half")["pid"], 0);
    assert_eq!(rt.run(&["start", "half"]).code, 1);
    rt.ok(&["delete", "half"]);
    rt.assert_no_trace("half", 0, "offline");
    // Killed even earlier: a state dir, a claim and a firmware copy, without a record.
    std::fs::create_dir_all(rt.state_dir("early")).unwrap();
    std::fs::create_dir_all(rt.firmware_copy("early")).unwrap();
    std::fs::write(rt.firmware_copy("early").join("e.elf"), b"x").unwrap();
    std::fs::create_dir_all(rt.claim(0).parent().unwrap()).unwrap();
    std::fs::write(rt.claim(0), format!("{}\nearly\n", rt.root.display())).unwrap();
    rt.ok(&["delete", "--force", "early"]);
    rt.assert_no_trace("early", 0, "offline");
}

#[test]
fn recovery_passing_through_offline_is_not_a_stop() {
    let rt = Rt::new(&["--processor", "name=m4;recovery=enabled"]);
    let pid = rt.create_fw("slow", "s.elf", &Firmware::new());
    rt.ok(&["start", "slow"]);
    // A real kernel's recovery shows `offline` between its stop and its start, for as long as
    // the core takes to reset and reload: here longer than the grace an `offline` without a
    // crash gets, so only the crash the kernel reported keeps the container running. The
    // simulator's own recovery is turned off to hold each step as long as the test says.
    let recovery = "sys/kernel/debug/remoteproc/remoteproc0/recovery";
    rt.sim.write(recovery, "disabled").unwrap();
    rt.sim
        .write("sys/kernel/debug/remoteproc/remoteproc0/crash", "watchdog")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    rt.sim
        .write("sim/remoteproc0/force_state", "offline")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2000));
    rt.sim
        .write("sim/remoteproc0/force_state", "running")
        .unwrap();
    rt.sim.write(recovery, "enabled").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on the monitor this test adopted as subreaper.
    let ended = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    assert_eq!(ended, 0, "the monitor ended during the recovery");
    assert_eq!(rt.status("slow"), "running");
    rt.ok(&["kill", "slow"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    // With recovery enabled, a stop from outside still ends the container, a moment later.
    let pid = rt.create_fw("out", "o.elf", &Firmware::new());
    rt.ok(&["start", "out"]);
    rt.sim
        .write("sys/class/remoteproc/remoteproc0/state", "stop")
        .unwrap();
    assert_eq!(reap(pid), Ok(100));
    rt.ok(&["delete", "out"]);
    rt.ok(&["delete", "slow"]);
}

#[test]
fn crash_on_a_kernel_that_cannot_stop_a_crashed_core_still_ends_offline() {
    let rt = Rt::new(&["--processor", "name=m4;crash-stop=no"]);
    let pid = rt.create_fw("cs", "c.elf", &Firmware::new());
    rt.ok(&["start", "cs"]);
    rt.sim
        .write("sys/kernel/debug/remoteproc/remoteproc0/crash", "watchdog")
        .unwrap();
    assert_eq!(reap(pid), Ok(134));
    assert_eq!(rt.sim.state(0), "offline", "{:?}", rt.sim.events(0));
    assert_eq!(rt.sim.power(0), 0);
    rt.ok(&["delete", "cs"]);
    rt.assert_no_trace("cs", 0, "offline");
}

#[test]
fn driven_like_the_containerd_shim() {
    let rt = Rt::new(&[]);
    let b = common::bundle(&rt.work.join("bundle"), "fw.elf", &[], &["PATH=/bin"]);
    let rt = rt.in_dir(b.clone());
    Firmware::new().write_to(&b.join("rootfs/fw.elf")).unwrap();
    let log = b.join("log.json");
    let shim = |args: &[&str]| {
        let mut c = rt.bare_command(common::BIN);
        c.args(["--root", rt.root.to_str().unwrap()])
            .args(["--log", log.to_str().unwrap()])
            .args(["--log-format", "json", "--systemd-cgroup"])
            .args(args)
            .env("HYBRID_HOST_ROOT", rt.sim.root());
        let o = rt.output(&mut c);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
    };
    shim(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--pid-file",
        "init.pid",
        "--no-pivot",
        "task",
    ]);
    let pid: i32 = std::fs::read_to_string(b.join("init.pid"))
        .unwrap()
        .parse()
        .unwrap();
    shim(&["start", "task"]);
    assert_eq!(rt.sim.state(0), "running");
    shim(&["kill", "task", "9"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    assert_eq!(rt.sim.state(0), "offline");
    shim(&["delete", "--force", "task"]);
    shim(&["delete", "--force", "task"]);
    assert!(!log.exists() || !std::fs::read_to_string(&log).unwrap().contains("\"error\""));
    rt.assert_no_trace("task", 0, "offline");
}

#[test]
fn driven_like_podman_with_a_stripped_environment_and_a_config_file() {
    let rt = Rt::new(&[]);
    let b = common::bundle(&rt.work.join("pod"), "/fw.elf", &[], &[]);
    Firmware::new().write_to(&b.join("rootfs/fw.elf")).unwrap();
    let config = rt.work.join("config.json");
    let root = rt.work.join("podman-root");
    std::fs::write(
        &config,
        serde_json::json!({"root": root, "host_root": rt.sim.root(), "log_format": "json"})
            .to_string(),
    )
    .unwrap();
    rt.guard_root(&root);
    let rt = rt.in_dir(b.clone());
    let run = |args: &[&str]| {
        let mut c = rt.bare_command(common::BIN);
        c.args(args).env_clear().env("HYBRID_CONFIG", &config);
        let o = rt.output(&mut c);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
    };
    run(&[
        "create",
        "--bundle",
        b.to_str().unwrap(),
        "--pid-file",
        "p",
        "pod",
    ]);
    assert!(root.join("pod").is_dir(), "the config file's root is used");
    let pid: i32 = std::fs::read_to_string(b.join("p"))
        .unwrap()
        .parse()
        .unwrap();
    run(&["start", "pod"]);
    assert_eq!(rt.sim.state(0), "running");
    run(&["kill", "pod", "15"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    run(&["delete", "--force", "pod"]);
    assert!(!root.join("pod").exists());
    assert_eq!(rt.sim.state(0), "offline");
}
