//! Running firmware: the behaviour script, the trace ring buffer, crashes
//! (debugfs and scripted) with and without recovery.
mod common;
use common::*;
use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;

const TRACE: &str = "sys/kernel/debug/remoteproc/remoteproc0/trace0";
const CRASH: &str = "sys/kernel/debug/remoteproc/remoteproc0/crash";

fn run(args: &[&str], fw: Firmware) -> Sim {
    let sim = Sim::start(args).unwrap();
    sim.install_firmware("rproc-m4-fw", &fw);
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    sim
}

fn trace_is(sim: &Sim, want: &str) -> bool {
    eventually(|| sim.read(TRACE).ok().as_deref() == Some(want))
}

#[test]
fn script_writes_the_trace_buffer() {
    let fw = Firmware::new()
        .with_trace(4096)
        .script("# greeting\ntrace hello\n\nrepeat 3\ntrace line {n}\nend\n");
    let sim = run(&[], fw);
    assert!(
        trace_is(&sim, "hello\nline 1\nline 2\nline 3\n"),
        "{:?}",
        sim.read(TRACE)
    );
    assert_eq!(sim.state(0), "running", "a finished script idles");
}

#[test]
fn trace_buffer_wraps_and_reads_like_debugfs() {
    let fw = Firmware::new()
        .with_trace(16)
        .script("trace 0123456789\ntrace abcdef\n");
    let sim = run(&[], fw);
    // 18 bytes into 16: the last two wrapped over the start; the read returns
    // the buffer from its start, no NUL left in it.
    assert!(
        trace_is(&sim, "f\n23456789\nabcde"),
        "{:?}",
        sim.read(TRACE)
    );
}

#[test]
fn trace_exists_only_with_a_trace_resource_and_while_loaded() {
    let sim = run(&[], Firmware::new().script("trace nowhere\n"));
    assert_eq!(errno(sim.read(TRACE)), libc::ENOENT);
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    sim.install_firmware(
        "rproc-m4-fw",
        &Firmware::new().with_trace(64).script("trace one\n"),
    );
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert!(trace_is(&sim, "one\n"));
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(errno(sim.read(TRACE)), libc::ENOENT);
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert!(trace_is(&sim, "one\n"), "a fresh buffer on every start");
}

#[test]
fn debugfs_crash_without_recovery_keeps_the_trace_until_stop() {
    let sim = run(&[], Firmware::new().with_trace(64).script("trace before\n"));
    assert!(trace_is(&sim, "before\n"));
    assert_eq!(errno(sim.write(CRASH, "segfault")), libc::EINVAL);
    assert_eq!(errno(sim.write(CRASH, "-1")), libc::EINVAL);
    // The kernel takes the type's number; the names are accepted too.
    sim.write(CRASH, "1\n").unwrap();
    assert_eq!(sim.state(0), "crashed");
    assert_eq!(sim.read(TRACE).unwrap(), "before\n");
    assert_eq!(
        errno(sim.write(&format!("{RP0}/firmware"), "x")),
        libc::EBUSY
    );
    let log = kmsg_lines(&sim);
    assert!(
        log.contains(&"remoteproc remoteproc0: crash detected in m4: type watchdog".into()),
        "{log:?}"
    );
    assert!(log.contains(&"remoteproc remoteproc0: handling crash #1 in m4".into()));
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!((sim.state(0).as_str(), sim.power(0)), ("offline", 0));
    assert_eq!(errno(sim.read(TRACE)), libc::ENOENT);
    assert_eq!(sim.events(0)[1..], ["start", "crash watchdog", "stop"]);
}

#[test]
fn crash_on_an_offline_core_only_logs() {
    let sim = Sim::start(&[]).unwrap();
    sim.write(CRASH, "0").unwrap();
    sim.write(CRASH, "7").unwrap();
    assert_eq!(sim.state(0), "offline");
    let log = kmsg_lines(&sim);
    assert!(log.contains(&"remoteproc remoteproc0: crash detected in m4: type mmufault".into()));
    assert!(log.contains(&"remoteproc remoteproc0: crash detected in m4: type unknown".into()));
    assert!(sim.events(0).is_empty());
}

#[test]
fn recovery_reloads_the_same_file_with_a_fresh_trace() {
    let fw = Firmware::new().with_trace(64).script("trace boot\n");
    let sim = run(&["--processor", "name=m4;recovery=enabled"], fw);
    assert!(trace_is(&sim, "boot\n"));
    sim.write(CRASH, "2").unwrap();
    assert_eq!(sim.state(0), "running");
    assert!(trace_is(&sim, "boot\n"), "fresh buffer, script ran again");
    assert_eq!(sim.read("sim/remoteproc0/starts").unwrap(), "2\n");
    assert_eq!(sim.power(0), 1);
    assert_eq!(
        sim.events(0)[1..],
        ["start", "crash fatal error", "recover", "start"]
    );
    let log = kmsg_lines(&sim);
    assert!(
        log.contains(&"remoteproc remoteproc0: recovering m4".into()),
        "{log:?}"
    );
    // The file is gone now: the next recovery fails and the core stays crashed.
    std::fs::remove_file(sim.path("lib/firmware/rproc-m4-fw")).unwrap();
    sim.write(CRASH, "watchdog").unwrap();
    assert_eq!(sim.state(0), "crashed");
    assert!(kmsg_lines(&sim)
        .iter()
        .any(|l| l.ends_with("request_firmware failed: -2")));
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(sim.state(0), "offline");
}

#[test]
fn scripted_crash_recovers_as_often_as_it_crashes() {
    let fw = Firmware::new().script("sleep 20\ncrash mmu-fault\n");
    let sim = run(&[], fw);
    assert!(eventually(|| sim.state(0) == "crashed"));
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    sim.write(&format!("{RP0}/recovery"), "enabled").unwrap();
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert!(eventually(|| {
        sim.read("sim/remoteproc0/starts")
            .map(|s| s.trim().parse::<u32>().unwrap_or(0) >= 4)
            .unwrap_or(false)
    }));
    sim.write(&format!("{RP0}/recovery"), "disabled").unwrap();
    assert!(eventually(|| sim.state(0) == "crashed"));
}

#[test]
fn debugfs_recover_restarts_a_crashed_core() {
    let sim = run(&[], Firmware::new());
    sim.write(CRASH, "watchdog").unwrap();
    assert_eq!(sim.state(0), "crashed");
    sim.write(
        "sys/kernel/debug/remoteproc/remoteproc0/recovery",
        "recover",
    )
    .unwrap();
    assert_eq!(sim.state(0), "running");
}

#[test]
fn halt_stops_the_script_but_not_the_core() {
    let fw = Firmware::new()
        .with_trace(64)
        .script("trace a\nhalt\ntrace b\n");
    let sim = run(&[], fw);
    assert!(trace_is(&sim, "a\n"));
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(sim.read(TRACE).unwrap(), "a\n");
    assert_eq!(sim.state(0), "running");
}

#[test]
fn stop_interrupts_a_sleeping_script() {
    let fw = Firmware::new()
        .with_trace(64)
        .script("sleep 60000\ntrace late\n");
    let sim = run(&[], fw);
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert_eq!(sim.read(TRACE).unwrap(), "");
}

#[test]
fn a_broken_script_runs_silently_and_says_why() {
    let sim = run(
        &[],
        Firmware::new().with_trace(64).script("trace a\njump\n"),
    );
    assert_eq!(sim.state(0), "running");
    assert_eq!(sim.read(TRACE).unwrap(), "");
    let ev = sim.events(0);
    assert!(
        ev.iter().any(|e| e.starts_with("script-error line 2")),
        "{ev:?}"
    );
}

#[test]
fn make_firmware_writes_a_loadable_image() {
    let sim = Sim::start(&[]).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_hybrid-sim"));
    let out = sim.path("lib/firmware/rproc-m4-fw");
    let st = std::process::Command::new(bin)
        .args(["make-firmware", "--out"])
        .arg(&out)
        .args(["--trace", "128", "--script", "trace made\n"])
        .status()
        .unwrap();
    assert!(st.success());
    sim.write(&format!("{RP0}/state"), "start").unwrap();
    assert!(trace_is(&sim, "made\n"));
    let st = std::process::Command::new(bin)
        .args(["make-firmware", "--trace", "x"])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(2));
    let help = std::process::Command::new(bin)
        .args(["make-firmware", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--script-file"));
}

#[test]
fn mainline_refuses_stop_on_a_crashed_core_until_recovered() {
    let fw = Firmware::new().with_trace(64).script("trace up\n");
    let sim = run(&["--processor", "name=m4;crash-stop=no"], fw);
    sim.write(CRASH, "mmu-fault").unwrap();
    assert_eq!(
        errno(sim.write(&format!("{RP0}/state"), "stop")),
        libc::EINVAL
    );
    assert_eq!(sim.state(0), "crashed");
    // Enabling recovery recovers the crashed core at once.
    sim.write(&format!("{RP0}/recovery"), "enabled").unwrap();
    assert_eq!(sim.state(0), "running");
    assert!(trace_is(&sim, "up\n"));
    sim.write(&format!("{RP0}/state"), "stop").unwrap();
    assert_eq!(sim.state(0), "offline");
}
