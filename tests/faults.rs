//! Crash consistency. The runtime is SIGKILLed at every step of create, start, kill and
//! delete: at points swept across each command's run, and while it is blocked in a kernel write
//! (the simulator's `hang` control). The monitor is SIGKILLed the same way at every point of
//! its life. The simulator fails every core operation with each errno the kernel can return.
//! After every fault, `state` must tell the truth and `delete --force` must restore a clean
//! system: core offline without power references, no state directory, firmware copy, claim or
//! monitor left. Both guards are exercised: /dev/remoteprocN (m4) and sysfs only (dsp).

mod common;
mod hardening;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{collect, wait_hung, Firmware, Out, Rt};
use hardening::{monitors, run_bounded, spawn};

/// Faults injected across the whole suite (kills and failed kernel writes).
static FAULTS: AtomicU32 = AtomicU32::new(0);

/// Points swept across a command's measured duration.
const SWEEP: u32 = 10;

struct Core {
    n: u32,
    name: &'static str,
}

const CDEV: Core = Core { n: 0, name: "m4" };
const SYSFS: Core = Core { n: 1, name: "dsp" };

fn sim() -> Rt {
    Rt::new(&["--processor", "name=m4", "--processor", "name=dsp;cdev=no"])
}

fn bundle(rt: &Rt, core: &Core) -> PathBuf {
    let dir = rt.work.join(format!("bundle-{}", core.name));
    if !dir.exists() {
        let fw = Firmware::new()
            .with_trace(512)
            .script("repeat 100000\ntrace tick {n}\nsleep 10\nend\n");
        common::fw_bundle(&dir, &fw, &[("io.hybrid-runtime.core", core.name)], &[]);
    }
    dir
}

fn run(rt: &Rt, args: &[&str]) -> Out {
    let o = run_bounded(rt, args, &[], 30);
    assert_ne!(o.code, -2, "{args:?} did not finish");
    o
}

fn create_args(rt: &Rt, core: &Core) -> Vec<String> {
    let b = bundle(rt, core);
    vec![
        "create".into(),
        "--bundle".into(),
        b.to_str().unwrap().into(),
        "--pid-file".into(),
        b.join("f.pid").to_str().unwrap().into(),
        "f".into(),
    ]
}

fn create(rt: &Rt, core: &Core) -> i32 {
    let args = create_args(rt, core);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(rt, &argv);
    assert_eq!(o.code, 0, "create: {}", o.stderr);
    std::fs::read_to_string(bundle(rt, core).join("f.pid"))
        .unwrap()
        .parse()
        .unwrap()
}

/// How far the container is brought before the fault.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Before {
    Nothing,
    Created,
    Running,
    Stopped,
}

fn prepare(rt: &Rt, core: &Core, before: Before) -> Option<i32> {
    if before == Before::Nothing {
        return None;
    }
    let pid = create(rt, core);
    if before != Before::Created {
        let o = run(rt, &["start", "f"]);
        assert_eq!(o.code, 0, "start: {}", o.stderr);
    }
    if before == Before::Stopped {
        let o = run(rt, &["kill", "f", "TERM"]);
        assert_eq!(o.code, 0, "kill: {}", o.stderr);
    }
    Some(pid)
}

fn kill(pid: i32) {
    common::kill(pid, libc::SIGKILL);
}

/// `state` tells the truth about container `f` on `core` once the monitor's own work settled
/// (a monitor that was told to stop is given up to 2 s to end).
fn truthful(rt: &Rt, core: &Core, when: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match check_truth(rt, core) {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{when}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn check_truth(rt: &Rt, core: &Core) -> Result<(), String> {
    let o = run(rt, &["state", "f"]);
    let core_state = rt.sim.state(core.n);
    let loaded = rt
        .sim
        .read(&format!(
            "sys/class/remoteproc/remoteproc{}/firmware",
            core.n
        ))
        .unwrap_or_default();
    let ours_runs = core_state == "running" && loaded.trim().starts_with("hybrid-runtime/f/");
    let fail = |what: String| Err(format!("{what} (core {core_state}, firmware {loaded:?})"));
    if o.code != 0 {
        // A create killed before writing its record leaves no container (its directory, if
        // any, holds no record and is removed by delete).
        if !o.stderr.contains("does not exist") || rt.state_dir("f").join("state.json").exists() {
            return fail(format!("state failed: {}", o.stderr));
        }
        if ours_runs {
            return fail("no container, yet the core runs its firmware".into());
        }
        return Ok(());
    }
    let v: serde_json::Value = serde_json::from_str(&o.stdout).map_err(|e| e.to_string())?;
    let status = v["status"].as_str().unwrap_or("");
    let pid = v["pid"].as_i64().unwrap_or(-1) as i32;
    let alive = pid > 0 && monitors(rt).contains(&pid);
    match status {
        "running" if !ours_runs => fail("state says running".into()),
        "created" if !alive => fail(format!("created, but monitor {pid} is gone")),
        "created" if core_state != "offline" => fail("created, core not offline".into()),
        "creating" if ours_runs => fail("creating while the core runs".into()),
        "stopped" if ours_runs => fail("state says stopped, the core runs our firmware".into()),
        "stopped" if pid != 0 => fail(format!("stopped with pid {pid}")),
        "running" | "created" | "creating" | "stopped" => Ok(()),
        other => fail(format!("status {other}")),
    }
}

/// `delete --force` leaves nothing: the core offline without references, no state
/// directory, firmware copy, claim or monitor.
fn clean(rt: &Rt, core: &Core, when: &str) {
    let o = run(rt, &["delete", "--force", "f"]);
    assert_eq!(o.code, 0, "{when}: delete --force: {}", o.stderr);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !monitors(rt).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        monitors(rt).is_empty(),
        "{when}: monitors left {:?}",
        monitors(rt)
    );
    assert!(!rt.state_dir("f").exists(), "{when}: state dir left");
    assert!(
        !rt.firmware_copy("f").exists(),
        "{when}: firmware copy left"
    );
    assert!(!rt.claim(core.n).exists(), "{when}: claim left");
    assert_eq!(rt.sim.state(core.n), "offline", "{when}: core state");
    assert_eq!(rt.sim.power(core.n), 0, "{when}: power references");
    let o = run(rt, &["state", "f"]);
    assert!(o.stderr.contains("does not exist"), "{when}: {}", o.stderr);
}

fn args_of(op: &str) -> Vec<&str> {
    match op {
        "start" => vec!["start", "f"],
        "kill TERM" => vec!["kill", "f", "TERM"],
        "kill KILL" => vec!["kill", "f", "KILL"],
        "delete" => vec!["delete", "f"],
        "delete --force" => vec!["delete", "--force", "f"],
        _ => unreachable!(),
    }
}

/// Run `op` after `before`, SIGKILLing it `delay` after it began (if still running).
fn kill_op_at(rt: &Rt, core: &Core, before: Before, op: &str, delay: Duration) -> Duration {
    prepare(rt, core, before);
    let owned = create_args(rt, core);
    let args: Vec<&str> = if op == "create" {
        owned.iter().map(String::as_str).collect()
    } else {
        args_of(op)
    };
    let began = Instant::now();
    let (mut child, out, err) = spawn(rt, &args, &[]);
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if began.elapsed() >= delay {
            let _ = child.kill();
            FAULTS.fetch_add(1, Ordering::Relaxed);
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let took = began.elapsed();
    let _ = collect(st.code().unwrap_or(-1), out, err);
    // The monitor's own work (a start it was asked for) settles.
    std::thread::sleep(Duration::from_millis(30));
    took
}

#[test]
fn runtime_killed_at_every_point_of_every_command() {
    let rt = sim();
    let plan: &[(Before, &str)] = &[
        (Before::Nothing, "create"),
        (Before::Created, "start"),
        (Before::Running, "kill TERM"),
        (Before::Running, "kill KILL"),
        (Before::Running, "delete --force"),
        (Before::Created, "delete --force"),
        (Before::Stopped, "delete"),
    ];
    let mut points = 0;
    for core in [&CDEV, &SYSFS] {
        for &(before, op) in plan {
            // Measure the command once, then kill it at points across that time.
            let full = kill_op_at(&rt, core, before, op, Duration::from_secs(10));
            let what = format!("{op} on {} after {before:?}", core.name);
            truthful(&rt, core, &what);
            clean(&rt, core, &what);
            for i in 0..SWEEP {
                let at = full * i / SWEEP;
                kill_op_at(&rt, core, before, op, at);
                let when = format!("{what}, killed at {at:?} of {full:?}");
                truthful(&rt, core, &when);
                clean(&rt, core, &when);
                points += 1;
            }
        }
    }
    eprintln!("runtime killed at {points} points");
}

#[test]
fn runtime_killed_while_blocked_in_a_kernel_write() {
    let rt = sim();
    let hold = 300;
    let mut cases = 0;
    for core in [&CDEV, &SYSFS] {
        let guard_file = if core.n == CDEV.n { "cdev" } else { "state" };
        // (prepared to, command, file whose write is held, who is killed)
        let plan: &[(Before, &str, &str, &str)] = &[
            (Before::Created, "start", "firmware", "command"),
            (Before::Created, "start", "firmware", "monitor"),
            (Before::Created, "start", guard_file, "command"),
            (Before::Created, "start", guard_file, "monitor"),
            (Before::Running, "kill TERM", guard_file, "command"),
            (Before::Running, "kill TERM", guard_file, "monitor"),
            // With the device guard the kernel stops the core when the monitor dies: no write.
            (Before::Running, "kill KILL", "state", "command"),
            (Before::Running, "delete --force", "state", "command"),
        ];
        for &(before, op, file, victim) in plan {
            if core.n == CDEV.n && file == "state" {
                continue;
            }
            let what = format!(
                "{op} on {}, {victim} killed in a held {file} write",
                core.name
            );
            let monitor = prepare(&rt, core, before).unwrap();
            rt.sim
                .write(
                    &format!("sim/remoteproc{}/hang", core.n),
                    &format!("{file} {hold}"),
                )
                .unwrap();
            let (mut child, out, err) = spawn(&rt, &args_of(op), &[]);
            wait_hung(&rt, core.n, file, hold);
            match victim {
                "command" => {
                    let _ = child.kill();
                }
                _ => kill(monitor),
            }
            FAULTS.fetch_add(1, Ordering::Relaxed);
            let st = child.wait().unwrap();
            let _ = collect(st.code().unwrap_or(-1), out, err);
            // The held write completes in the kernel after the kill.
            std::thread::sleep(Duration::from_millis(u64::from(hold) + 50));
            truthful(&rt, core, &what);
            clean(&rt, core, &what);
            cases += 1;
        }
    }
    eprintln!("runtime or monitor killed in {cases} held kernel writes");
}

#[test]
fn monitor_killed_at_every_point_of_its_life() {
    let rt = sim();
    let mut points = 0;
    for core in [&CDEV, &SYSFS] {
        // While created, while running, and swept across start and kill TERM.
        for before in [Before::Created, Before::Running] {
            let pid = prepare(&rt, core, before).unwrap();
            kill(pid);
            FAULTS.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(30));
            let what = format!("monitor on {} killed while {before:?}", core.name);
            truthful(&rt, core, &what);
            clean(&rt, core, &what);
            points += 1;
        }
        for (before, op) in [(Before::Created, "start"), (Before::Running, "kill TERM")] {
            let full = kill_op_at(&rt, core, before, op, Duration::from_secs(10));
            clean(&rt, core, "calibration");
            for i in 0..SWEEP {
                let at = full * i / SWEEP;
                let pid = prepare(&rt, core, before).unwrap();
                let (mut child, out, err) = spawn(&rt, &args_of(op), &[]);
                std::thread::sleep(at);
                kill(pid);
                FAULTS.fetch_add(1, Ordering::Relaxed);
                let st = child.wait().unwrap();
                let o = collect(st.code().unwrap_or(-1), out, err);
                assert!(o.code == 0 || !o.stderr.is_empty(), "{op} failed silently");
                std::thread::sleep(Duration::from_millis(30));
                let when = format!("monitor on {} killed {at:?} into {op}", core.name);
                truthful(&rt, core, &when);
                clean(&rt, core, &when);
                points += 1;
            }
        }
    }
    eprintln!("monitor killed at {points} points");
}

/// Errnos a kernel write to remoteproc can return (the core's driver, the firmware loader, the
/// ELF loader, the device going away). EPROBE_DEFER (517), which a driver can leak, cannot be
/// simulated: FUSE refuses replies with errnos above 511 and the write never returns.
const ERRNOS: &[&str] = &[
    "EPERM",
    "ENOENT",
    "EINTR",
    "EIO",
    "ENXIO",
    "ENOEXEC",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "EBUSY",
    "ENODEV",
    "EINVAL",
    "ENOSPC",
    "ETIMEDOUT",
    "ENOSYS",
    "EOPNOTSUPP",
];

#[test]
fn every_errno_of_every_core_operation_is_reported_and_cleaned_up() {
    let rt = sim();
    let mut cases = 0;
    for core in [&CDEV, &SYSFS] {
        for errno in ERRNOS {
            // (prepared to, failing operation, command that runs into it)
            for (before, fop, op) in [
                (Before::Created, "firmware", "start"),
                (Before::Created, "start", "start"),
                (Before::Running, "stop", "kill TERM"),
                (Before::Running, "stop", "kill KILL"),
                (Before::Running, "stop", "delete --force"),
            ] {
                let what = format!("{fop} failing with {errno} during {op} on {}", core.name);
                prepare(&rt, core, before);
                rt.sim
                    .write(
                        &format!("sim/remoteproc{}/fail", core.n),
                        &format!("{fop} {errno}"),
                    )
                    .unwrap();
                let o = run(&rt, &args_of(op));
                FAULTS.fetch_add(1, Ordering::Relaxed);
                let failed_in_kernel = rt
                    .sim
                    .events(core.n)
                    .iter()
                    .any(|e| e.starts_with(&format!("fail {fop} ")));
                if failed_in_kernel && op == "start" {
                    assert_eq!(o.code, 1, "{what}: start succeeded");
                    assert!(
                        o.stderr.starts_with("hybrid-runtime: ") && o.stderr.lines().count() == 1,
                        "{what}: {}",
                        o.stderr
                    );
                }
                std::thread::sleep(Duration::from_millis(30));
                truthful(&rt, core, &what);
                // The failure is consumed; a retried delete --force cleans everything.
                clean(&rt, core, &what);
                cases += 1;
            }
        }
    }
    eprintln!(
        "{cases} failed kernel writes; faults so far {}",
        FAULTS.load(Ordering::Relaxed)
    );
}

/// A `create` killed between opening its core claim and writing its name into it leaves a
/// claim that names nobody: `delete --force` removes it with the rest.
#[test]
fn a_claim_that_names_nobody_is_removed_with_the_container() {
    let rt = sim();
    std::fs::create_dir_all(rt.state_dir("f")).unwrap();
    std::fs::create_dir_all(rt.claim(CDEV.n).parent().unwrap()).unwrap();
    std::fs::write(rt.claim(CDEV.n), "").unwrap();
    clean(&rt, &CDEV, "an empty claim");
}
