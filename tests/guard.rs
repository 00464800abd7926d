//! What ties a core's life to its container: the monitor killed outright (the kernel stops the
//! core through /dev/remoteprocN; without it, `state` tells the truth), the runtime killed in the
//! middle of `start`, one container per core under concurrent creates, and cores that something
//! else started (attached, or started through sysfs) never silently stopped by our release.

mod common;

use common::{bundle, kill, reap, wait_hung, Firmware, Rt};

#[test]
fn monitor_killed_with_sigkill_takes_the_core_down_through_the_device() {
    let rt = Rt::new(&[]);
    let mut times = Vec::new();
    for round in 0..3 {
        let id = format!("sk{round}");
        let pid = rt.create_fw(
            &id,
            "sk.elf",
            &Firmware::new()
                .with_trace(256)
                .script("repeat 1000\ntrace tick {n}\nsleep 5\nend"),
        );
        rt.ok(&["start", &id]);
        std::thread::sleep(std::time::Duration::from_millis(20 * round));
        assert_eq!(rt.sim.state(0), "running");
        kill(pid, libc::SIGKILL);
        let took = rt.wait_for(2000, || rt.sim.state(0) == "offline");
        assert!(
            took.is_some(),
            "core left {} after its monitor died",
            rt.sim.state(0)
        );
        times.push(took.unwrap());
        assert_eq!(reap(pid), Err(libc::SIGKILL));
        assert_eq!(rt.sim.power(0), 0);
        assert!(rt
            .sim
            .events(0)
            .contains(&"shutdown-on-release".to_string()));
        assert_eq!(rt.status(&id), "stopped");
        rt.ok(&["delete", &id]);
        rt.assert_no_trace(&id, 0, "offline");
    }
    println!("monitor SIGKILL -> core offline (simulator): {times:?}");
}

/// A running container `id` on a core without /dev/remoteprocN whose monitor was SIGKILLed.
fn monitor_lost_without_the_device(id: &str) -> Rt {
    let rt = Rt::new(&["--processor", "name=m4;cdev=no"]);
    let pid = rt.create_fw(id, "l.elf", &Firmware::new());
    rt.ok(&["start", id]);
    kill(pid, libc::SIGKILL);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    rt
}

#[test]
fn monitor_killed_without_the_device_is_reported_and_cleaned_by_delete_force() {
    let rt = monitor_lost_without_the_device("lost");
    // No kernel guard: the core runs on, and state says so.
    assert_eq!(rt.sim.state(0), "running");
    assert_eq!(rt.status("lost"), "running");
    assert!(rt
        .annotation("lost", "io.hybrid-runtime.monitor")
        .starts_with("lost"));
    assert_eq!(rt.annotation("lost", "io.hybrid-runtime.guard"), "sysfs");
    let o = rt.run(&["delete", "lost"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("is running"), "{}", o.stderr);
    rt.ok(&["delete", "--force", "lost"]);
    rt.assert_no_trace("lost", 0, "offline");
}

#[test]
fn kill_reaches_a_core_whose_monitor_was_lost() {
    let rt = monitor_lost_without_the_device("lost2");
    rt.ok(&["kill", "lost2", "TERM"]);
    assert_eq!(rt.sim.state(0), "offline");
    assert_eq!(rt.status("lost2"), "stopped");
    assert_eq!(rt.annotation("lost2", "io.hybrid-runtime.exit-code"), "143");
    rt.ok(&["delete", "lost2"]);
    rt.assert_no_trace("lost2", 0, "offline");
}

/// Create container `id` and run `start` in the background while the simulator holds the
/// core's start through the device for `hang_ms`; returns the monitor's pid and the `start`.
fn start_held_in_the_kernel(rt: &Rt, id: &str, hang_ms: u32) -> (i32, std::process::Child) {
    let pid = rt.create_fw(id, "m.elf", &Firmware::new());
    rt.sim
        .write("sim/remoteproc0/hang", &format!("cdev {hang_ms}"))
        .unwrap();
    let start = rt
        .command(&["start", id])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    (pid, start)
}

#[test]
fn start_killed_midway_leaves_the_core_owned_by_its_container() {
    let rt = Rt::new(&[]);
    let (pid, mut start) = start_held_in_the_kernel(&rt, "mid", 400);
    wait_hung(&rt, 0, "cdev", 400);
    start.kill().unwrap();
    start.wait().unwrap();
    // The monitor finishes the start it was asked for and owns the core.
    assert!(rt.wait_for(3000, || rt.sim.state(0) == "running").is_some());
    assert!(rt
        .wait_for(1000, || rt.status("mid") == "running")
        .is_some());
    rt.ok(&["kill", "mid"]);
    assert_eq!(reap(pid), Err(libc::SIGTERM));
    assert_eq!(rt.sim.state(0), "offline");
    rt.ok(&["delete", "mid"]);
    rt.assert_no_trace("mid", 0, "offline");
}

#[test]
fn monitor_killed_during_the_start_leaves_no_core_running() {
    let rt = Rt::new(&[]);
    let (pid, start) = start_held_in_the_kernel(&rt, "mk", 300);
    wait_hung(&rt, 0, "cdev", 300);
    kill(pid, libc::SIGKILL);
    let o = start.wait_with_output().unwrap();
    assert!(!o.status.success(), "start must fail when the monitor dies");
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    assert!(
        rt.wait_for(3000, || rt.sim.state(0) == "offline").is_some(),
        "core {}",
        rt.sim.state(0)
    );
    assert_eq!(rt.sim.power(0), 0);
    assert_eq!(rt.status("mk"), "stopped");
    rt.ok(&["delete", "mk"]);
    rt.assert_no_trace("mk", 0, "offline");
}

#[test]
fn concurrent_creates_for_one_core_have_one_winner() {
    let rt = Rt::new(&[]);
    Firmware::new().write_to(&rt.work.join("c.elf")).unwrap();
    let outs: Vec<(String, common::Out)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let rt = &rt;
                s.spawn(move || {
                    let id = format!("race{i}");
                    let o = rt.create(&["c.elf", &id]);
                    (id, o)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&String> = outs
        .iter()
        .filter(|(_, o)| o.code == 0)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one create wins: {:?}",
        outs.iter()
            .map(|(i, o)| (i, o.code, &o.stderr))
            .collect::<Vec<_>>()
    );
    let winner = winners[0];
    for (id, o) in outs.iter().filter(|(_, o)| o.code != 0) {
        assert!(
            o.stderr.contains(&format!(
                "core remoteproc0 (m4) is used by container {winner}"
            )),
            "{id}: {}",
            o.stderr
        );
        assert!(!rt.state_dir(id).exists());
        assert!(!rt.firmware_copy(id).exists());
    }
    assert_eq!(rt.status(winner), "created");
    rt.ok(&["delete", winner]);
    rt.assert_no_trace(winner, 0, "offline");
}

#[test]
fn a_second_state_root_cannot_take_a_claimed_core() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("first", "a.elf", &Firmware::new());
    let other_root = rt.work.join("other-root");
    let o = rt.output(&mut rt.command_in_root(&other_root, &["create", "a.elf", "second"]));
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("is used by container first"),
        "{}",
        o.stderr
    );
    assert!(!other_root.join("second").exists());
    rt.ok(&["delete", "--force", "first"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
}

#[test]
fn attached_core_is_refused_by_default_and_adopted_on_request() {
    let rt = Rt::new(&["--processor", "name=m4;state=attached;detach=yes"]);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let o = rt.create(&["a.elf", "att"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("core remoteproc0 (m4) is already attached"),
        "{}",
        o.stderr
    );
    assert!(!rt.state_dir("att").exists());
    assert_eq!(rt.sim.state(0), "attached");

    let b = bundle(
        &rt.work.join("adopt"),
        "/none.elf",
        &[("io.hybrid-runtime.if-running", "adopt")],
        &[],
    );
    let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "adopt");
    rt.ok(&["start", "adopt"]);
    assert_eq!(rt.status("adopt"), "running");
    assert_eq!(rt.annotation("adopt", "io.hybrid-runtime.adopted"), "true");
    assert!(!rt
        .sim
        .events(0)
        .iter()
        .any(|e| e == "start" || e.starts_with("firmware ")));
    // Released by the monitor's death, the kernel detaches an attached core: it keeps running.
    kill(pid, libc::SIGKILL);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    assert!(
        rt.wait_for(2000, || rt.sim.state(0) == "detached")
            .is_some(),
        "{}",
        rt.sim.state(0)
    );
    rt.ok(&["delete", "adopt"]);
    assert!(!rt.state_dir("adopt").exists());
}

#[test]
fn if_running_stop_stops_the_core_before_loading() {
    let rt = Rt::new(&["--processor", "name=m4;state=attached"]);
    std::fs::create_dir_all(rt.work.join("st/rootfs")).unwrap();
    Firmware::new()
        .write_to(&rt.work.join("st/rootfs/fw.elf"))
        .unwrap();
    let b = bundle(
        &rt.work.join("st"),
        "fw.elf",
        &[("io.hybrid-runtime.if-running", "stop")],
        &[],
    );
    let o = rt.create(&["--bundle", b.to_str().unwrap(), "st"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(rt.sim.state(0), "offline");
    rt.ok(&["start", "st"]);
    assert_eq!(rt.sim.state(0), "running");
    rt.ok(&["delete", "--force", "st"]);
    rt.assert_no_trace("st", 0, "offline");
}

#[test]
fn a_core_started_through_sysfs_by_someone_else_is_never_stopped_by_our_release() {
    let rt = Rt::new(&[]);
    rt.start_through_sysfs(0);
    assert_eq!(rt.sim.power(0), 1);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let o = rt.create(&["a.elf", "mine"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("is already running"), "{}", o.stderr);
    assert_eq!(rt.sim.power(0), 1, "no second reference taken");

    let b = bundle(
        &rt.work.join("adopt"),
        "/x",
        &[("io.hybrid-runtime.if-running", "adopt")],
        &[],
    );
    let pid = rt.create_pid(&["--bundle", b.to_str().unwrap()], "adopt");
    rt.ok(&["start", "adopt"]);
    assert_eq!(rt.annotation("adopt", "io.hybrid-runtime.guard"), "sysfs");
    assert_eq!(rt.sim.power(0), 1, "adoption takes no reference");
    kill(pid, libc::SIGKILL);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(
        rt.sim.state(0),
        "running",
        "our release must not stop what someone else started"
    );
    assert!(!rt
        .sim
        .events(0)
        .iter()
        .any(|e| e == "shutdown-on-release" || e.starts_with("stop")));
    assert_eq!(rt.status("adopt"), "running");
    rt.ok(&["delete", "--force", "adopt"]);
    assert_eq!(rt.sim.state(0), "offline");
}

#[test]
fn start_refuses_a_core_that_is_no_longer_offline_without_a_second_reference() {
    let rt = Rt::new(&[]);
    let pid = rt.create_fw("late", "l.elf", &Firmware::new());
    rt.start_through_sysfs(0);
    let o = rt.run(&["start", "late"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("not offline"), "{}", o.stderr);
    assert_eq!(
        rt.sim.power(0),
        1,
        "never a second start on a running core (6.1 trap)"
    );
    rt.ok(&["delete", "late"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    assert_eq!(rt.sim.state(0), "running");
}

/// The last value the shutdown-on-release flag of core 0 was set to.
fn release_flag(rt: &Rt) -> Option<String> {
    rt.sim.events(0).iter().rev().find_map(|e| {
        e.strip_prefix("set-shutdown-on-release ")
            .map(str::to_string)
    })
}

#[test]
fn the_release_flag_is_cleared_after_every_kind_of_end() {
    let rt = Rt::new(&[]);
    // kill TERM: the monitor clears it; kill KILL: the kill command does; a monitor killed
    // from outside: delete does.
    for (round, how) in ["TERM", "KILL", "outside"].iter().enumerate() {
        let id = format!("flag{round}");
        let pid = rt.create_fw(&id, "f.elf", &Firmware::new());
        rt.ok(&["start", &id]);
        assert_eq!(release_flag(&rt).as_deref(), Some("1"));
        match *how {
            "outside" => kill(pid, libc::SIGKILL),
            sig => {
                rt.ok(&["kill", &id, sig]);
            }
        }
        reap(pid).ok();
        if *how != "outside" {
            assert_eq!(release_flag(&rt).as_deref(), Some("0"), "after kill {how}");
        }
        rt.ok(&["delete", &id]);
        assert_eq!(
            release_flag(&rt).as_deref(),
            Some("0"),
            "after {how} and delete"
        );
        rt.assert_no_trace(&id, 0, "offline");
    }
    // Someone else's sysfs start then survives any open and close of the device.
    rt.start_through_sysfs(0);
    drop(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(rt.sim.path("dev/remoteproc0"))
            .unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(rt.sim.state(0), "running");
}

#[test]
fn a_stale_claim_is_taken_over() {
    let rt = Rt::new(&[]);
    // A claim nobody holds a lock on: its container's monitor is long gone.
    std::fs::create_dir_all(rt.claim(0).parent().unwrap()).unwrap();
    std::fs::write(rt.claim(0), "/somewhere/else\nghost\n").unwrap();
    let pid = rt.create_fw("heir", "h.elf", &Firmware::new());
    let holder = std::fs::read_to_string(rt.claim(0)).unwrap();
    assert_eq!(holder, format!("{}\nheir\n", rt.root.display()));
    rt.ok(&["delete", "heir"]);
    assert_eq!(reap(pid), Err(libc::SIGKILL));
    rt.assert_no_trace("heir", 0, "offline");
}

#[test]
fn the_same_id_under_two_state_roots_never_shares_a_firmware_copy() {
    let rt = Rt::new(&["--processor", "name=m4", "--processor", "name=r5f"]);
    Firmware::new().write_to(&rt.work.join("a.elf")).unwrap();
    let create = |root: &str, core: &str| {
        let mut c = rt.command_in_root(&rt.work.join(root), &["create", "a.elf", "same"]);
        rt.output(c.env("HYBRID_CORE", core))
    };
    let first = create("ns1", "m4");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let copy = rt.firmware_copy("same").join("a.elf");
    let before = std::fs::metadata(&copy).unwrap().modified().unwrap();
    let second = create("ns2", "r5f");
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains("already exists"),
        "{}",
        second.stderr
    );
    assert_eq!(
        std::fs::metadata(&copy).unwrap().modified().unwrap(),
        before,
        "first copy untouched"
    );
    assert!(!rt.work.join("ns2/same").exists());
    assert!(!rt.claim(1).exists());
    let o =
        rt.output(&mut rt.command_in_root(&rt.work.join("ns1"), &["delete", "--force", "same"]));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!copy.exists());
}
