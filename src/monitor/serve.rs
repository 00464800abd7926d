//! The life every process that stands for a container leads, whatever it watches (a firmware
//! core, or a pod sandbox's namespaces): record its pid, say it is ready, then poll its signals,
//! its start fifo and what it watches, answer `start`, tick, and end with an exit record and the
//! status engines read (128+N when stopped by signal N).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::container::{control, process, write_atomic, Exit, Record, REPLY_FIFO, STARTED_FILE};
use crate::error::{Context, Result};

/// How often `tick` runs.
pub const TICK: Duration = Duration::from_millis(250);
/// The monitor itself failed (before or while watching).
pub const EXIT_MONITOR_FAILED: i32 = 1;

/// How a container process ends.
pub struct Ending {
    pub code: i32,
    pub reason: String,
    /// Die by this signal (the container was stopped by it) instead of exiting with `code`.
    pub signal: Option<i32>,
}

impl Ending {
    /// Stopped by `sig`: status 128+sig, by dying of the signal itself.
    pub fn by_signal(sig: i32) -> Ending {
        Ending {
            code: 128 + sig,
            reason: format!(
                "stopped by signal {}",
                crate::container::stop::signal_name(sig)
            ),
            signal: Some(sig),
        }
    }
}

/// What a container process watches, and what it does when asked.
pub trait Watched {
    /// Descriptors to poll besides the signals and the start fifo (-1: none).
    fn fds(&self) -> [RawFd; 2];
    /// After each poll: which of `fds` were readable; an ending ends the container.
    fn polled(&mut self, ready: [bool; 2]) -> Option<Ending>;
    /// `start` was asked for: the errno and message of a refusal go back to the caller.
    fn start(&mut self) -> Result<()>;
    /// Every `TICK`.
    fn tick(&mut self) -> Option<Ending>;
    /// TERM, INT or QUIT arrived.
    fn stop_by_signal(&mut self, sig: i32) -> Ending;
    /// The last thing before the process ends (after the exit record is written).
    fn release(&mut self);
}

/// What a container process reads its orders from.
pub struct Channels {
    pub state_dir: PathBuf,
    signals: OwnedFd,
    requests: File,
}

/// Take the signals that stop a container, open the start fifo and record this process as the
/// container's in `record` (saved in `state_dir`).
pub fn begin(state_dir: &Path, record: &mut Record) -> Result<Channels> {
    let signals = crate::sys::signalfd(&[libc::SIGTERM, libc::SIGINT, libc::SIGQUIT])
        .ctx("monitor: signalfd")?;
    let requests = control::open_requests(state_dir).ctx("monitor: opening the start fifo")?;
    let me = std::process::id() as i32;
    record.pid = me;
    record.pid_start = process::start_time(me).unwrap_or(0);
    record.save(state_dir)?;
    Ok(Channels {
        state_dir: state_dir.to_path_buf(),
        signals,
        requests,
    })
}

/// Tell `create` we are ready (`ok`) or why not; a `create` that died before hearing it leaves
/// a process nobody knows, which ends at once.
pub fn report_ready(ready: OwnedFd, outcome: std::result::Result<(), &str>) {
    let mut ready = File::from(ready);
    let told = ready.write_all(outcome.err().unwrap_or("ok").as_bytes());
    if outcome.is_err() || told.is_err() {
        crate::sys::exit_now(EXIT_MONITOR_FAILED);
    }
}

/// Watch until the container ends; never returns.
pub fn serve(ch: Channels, watched: &mut impl Watched) -> ! {
    let ending = watch(&ch, watched);
    let exit = Exit {
        code: ending.code,
        reason: ending.reason.clone(),
    };
    let _ = exit.save(&ch.state_dir);
    if ending.signal.is_none() {
        say(&ending.reason);
    }
    watched.release();
    match ending.signal {
        Some(sig) => crate::sys::die_by_signal(sig),
        None => crate::sys::exit_now(ending.code),
    }
}

fn watch(ch: &Channels, watched: &mut impl Watched) -> Ending {
    let mut last_tick = Instant::now();
    loop {
        let [a, b] = watched.fds();
        let mut fds = [
            crate::sys::pollfd(ch.signals.as_raw_fd()),
            crate::sys::pollfd(ch.requests.as_raw_fd()),
            crate::sys::pollfd(a),
            crate::sys::pollfd(b),
        ];
        if let Err(e) = crate::sys::poll(&mut fds, TICK.as_millis() as i32) {
            return Ending {
                code: EXIT_MONITOR_FAILED,
                reason: format!("monitor: poll: {e}"),
                signal: None,
            };
        }
        if fds[0].revents != 0 {
            if let Some(sig) = crate::sys::signalfd_read(&ch.signals) {
                return watched.stop_by_signal(sig);
            }
        }
        if fds[1].revents != 0 {
            answer_start(ch, watched);
        }
        if let Some(ending) = watched.polled([fds[2].revents != 0, fds[3].revents != 0]) {
            return ending;
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            if let Some(ending) = watched.tick() {
                return ending;
            }
        }
    }
}

/// Read a request from the start fifo; for `start`, answer `0` or `<errno> <message>` on the
/// reply fifo.
fn answer_start(ch: &Channels, watched: &mut impl Watched) {
    let mut buf = [0u8; 64];
    let n = match (&ch.requests).read(&mut buf) {
        Ok(n) => n,
        Err(_) => return,
    };
    if !buf[..n].starts_with(b"start") {
        return;
    }
    let answer = match watched.start() {
        Ok(()) => {
            let _ = write_atomic(&ch.state_dir, STARTED_FILE, b"");
            String::from("0\n")
        }
        Err(e) => format!("{} {}\n", e.errno, e.msg),
    };
    // The caller may have died meanwhile (ENXIO): the core's state is the truth anyway.
    if let Ok(mut reply) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(ch.state_dir.join(REPLY_FIFO))
    {
        let _ = reply.write_all(answer.as_bytes());
    }
}

/// A line on the container's stderr.
pub fn say(msg: &str) {
    let _ = std::io::stderr().write_all(format!("hybrid-runtime: {msg}\n").as_bytes());
}
