//! A panic in the monitor is a bug in the runtime, not something the firmware did. Without this
//! hook it would end the monitor with SIGABRT (`panic = "abort"`), which engines show as 134,
//! the exit code of a firmware crash. With it, the monitor ends with its own code (102), after
//! recording a reason that says the monitor failed and asks for a bug report. The core is never
//! left running without its container: with the `/dev/remoteprocN` guard the kernel stops it as
//! the monitor's descriptor closes; with the sysfs guard the hook stops a firmware the container
//! started (an adopted core is left to its other starter, as at any other end).

use std::io::Write;
use std::panic::PanicHookInfo;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::container::Exit;
use crate::platform::remoteproc::{read_attr, write_attr};

use super::EXIT_MONITOR_PANICKED;

/// What the hook needs, prepared before anything can panic.
struct Context {
    state_dir: PathBuf,
    /// The core's sysfs `state` when the hook must stop the core itself: sysfs guard, and a
    /// firmware the container loaded.
    stop_through: Option<PathBuf>,
    /// The core as messages name it.
    label: String,
    /// The monitor started the core.
    started: Arc<AtomicBool>,
}

/// How the monitor's core is guarded, for the hook.
pub struct Guard<'a> {
    pub state_dir: &'a Path,
    pub core_dir: &'a Path,
    pub label: String,
    /// The kernel stops the core when the monitor's descriptor of `/dev/remoteprocN` closes.
    pub by_kernel: bool,
    pub adopted: bool,
}

/// Install the hook; returns the flag the monitor sets once it has started the core.
pub fn install(guard: Guard) -> Arc<AtomicBool> {
    let started = Arc::new(AtomicBool::new(false));
    let context = Context {
        state_dir: guard.state_dir.to_path_buf(),
        stop_through: (!guard.by_kernel && !guard.adopted).then(|| guard.core_dir.join("state")),
        label: guard.label,
        started: Arc::clone(&started),
    };
    std::panic::set_hook(Box::new(move |info| context.end(info)));
    started
}

impl Context {
    /// Stop the core if it is ours to stop, record why the container ended, and exit.
    fn end(&self, info: &PanicHookInfo) -> ! {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message")
            .replace('\n', " ");
        let mut reason = format!(
            "the monitor failed (it panicked{place}: {what}): this is a bug in hybrid-runtime, \
             please report it with this message"
        );
        if self.started.load(Ordering::SeqCst) {
            if let Some(state) = &self.stop_through {
                reason.push_str(&self.stop(state));
            }
        }
        let exit = Exit {
            code: EXIT_MONITOR_PANICKED,
            reason,
        };
        let _ = exit.save(&self.state_dir);
        // Not eprintln!, which panics (again) when stderr refuses the line.
        let line = format!("hybrid-runtime: {}\n", exit.reason);
        let _ = std::io::stderr().write_all(line.as_bytes());
        crate::sys::exit_now(EXIT_MONITOR_PANICKED)
    }

    /// Write `stop` to the core's `state` and read it back; what happened, for the reason.
    fn stop(&self, state: &Path) -> String {
        let stopped = write_attr(state, "stop");
        match read_attr(state) {
            Ok(now) if now == "offline" => format!("; core {} is offline", self.label),
            Ok(now) => format!(
                "; core {} is still {now}{}: stop it with `hybrid-runtime delete --force`",
                self.label,
                stopped
                    .err()
                    .map(|e| format!(" (stop: {})", crate::sys::strerror(errno(&e))))
                    .unwrap_or_default()
            ),
            Err(e) => format!(
                "; core {} could not be read back after stop: {}",
                self.label,
                crate::sys::strerror(errno(&e))
            ),
        }
    }
}

fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// In builds with debug assertions (the test builds; never a release build), a monitor whose
/// `create` ran with `HYBRID_TEST_MONITOR_PANIC` set panics once the core runs, so that the
/// tests see a real panic of the real binary.
#[cfg(debug_assertions)]
pub fn test_trigger() {
    const TRIGGER: &str = "HYBRID_TEST_MONITOR_PANIC";
    if std::env::var_os(TRIGGER).is_some() {
        panic!("deliberate panic for a test ({TRIGGER} is set)");
    }
}

#[cfg(not(debug_assertions))]
pub fn test_trigger() {}
