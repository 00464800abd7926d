//! The container lifecycle as engines drive it, checked against the real core
//! and the exit status of the process that stands for the container.
use std::time::Duration;

use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::{firmware, json_field, json_number, run, run_as, Bundle};
use crate::system;

const SECOND: Duration = Duration::from_secs(1);
/// The monitor's budget: peak resident memory and CPU while the firmware runs quietly.
const MONITOR_MAX_RESIDENT_KIB: u64 = 1536;
/// The memory budget holds for the builds that ship (aarch64, armv7, static musl). Nearly all of
/// a monitor's resident memory is the binary's text, mapped 64 KiB around each fault, and the
/// x86_64 test build (static glibc, not released) is the one outside the size budget too: its
/// peak is printed, not asserted.
const MONITOR_MEMORY_ASSERTED: bool = !cfg!(target_arch = "x86_64");
const MONITOR_MAX_IDLE_CPU_PERCENT: f64 = 0.5;
/// How long the idle CPU is measured: 1,000 clock ticks at the usual 100 per second, so that
/// one tick is a fifth of the budget.
const IDLE_WINDOW: Duration = Duration::from_secs(10);

/// create + start; returns the bundle and the monitor pid with the core running.
fn started(core: &Core, id: &str, script: &str) -> Result<(Bundle, i32), String> {
    let bundle = Bundle::new(id, Some(&firmware(script)), &[])?;
    bundle.create().ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    let status = bundle.status()?;
    ensure(status == "created", || {
        format!("status after create: {status}")
    })?;
    ensure(core.state() == "offline", || {
        format!("core {} before start", core.state())
    })?;
    run(&["start", id])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    ensure(core.state() == "running", || {
        format!("core {} when start returned", core.state())
    })?;
    Ok((bundle, pid))
}

/// Whether `pid` holds /dev/remoteprocN open.
fn holds_cdev(pid: i32, core: &Core) -> bool {
    let want = core.cdev();
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|p| p == want))
        })
        .unwrap_or(false)
}

fn deleted(bundle: &Bundle, core: &Core, force: bool) -> Result<(), String> {
    let args: &[&str] = if force {
        &["delete", "--force", &bundle.id]
    } else {
        &["delete", &bundle.id]
    };
    run(args).ok().map_err(|e| format!("delete: {e}"))?;
    ensure(!bundle.state_dir().exists(), || {
        "state dir left after delete".into()
    })?;
    let again = run(&["state", &bundle.id]);
    ensure(again.code != 0, || {
        "state of a deleted container succeeded".into()
    })?;
    core.wait_state("offline", SECOND).map(|_| ())
}

pub fn full_lifecycle(core: &Core) -> Verdict {
    let (bundle, pid) = started(core, "life", "trace alive\n")?;
    let status = bundle.status()?;
    ensure(status == "running", || {
        format!("status after start: {status}")
    })?;
    ensure(holds_cdev(pid, core), || {
        format!("monitor {pid} does not hold {}", core.cdev().display())
    })?;
    let state = run(&["state", "life"]);
    let guard = json_field(&state.stdout, "io.hybrid-runtime.guard");
    ensure(guard.as_deref() == Some("cdev"), || {
        format!("state says guard {guard:?}: {}", state.stdout.trim())
    })?;
    let ps = run(&["ps", "--format", "json", "life"]);
    ensure(ps.stdout.trim() == format!("[{pid}]"), || {
        format!("ps printed {:?}", ps.stdout)
    })?;
    let list = run(&["list", "--format", "json"]);
    ensure(list.stdout.contains("\"life\""), || {
        format!("list printed {:?}", list.stdout)
    })?;
    let cost = monitor_cost(pid)?;
    run(&["kill", "life", "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    ensure(code == Some(143), || {
        format!("monitor exit status {code:?}, expected 143")
    })?;
    ensure(core.state() == "offline", || {
        format!("core {} after kill TERM", core.state())
    })?;
    let status = bundle.status()?;
    ensure(status == "stopped", || {
        format!("status after kill: {status}")
    })?;
    deleted(&bundle, core, false)?;
    let figures = cost.to_string();
    ensure(
        !MONITOR_MEMORY_ASSERTED || cost.peak_kib <= MONITOR_MAX_RESIDENT_KIB,
        || {
            format!(
            "monitor peak resident memory {} KiB, over its budget of {MONITOR_MAX_RESIDENT_KIB} \
             KiB; {figures}",
            cost.peak_kib
        )
        },
    )?;
    ensure(cost.idle_percent <= MONITOR_MAX_IDLE_CPU_PERCENT, || {
        format!(
            "monitor idle CPU {:.2} % of a CPU, over its budget of \
             {MONITOR_MAX_IDLE_CPU_PERCENT} %; {figures}",
            cost.idle_percent
        )
    })?;
    Ok(format!(
        "created → running (guard cdev, held by the monitor; ps, list) → 143 → stopped → deleted; \
         {figures}"
    ))
}

/// What the monitor of a running container costs while nothing happens.
struct MonitorCost {
    /// Share of one CPU over `IDLE_WINDOW`, in percent.
    idle_percent: f64,
    /// The smallest share one clock tick in `IDLE_WINDOW` amounts to, in percent.
    resolution_percent: f64,
    resident_kib: u64,
    peak_kib: u64,
}

impl std::fmt::Display for MonitorCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "monitor idle CPU {:.2} % of a CPU under TCG over {} s (one clock tick: {:.2} %; \
             budget {MONITOR_MAX_IDLE_CPU_PERCENT} %), resident {} KiB, peak {} KiB (budget \
             {MONITOR_MAX_RESIDENT_KIB} KiB{})",
            self.idle_percent,
            IDLE_WINDOW.as_secs(),
            self.resolution_percent,
            self.resident_kib,
            self.peak_kib,
            if MONITOR_MEMORY_ASSERTED {
                ""
            } else {
                ", not asserted for this unreleased build"
            }
        )
    }
}

/// The monitor's CPU use over `IDLE_WINDOW` and its resident memory, now and at its peak.
fn monitor_cost(pid: i32) -> Result<MonitorCost, String> {
    let ticks = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        // utime and stime: fields 14 and 15 of the line, 11 and 12 after the command name.
        let field = |n: usize| {
            fields
                .get(n)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        field(11) + field(12)
    };
    let before = ticks();
    std::thread::sleep(IDLE_WINDOW);
    // SAFETY: sysconf has no pointers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let window = IDLE_WINDOW.as_secs_f64();
    let idle_percent = ticks().saturating_sub(before) as f64 / hz / window * 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("reading /proc/{pid}/status of the monitor: {e}"))?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no {key} in /proc/{pid}/status of the monitor"))
    };
    Ok(MonitorCost {
        idle_percent,
        resolution_percent: 100.0 / hz / window,
        resident_kib: kib("VmRSS:")?,
        peak_kib: kib("VmHWM:")?,
    })
}

/// The monitor SIGKILLed at several moments after start (rpmsg channels coming
/// up, logs being streamed, idle): each time the kernel stops the core by itself.
pub fn monitor_sigkill(core: &Core) -> Verdict {
    let mut took = Vec::new();
    for (round, delay_ms) in [0u64, 5, 30, 150, 600].into_iter().enumerate() {
        let id = format!("sigkill{round}");
        let (bundle, pid) = started(
            core,
            &id,
            "echo\nrepeat 50\ntty tick {n}\ntrace tick {n}\nsleep 10\nend\n",
        )?;
        std::thread::sleep(Duration::from_millis(delay_ms));
        system::kill(pid, libc::SIGKILL).map_err(|e| e.to_string())?;
        let offline = core
            .wait_state("offline", SECOND)
            .map_err(|e| format!("{delay_ms} ms after start: {e}"))?;
        let code = system::wait_pid(pid, SECOND);
        ensure(code == Some(137), || format!("monitor status {code:?}"))?;
        let status = bundle.status()?;
        ensure(status == "stopped", || {
            format!("status after the monitor died: {status}")
        })?;
        deleted(&bundle, core, false)?;
        took.push(offline.as_micros());
    }
    let worst = took.iter().max().copied().unwrap_or_default();
    Ok(format!(
        "killed 0–600 ms after start: core offline within {worst} µs each time, no runtime command"
    ))
}

pub fn kill_sigkill(core: &Core) -> Verdict {
    let (bundle, pid) = started(core, "killkill", "trace alive\n")?;
    run(&["kill", "killkill", "KILL"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    ensure(code == Some(137), || {
        format!("monitor exit status {code:?}, expected 137")
    })?;
    ensure(core.state() == "offline", || {
        format!("core {} after kill KILL", core.state())
    })?;
    deleted(&bundle, core, false)?;
    Ok("137, core offline".into())
}

pub fn crash_exit(core: &Core) -> Verdict {
    let (bundle, pid) = started(
        core,
        "crash",
        "trace about to crash\nsleep 300\ncrash fatal-error\n",
    )?;
    let code = system::wait_pid(pid, 5 * SECOND);
    ensure(code == Some(134), || {
        format!("monitor exit status {code:?}, expected 134")
    })?;
    let after_exit = core.state();
    let status = bundle.status()?;
    ensure(status == "stopped", || {
        format!("status after the crash: {status}")
    })?;
    deleted(&bundle, core, false)?;
    Ok(format!(
        "134; core {after_exit} once the monitor exited, offline after delete"
    ))
}

pub fn delete_force_running(core: &Core) -> Verdict {
    let (bundle, pid) = started(core, "forced", "trace alive\n")?;
    let refused = run(&["delete", "forced"]);
    ensure(refused.code != 0, || {
        "delete of a running container succeeded".into()
    })?;
    ensure(core.state() == "running", || {
        format!("core {} after a refused delete", core.state())
    })?;
    deleted(&bundle, core, true)?;
    let code = system::wait_pid(pid, 5 * SECOND);
    ensure(code.is_some(), || {
        format!("monitor {pid} still alive after delete --force")
    })?;
    let unknown = run(&["delete", "--force", "forced"]);
    ensure(unknown.code == 0, || {
        format!("delete --force of a deleted id: exit {}", unknown.code)
    })?;
    Ok(format!(
        "refused without --force; forced: core offline, monitor status {code:?}"
    ))
}

pub fn recovered_crash_keeps_running(core: &Core) -> Verdict {
    recovered_crash(core, 0)
}

/// Recovery as slow as a real core's reset and reload: the kernel reports the
/// core `offline` for that long, which the monitor must not take for a stop.
pub fn slow_recovery_keeps_running(core: &Core) -> Verdict {
    let verdict = recovered_crash(core, 300);
    set_reset_ms(0)?;
    verdict
}

fn set_reset_ms(ms: u32) -> Result<(), String> {
    std::fs::write("/sys/module/fake_rproc/parameters/reset_ms", ms.to_string())
        .map_err(|e| format!("reset_ms: {e}"))
}

fn recovered_crash(core: &Core, reset_ms: u32) -> Verdict {
    set_reset_ms(reset_ms)?;
    core.write(core.debug("recovery"), "enabled")
        .map_err(|e| format!("recovery: {e}"))?;
    let (bundle, pid) = started(core, "recover", "trace alive\n")?;
    let crashes = || crate::kernel::kmsg_lines("recovering").len();
    let before = crashes();
    core.write(core.debug("crash"), "1")
        .map_err(|e| format!("debugfs crash: {e}"))?;
    let recovered = super::eventually(3 * SECOND, || {
        crashes() > before && core.state() == "running"
    });
    ensure(recovered, || {
        let monitor = system::wait_pid(pid, Duration::ZERO);
        format!(
            "core {} after a crash with recovery; monitor exit status {monitor:?}",
            core.state()
        )
    })?;
    // Long enough for the monitor to notice the crash had it taken it for an exit.
    std::thread::sleep(SECOND / 2);
    ensure(core.state() == "running", || {
        format!("core {} after a recovered crash", core.state())
    })?;
    let alive = system::wait_pid(pid, Duration::ZERO);
    ensure(alive.is_none(), || {
        format!("monitor exited {alive:?} on a recovered crash")
    })?;
    let status = bundle.status()?;
    ensure(status == "running", || {
        format!("status after a recovered crash: {status}")
    })?;
    run(&["kill", "recover", "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    ensure(code == Some(143), || {
        format!("monitor exit status {code:?}, expected 143")
    })?;
    deleted(&bundle, core, false)?;
    Ok(format!(
        "still running after the kernel recovered the core ({reset_ms} ms reset); TERM → 143"
    ))
}

pub fn one_container_per_core(core: &Core) -> Verdict {
    let first = Bundle::new("first", Some(&firmware("trace first\n")), &[])?;
    first
        .create()
        .ok()
        .map_err(|e| format!("create first: {e}"))?;
    let pid = first.monitor_pid()?;
    let second = Bundle::new("second", Some(&firmware("trace second\n")), &[])?;
    let out = second.create();
    let result = (|| {
        ensure(out.code > 0, || {
            format!("second create exited {}", out.code)
        })?;
        ensure(out.stderr.contains("first"), || {
            format!("loser not told the winner: {}", out.stderr.trim())
        })?;
        ensure(!second.state_dir().exists(), || {
            "state dir of the loser left".into()
        })
    })();
    deleted(&first, core, true)?;
    system::wait_pid(pid, 5 * SECOND);
    result?;
    Ok(out.stderr.trim().to_string())
}

pub fn kill_refuses_other_signals(core: &Core) -> Verdict {
    let (bundle, pid) = started(core, "hup", "trace alive\n")?;
    let out = run(&["kill", "hup", "HUP"]);
    let still = core.state();
    let result = ensure(out.code != 0 && still == "running", || {
        format!("kill HUP: exit {}, core {still}", out.code)
    });
    deleted(&bundle, core, true)?;
    system::wait_pid(pid, 5 * SECOND);
    result?;
    Ok(out.stderr.trim().to_string())
}

/// A firmware with no resource table (no trace, no rpmsg) still runs as a container.
pub fn no_resource_table(core: &Core) -> Verdict {
    let bundle = Bundle::new(
        "bare",
        Some(&hybrid_sim::firmware::Firmware::new().bytes()),
        &[],
    )?;
    bundle.create().ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    run(&["start", "bare"])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    ensure(core.state() == "running", || {
        format!("core {} after start", core.state())
    })?;
    run(&["kill", "bare", "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    deleted(&bundle, core, false)?;
    ensure(code == Some(143), || {
        format!("monitor exit status {code:?}, expected 143")
    })?;
    Ok("started, ran and stopped by TERM (143); core offline".into())
}

/// After a container's life the core must behave for others as before: the
/// kernel's shutdown-on-release flag belongs to the processor, so a flag left
/// set would let any later open+close of /dev/remoteprocN stop a core that
/// someone started through sysfs.
pub fn leaves_no_release_flag(core: &Core) -> Verdict {
    let (bundle, pid) = started(core, "flag", "trace alive\n")?;
    run(&["kill", "flag", "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    system::wait_pid(pid, 5 * SECOND);
    deleted(&bundle, core, false)?;
    let flag = crate::kernel::Cdev::open(core)
        .and_then(|c| c.shutdown_on_release())
        .map_err(|e| format!("reading the flag: {e}"))?;
    ensure(!flag, || {
        "shutdown-on-release is still set on the core after the container is gone".into()
    })?;
    Ok("flag cleared once the container ended".into())
}

/// Someone stops the core through sysfs: the container ends with 100.
pub fn stopped_from_outside(core: &Core) -> Verdict {
    let (bundle, pid) = started(core, "outside", "trace alive\n")?;
    core.set_state("stop")
        .map_err(|e| format!("sysfs stop: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    let after = core.state();
    let status = bundle.status()?;
    deleted(&bundle, core, false)?;
    ensure(code == Some(100), || {
        format!("monitor exit status {code:?}, expected 100")
    })?;
    ensure(after == "offline", || {
        format!("core {after} after an outside stop")
    })?;
    ensure(status == "stopped", || {
        format!("status {status} after an outside stop")
    })?;
    Ok("100, stopped".into())
}

/// Many lifecycles in a row with rpmsg channels: each ends offline and the
/// kernel is left with no virtio device nor rpmsg node behind.
pub fn repeated_lifecycles(core: &Core) -> Verdict {
    const ROUNDS: usize = 10;
    for round in 1..=ROUNDS {
        let id = format!("round{round}");
        let (bundle, pid) = started(core, &id, "echo\ntty hello\n")?;
        run(&["kill", &id, "TERM"])
            .ok()
            .map_err(|e| format!("round {round}: kill: {e}"))?;
        let code = system::wait_pid(pid, 5 * SECOND);
        ensure(code == Some(143), || {
            format!("round {round}: monitor exit status {code:?}")
        })?;
        deleted(&bundle, core, false)?;
    }
    let left = |dir: &str, keep: fn(&str) -> bool| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| keep(n))
                    .collect()
            })
            .unwrap_or_default()
    };
    let virtio = left("/sys/bus/virtio/devices", |_| true);
    let nodes = left("/dev", |n| {
        n.starts_with("ttyRPMSG") || n.starts_with("rpmsg")
    });
    ensure(virtio.is_empty() && nodes.is_empty(), || {
        format!("left behind: {virtio:?} {nodes:?}")
    })?;
    Ok(format!(
        "{ROUNDS} rounds; no virtio device or rpmsg node left"
    ))
}

/// With the kernel's extra firmware directory set (firmware_class.path), the
/// firmware is staged there and the kernel loads it from there.
pub fn firmware_class_path(core: &Core) -> Verdict {
    const PARAM: &str = "/sys/module/firmware_class/parameters/path";
    std::fs::create_dir_all("/run/extra-fw").map_err(|e| e.to_string())?;
    std::fs::write(PARAM, "/run/extra-fw").map_err(|e| format!("{PARAM}: {e}"))?;
    let result = (|| {
        let param = std::fs::read_to_string(PARAM).unwrap_or_default();
        ensure(param.trim_end() == "/run/extra-fw", || {
            format!("{PARAM} reads {param:?}")
        })?;
        let (bundle, pid) = started(core, "fwpath", "trace from the extra directory\n")?;
        let staged = std::path::Path::new("/run/extra-fw/hybrid-runtime/fwpath").is_dir();
        let elsewhere = std::path::Path::new("/lib/firmware/hybrid-runtime/fwpath").exists();
        run(&["kill", "fwpath", "TERM"])
            .ok()
            .map_err(|e| format!("kill: {e}"))?;
        system::wait_pid(pid, 5 * SECOND);
        deleted(&bundle, core, false)?;
        let left = std::path::Path::new("/run/extra-fw/hybrid-runtime/fwpath").exists();
        ensure(staged && !elsewhere, || {
            format!("staged in the extra directory: {staged}, in /lib/firmware: {elsewhere}")
        })?;
        ensure(!left, || {
            "firmware copy left in the extra directory after delete".into()
        })?;
        Ok("staged in and loaded from firmware_class.path; removed on delete".to_string())
    })();
    // A NUL clears the string (a newline would be kept as the directory name).
    std::fs::write(PARAM, "\0").map_err(|e| format!("clearing {PARAM}: {e}"))?;
    let cleared = std::fs::read_to_string(PARAM).unwrap_or_default();
    ensure(cleared.trim().is_empty(), || {
        format!("{PARAM} still reads {cleared:?}")
    })?;
    result
}

/// `echo DIR > …/firmware_class/parameters/path` keeps the newline in the
/// kernel's string, so the kernel never finds anything in DIR. The runtime must
/// either stage where the kernel does look, or refuse at create naming the cause.
pub fn firmware_class_path_newline(core: &Core) -> Verdict {
    const PARAM: &str = "/sys/module/firmware_class/parameters/path";
    std::fs::create_dir_all("/run/extra-fw").map_err(|e| e.to_string())?;
    std::fs::write(PARAM, "/run/extra-fw\n").map_err(|e| format!("{PARAM}: {e}"))?;
    let param = std::fs::read_to_string(PARAM).unwrap_or_default();
    let result = (|| {
        ensure(param == "/run/extra-fw\n\n", || {
            format!("{PARAM} reads {param:?}")
        })?;
        let bundle = Bundle::new("fwnl", Some(&firmware("trace newline\n")), &[])?;
        let create = bundle.create();
        let start = if create.code == 0 {
            run(&["start", "fwnl"])
        } else {
            create
        };
        let state = core.state();
        run(&["delete", "--force", "fwnl"])
            .ok()
            .map_err(|e| format!("delete --force: {e}"))?;
        let msg = start.stderr.trim().to_string();
        let explained = start.code > 0 && msg.contains("newline");
        ensure(state == "running" || explained, || {
            format!("core {state}; {msg}")
        })?;
        Ok(if explained {
            msg
        } else {
            "the firmware ran".to_string()
        })
    })();
    std::fs::write(PARAM, "\0").map_err(|e| format!("clearing {PARAM}: {e}"))?;
    result
}

/// The multi-call binary's applet links, and `create <FIRMWARE> <ID>` with the
/// core chosen from the caller's environment.
pub fn applets_and_firmware_file(core: &Core) -> Verdict {
    std::fs::create_dir_all("/tmp/applets").map_err(|e| e.to_string())?;
    let install = std::process::Command::new(crate::runtime::RUNTIME)
        .args(["--install", "-s", "/tmp/applets"])
        .output()
        .map_err(|e| format!("--install: {e}"))?;
    ensure(install.status.success(), || {
        format!("--install: {}", String::from_utf8_lossy(&install.stderr))
    })?;
    std::fs::write("/tmp/plain.elf", firmware("trace from a plain file\n"))
        .map_err(|e| e.to_string())?;
    let applet = |name: &str| format!("/tmp/applets/hybrid-{name}");
    let env = [("HYBRID_CORE", "m4")];
    run_as(&applet("create"), &["/tmp/plain.elf", "plain"], &env)
        .ok()
        .map_err(|e| format!("hybrid-create: {e}"))?;
    let state = run_as(&applet("state"), &["plain"], &[]);
    let pid = json_number(&state.stdout, "pid").unwrap_or(0) as i32;
    ensure(pid > 0, || {
        format!("hybrid-state printed {:?}", state.stdout)
    })?;
    run_as(&applet("start"), &["plain"], &[])
        .ok()
        .map_err(|e| format!("hybrid-start: {e}"))?;
    let running = core.state();
    run_as(&applet("kill"), &["plain", "TERM"], &[])
        .ok()
        .map_err(|e| format!("hybrid-kill: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    run_as(&applet("delete"), &["plain"], &[])
        .ok()
        .map_err(|e| format!("hybrid-delete: {e}"))?;
    ensure(running == "running", || {
        format!("core {running} after hybrid-start")
    })?;
    ensure(code == Some(143), || {
        format!("monitor exit status {code:?}, expected 143")
    })?;
    core.wait_state("offline", SECOND)?;
    Ok("hybrid-create FILE ID (HYBRID_CORE=m4) → hybrid-start → hybrid-kill TERM (143) → hybrid-delete".into())
}
