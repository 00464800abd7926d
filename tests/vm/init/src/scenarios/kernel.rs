//! Facts about the real kernel's remoteproc/rpmsg that the runtime and the
//! simulator rely on, checked directly through sysfs, debugfs and the devices.
use std::fs;
use std::io::{Read, Write};
use std::time::Duration;

use super::{ensure, eventually, Verdict};
use crate::kernel::{Cdev, Core};
use crate::runtime::{firmware, run, Bundle};
use crate::system;

const SECOND: Duration = Duration::from_secs(1);

/// Installs `bytes` as /lib/firmware/vm/NAME and points the core at it.
fn load(core: &Core, name: &str, bytes: &[u8]) -> Result<(), String> {
    fs::create_dir_all("/lib/firmware/vm").map_err(|e| e.to_string())?;
    fs::write(format!("/lib/firmware/vm/{name}"), bytes).map_err(|e| e.to_string())?;
    core.write(core.sys("firmware"), &format!("vm/{name}"))
        .map_err(|e| format!("write firmware: {e}"))
}

fn start(core: &Core) -> Result<(), String> {
    core.set_state("start")
        .map_err(|e| format!("sysfs start: {e}"))?;
    core.wait_state("running", SECOND).map(|_| ())
}

fn stop(core: &Core) -> Result<(), String> {
    core.set_state("stop")
        .map_err(|e| format!("sysfs stop: {e}"))?;
    core.wait_state("offline", SECOND).map(|_| ())
}

pub fn boot_and_trace(core: &Core) -> Verdict {
    load(
        core,
        "trace.elf",
        &firmware("trace hello from the fake core\nrepeat 3\ntrace tick {n}\nend\n"),
    )?;
    start(core)?;
    let seen = eventually(2 * SECOND, || core.trace().contains("tick 3\n"));
    let trace = core.trace();
    ensure(seen, || format!("trace0 reads {trace:?}"))?;
    ensure(
        trace.starts_with("hello from the fake core\ntick 1\n"),
        || format!("trace0 reads {trace:?}"),
    )?;
    stop(core)?;
    ensure(!core.debug("trace0").exists(), || {
        "trace0 still exists after stop".into()
    })?;
    Ok("trace0 read back; removed on stop".into())
}

pub fn crash_recovery_disabled(core: &Core) -> Verdict {
    load(core, "crash.elf", &firmware("trace before the crash\n"))?;
    core.write(core.debug("recovery"), "disabled")
        .map_err(|e| format!("recovery: {e}"))?;
    start(core)?;
    eventually(2 * SECOND, || core.trace().contains("before the crash"));
    let channels = eventually(2 * SECOND, || find_dev("ttyRPMSG").is_some());
    ensure(channels, || {
        format!("no rpmsg tty before the crash: {:?}", list_dev())
    })?;
    // 6.1's debugfs `crash` takes the number of enum rproc_crash_type, not a name.
    let by_name = core
        .write(core.debug("crash"), "fatal-error")
        .err()
        .and_then(|e| e.raw_os_error());
    ensure(by_name == Some(libc::EINVAL), || {
        format!("crash by name: errno {by_name:?}")
    })?;
    core.write(core.debug("crash"), "2")
        .map_err(|e| format!("debugfs crash: {e}"))?;
    core.wait_state("crashed", 2 * SECOND)?;
    let trace = core.trace();
    ensure(trace.contains("before the crash"), || {
        format!("trace after crash reads {trace:?}")
    })?;
    let kmsg = crate::kernel::kmsg_lines("crash detected");
    ensure(!kmsg.is_empty(), || {
        "no `crash detected` line in the kernel log".into()
    })?;
    // The host side of rpmsg stays until the core is stopped.
    let kept = find_dev("ttyRPMSG").is_some();
    stop(core)?;
    let gone = eventually(SECOND, || find_dev("ttyRPMSG").is_none());
    ensure(kept && gone, || {
        format!("rpmsg tty kept after the crash: {kept}, gone after stop: {gone}")
    })?;
    Ok(format!(
        "crash takes a number; crashed, trace and rpmsg devices kept until stop, stop → offline; kmsg: {}",
        kmsg[kmsg.len() - 1]
    ))
}

pub fn crash_recovery_enabled(core: &Core) -> Verdict {
    load(core, "recover.elf", &firmware("trace booted\n"))?;
    core.write(core.debug("recovery"), "enabled")
        .map_err(|e| format!("recovery: {e}"))?;
    start(core)?;
    for round in 1..=2 {
        core.write(core.debug("crash"), "1")
            .map_err(|e| format!("debugfs crash: {e}"))?;
        let back = eventually(3 * SECOND, || {
            core.state() == "running" && core.trace().contains("booted")
        });
        ensure(back, || {
            format!(
                "round {round}: state {} after a crash with recovery",
                core.state()
            )
        })?;
    }
    let recovering = crate::kernel::kmsg_lines("recovering");
    core.write(core.debug("recovery"), "disabled")
        .map_err(|e| format!("recovery: {e}"))?;
    stop(core)?;
    ensure(!recovering.is_empty(), || {
        "no `recovering` line in the kernel log".into()
    })?;
    Ok(format!(
        "recovered twice by the kernel; kmsg: {}",
        recovering[recovering.len() - 1]
    ))
}

pub fn start_errors(core: &Core) -> Verdict {
    core.write(core.sys("firmware"), "vm/does-not-exist.elf")
        .map_err(|e| format!("write firmware: {e}"))?;
    let missing = core.set_state("start").err().and_then(|e| e.raw_os_error());
    ensure(missing == Some(libc::ENOENT), || {
        format!("missing firmware: errno {missing:?}, expected ENOENT")
    })?;
    ensure(core.state() == "offline", || {
        format!("state {} after a failed start", core.state())
    })?;
    load(core, "not-elf.elf", &hybrid_sim::firmware::not_elf())?;
    let not_elf = core.set_state("start").err().and_then(|e| e.raw_os_error());
    ensure(not_elf == Some(libc::EINVAL), || {
        format!("not an ELF: errno {not_elf:?}, expected EINVAL")
    })?;
    ensure(core.state() == "offline", || {
        format!("state {} after a failed start", core.state())
    })?;
    let stop_offline = core.set_state("stop").err().and_then(|e| e.raw_os_error());
    ensure(stop_offline == Some(libc::EINVAL), || {
        format!("stop when offline: errno {stop_offline:?}")
    })?;
    Ok("ENOENT, EINVAL, stop-when-offline EINVAL; core stays offline".into())
}

pub fn cdev_release_on_kill(core: &Core) -> Verdict {
    load(core, "cdev.elf", &firmware("trace held\n"))?;
    let (mut rd, mut wr) = pipe()?;
    // SAFETY: the child only does async-signal-safe work plus std file calls,
    // then blocks in pause(); the process is single-threaded here.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let status = (|| -> std::io::Result<()> {
            let mut cdev = Cdev::open(core)?;
            cdev.set_shutdown_on_release(true)?;
            cdev.write("start")?;
            wr.write_all(b"k")?;
            loop {
                // SAFETY: pause has no arguments.
                unsafe { libc::pause() };
            }
        })();
        let _ = wr.write_all(format!("{status:?}").as_bytes());
        // SAFETY: leave the forked child without running the parent's destructors.
        unsafe { libc::_exit(1) };
    }
    drop(wr);
    let mut answer = [0u8; 1];
    rd.read_exact(&mut answer)
        .map_err(|e| format!("holder did not start the core: {e}"))?;
    core.wait_state("running", SECOND)?;
    system::kill(pid, libc::SIGKILL).map_err(|e| e.to_string())?;
    let took = core.wait_state("offline", SECOND)?;
    system::wait_pid(pid, SECOND);
    Ok(format!(
        "offline {} µs after SIGKILL of the holder",
        took.as_micros()
    ))
}

pub fn two_reference_trap(core: &Core) -> Verdict {
    load(core, "trap.elf", &firmware("trace trap\n"))?;
    start(core)?;
    let again = core.set_state("start");
    ensure(again.is_ok(), || {
        format!("sysfs start on a running core: {again:?}")
    })?;
    core.set_state("stop")
        .map_err(|e| format!("first stop: {e}"))?;
    ensure(core.state() == "running", || {
        format!("one stop of two references left {}", core.state())
    })?;
    // Someone started it through sysfs; a holder starts it again through the device and dies.
    {
        let mut cdev = Cdev::open(core).map_err(|e| format!("open cdev: {e}"))?;
        cdev.set_shutdown_on_release(true)
            .map_err(|e| format!("ioctl: {e}"))?;
        let flag = cdev
            .shutdown_on_release()
            .map_err(|e| format!("ioctl get: {e}"))?;
        ensure(flag, || {
            "shutdown-on-release did not read back as set".into()
        })?;
        let newline = cdev.write("start\n").err().and_then(|e| e.raw_os_error());
        ensure(newline == Some(libc::EINVAL), || {
            format!("cdev write \"start\\n\": errno {newline:?}")
        })?;
        cdev.write("start")
            .map_err(|e| format!("cdev start: {e}"))?;
    }
    ensure(core.state() == "running", || {
        format!("after the holder closed: {}", core.state())
    })?;
    // The flag belongs to the processor, not to the descriptor: any later close stops it.
    let flag = Cdev::open(core)
        .and_then(|c| c.shutdown_on_release())
        .map_err(|e| format!("reopen: {e}"))?;
    ensure(flag, || {
        "shutdown-on-release was cleared by the release".into()
    })?;
    core.wait_state("offline", SECOND)?;
    Ok("sysfs start on running = 2nd ref; holder's release left it running; flag is per processor: \
        a bystander's open+close then stopped it; cdev rejects \"start\\n\""
        .into())
}

pub fn rpmsg_echo(core: &Core) -> Verdict {
    load(core, "echo.elf", &firmware("echo\ntty hello on the tty\n"))?;
    start(core)?;
    let found = eventually(3 * SECOND, || {
        find_dev("ttyRPMSG").is_some() && find_dev("rpmsg").is_some()
    });
    ensure(found, || format!("rpmsg devices in /dev: {:?}", list_dev()))?;
    let raw = find_dev("rpmsg").unwrap_or_default();
    let mut ept = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&raw)
        .map_err(|e| format!("{raw}: {e}"))?;
    ept.write_all(b"ping")
        .map_err(|e| format!("write {raw}: {e}"))?;
    let mut buf = [0u8; 512];
    let n = ept.read(&mut buf).map_err(|e| format!("read {raw}: {e}"))?;
    ensure(&buf[..n] == b"ping", || {
        format!("echo on {raw}: {:?}", String::from_utf8_lossy(&buf[..n]))
    })?;
    drop(ept);
    stop(core)?;
    let gone = eventually(SECOND, || find_dev("ttyRPMSG").is_none());
    ensure(gone, || {
        format!("rpmsg devices left after stop: {:?}", list_dev())
    })?;
    Ok(format!("{raw} echoed; devices gone on stop"))
}

fn list_dev() -> Vec<String> {
    fs::read_dir("/dev")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// /dev/<prefix>N (digits only after the prefix).
fn find_dev(prefix: &str) -> Option<String> {
    list_dev()
        .into_iter()
        .find(|n| {
            n.strip_prefix(prefix)
                .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|n| format!("/dev/{n}"))
}

fn pipe() -> Result<(fs::File, fs::File), String> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (fs::File::from_raw_fd(fds[0]), fs::File::from_raw_fd(fds[1])) })
}

/// Runs last: the module goes away under a running container; the monitor
/// must see the core disappear, and the whole run must have left no kernel warning.
pub fn module_unload(core: &Core) -> Verdict {
    let bundle = Bundle::new("unload", Some(&firmware("echo\ntrace running\n")), &[])?;
    bundle.create().ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    run(&["start", "unload"])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    core.wait_state("running", SECOND)?;
    let unloaded = system::unload_module("fake_rproc");
    let code = system::wait_pid(pid, 5 * SECOND);
    let deleted = run(&["delete", "--force", "unload"]);
    unloaded.map_err(|e| format!("rmmod while running: {e}"))?;
    ensure(!core.sys("state").exists(), || {
        format!("{} still registered after rmmod", core.dev)
    })?;
    ensure(!core.cdev().exists(), || {
        format!("{} still present", core.cdev().display())
    })?;
    ensure(code == Some(101), || {
        format!("monitor exit status {code:?}, expected 101")
    })?;
    deleted.ok().map_err(|e| format!("delete --force: {e}"))?;
    let bad: Vec<String> = ["WARNING:", "BUG:", "Oops", "general protection"]
        .iter()
        .flat_map(|w| crate::kernel::kmsg_lines(w))
        .collect();
    ensure(bad.is_empty(), || format!("kernel log: {bad:?}"))?;
    Ok(
        "rmmod stops a running core (no module reference held); monitor → 101; no kernel warning"
            .into(),
    )
}

/// The sysfs `firmware` attribute: newline cut, empty refused, busy while running;
/// a name with a `..` component is refused when the firmware is requested.
pub fn firmware_attribute(core: &Core) -> Verdict {
    let errno = |r: std::io::Result<()>| r.err().and_then(|e| e.raw_os_error());
    load(core, "attr.elf", &firmware("trace attr\n"))?;
    core.write(core.sys("firmware"), "vm/attr.elf\n")
        .map_err(|e| format!("firmware with newline: {e}"))?;
    let shown = fs::read_to_string(core.sys("firmware")).unwrap_or_default();
    ensure(shown == "vm/attr.elf\n", || {
        format!("firmware reads {shown:?}")
    })?;
    let empty = errno(core.write(core.sys("firmware"), "\n"));
    ensure(empty == Some(libc::EINVAL), || {
        format!("empty firmware name: errno {empty:?}")
    })?;
    start(core)?;
    let busy = errno(core.write(core.sys("firmware"), "vm/attr.elf"));
    stop(core)?;
    ensure(busy == Some(libc::EBUSY), || {
        format!("firmware while running: errno {busy:?}")
    })?;
    core.write(core.sys("firmware"), "vm/../vm/attr.elf")
        .map_err(|e| format!("dotted name: {e}"))?;
    let dotted = errno(core.set_state("start"));
    let state = core.state();
    if state == "running" {
        stop(core)?;
    }
    ensure(dotted == Some(libc::EINVAL) && state == "offline", || {
        format!("a `..` name: start errno {dotted:?}, core {state}")
    })?;
    Ok(
        "newline cut, empty → EINVAL, running → EBUSY, a `..` name refused at start (EINVAL)"
            .into(),
    )
}
