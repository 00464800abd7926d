//! The remoteproc state machine with the kernel's answers: firmware name,
//! `state` writes (sysfs) and the character device's commands, power
//! references, crash and recovery. Every function runs under the world lock.
use crate::config::{Detach, Kernel, ProcSpec};
use crate::kmsg::{ERR, INFO, WARN};
use crate::lookup;
use crate::world::{Run, State, World};

/// `Ok` or an errno.
pub type Res = Result<(), i32>;

/// `sysfs_streq`: equal, ignoring one trailing newline on the written side.
pub fn sysfs_streq(buf: &[u8], word: &str) -> bool {
    buf.strip_suffix(b"\n").unwrap_or(buf) == word.as_bytes()
}

/// `!strncmp(buf, word, len)` with the buffer's own length, as the character
/// device compares commands.
pub fn strncmp_eq(buf: &[u8], word: &str) -> bool {
    let w = word.as_bytes();
    for (i, &a) in buf.iter().enumerate() {
        let b = w.get(i).copied().unwrap_or(0);
        if a != b {
            return false;
        }
        if a == 0 {
            return true;
        }
    }
    true
}

fn log(w: &mut World, n: usize, prio: u8, msg: String) {
    let dev = w.procs[n].dev();
    w.log(prio, format!("remoteproc {dev}: {msg}"));
}

/// Write to sysfs `firmware`.
pub fn write_firmware(w: &mut World, n: usize, buf: &[u8]) -> Res {
    if let Some(e) = w.procs[n].take_fault("firmware") {
        return Err(e);
    }
    if w.procs[n].state != State::Offline {
        log(w, n, ERR, "can't change firmware while running".into());
        return Err(libc::EBUSY);
    }
    let len = buf.iter().position(|&c| c == b'\n').unwrap_or(buf.len());
    if len == 0 {
        log(
            w,
            n,
            ERR,
            "can't provide empty string for firmware name".into(),
        );
        return Err(libc::EINVAL);
    }
    let name = String::from_utf8_lossy(&buf[..len]).into_owned();
    let p = &mut w.procs[n];
    p.event(format!("firmware {name}"));
    p.firmware = name;
    Ok(())
}

/// Write to sysfs `state`.
pub fn write_state(w: &mut World, n: usize, buf: &[u8]) -> Res {
    let kernel = w.cfg.kernel;
    if sysfs_streq(buf, "start") {
        if kernel == Kernel::V5_10 && matches!(w.procs[n].state, State::Running | State::Attached) {
            return Err(libc::EBUSY);
        }
        let r = boot(w, n);
        if let Err(e) = r {
            log(w, n, ERR, format!("Boot failed: -{e}"));
        }
        r
    } else if sysfs_streq(buf, "stop") {
        stop_cmd(w, n)
    } else if sysfs_streq(buf, "detach") {
        detach_cmd(w, n)
    } else {
        let text = String::from_utf8_lossy(buf).into_owned();
        log(w, n, ERR, format!("Unrecognised option: {text}"));
        Err(libc::EINVAL)
    }
}

/// Write to `dev/remoteprocN`.
pub fn write_cdev(w: &mut World, n: usize, buf: &[u8]) -> Res {
    if buf.is_empty() || buf.len() > 10 {
        return Err(libc::EINVAL);
    }
    if strncmp_eq(buf, "start") {
        if w.cfg.kernel == Kernel::V5_10
            && matches!(w.procs[n].state, State::Running | State::Attached)
        {
            return Err(libc::EBUSY);
        }
        boot(w, n)
    } else if strncmp_eq(buf, "stop") {
        stop_cmd(w, n)
    } else if strncmp_eq(buf, "detach") {
        detach_cmd(w, n)
    } else {
        log(w, n, ERR, "Unrecognized option".into());
        Err(libc::EINVAL)
    }
}

/// `rproc_boot`: take a power reference; the first one loads and starts.
pub fn boot(w: &mut World, n: usize) -> Res {
    if let Some(e) = w.procs[n].take_fault("start") {
        return Err(e);
    }
    let p = &mut w.procs[n];
    if p.state == State::Deleted {
        return Err(libc::ENODEV);
    }
    p.power += 1;
    if p.power > 1 {
        p.event("start-ref".into());
        return Ok(());
    }
    if p.state == State::Detached {
        p.state = State::Attached;
        p.event("attach".into());
        let name = p.spec.name.clone();
        log(
            w,
            n,
            INFO,
            format!("remote processor {name} is now attached"),
        );
        return Ok(());
    }
    let name = p.spec.name.clone();
    log(w, n, INFO, format!("powering up {name}"));
    let r = load_and_start(w, n);
    if r.is_err() {
        w.procs[n].power -= 1;
    }
    r
}

/// Finds, parses and starts the firmware named in `firmware`.
fn load_and_start(w: &mut World, n: usize) -> Res {
    let fw = w.procs[n].firmware.clone();
    let path = match lookup::find(w, &fw) {
        Ok(p) => p,
        Err(e) => {
            if e == libc::EINVAL {
                log(
                    w,
                    n,
                    ERR,
                    format!("Firmware load for '{fw}' refused, path contains '..' component"),
                );
            } else {
                log(
                    w,
                    n,
                    WARN,
                    format!("Direct firmware load for {fw} failed with error -{e}"),
                );
            }
            log(w, n, ERR, format!("request_firmware failed: -{e}"));
            return Err(e);
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(err) => {
            let e = err.raw_os_error().unwrap_or(libc::EIO);
            log(w, n, ERR, format!("request_firmware failed: -{e}"));
            return Err(e);
        }
    };
    log(
        w,
        n,
        INFO,
        format!("Booting fw image {fw}, size {}", bytes.len()),
    );
    let image = match hybrid_sim::elf::parse(&bytes) {
        Ok(i) => i,
        Err(msg) => {
            log(w, n, ERR, msg);
            return Err(libc::EINVAL);
        }
    };
    let p = &mut w.procs[n];
    p.event(format!("load {}", path.display()));
    start_image(w, n, image);
    w.procs[n].loaded = Some(path);
    w.procs[n].event("start".into());
    let name = w.procs[n].spec.name.clone();
    log(w, n, INFO, format!("remote processor {name} is now up"));
    Ok(())
}

/// Makes a parsed image the running firmware: fresh trace buffer, new generation.
fn start_image(w: &mut World, n: usize, image: hybrid_sim::elf::Image) {
    let script = match crate::script::parse(image.script.as_deref().unwrap_or("")) {
        Ok(s) => s,
        Err(e) => {
            w.procs[n].event(format!("script-error {e}"));
            Default::default()
        }
    };
    let vdev = image
        .rpmsg
        .then(|| crate::rpmsg::create(w, n, &script.announce));
    let p = &mut w.procs[n];
    p.run = Some(Run {
        trace: image
            .trace
            .clone()
            .map(|(name, len)| (name, vec![0u8; len as usize])),
        script,
        vdev,
        ..Default::default()
    });
    p.state = State::Running;
    p.starts += 1;
    w.new_generation(n);
    crate::rpmsg::greet(w, n);
    w.firmware_started(n);
}

fn stop_cmd(w: &mut World, n: usize) -> Res {
    if let Some(e) = w.procs[n].take_fault("stop") {
        return Err(e);
    }
    shutdown(w, n)
}

/// `rproc_shutdown`: drop a power reference; the last one stops the core. A
/// crashed core is stopped at once (all references dropped), unless the
/// processor is configured `crash-stop=no` (mainline: `EINVAL`).
pub fn shutdown(w: &mut World, n: usize) -> Res {
    let p = &mut w.procs[n];
    match p.state {
        State::Running | State::Attached => {
            p.power = p.power.saturating_sub(1);
            if p.power > 0 {
                p.event("stop-ref".into());
                return Ok(());
            }
        }
        State::Crashed if p.spec.crash_stop => p.power = 0,
        _ => return Err(libc::EINVAL),
    }
    stop_now(w, n);
    Ok(())
}

fn stop_now(w: &mut World, n: usize) {
    let p = &mut w.procs[n];
    p.state = State::Offline;
    p.run = None;
    p.loaded = None;
    p.event("stop".into());
    let name = p.spec.name.clone();
    w.new_generation(n);
    w.firmware_stopped(n);
    log(w, n, INFO, format!("stopped remote processor {name}"));
}

fn detach_cmd(w: &mut World, n: usize) -> Res {
    if let Some(e) = w.procs[n].take_fault("detach") {
        return Err(e);
    }
    detach(w, n)
}

/// `rproc_detach`: only from `attached`, only when the driver can.
pub fn detach(w: &mut World, n: usize) -> Res {
    let p = &mut w.procs[n];
    if p.state != State::Attached {
        return Err(libc::EINVAL);
    }
    p.power = p.power.saturating_sub(1);
    if p.power > 0 {
        p.event("detach-ref".into());
        return Ok(());
    }
    match p.spec.detach {
        Detach::Yes => {}
        Detach::No => {
            p.power += 1;
            return Err(libc::EINVAL);
        }
        Detach::Refused(e) => {
            p.power += 1;
            log(w, n, ERR, format!("can't detach from rproc: -{e}"));
            return Err(e);
        }
    }
    p.state = State::Detached;
    p.event("detach".into());
    let name = p.spec.name.clone();
    w.new_generation(n);
    w.firmware_stopped(n);
    log(w, n, INFO, format!("detached remote processor {name}"));
    Ok(())
}

const CRASH_TYPES: [(&str, &str); 3] = [
    ("mmu-fault", "mmufault"),
    ("watchdog", "watchdog"),
    ("fatal-error", "fatal error"),
];

/// Kernel name of a crash type given by its debugfs word, exactly.
pub fn crash_name(word: &str) -> Option<&'static str> {
    CRASH_TYPES
        .into_iter()
        .find(|(w, _)| *w == word)
        .map(|(_, k)| k)
}

/// Kernel name of the crash type written to debugfs `crash`. The kernel
/// parses an unsigned number (`kstrtouint`, base 0, one trailing newline):
/// 0 mmufault, 1 watchdog, 2 fatal error, anything larger "unknown". The
/// simulator also accepts the names `mmu-fault`, `watchdog`, `fatal-error`.
pub fn crash_type(buf: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(buf).ok()?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if let Some(kind) = crash_name(text) {
        return Some(kind);
    }
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    let number = u32::from_str_radix(digits, radix).ok()?;
    Some(
        CRASH_TYPES
            .get(number as usize)
            .map_or("unknown", |(_, kernel)| kernel),
    )
}

/// Write to debugfs `crash`.
pub fn write_crash(w: &mut World, n: usize, buf: &[u8]) -> Res {
    if let Some(e) = w.procs[n].take_fault("crash") {
        return Err(e);
    }
    let kind = crash_type(buf).ok_or(libc::EINVAL)?;
    crash(w, n, kind);
    Ok(())
}

/// `rproc_report_crash` and the crash handler: mark crashed and, with
/// recovery enabled, reload the same firmware file and start it again.
pub fn crash(w: &mut World, n: usize, kind: &str) {
    let name = w.procs[n].spec.name.clone();
    log(w, n, ERR, format!("crash detected in {name}: type {kind}"));
    let p = &mut w.procs[n];
    if matches!(p.state, State::Crashed | State::Offline | State::Detached) {
        return;
    }
    let was_attached = p.state == State::Attached;
    p.state = State::Crashed;
    p.crashes += 1;
    p.event(format!("crash {kind}"));
    let count = p.crashes;
    w.new_generation(n);
    w.firmware_stopped(n);
    log(w, n, ERR, format!("handling crash #{count} in {name}"));
    if w.procs[n].recovery {
        recover(w, n, was_attached);
    }
}

/// `rproc_trigger_recovery`: reload the firmware file and start it again.
pub fn recover(w: &mut World, n: usize, was_attached: bool) {
    let name = w.procs[n].spec.name.clone();
    log(w, n, ERR, format!("recovering {name}"));
    w.procs[n].event("recover".into());
    if was_attached {
        w.procs[n].state = State::Attached;
        w.new_generation(n);
        log(
            w,
            n,
            INFO,
            format!("remote processor {name} is now attached"),
        );
        return;
    }
    let fw = w.procs[n].firmware.clone();
    let image = lookup::find(w, &fw).and_then(|path| {
        let bytes = std::fs::read(&path).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        hybrid_sim::elf::parse(&bytes).map_err(|_| libc::EINVAL)
    });
    match image {
        Ok(image) => {
            start_image(w, n, image);
            w.procs[n].event("start".into());
            log(w, n, INFO, format!("remote processor {name} is now up"));
        }
        Err(e) => {
            log(w, n, ERR, format!("request_firmware failed: -{e}"));
            w.procs[n].event(format!("recover-failed {e}"));
        }
    }
}

/// Write to sysfs or debugfs `recovery`: `enabled`, `disabled`, `recover`.
pub fn write_recovery(w: &mut World, n: usize, buf: &[u8]) -> Res {
    if let Some(e) = w.procs[n].take_fault("recovery") {
        return Err(e);
    }
    if sysfs_streq(buf, "enabled") {
        // Enabling recovery also recovers a core that is crashed right now.
        w.procs[n].recovery = true;
        if w.procs[n].state == State::Crashed {
            recover(w, n, false);
        }
    } else if sysfs_streq(buf, "disabled") {
        w.procs[n].recovery = false;
    } else if sysfs_streq(buf, "recover") {
        if w.procs[n].state == State::Crashed {
            recover(w, n, false);
        }
    } else {
        return Err(libc::EINVAL);
    }
    Ok(())
}

/// The driver goes away (`rproc_del`): the core is stopped, its state is
/// `deleted` and its sysfs, debugfs and device files disappear.
pub fn remove(w: &mut World, n: usize) {
    if matches!(
        w.procs[n].state,
        State::Running | State::Attached | State::Crashed
    ) {
        stop_now(w, n);
    }
    let p = &mut w.procs[n];
    p.state = State::Deleted;
    p.power = 0;
    p.removed = true;
    p.event("remove".into());
}

/// The driver is unbound and another processor, `spec`, registers under the same index (a
/// module reload or a device-tree overlay): offline (or attached), at its default firmware.
pub fn replace(w: &mut World, n: usize, spec: ProcSpec) {
    if matches!(
        w.procs[n].state,
        State::Running | State::Attached | State::Crashed
    ) {
        stop_now(w, n);
    }
    let p = &mut w.procs[n];
    p.state = if spec.attached {
        State::Attached
    } else {
        State::Offline
    };
    p.power = 0;
    p.removed = false;
    p.firmware = spec.firmware.clone();
    p.event(format!("replace {}", spec.name));
    p.spec = spec;
}

/// The last reference to an open `dev/remoteprocN` description went away.
pub fn release_cdev(w: &mut World, n: usize, fh: u64) {
    let p = &mut w.procs[n];
    p.cdev_holders.retain(|&(h, _)| h != fh);
    p.event("cdev-release".into());
    if !p.shutdown_on_release {
        return;
    }
    match p.state {
        State::Running => {
            p.event("shutdown-on-release".into());
            let _ = shutdown(w, n);
        }
        State::Attached => {
            p.event("shutdown-on-release".into());
            let _ = detach(w, n);
        }
        _ => {}
    }
}
