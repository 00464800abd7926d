//! The firmware's log stream, the log source the monitor polls: prepared with the container
//! (its buffers have a fixed size, so the monitor's memory does not grow with the output), it
//! picks the firmware's log source once the core runs (discovery is retried for a while,
//! channels appear after the firmware announces them), reads it — tty and endpoints when
//! `poll(2)` says so, the trace buffer on the monitor's tick (it has no notification) — and
//! sends every whole line to `console.log` and the container's stdout. What was chosen, or why
//! nothing could be, is recorded in `console.source` for `logs`.

use crate::console::config::{LogConfig, Source};
use crate::console::lines::LineBuffer;
use crate::console::source;
use crate::console::stdout::StdoutSink;
use crate::console::store::{self, LogFile};
use crate::host::Host;
use crate::platform::kmsg::CoreEvent;
use crate::platform::rpmsg::{self, Channel, Kind};
use crate::platform::trace::{self, TraceFile, TraceFollower, Update};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long after start channels may take to appear before the choice is settled.
pub const DISCOVERY: Duration = Duration::from_secs(2);
/// How long `start` itself keeps looking, so that output from the first instant (a firmware
/// that crashes at once) is not missed; the monitor's tick takes over after that.
const FIRST_LOOK: Duration = Duration::from_millis(100);
const FIRST_LOOK_STEP: Duration = Duration::from_millis(5);
/// Time the kernel takes, after saying it recovers the core, to reload the firmware.
const RELOAD_GRACE: Duration = Duration::from_millis(50);
/// Wake-ups in a row with nothing to read after which the source is reopened.
const MAX_EMPTY_WAKEUPS: u32 = 1000;
/// Lines of the trace buffer written to the log when the core crashes.
const CRASH_TAIL: usize = 20;
/// Records what the monitor chose: `<kind> <detail>`, or `none <reason>`.
pub const SOURCE_FILE: &str = "console.source";
const NOTE: &str = "hybrid-runtime: ";

/// Where the firmware's output comes from right now.
enum Active {
    /// The core has not been started yet.
    NotStarted,
    /// Still looking: until `deadline` after start, or for as long as it takes when a source
    /// that was open went away (the kernel is restarting the core).
    Pending {
        deadline: Option<Instant>,
    },
    Tty(File),
    /// `created`: made through the control device, to be removed at the end.
    Endpoint {
        file: File,
        created: bool,
    },
    Trace,
    /// Nothing to read; the reason was recorded.
    Nothing,
}

/// Where lines go: stdout and the log file.
struct Sinks {
    stdout: StdoutSink,
    file: Option<LogFile>,
}

impl Sinks {
    /// The file first: a line seen on stdout is already in `logs`.
    fn line(&mut self, line: &[u8]) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.append(line) {
                warn(&format!("{e}; firmware output is no longer saved"));
                self.file = None;
            }
        }
        let failed = self.stdout.line(line);
        stdout_failed(failed);
    }

    /// Give stdout what it could not take before (its reader was behind).
    fn flush(&mut self) {
        let failed = self.stdout.flush();
        stdout_failed(failed);
    }

    fn note(&mut self, text: &str) {
        let mut line = Vec::with_capacity(NOTE.len() + text.len());
        line.extend_from_slice(NOTE.as_bytes());
        line.extend_from_slice(text.as_bytes());
        self.line(&line);
    }
}

pub struct LogStream {
    cfg: LogConfig,
    core: String,
    rproc_dir: PathBuf,
    trace_path: PathBuf,
    rpmsg_class: PathBuf,
    dev_dir: PathBuf,
    state_dir: PathBuf,
    active: Active,
    lines: LineBuffer,
    follower: TraceFollower,
    trace_file: TraceFile,
    /// The kernel is recovering the core: from this instant the trace buffer is a new one.
    trace_restarts: Option<Instant>,
    /// Times in a row the source's descriptor was ready with nothing to read.
    empty_wakeups: u32,
    snap: Vec<u8>,
    bytes: Vec<u8>,
    sinks: Sinks,
}

impl LogStream {
    /// The log stream of core `core` (`remoteprocN`) for the container whose state directory is
    /// `state_dir`, to the container's stdout as it is now. Nothing is opened before `start`.
    pub fn new(cfg: LogConfig, host: &Host, core: &str, state_dir: &Path) -> LogStream {
        LogStream {
            rproc_dir: host.remoteproc_class().join(core),
            trace_path: host.debugfs_remoteproc(core).join("trace0"),
            rpmsg_class: host.path("/sys/class/rpmsg"),
            dev_dir: host.path("/dev"),
            state_dir: state_dir.to_owned(),
            core: core.to_owned(),
            cfg,
            active: Active::NotStarted,
            lines: LineBuffer::default(),
            follower: TraceFollower::default(),
            trace_file: TraceFile::default(),
            trace_restarts: None,
            empty_wakeups: 0,
            snap: Vec::new(),
            bytes: Vec::new(),
            sinks: Sinks {
                stdout: StdoutSink::new(),
                file: None,
            },
        }
    }

    fn push(&mut self, n: usize, buf: &[u8]) {
        let sinks = &mut self.sinks;
        self.lines.push(&buf[..n], &mut |l| sinks.line(l));
    }

    fn close_source(&mut self) {
        let sinks = &mut self.sinks;
        self.lines.flush(&mut |l| sinks.line(l));
        if let Active::Endpoint {
            file,
            created: true,
        } = &self.active
        {
            rpmsg::destroy(file);
        }
        self.active = Active::Nothing;
    }

    /// Read the trace buffer and pass on what is new.
    fn poll_trace(&mut self) {
        if let Some(at) = self.trace_restarts {
            if Instant::now() < at {
                return;
            }
            // Everything in the new buffer is new, even if it reads like the old one.
            let sinks = &mut self.sinks;
            self.lines.flush(&mut |l| sinks.line(l));
            self.follower = TraceFollower::default();
            self.trace_restarts = None;
        }
        if self
            .trace_file
            .read(&self.trace_path, &mut self.snap)
            .is_err()
        {
            return;
        }
        self.bytes.clear();
        let update = self.follower.update(&self.snap, &mut self.bytes);
        match update {
            Update::Unchanged => return,
            Update::New => {}
            Update::Lost => {
                self.lines.discard();
                self.sinks
                    .note("the trace buffer wrapped before it was read: lines were lost");
            }
            Update::Restarted => {
                let sinks = &mut self.sinks;
                self.lines.flush(&mut |l| sinks.line(l));
            }
        }
        let (lines, sinks) = (&mut self.lines, &mut self.sinks);
        lines.push(&self.bytes, &mut |l| sinks.line(l));
    }

    /// The last lines of the trace buffer, as the crash left it.
    fn crash_tail(&mut self) {
        let tail = trace::last_lines::<CRASH_TAIL>(&self.snap);
        if tail.is_empty() {
            return;
        }
        self.sinks.note("last lines of the trace buffer:");
        for l in tail.oldest_ordered() {
            self.sinks.line(l);
        }
    }

    /// Look for the configured source; settle when found or when the time is up.
    fn discover(&mut self, now: Instant) {
        let Active::Pending { deadline } = self.active else {
            return;
        };
        let has_trace = self.trace_path.exists();
        let vdev = rpmsg::has_vdev(&self.rproc_dir);
        // The kernel makes the trace file and the rpmsg device while it loads the firmware,
        // before the core starts: when what the source needs is not there, nothing will come.
        let hopeless = match self.cfg.source {
            Source::Trace => !has_trace,
            Source::Tty | Source::Endpoint => !vdev,
            _ => !vdev && !has_trace,
        };
        let expired = deadline.is_some_and(|d| now >= d || hopeless);
        let channels = match self.cfg.source {
            Source::Trace => Vec::new(),
            _ => rpmsg::discover(&self.rproc_dir),
        };
        let want = self.cfg.channel.as_deref();
        let wanted = self.cfg.channel.as_ref();
        let named = |c: &&Channel, kind: Kind, default: Option<&str>| {
            c.kind == kind && !want.or(default).is_some_and(|w| c.name != w && c.dev != w)
        };
        let tty = channels.iter().find(|c| named(c, Kind::Tty, None));
        let raw = channels
            .iter()
            .find(|c| named(c, Kind::Endpoint, Some(rpmsg::RAW_CHANNEL)));
        let ctrl = channels.iter().find(|c| c.kind == Kind::Control);
        let choice = match self.cfg.source {
            Source::Tty => tty.map(|c| Pick::Tty(c.clone())),
            Source::Endpoint => raw.map(|c| Pick::Endpoint(c.clone())).or_else(|| {
                // A created endpoint is aimed at the channel the firmware announces under that
                // name; created before the announcement it would point nowhere and the kernel
                // would refuse every write to it. Wait for it while discovery's time lasts.
                let name = wanted?;
                let announced = channels.iter().any(|c| c.name == name.as_str());
                (announced || expired).then_some(())?;
                Some(Pick::Create(ctrl?.clone(), name.clone()))
            }),
            Source::Trace => has_trace.then_some(Pick::Trace),
            _ => {
                let rpmsg = tty
                    .map(|c| Pick::Tty(c.clone()))
                    .or_else(|| raw.map(|c| Pick::Endpoint(c.clone())));
                // Channels come after the firmware announces them: wait for them while the
                // firmware declared an rpmsg device, unless the time is up.
                let waiting = !expired && vdev;
                rpmsg.or_else(|| (!waiting && has_trace).then_some(Pick::Trace))
            }
        };
        match choice {
            Some(pick) => self.open(pick, &channels, expired),
            None if expired && deadline.is_some() => {
                let reason = self.no_source_reason(&channels, vdev);
                warn(&format!("no firmware log: {reason}"));
                self.record(&format!("none {reason}"));
                self.active = Active::Nothing;
            }
            None => {}
        }
    }

    /// Open what discovery picked. A device node that is not there yet (it appears after the
    /// sysfs entry), or not usable yet (the kernel creates a tty's node before it registers the
    /// character device behind it: ENXIO meanwhile), is tried again until discovery's time is up.
    fn open(&mut self, pick: Pick, channels: &[Channel], expired: bool) {
        let dst_of = |name: &str| channels.iter().find(|c| c.name == name).map(|c| c.dst);
        let opened = match &pick {
            Pick::Tty(c) => rpmsg::open_tty(&self.dev_dir.join(&c.dev)).map(|f| {
                (
                    Active::Tty(f),
                    format!("tty {} (channel {})", c.dev, c.name),
                )
            }),
            Pick::Endpoint(c) => rpmsg::open_endpoint(&self.dev_dir.join(&c.dev)).map(|file| {
                let rec = format!("endpoint {} (channel {})", c.dev, c.name);
                (
                    Active::Endpoint {
                        file,
                        created: false,
                    },
                    rec,
                )
            }),
            Pick::Create(ctrl, name) => rpmsg::create_endpoint(
                &self.dev_dir.join(&ctrl.dev),
                &self.rpmsg_class,
                &self.dev_dir,
                name,
                dst_of(name).unwrap_or(rpmsg::ADDR_ANY),
            )
            .map(|(file, dev)| {
                let rec = format!("endpoint {dev} (created as {name})");
                (
                    Active::Endpoint {
                        file,
                        created: true,
                    },
                    rec,
                )
            }),
            Pick::Trace => Ok((Active::Trace, String::from("trace trace0"))),
        };
        match opened {
            Ok((active, rec)) => {
                self.active = active;
                self.empty_wakeups = 0;
                self.record(&rec);
                self.hello();
                if let Active::Trace = self.active {
                    self.poll_trace();
                }
            }
            Err(e)
                if matches!(e.errno, libc::ENOENT | libc::ENXIO)
                    && !expired
                    && !matches!(pick, Pick::Create(..)) => {}
            Err(e) => {
                warn(&format!("no firmware log: {e}"));
                self.record(&format!("none {e}"));
                self.active = Active::Nothing;
            }
        }
    }

    /// Send the configured first message (some firmware only talks after the host has).
    fn hello(&mut self) {
        let Some(hello) = &self.cfg.hello else { return };
        let (f, newline) = match &mut self.active {
            Active::Tty(f) => (f, true),
            Active::Endpoint { file, .. } => (file, false),
            _ => return,
        };
        let mut msg = hello.as_bytes().to_vec();
        if newline {
            msg.push(b'\n');
        }
        if let Err(e) = f.write_all(&msg) {
            warn(&format!(
                "cannot send io.hybrid-runtime.log.hello to the firmware: {e}"
            ));
        }
    }

    fn no_source_reason(&self, channels: &[Channel], vdev: bool) -> String {
        let names: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
        let announced = format!(" (channels: {})", names.join(", "));
        let which = self
            .cfg
            .channel
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let what = match self.cfg.source {
            Source::Trace => String::from("declares no trace buffer"),
            Source::Tty | Source::Endpoint if !vdev => String::from("declares no rpmsg device"),
            Source::Tty => format!("has no rpmsg tty channel{which}{announced}"),
            Source::Endpoint if which.is_empty() => format!(
                "has no rpmsg-raw channel; set io.hybrid-runtime.log.channel to create a named \
                 endpoint{announced}"
            ),
            Source::Endpoint => format!(
                "has no endpoint{which} and no rpmsg control device to create it{announced}"
            ),
            _ if vdev => format!(
                "announced no rpmsg tty or raw channel{announced} and declares no trace buffer"
            ),
            _ => String::from("declares no trace buffer and no rpmsg channel"),
        };
        format!("firmware on {} {what}", self.core)
    }

    fn record(&self, what: &str) {
        let text = format!("{what}\n");
        if let Err(e) =
            crate::container::write_atomic(&self.state_dir, SOURCE_FILE, text.as_bytes())
        {
            let path = self.state_dir.join(SOURCE_FILE);
            warn(&format!(
                "cannot record the log source in {}: {e}",
                path.display()
            ));
        }
    }
}

impl source::Source for LogStream {
    /// Open the log file and look for the firmware's log source. Never fails: a missing log file
    /// or source is reported and the firmware runs on.
    fn start(&mut self) {
        let path = self.state_dir.join(store::FILE_NAME);
        self.sinks.file = match LogFile::open(&path, self.cfg.max_size, self.cfg.max_files) {
            Ok(f) => Some(f),
            Err(e) => {
                warn(&format!("{e}; firmware output is not saved"));
                None
            }
        };
        if self.cfg.source == Source::None {
            self.active = Active::Nothing;
            self.record("none logging is disabled (log source none)");
            return;
        }
        self.active = Active::Pending {
            deadline: Some(Instant::now() + DISCOVERY),
        };
        // Channels, and then their device nodes, appear moments after the core starts.
        let until = Instant::now() + FIRST_LOOK;
        self.discover(Instant::now());
        while matches!(self.active, Active::Pending { .. }) && Instant::now() < until {
            std::thread::sleep(FIRST_LOOK_STEP);
            self.discover(Instant::now());
        }
    }

    /// The descriptor to wait on for readable output; -1 (ignored by poll) when there is none.
    fn fd(&self) -> RawFd {
        match &self.active {
            Active::Tty(f) | Active::Endpoint { file: f, .. } => f.as_raw_fd(),
            _ => -1,
        }
    }

    /// The descriptor is readable (or hung up): take what is there.
    fn ready(&mut self) {
        let mut buf = [0u8; 4096];
        for round in 0..64 {
            let (f, messages) = match &mut self.active {
                Active::Tty(f) => (f, false),
                Active::Endpoint { file, .. } => (file, true),
                _ => return,
            };
            match rpmsg::read_available(f, &mut buf) {
                Ok(0) => {
                    // Woken with nothing to read, again and again: a device in a state that
                    // poll reports forever (the monitor would spin). Let it go and look again.
                    if round == 0 {
                        self.empty_wakeups += 1;
                        if self.empty_wakeups > MAX_EMPTY_WAKEUPS {
                            self.close_source();
                            self.active = Active::Pending { deadline: None };
                        }
                    }
                    return;
                }
                Ok(n) => {
                    self.empty_wakeups = 0;
                    self.push(n, &buf);
                    // A message is a line even without its newline, unless it is a full one
                    // (a longer line sent in pieces).
                    if messages && n < rpmsg::MAX_PAYLOAD && buf[n - 1] != b'\n' {
                        let sinks = &mut self.sinks;
                        self.lines.flush(&mut |l| sinks.line(l));
                    }
                }
                Err(_) => {
                    // The channel went away (the kernel is restarting the core, or it stopped):
                    // look for it again.
                    self.close_source();
                    self.active = Active::Pending { deadline: None };
                    return;
                }
            }
        }
    }

    /// On every tick of the monitor: discovery retries, trace polling, and stdout catching up.
    fn tick(&mut self) {
        self.sinks.flush();
        match self.active {
            Active::Pending { .. } => self.discover(Instant::now()),
            Active::Trace => self.poll_trace(),
            _ => {}
        }
    }

    /// The kernel reported a crash of the core (keep the context in the log) or is recovering
    /// it (the firmware starts over with a new trace buffer).
    fn core_event(&mut self, event: &CoreEvent, kernel_line: &str) {
        match event {
            CoreEvent::Crashed(_) => {
                if let Active::Trace = self.active {
                    self.poll_trace();
                } else if trace::read_snapshot(&self.trace_path, &mut self.snap).is_ok() {
                    self.crash_tail();
                }
            }
            CoreEvent::Recovering => {
                self.trace_restarts = Some(Instant::now() + RELOAD_GRACE);
            }
        }
        self.sinks.note(kernel_line);
    }

    /// The core stops or the monitor ends: take the last output, flush a partial line, remove
    /// an endpoint this stream created.
    fn finish(&mut self) {
        match self.active {
            Active::Tty(_) | Active::Endpoint { .. } => self.ready(),
            Active::Trace => self.poll_trace(),
            _ => {}
        }
        self.close_source();
    }
}

impl Drop for LogStream {
    fn drop(&mut self) {
        source::Source::finish(self);
    }
}

enum Pick {
    Tty(Channel),
    Endpoint(Channel),
    /// Create an endpoint with this name through this control device.
    Create(Channel, rpmsg::Name),
    Trace,
}

fn stdout_failed(error: Option<std::io::Error>) {
    if let Some(e) = error {
        warn(&format!(
            "stdout stopped taking firmware output ({e}); the log file still does"
        ));
    }
}

/// A one-line message on the monitor's stderr (the container's stderr).
fn warn(text: &str) {
    let _ = std::io::stderr().write_all(format!("{NOTE}{text}\n").as_bytes());
}
