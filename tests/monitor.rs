//! The monitor's own failures, with the real binary against the simulator: a panic in the
//! monitor is reported as the runtime's bug (exit code 102), never as a firmware crash (134),
//! and leaves no core running, whichever guard ties the core to the monitor.
//!
//! The panic is real: test builds (debug assertions) panic in the monitor once the core runs
//! when `create` had `HYBRID_TEST_MONITOR_PANIC` in its environment; release builds have no such
//! trigger.

mod common;

use std::fs;

use common::{reap, Firmware, Rt};

/// Create and start container `id` whose monitor panics once the core runs; return its exit
/// status and what it wrote on stderr.
fn panicking_monitor(rt: &Rt, id: &str) -> (Result<i32, i32>, String) {
    let fw = rt.work.join(format!("{id}.elf"));
    Firmware::new()
        .with_trace(1024)
        .script("trace running\n")
        .write_to(&fw)
        .unwrap();
    let pid_file = rt.pid_file(id);
    let stderr = rt.work.join(format!("{id}.stderr"));
    let mut create = rt.command(&[
        "create",
        "--pid-file",
        pid_file.to_str().unwrap(),
        fw.to_str().unwrap(),
        id,
    ]);
    let status = create
        .env("HYBRID_TEST_MONITOR_PANIC", "1")
        .stdout(fs::File::create(rt.work.join(format!("{id}.stdout"))).unwrap())
        .stderr(fs::File::create(&stderr).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "create {id}");
    rt.ok(&["start", id]);
    let pid = rt.pid(id);
    // The trigger is only in builds with debug assertions: a monitor that goes on running was
    // built without it, which is a failure here, not a hang.
    let ended = rt.wait_for(10_000, || {
        // Ended and not yet reaped: a zombie child of this test (the subreaper).
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    });
    assert!(
        ended.is_some(),
        "{id}: the monitor did not panic within 10 s (a build without debug assertions has no \
         test trigger)"
    );
    let exit = reap(pid);
    (exit, fs::read_to_string(stderr).unwrap())
}

/// The container ended with 102 and a reason that asks for a bug report; the core is offline.
fn assert_reported_as_a_bug(rt: &Rt, id: &str, exit: Result<i32, i32>, stderr: &str) {
    assert_eq!(exit, Ok(102), "{id}: a panic is not a firmware crash (134)");
    let reason = rt.annotation(id, "io.hybrid-runtime.exit-reason");
    assert!(
        reason.starts_with("the monitor failed (it panicked at src/monitor")
            && reason.contains("deliberate panic for a test")
            && reason.contains("this is a bug in hybrid-runtime, please report it"),
        "{reason}"
    );
    assert!(
        stderr.contains(&format!("hybrid-runtime: {reason}")),
        "{stderr}"
    );
    assert!(!stderr.contains("thread 'main' panicked"), "{stderr}");
    assert!(
        rt.wait_for(2000, || rt.sim.state(0) == "offline").is_some(),
        "{id}: core left {}",
        rt.sim.state(0)
    );
    assert_eq!(rt.status(id), "stopped");
    assert_eq!(rt.annotation(id, "io.hybrid-runtime.exit-code"), "102");
    rt.ok(&["delete", id]);
    rt.assert_no_trace(id, 0, "offline");
}

#[test]
fn a_monitor_panic_with_the_device_guard_is_a_bug_report_and_the_kernel_stops_the_core() {
    let rt = Rt::new(&[]);
    let (exit, stderr) = panicking_monitor(&rt, "panic-cdev");
    assert_reported_as_a_bug(&rt, "panic-cdev", exit, &stderr);
    let events = rt.sim.read("sim/remoteproc0/events").unwrap();
    assert!(events.contains("shutdown-on-release"), "{events}");
}

#[test]
fn a_monitor_panic_with_the_sysfs_guard_is_a_bug_report_and_stops_the_core() {
    let rt = Rt::new(&["--processor", "name=m4;cdev=no"]);
    let (exit, stderr) = panicking_monitor(&rt, "panic-sysfs");
    let reason = rt.annotation("panic-sysfs", "io.hybrid-runtime.exit-reason");
    assert!(
        reason.ends_with("; core remoteproc0 (m4) is offline"),
        "{reason}"
    );
    assert_reported_as_a_bug(&rt, "panic-sysfs", exit, &stderr);
}
