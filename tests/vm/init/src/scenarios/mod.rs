//! The scenarios, most important first, each a function that sets up, acts,
//! asserts and says what it measured.
mod attached;
mod errors;
mod fallback;
mod info;
mod interrupted;
mod kernel;
mod lifecycle;
mod logs;

use std::time::Duration;

use crate::kernel::Core;

/// A scenario's verdict: a short note on success, the reason on failure.
pub type Verdict = Result<String, String>;

pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&Core) -> Verdict,
}

const fn check(name: &'static str, run: fn(&Core) -> Verdict) -> Scenario {
    Scenario { name, run }
}

pub const ALL: &[Scenario] = &[
    check(
        "kernel: firmware loads, runs and writes its trace",
        kernel::boot_and_trace,
    ),
    check(
        "runtime: full lifecycle through /dev/remoteprocN",
        lifecycle::full_lifecycle,
    ),
    check(
        "runtime: applet links and create from a firmware file",
        lifecycle::applets_and_firmware_file,
    ),
    check(
        "runtime: the core's shutdown-on-release flag is cleared after the container",
        lifecycle::leaves_no_release_flag,
    ),
    check(
        "runtime: monitor SIGKILLed, kernel stops the core",
        lifecycle::monitor_sigkill,
    ),
    check(
        "runtime: no /dev/remoteprocN, monitor SIGKILLed (sysfs fallback)",
        fallback::monitor_sigkill_without_cdev,
    ),
    check("runtime: kill KILL", lifecycle::kill_sigkill),
    check(
        "runtime: firmware crash, recovery disabled",
        lifecycle::crash_exit,
    ),
    check(
        "runtime: core stopped from outside",
        lifecycle::stopped_from_outside,
    ),
    check(
        "runtime: ten lifecycles in a row with rpmsg",
        lifecycle::repeated_lifecycles,
    ),
    check("runtime: entry point is not an ELF", errors::not_elf),
    check(
        "runtime: entry point missing from the rootfs",
        errors::missing_firmware,
    ),
    check(
        "runtime: core already started through sysfs",
        errors::core_busy,
    ),
    check(
        "runtime: if-running=stop and the power references",
        errors::if_running_stop,
    ),
    check(
        "runtime: image the kernel rejects at start",
        errors::kernel_rejects_image,
    ),
    check(
        "runtime: firmware without a resource table",
        lifecycle::no_resource_table,
    ),
    check(
        "runtime: firmware staged in firmware_class.path",
        lifecycle::firmware_class_path,
    ),
    check(
        "runtime: firmware_class.path set with a newline",
        lifecycle::firmware_class_path_newline,
    ),
    check(
        "runtime: delete --force of a running container",
        lifecycle::delete_force_running,
    ),
    check(
        "runtime: crash recovered by the kernel keeps the container",
        lifecycle::recovered_crash_keeps_running,
    ),
    check(
        "runtime: crash recovered slowly by the kernel keeps the container",
        lifecycle::slow_recovery_keeps_running,
    ),
    check(
        "runtime: one container per core",
        lifecycle::one_container_per_core,
    ),
    check(
        "runtime: kill with a signal that does not end firmware",
        lifecycle::kill_refuses_other_signals,
    ),
    check(
        "runtime: create SIGKILLed at any point",
        interrupted::create_killed,
    ),
    check(
        "runtime: create SIGKILLed between staging and recording",
        interrupted::create_killed_at_staging,
    ),
    check(
        "runtime: start SIGKILLed at any point",
        interrupted::start_killed,
    ),
    check("runtime: logs from the trace buffer", logs::trace),
    check(
        "runtime: a crash's last trace lines and kernel line in the logs",
        logs::crash_context,
    ),
    check("runtime: logs from the rpmsg tty", logs::tty),
    check(
        "runtime: an echoing firmware on the tty (raw mode)",
        logs::tty_raw_mode,
    ),
    check("runtime: logs from an rpmsg endpoint", logs::endpoint),
    check(
        "runtime: logs from an endpoint created through rpmsg_ctrl",
        logs::created_endpoint,
    ),
    check(
        "runtime: info reports the kernel's cores, debugfs and rpmsg drivers",
        info::reports_the_kernel,
    ),
    check(
        "runtime: two cores and no selector",
        attached::needs_a_selector,
    ),
    check(
        "kernel: attached core detaches and re-attaches",
        attached::kernel_detach_reattach,
    ),
    check(
        "runtime: attached core refused by default",
        attached::refused_by_default,
    ),
    check(
        "runtime: attached core adopted, detached when its monitor dies",
        attached::adopted,
    ),
    check(
        "runtime: two cores at once, each with its own tty",
        logs::two_cores_at_once,
    ),
    check(
        "kernel: crash with recovery disabled",
        kernel::crash_recovery_disabled,
    ),
    check(
        "kernel: crash with recovery enabled",
        kernel::crash_recovery_enabled,
    ),
    check(
        "kernel: start errors (missing file, not ELF)",
        kernel::start_errors,
    ),
    check(
        "kernel: the sysfs firmware attribute",
        kernel::firmware_attribute,
    ),
    check(
        "kernel: cdev shutdown-on-release, holder SIGKILLed",
        kernel::cdev_release_on_kill,
    ),
    check(
        "kernel: sysfs + cdev start are two references",
        kernel::two_reference_trap,
    ),
    check("kernel: rpmsg channels and echo", kernel::rpmsg_echo),
    check(
        "kernel: module unloaded under a running container",
        kernel::module_unload,
    ),
];

/// Checks a condition, failing the scenario with `why` when it does not hold.
pub fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(why())
    }
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
