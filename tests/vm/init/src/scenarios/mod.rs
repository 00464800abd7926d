//! The scenarios, most important first, each a function that sets up, acts,
//! asserts and says what it measured.
mod attached;
mod errors;
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

pub const ALL: &[Scenario] = &[
    Scenario {
        name: "kernel: firmware loads, runs and writes its trace",
        run: kernel::boot_and_trace,
    },
    Scenario {
        name: "runtime: full lifecycle through /dev/remoteprocN",
        run: lifecycle::full_lifecycle,
    },
    Scenario {
        name: "runtime: monitor SIGKILLed, kernel stops the core",
        run: lifecycle::monitor_sigkill,
    },
    Scenario {
        name: "runtime: kill KILL",
        run: lifecycle::kill_sigkill,
    },
    Scenario {
        name: "runtime: firmware crash, recovery disabled",
        run: lifecycle::crash_exit,
    },
    Scenario {
        name: "runtime: entry point is not an ELF",
        run: errors::not_elf,
    },
    Scenario {
        name: "runtime: entry point missing from the rootfs",
        run: errors::missing_firmware,
    },
    Scenario {
        name: "runtime: core already started through sysfs",
        run: errors::core_busy,
    },
    Scenario {
        name: "runtime: image the kernel rejects at start",
        run: errors::kernel_rejects_image,
    },
    Scenario {
        name: "runtime: firmware without a resource table",
        run: lifecycle::no_resource_table,
    },
    Scenario {
        name: "runtime: delete --force of a running container",
        run: lifecycle::delete_force_running,
    },
    Scenario {
        name: "runtime: crash recovered by the kernel keeps the container",
        run: lifecycle::recovered_crash_keeps_running,
    },
    Scenario {
        name: "runtime: one container per core",
        run: lifecycle::one_container_per_core,
    },
    Scenario {
        name: "runtime: kill with a signal that does not end firmware",
        run: lifecycle::kill_refuses_other_signals,
    },
    Scenario {
        name: "runtime: create SIGKILLed at any point",
        run: interrupted::create_killed,
    },
    Scenario {
        name: "runtime: start SIGKILLed at any point",
        run: interrupted::start_killed,
    },
    Scenario {
        name: "runtime: logs from the trace buffer",
        run: logs::trace,
    },
    Scenario {
        name: "runtime: logs from the rpmsg tty",
        run: logs::tty,
    },
    Scenario {
        name: "runtime: logs from an rpmsg endpoint",
        run: logs::endpoint,
    },
    Scenario {
        name: "runtime: two cores and no selector",
        run: attached::needs_a_selector,
    },
    Scenario {
        name: "kernel: attached core detaches and re-attaches",
        run: attached::kernel_detach_reattach,
    },
    Scenario {
        name: "runtime: attached core refused by default",
        run: attached::refused_by_default,
    },
    Scenario {
        name: "runtime: attached core adopted, detached when its monitor dies",
        run: attached::adopted,
    },
    Scenario {
        name: "kernel: crash with recovery disabled",
        run: kernel::crash_recovery_disabled,
    },
    Scenario {
        name: "kernel: crash with recovery enabled",
        run: kernel::crash_recovery_enabled,
    },
    Scenario {
        name: "kernel: start errors (missing file, not ELF)",
        run: kernel::start_errors,
    },
    Scenario {
        name: "kernel: cdev shutdown-on-release, holder SIGKILLed",
        run: kernel::cdev_release_on_kill,
    },
    Scenario {
        name: "kernel: sysfs + cdev start are two references",
        run: kernel::two_reference_trap,
    },
    Scenario {
        name: "kernel: rpmsg channels and echo",
        run: kernel::rpmsg_echo,
    },
    Scenario {
        name: "kernel: module unloaded under a running container",
        run: kernel::module_unload,
    },
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
