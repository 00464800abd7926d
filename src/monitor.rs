//! The monitor: the process that stands for a container. Forked by `create`, it inherits its
//! stdio and the core claim, waits for `start`, starts the core itself (through
//! `/dev/remoteprocN` with shutdown-on-release when the kernel has it, so that the kernel stops
//! the core if the monitor dies in any way), watches the core, and ends with an exit status that
//! tells what happened (see README "Exit codes"), after writing it to the state dir. Its
//! firmware log source comes prepared in its setup and is started once the core runs.

mod panic;
pub mod serve;

use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::console::source::Source;
use crate::container::Record;
use crate::error::{Context, Error, Result};
use crate::host::Host;
use crate::platform::cdev::Cdev;
use crate::platform::claim::Claim;
use crate::platform::firmware;
use crate::platform::kmsg::{self, CoreEvent, Kmsg};
use crate::platform::remoteproc::{Attr, Core};

/// How long a crashed core may take to come back when kernel recovery is enabled.
const RECOVERY_GRACE: Duration = Duration::from_secs(5);
/// How long an unexplained `offline` is given, with recovery enabled, before it counts as a stop.
const OFFLINE_GRACE: Duration = Duration::from_secs(1);

pub const EXIT_CRASHED: i32 = 134;
pub const EXIT_STOPPED_ELSEWHERE: i32 = 100;
pub const EXIT_CORE_GONE: i32 = 101;
pub use serve::EXIT_MONITOR_FAILED;
/// A bug in the monitor, not in the firmware (see `panic`).
pub const EXIT_MONITOR_PANICKED: i32 = 102;

/// Everything the monitor needs, in plain types.
pub struct Setup {
    pub host: Host,
    /// `<root>/<id>/`: where the exit record and any per-container files go.
    pub state_dir: PathBuf,
    /// The chosen core; `core.dir` is its sysfs directory.
    pub core: Core,
    /// `/dev/remoteprocN` when the core is guarded by the kernel.
    pub cdev: Option<PathBuf>,
    /// Firmware name to write to `firmware` (empty when adopted).
    pub firmware: String,
    pub adopted: bool,
    /// Held (flock) for the monitor's whole life; the kernel releases it when it dies.
    pub claim: Option<Claim>,
    /// The container's record (annotations included); the monitor adds its own pid before
    /// saying it is ready.
    pub record: Record,
    /// The firmware's log, started once the core runs, then polled with the monitor's own
    /// descriptors.
    pub log: Box<dyn Source>,
}

use serve::Ending;

/// The firmware monitor: what it watches (the core, the kernel log, the firmware's log) and how
/// it acts on it. The core's `state` is re-read on every tick (sysfs `state` cannot be polled).
struct Monitor {
    setup: Setup,
    kmsg: Option<Kmsg>,
    cdev: Option<Cdev>,
    /// The core's `state`, kept open: read on every tick.
    state: Attr,
    /// The monitor started the core (shared with the panic hook, which then stops it).
    started: Arc<AtomicBool>,
    recovery: bool,
    crashed_since: Option<Instant>,
    crash_type: Option<String>,
    /// When the core was first seen offline without our stop (kernel recovery passes there).
    offline_since: Option<Instant>,
}

/// The monitor's body, in the child of `create`. Reports readiness (`ok` or an error message)
/// on `ready`, then runs until the container ends. Never returns.
pub fn run(mut setup: Setup, ready: OwnedFd) -> ! {
    let started = panic::install(panic::Guard {
        state_dir: &setup.state_dir,
        core_dir: &setup.core.dir,
        label: setup.core.label(),
        by_kernel: setup.cdev.is_some(),
        adopted: setup.adopted,
    });
    crate::sys::setsid();
    crate::sys::ignore_sigpipe();
    let _ = std::env::set_current_dir("/");
    let state_dir = setup.state_dir.clone();
    let prepared = serve::begin(&state_dir, &mut setup.record)
        .and_then(|channels| Ok((channels, Monitor::new(setup, started)?)));
    match prepared {
        Ok((channels, mut monitor)) => {
            serve::report_ready(ready, Ok(()));
            serve::serve(channels, &mut monitor)
        }
        Err(e) => {
            serve::report_ready(ready, Err(&e.msg));
            crate::sys::exit_now(EXIT_MONITOR_FAILED)
        }
    }
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Monitor {
    fn new(setup: Setup, started: Arc<AtomicBool>) -> Result<Monitor> {
        let cdev = match &setup.cdev {
            Some(p) => Some(Cdev::open(p).ctx_path("cannot open", p)?),
            None => None,
        };
        let kmsg = Kmsg::open(&setup.host.kmsg()).ok();
        let recovery = setup.core.recovery_enabled(&setup.host);
        let state = setup.core.state_attr();
        Ok(Monitor {
            setup,
            kmsg,
            cdev,
            state,
            started,
            recovery,
            crashed_since: None,
            crash_type: None,
            offline_since: None,
        })
    }

    fn label(&self) -> String {
        self.setup.core.label()
    }

    fn started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Start the core (or take over an adopted one); the kernel's errno comes with the message.
    fn start(&mut self) -> Result<()> {
        if self.started() {
            return Err(Error::with_errno(
                libc::EBUSY,
                String::from("the container is already running"),
            ));
        }
        let label = self.label();
        let state = self.state.read().map_err(|e| {
            Error::with_errno(errno_of(&e), format!("reading the state of core {label}"))
        })?;
        if self.setup.adopted {
            if state != "running" && state != "attached" {
                return Err(Error::with_errno(
                    libc::EINVAL,
                    format!("core {label} is {state}: there is nothing to adopt"),
                ));
            }
            if let Some(cdev) = &self.cdev {
                // Attached core: on release the kernel detaches it, leaving it running.
                cdev.set_shutdown_on_release(true).map_err(|e| {
                    Error::with_errno(errno_of(&e), format!("guarding core {label}"))
                })?;
            }
        } else {
            if state != "offline" {
                return Err(Error::with_errno(
                    libc::EBUSY,
                    format!("core {label} is {state}, not offline: it is in use"),
                ));
            }
            let fw = &self.setup.firmware;
            self.setup
                .core
                .set_firmware(fw)
                .map_err(|e| Error::io(&e, format!("setting firmware {fw} on core {label}")))?;
            let started = match &mut self.cdev {
                Some(cdev) => {
                    cdev.set_shutdown_on_release(true).map_err(|e| {
                        Error::io(&e, format!("guarding core {label} through its device"))
                    })?;
                    cdev.command("start")
                }
                None => self.setup.core.set_state("start"),
            };
            if let Err(e) = started {
                let errno = errno_of(&e);
                return Err(Error::with_errno(errno, self.start_error(errno)));
            }
        }
        self.started.store(true, Ordering::SeqCst);
        self.setup.log.start();
        Ok(())
    }

    fn start_error(&self, errno: i32) -> String {
        let label = self.label();
        let fw = &self.setup.firmware;
        match errno {
            libc::ENOENT => format!(
                "firmware {fw} not found in {}",
                firmware::search_dirs(&self.setup.host)
            ),
            libc::EINVAL => format!("the kernel rejected the image {fw} for core {label}"),
            libc::EBUSY => format!("core {label} is in use"),
            _ => format!("starting core {label}: {}", crate::sys::strerror(errno)),
        }
    }

    fn read_kmsg(&mut self) -> Option<Ending> {
        let dev = self.setup.core.dev.clone();
        let k = self.kmsg.as_mut()?;
        let mut events = Vec::new();
        while let Some(text) = k.next_record() {
            if let Some(ev) = kmsg::core_event(&dev, &text) {
                events.push((ev, text));
            }
        }
        for (ev, text) in events {
            if self.started() {
                self.setup.log.core_event(&ev, &text);
            }
            match ev {
                CoreEvent::Crashed(kind) if self.started() => {
                    if !self.recovery {
                        return Some(self.crashed(&kind));
                    }
                    self.say(&format!(
                        "firmware on core {} crashed ({kind}); the kernel is recovering it",
                        self.label()
                    ));
                    self.crash_type = Some(kind);
                }
                CoreEvent::Recovering if self.started() => {
                    self.say(&format!(
                        "core {} is being recovered by the kernel",
                        self.label()
                    ));
                }
                _ => {}
            }
        }
        None
    }

    fn check_core(&mut self) -> Option<Ending> {
        let label = self.label();
        let state = match self.state.read() {
            Ok(s) => s,
            Err(e) => {
                return Some(Ending {
                    code: EXIT_CORE_GONE,
                    reason: format!(
                        "core {label} disappeared: {}",
                        crate::sys::strerror(errno_of(&e))
                    ),
                    signal: None,
                })
            }
        };
        let gone = || Ending {
            code: EXIT_CORE_GONE,
            reason: format!("core {label} became {state}"),
            signal: None,
        };
        if !self.started() {
            return matches!(state.as_str(), "deleted" | "invalid").then(gone);
        }
        match state.as_str() {
            "running" | "attached" | "suspended" => {
                self.offline_since = None;
                self.crash_type = None;
                if self.crashed_since.take().is_some() {
                    self.say(&format!("core {label} recovered and runs again"));
                }
                None
            }
            "crashed" => {
                let kind = self
                    .crash_type
                    .clone()
                    .unwrap_or_else(|| String::from("unknown"));
                if !self.recovery {
                    return Some(self.crashed(&kind));
                }
                let since = *self.crashed_since.get_or_insert_with(Instant::now);
                (since.elapsed() >= RECOVERY_GRACE).then(|| {
                    let mut e = self.crashed(&kind);
                    e.reason.push_str("; the kernel did not recover it");
                    e
                })
            }
            "offline" | "detached" if self.recovering() => None,
            "offline" | "detached" => Some(Ending {
                code: EXIT_STOPPED_ELSEWHERE,
                reason: format!("core {label} was stopped outside the container (now {state})"),
                signal: None,
            }),
            _ => Some(gone()),
        }
    }

    /// With kernel recovery, a crashed core goes offline between the kernel's stop and start:
    /// that is no stop from outside while a crash was seen (up to `RECOVERY_GRACE`), or for
    /// `OFFLINE_GRACE` in case the crash record is not read yet.
    fn recovering(&mut self) -> bool {
        if !self.recovery {
            return false;
        }
        let _ = self.read_kmsg();
        if self.crash_type.is_some() || self.crashed_since.is_some() {
            let since = *self.crashed_since.get_or_insert_with(Instant::now);
            return since.elapsed() < RECOVERY_GRACE;
        }
        let since = *self.offline_since.get_or_insert_with(Instant::now);
        since.elapsed() < OFFLINE_GRACE
    }

    fn crashed(&mut self, kind: &str) -> Ending {
        self.setup.log.finish();
        let mut reason = format!("firmware on core {} crashed ({kind})", self.label());
        let stopped = match self.stop_core() {
            Err(_) if self.state.read().is_ok_and(|s| s == "crashed") => {
                crate::container::stop::clear_crash(&self.setup.host, &self.setup.core)
            }
            other => other,
        };
        if let Err(e) = stopped {
            reason.push_str("; stopping the crashed core failed: ");
            reason.push_str(&e.msg);
        }
        Ending {
            code: EXIT_CRASHED,
            reason,
            signal: None,
        }
    }

    /// Stop through the same path the core was started by, then check it is offline.
    fn stop_core(&mut self) -> Result<()> {
        let done = match &mut self.cdev {
            Some(cdev) => cdev.command("stop"),
            None => self.setup.core.set_state("stop"),
        };
        if let Err(e) = done {
            let state = self.state.read().unwrap_or_default();
            if state != "offline" {
                return Err(Error::io(&e, format!("stop failed (core {state})")));
            }
        }
        crate::container::stop::still_running(&self.setup.core)
    }

    fn say(&self, msg: &str) {
        serve::say(msg);
    }
}

impl serve::Watched for Monitor {
    fn fds(&self) -> [RawFd; 2] {
        // A missing kernel log, or a log source with nothing open, is -1: poll skips it.
        [self.kmsg.as_ref().map_or(-1, Kmsg::fd), self.setup.log.fd()]
    }

    fn polled(&mut self, ready: [bool; 2]) -> Option<Ending> {
        if let Some(ending) = self.read_kmsg() {
            return Some(ending);
        }
        // A source opened by a start in this round was not polled yet (it was -1).
        if ready[1] {
            self.setup.log.ready();
        }
        None
    }

    fn start(&mut self) -> Result<()> {
        Monitor::start(self)
    }

    fn tick(&mut self) -> Option<Ending> {
        if let Some(ending) = self.check_core() {
            return Some(ending);
        }
        if self.started() {
            self.setup.log.tick();
            panic::test_trigger();
        }
        None
    }

    fn stop_by_signal(&mut self, sig: i32) -> Ending {
        let mut ending = Ending::by_signal(sig);
        self.setup.log.finish();
        if self.started() {
            if let Err(e) = self.stop_core() {
                ending.reason.push_str("; ");
                ending.reason.push_str(&e.msg);
            }
        }
        ending
    }

    fn release(&mut self) {
        // The log flushes as it ends; the device and the rest close as we exit, the claim last.
        self.setup.log.finish();
        if let Some(cdev) = self.cdev.take() {
            // The flag belongs to the processor: leave it set only while the core still runs
            // ours, so that the kernel stops it when the device closes.
            let state = self.state.read().unwrap_or_default();
            if state != "running" && state != "attached" {
                let _ = cdev.set_shutdown_on_release(false);
            }
        }
        drop(self.setup.claim.take());
    }
}
