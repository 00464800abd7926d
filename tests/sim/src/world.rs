//! The simulator's shared state: processors, kernel log, open files, and the
//! readers and pollers waiting on them. One mutex guards it all; firmware
//! threads wait on a condition variable of their own core, woken only by what
//! concerns that core (its image stopping, input for it, room in its queues).
use crate::config::{Config, ProcSpec};
use crate::fs::tree::FileKind;
use crate::kmsg::Kmsg;
use crate::rpmsg::{Endpoint, Vdev};
use crate::script::Script;
use fuser::{PollNotifier, ReplyData};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// `enum rproc_state` as sysfs prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Offline,
    Suspended,
    Running,
    Crashed,
    Deleted,
    Attached,
    Detached,
    Invalid,
}

impl State {
    /// All states, in the kernel's order.
    pub const ALL: [State; 8] = [
        State::Offline,
        State::Suspended,
        State::Running,
        State::Crashed,
        State::Deleted,
        State::Attached,
        State::Detached,
        State::Invalid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Offline => "offline",
            State::Suspended => "suspended",
            State::Running => "running",
            State::Crashed => "crashed",
            State::Deleted => "deleted",
            State::Attached => "attached",
            State::Detached => "detached",
            State::Invalid => "invalid",
        }
    }
}

/// Operations fault injection (`sim/remoteprocN/fail`) can target.
pub const FAULT_OPS: &[&str] = &["start", "stop", "detach", "firmware", "crash", "recovery"];
/// Files a write to which can be delayed (`sim/remoteprocN/hang`).
pub const HANG_FILES: &[&str] = &["state", "firmware", "cdev", "crash", "recovery"];

/// What a loaded firmware brings while it runs.
#[derive(Default)]
pub struct Run {
    /// Trace buffer name and contents (fixed size, zero-filled, wraps).
    pub trace: Option<(String, Vec<u8>)>,
    /// Next write position in the trace buffer.
    pub trace_pos: usize,
    /// The behaviour script.
    pub script: Script,
    /// Whether the firmware echoes what it receives.
    pub echo: bool,
    /// Messages received so far, and how many `wait-rx` consumed.
    pub rx_total: u64,
    pub rx_waited: u64,
    /// The rpmsg side, while the image runs.
    pub vdev: Option<Vdev>,
}

/// Global device numbers; they only grow.
#[derive(Debug, Default)]
pub struct Counters {
    pub platform: u32,
    pub virtio: u32,
    pub ctrl: u32,
    pub tty: u32,
    pub ept: u32,
}

/// One remote processor.
pub struct Proc {
    pub index: u32,
    pub spec: ProcSpec,
    pub state: State,
    pub firmware: String,
    pub recovery: bool,
    pub coredump: String,
    pub power: u32,
    pub events: Vec<String>,
    pub loaded: Option<PathBuf>,
    pub starts: u32,
    pub crashes: u32,
    pub faults: HashMap<String, i32>,
    pub hangs: HashMap<String, u64>,
    pub shutdown_on_release: bool,
    /// Open descriptions of `dev/remoteprocN`: file handle → opener pid.
    pub cdev_holders: Vec<(u64, u32)>,
    /// Set while a firmware is loaded (running or crashed).
    pub run: Option<Run>,
    /// Bumped on every start and stop: lets the firmware thread notice.
    pub generation: u64,
    /// What the firmware received from the host, one entry per message.
    pub rx: Vec<String>,
    /// The driver was removed: the core's files are gone.
    pub removed: bool,
}

impl Proc {
    pub fn new(index: u32, spec: ProcSpec) -> Self {
        let attached = spec.attached;
        Proc {
            index,
            state: if attached {
                State::Attached
            } else {
                State::Offline
            },
            firmware: spec.firmware.clone(),
            recovery: spec.recovery,
            coredump: "disabled".into(),
            power: u32::from(attached),
            events: Vec::new(),
            loaded: None,
            starts: 0,
            crashes: 0,
            faults: HashMap::new(),
            hangs: HashMap::new(),
            shutdown_on_release: false,
            cdev_holders: Vec::new(),
            run: None,
            generation: 0,
            rx: Vec::new(),
            removed: false,
            spec,
        }
    }

    /// `remoteprocN`, the kernel's device name.
    pub fn dev(&self) -> String {
        format!("remoteproc{}", self.index)
    }

    pub fn event(&mut self, e: String) {
        self.events.push(e);
    }

    /// Takes the injected failure for `op`, if any.
    pub fn take_fault(&mut self, op: &str) -> Option<i32> {
        let errno = self.faults.remove(op)?;
        self.events.push(format!("fail {op} {errno}"));
        Some(errno)
    }
}

/// What an open file of the simulator refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Kmsg,
    /// `dev/rpmsgM`.
    Ept(u32),
}

/// A `read` waiting for data, answered later.
pub struct PendingRead {
    pub source: Source,
    pub fh: u64,
    pub pid: u32,
    pub size: u32,
    pub reply: ReplyData,
}

/// Per-open-file state.
#[derive(Debug)]
pub struct OpenFile {
    pub kmsg_seq: u64,
    pub kind: FileKind,
    /// A sysfs attribute's last showing and where the last read of it ended.
    pub shown: Option<(Vec<u8>, u64)>,
}

/// Everything the three mounts and the firmware threads share.
pub struct World {
    pub cfg: Config,
    pub procs: Vec<Proc>,
    pub kmsg: Kmsg,
    pub fw_class_path: String,
    pub files: HashMap<u64, OpenFile>,
    pub next_fh: u64,
    pub pending: Vec<PendingRead>,
    pub pollers: Vec<(Source, u64, PollNotifier)>,
    /// Where started firmware is announced to the thread that runs it.
    pub launcher: Option<std::sync::mpsc::Sender<(usize, u64)>>,
    /// rpmsg endpoint devices by number.
    pub endpoints: BTreeMap<u32, Endpoint>,
    pub counters: Counters,
    /// One per core: signalled when something its firmware threads wait for changed.
    firmware_wakers: Arc<[Condvar]>,
    /// Signalled when a read starts waiting (the thread that interrupts them sleeps otherwise).
    pub readers_waiting: Arc<Condvar>,
}

/// The shared handle on the state.
pub type Shared = Arc<Mutex<World>>;

/// Locks the world (a poisoned lock is still usable: the state stays consistent
/// per operation).
pub fn lock(shared: &Shared) -> MutexGuard<'_, World> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// Releases the lock until core `n`'s firmware threads are woken (see
/// `World::wake_firmware`) or `deadline` passes, then takes it again.
pub fn wait_firmware(
    w: MutexGuard<'_, World>,
    n: usize,
    deadline: Option<Instant>,
) -> MutexGuard<'_, World> {
    let wakers = w.firmware_wakers.clone();
    let Some(cv) = wakers.get(n) else { return w };
    match deadline {
        None => cv.wait(w).unwrap_or_else(|e| e.into_inner()),
        Some(d) => cv
            .wait_timeout(w, d.saturating_duration_since(Instant::now()))
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0),
    }
}

impl World {
    pub fn new(cfg: Config) -> Self {
        let procs = cfg
            .processors
            .iter()
            .enumerate()
            .map(|(i, s)| Proc::new(i as u32, s.clone()))
            .collect();
        let firmware_wakers = cfg.processors.iter().map(|_| Condvar::new()).collect();
        World {
            firmware_wakers,
            readers_waiting: Arc::new(Condvar::new()),
            fw_class_path: cfg.fw_path.clone(),
            cfg,
            procs,
            kmsg: Kmsg::new(),
            files: HashMap::new(),
            next_fh: 1,
            pending: Vec::new(),
            pollers: Vec::new(),
            launcher: None,
            endpoints: BTreeMap::new(),
            counters: Counters::default(),
        }
    }

    /// Wakes the firmware threads of core `n`: its image stopped or changed,
    /// it received something, or room freed up in its queues.
    pub fn wake_firmware(&self, n: usize) {
        if let Some(cv) = self.firmware_wakers.get(n) {
            cv.notify_all();
        }
    }

    /// Core `n` starts, stops or leaves an image: its firmware threads end.
    pub fn new_generation(&mut self, n: usize) {
        self.procs[n].generation += 1;
        self.wake_firmware(n);
    }

    /// A firmware image just started on core `n` (boot or recovery).
    pub fn firmware_started(&mut self, n: usize) {
        if let Some(tx) = &self.launcher {
            let _ = tx.send((n, self.procs[n].generation));
        }
    }

    /// The firmware of core `n` stopped running (stop, crash, detach).
    pub fn firmware_stopped(&mut self, n: usize) {
        if let Some(r) = self.procs[n].run.as_mut() {
            r.vdev = None;
        }
        crate::rpmsg::destroy(self, n);
    }

    /// Answers `EINTR` to blocked reads whose caller has a signal pending (the
    /// kernel's FUSE interrupt, which the FUSE library does not forward), and
    /// drops those of callers that are gone.
    pub fn interrupt_signalled_readers(&mut self) {
        let mut i = 0;
        while i < self.pending.len() {
            match signal_pending(self.pending[i].pid) {
                Some(false) => i += 1,
                Some(true) => self.pending.swap_remove(i).reply.error(fuser::Errno::EINTR),
                None => self
                    .pending
                    .swap_remove(i)
                    .reply
                    .error(fuser::Errno::ENOENT),
            }
        }
    }

    /// Logs a kernel message and wakes kmsg readers and pollers.
    pub fn log(&mut self, prio: u8, text: String) {
        self.kmsg.log(prio, text);
        self.wake(&Source::Kmsg);
    }

    /// Remembers a poller of open file `fh` (one per file, as the kernel keeps
    /// one poll handle per open file).
    pub fn watch(&mut self, source: Source, fh: u64, notifier: PollNotifier) {
        self.pollers.retain(|(_, h, _)| *h != fh);
        self.pollers.push((source, fh, notifier));
    }

    /// Answers pending reads and notifies pollers waiting on `source`.
    pub fn wake(&mut self, source: &Source) {
        let mut i = 0;
        while i < self.pending.len() {
            if &self.pending[i].source == source && self.readable(source, self.pending[i].fh) {
                let p = self.pending.swap_remove(i);
                match self.read_now(source, p.fh, p.size) {
                    Ok(data) => p.reply.data(&data),
                    Err(e) => p.reply.error(fuser::Errno::from_i32(e)),
                }
            } else {
                i += 1;
            }
        }
        let (ready, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pollers)
            .into_iter()
            .partition(|(s, _, _)| s == source);
        self.pollers = rest;
        for (_, _, n) in ready {
            let _ = n.notify();
        }
    }

    /// Whether a read on `fh` would return data now.
    pub fn readable(&self, source: &Source, fh: u64) -> bool {
        match source {
            Source::Kmsg => self
                .files
                .get(&fh)
                .is_some_and(|f| self.kmsg.readable(f.kmsg_seq)),
            Source::Ept(m) => crate::rpmsg::readable(self, *m),
        }
    }

    /// Reads from `source` for `fh`: data, or an errno (`EAGAIN` when empty).
    pub fn read_now(&mut self, source: &Source, fh: u64, size: u32) -> Result<Vec<u8>, i32> {
        match source {
            Source::Kmsg => {
                let seq = self.files.get(&fh).map_or(0, |f| f.kmsg_seq);
                match self.kmsg.next(seq) {
                    crate::kmsg::Next::Record(data, next) => {
                        if data.len() > size as usize {
                            return Err(libc::EINVAL);
                        }
                        if let Some(f) = self.files.get_mut(&fh) {
                            f.kmsg_seq = next;
                        }
                        Ok(data)
                    }
                    crate::kmsg::Next::Overrun(first) => {
                        if let Some(f) = self.files.get_mut(&fh) {
                            f.kmsg_seq = first;
                        }
                        Err(libc::EPIPE)
                    }
                    crate::kmsg::Next::Empty => Err(libc::EAGAIN),
                }
            }
            Source::Ept(m) => crate::rpmsg::read(self, *m, size),
        }
    }
}

/// Whether thread `tid` has an unblocked, unignored signal pending; `None` when
/// it no longer exists.
fn signal_pending(tid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let mask = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0)
    };
    if status
        .lines()
        .any(|l| l.starts_with("State:") && l.contains('Z'))
    {
        return None;
    }
    let pending = (mask("SigPnd:") | mask("ShdPnd:")) & !mask("SigBlk:") & !mask("SigIgn:");
    Some(pending != 0)
}
