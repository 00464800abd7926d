//! rpmsg while a firmware with an rpmsg vdev runs: the announced channels, a
//! pseudo-terminal per tty channel, `rpmsg-raw` and control-created endpoints
//! (one message per read/write), and what flows both ways.
use crate::kmsg::INFO;
use crate::world::{lock, Shared, Source, World};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest payload of one rpmsg message (512-byte buffers, 16-byte header).
pub const MAX_PAYLOAD: usize = 496;
/// Messages an endpoint queues before the firmware has to wait.
const QUEUE: usize = 64;
/// First address the host allocates.
const FIRST_ADDR: u32 = 1024;
/// `RPMSG_CREATE_EPT_IOCTL`.
pub const CREATE_EPT: u32 = 0x4028_b501;
/// `RPMSG_DESTROY_EPT_IOCTL`.
pub const DESTROY_EPT: u32 = 0xb502;

/// Which transport a script command writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tty,
    Raw,
}

/// A pseudo-terminal the simulator holds in raw mode.
pub struct Pty {
    pub master: Arc<OwnedFd>,
    _slave: OwnedFd,
    pub path: String,
}

/// An announced channel.
pub enum ChannelDev {
    /// `ttyRPMSGi` backed by a pty.
    Tty(u32, Pty),
    /// `rpmsgM` (channel `rpmsg-raw`).
    Raw(u32),
    /// No driver binds: reachable through `rpmsg_ctrl` only.
    Other,
}

/// One channel: `virtioV.<name>.-1.<dst>`.
pub struct Channel {
    pub name: String,
    pub dst: u32,
    pub dev: ChannelDev,
}

/// The rpmsg side of a running firmware.
pub struct Vdev {
    /// `rproc-virtio.K.auto`.
    pub platform: u32,
    /// `virtioV`.
    pub virtio: u32,
    /// `rpmsg_ctrlC`.
    pub ctrl: u32,
    pub channels: Vec<Channel>,
}

impl Vdev {
    /// Directory of the virtio device, relative to the rproc directory.
    pub fn dir(&self) -> String {
        format!("rproc-virtio.{}.auto/virtio{}", self.platform, self.virtio)
    }
}

/// An rpmsg endpoint device `dev/rpmsgM`.
pub struct Endpoint {
    pub proc: usize,
    pub name: String,
    pub src: u32,
    pub dst: u32,
    /// The `rpmsg-raw` channel's own endpoint (cannot be destroyed).
    pub default: bool,
    /// Open descriptions: a created endpoint only receives while open.
    pub opened: u32,
    /// Firmware → host messages not yet read.
    pub queue: VecDeque<Vec<u8>>,
    /// Destroyed or its channel went away: reads answer `EPIPE`.
    pub dead: bool,
}

fn tty_channel(name: &str) -> bool {
    matches!(
        name,
        "rpmsg-tty" | "rpmsg-virtual-tty-channel" | "rpmsg-tty-channel"
    )
}

fn open_pty() -> std::io::Result<Pty> {
    let (mut m, mut s) = (0, 0);
    // SAFETY: openpty with out-pointers to two ints and no name/termios/winsize.
    let r = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openpty returned two fresh descriptors we now own.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: termios of our slave, made raw; ptsname_r into a local buffer;
    // fcntl on our master.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(s, &mut t);
        libc::cfmakeraw(&mut t);
        libc::tcsetattr(s, libc::TCSANOW, &t);
        libc::ptsname_r(m, buf.as_mut_ptr(), buf.len());
        let fl = libc::fcntl(m, libc::F_GETFL);
        libc::fcntl(m, libc::F_SETFL, fl | libc::O_NONBLOCK | libc::O_CLOEXEC);
        libc::fcntl(m, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(s, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    // SAFETY: ptsname_r NUL-terminated the buffer.
    let path = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    Ok(Pty {
        master: Arc::new(master),
        _slave: slave,
        path,
    })
}

/// Creates the vdev and announces `names` (default `rpmsg-tty`, `rpmsg-raw`).
pub fn create(w: &mut World, n: usize, names: &[String]) -> Vdev {
    let defaults = ["rpmsg-tty".to_string(), "rpmsg-raw".to_string()];
    let names = if names.is_empty() {
        &defaults[..]
    } else {
        names
    };
    let vdev_numbers = (w.counters.platform, w.counters.virtio, w.counters.ctrl);
    w.counters.platform += 1;
    w.counters.virtio += 1;
    w.counters.ctrl += 1;
    let (platform, virtio, ctrl) = vdev_numbers;
    let dev = w.procs[n].dev();
    w.log(
        INFO,
        format!("remoteproc {dev}: registered virtio{virtio} (type 7)"),
    );
    w.log(
        INFO,
        format!("virtio_rpmsg_bus virtio{virtio}: rpmsg host is online"),
    );
    let mut channels = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let dst = FIRST_ADDR + i as u32;
        w.log(
            INFO,
            format!("virtio_rpmsg_bus virtio{virtio}: creating channel {name} addr 0x{dst:x}"),
        );
        let dev = if tty_channel(name) {
            match open_pty() {
                Ok(pty) => {
                    let i = w.counters.tty;
                    w.counters.tty += 1;
                    ChannelDev::Tty(i, pty)
                }
                Err(e) => {
                    w.log(
                        3,
                        format!("rpmsg_tty virtio{virtio}.{name}: cannot open a pty: {e}"),
                    );
                    ChannelDev::Other
                }
            }
        } else if name == "rpmsg-raw" {
            let m = new_endpoint(w, n, name, u32::MAX, dst, true);
            ChannelDev::Raw(m)
        } else {
            ChannelDev::Other
        };
        channels.push(Channel {
            name: name.clone(),
            dst,
            dev,
        });
    }
    Vdev {
        platform,
        virtio,
        ctrl,
        channels,
    }
}

fn new_endpoint(w: &mut World, n: usize, name: &str, src: u32, dst: u32, default: bool) -> u32 {
    let m = w.counters.ept;
    w.counters.ept += 1;
    w.endpoints.insert(
        m,
        Endpoint {
            proc: n,
            name: name.to_string(),
            src,
            dst,
            default,
            opened: 0,
            queue: VecDeque::new(),
            dead: false,
        },
    );
    m
}

/// The firmware stopped: its channels and endpoints go away; blocked readers
/// get `EPIPE`, pty readers a hangup once the master is closed.
pub fn destroy(w: &mut World, n: usize) {
    let dead: Vec<u32> = w
        .endpoints
        .iter()
        .filter(|(_, e)| e.proc == n && !e.dead)
        .map(|(m, _)| *m)
        .collect();
    for m in dead {
        kill_endpoint(w, m);
    }
}

fn kill_endpoint(w: &mut World, m: u32) {
    if let Some(e) = w.endpoints.get_mut(&m) {
        e.dead = true;
        e.queue.clear();
        if e.opened == 0 {
            w.endpoints.remove(&m);
        }
    }
    w.wake(&Source::Ept(m));
}

/// Reads one message for a host reader: `EAGAIN` when none, `EPIPE` when gone.
pub fn read(w: &mut World, m: u32, size: u32) -> Result<Vec<u8>, i32> {
    let e = w.endpoints.get_mut(&m).ok_or(libc::EPIPE)?;
    if e.dead {
        return Err(libc::EPIPE);
    }
    let mut msg = e.queue.pop_front().ok_or(libc::EAGAIN)?;
    msg.truncate(size as usize);
    Ok(msg)
}

/// Whether a read would not block.
pub fn readable(w: &World, m: u32) -> bool {
    w.endpoints
        .get(&m)
        .is_none_or(|e| e.dead || !e.queue.is_empty())
}

/// Poll mask of an endpoint.
pub fn poll_mask(w: &World, m: u32) -> (bool, bool, bool) {
    match w.endpoints.get(&m) {
        Some(e) if !e.dead => (!e.queue.is_empty(), true, false),
        _ => (false, false, true),
    }
}

/// Records a message the firmware received, and echoes it when asked to.
fn received(w: &mut World, n: usize, channel: &str, data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let p = &mut w.procs[n];
    p.rx.push(format!("{channel} {}", text.trim_end_matches('\n')));
    match p.run.as_mut() {
        Some(r) => {
            r.rx_total += 1;
            r.echo
        }
        None => false,
    }
}

/// A host `write()` on `dev/rpmsgM`: one message to the firmware.
pub fn host_write(w: &mut World, m: u32, data: &[u8]) -> Result<(), i32> {
    let e = w.endpoints.get(&m).ok_or(libc::EPIPE)?;
    if e.dead {
        return Err(libc::EPIPE);
    }
    if data.len() > MAX_PAYLOAD {
        return Err(libc::EMSGSIZE);
    }
    let (n, name) = (e.proc, e.name.clone());
    if received(w, n, &name, data) {
        if let Some(e) = w.endpoints.get_mut(&m) {
            if e.queue.len() < QUEUE {
                e.queue.push_back(data.to_vec());
            }
        }
        w.wake(&Source::Ept(m));
    }
    Ok(())
}

/// An endpoint was opened or released.
pub fn opened(w: &mut World, m: u32, delta: i32) {
    if let Some(e) = w.endpoints.get_mut(&m) {
        e.opened = e.opened.saturating_add_signed(delta);
        if e.dead && e.opened == 0 {
            w.endpoints.remove(&m);
        }
    }
}

/// ioctl on `dev/rpmsg_ctrlC` of core `n`.
pub fn ctrl_ioctl(w: &mut World, n: usize, cmd: u32, input: &[u8]) -> Result<Vec<u8>, i32> {
    if cmd != CREATE_EPT {
        return Err(libc::EINVAL);
    }
    let info = input.get(..40).ok_or(libc::EFAULT)?;
    let end = info[..32].iter().position(|&c| c == 0).unwrap_or(32);
    let name = String::from_utf8_lossy(&info[..end]).into_owned();
    let word = |o: usize| u32::from_ne_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
    let m = new_endpoint(w, n, &name, word(32), word(36), false);
    w.procs[n].event(format!("create-ept {name} rpmsg{m}"));
    Ok(Vec::new())
}

/// ioctl on `dev/rpmsgM`.
pub fn ept_ioctl(w: &mut World, m: u32, cmd: u32) -> Result<Vec<u8>, i32> {
    let e = w.endpoints.get(&m).ok_or(libc::ENODEV)?;
    if cmd != DESTROY_EPT || e.default {
        return Err(libc::EINVAL);
    }
    let n = e.proc;
    w.procs[n].event(format!("destroy-ept rpmsg{m}"));
    kill_endpoint(w, m);
    Ok(Vec::new())
}

fn alive(w: &World, n: usize, generation: u64) -> bool {
    w.procs[n].generation == generation && w.procs[n].run.is_some()
}

/// The firmware sends `data`; waits while the transport is full. False when
/// the image stopped meanwhile.
pub fn firmware_send(
    shared: &Shared,
    n: usize,
    generation: u64,
    kind: Kind,
    data: Vec<u8>,
) -> bool {
    match kind {
        Kind::Tty => {
            let master = {
                let w = lock(shared);
                if !alive(&w, n, generation) {
                    return false;
                }
                tty_master(&w, n)
            };
            match master {
                Some(fd) => pty_write(shared, n, generation, &fd, &data),
                None => true,
            }
        }
        Kind::Raw => loop {
            let mut w = lock(shared);
            if !alive(&w, n, generation) {
                return false;
            }
            let targets: Vec<u32> = w
                .endpoints
                .iter()
                .filter(|(_, e)| e.proc == n && !e.dead && (e.default || e.opened > 0))
                .map(|(m, _)| *m)
                .collect();
            let full = targets
                .iter()
                .any(|m| w.endpoints.get(m).is_some_and(|e| e.queue.len() >= QUEUE));
            if !full {
                for m in targets {
                    if let Some(e) = w.endpoints.get_mut(&m) {
                        e.queue.push_back(data.clone());
                    }
                    w.wake(&Source::Ept(m));
                }
                return true;
            }
            drop(w);
            std::thread::sleep(Duration::from_millis(10));
        },
    }
}

fn tty_master(w: &World, n: usize) -> Option<Arc<OwnedFd>> {
    let vdev = w.procs[n].run.as_ref()?.vdev.as_ref()?;
    vdev.channels.iter().find_map(|c| match &c.dev {
        ChannelDev::Tty(_, pty) => Some(pty.master.clone()),
        _ => None,
    })
}

/// Writes all of `data` to a pty master, waiting while the terminal is full.
fn pty_write(shared: &Shared, n: usize, generation: u64, fd: &OwnedFd, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        // SAFETY: write(2) from a live buffer to a descriptor we hold.
        let r = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if r > 0 {
            data = &data[r as usize..];
            continue;
        }
        let err = std::io::Error::last_os_error().raw_os_error();
        if r < 0 && err != Some(libc::EAGAIN) && err != Some(libc::EINTR) {
            return true;
        }
        if !alive(&lock(shared), n, generation) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Relays what the host writes on each tty channel of this image to the
/// firmware (recording it, echoing it when asked) until the image stops.
pub fn serve_ttys(shared: &Shared, n: usize, generation: u64) {
    let ttys: Vec<(String, Arc<OwnedFd>)> = {
        let w = lock(shared);
        let Some(vdev) = w.procs[n].run.as_ref().and_then(|r| r.vdev.as_ref()) else {
            return;
        };
        vdev.channels
            .iter()
            .filter_map(|c| match &c.dev {
                ChannelDev::Tty(_, pty) => Some((c.name.clone(), pty.master.clone())),
                _ => None,
            })
            .collect()
    };
    for (name, fd) in ttys {
        let shared = shared.clone();
        std::thread::spawn(move || tty_reader(&shared, n, generation, &name, fd));
    }
}

fn tty_reader(shared: &Shared, n: usize, generation: u64, name: &str, fd: Arc<OwnedFd>) {
    let mut line = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll(2) on one pollfd; read(2) into a local buffer.
        let got = unsafe {
            if libc::poll(&mut p, 1, 50) > 0 {
                libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())
            } else {
                0
            }
        };
        let mut w = lock(shared);
        if !alive(&w, n, generation) {
            return;
        }
        if got <= 0 {
            continue;
        }
        let data = &buf[..got as usize];
        let mut echo = w.procs[n].run.as_ref().is_some_and(|r| r.echo);
        for &b in data {
            line.push(b);
            if b == b'\n' || b == b'\r' {
                let msg = std::mem::take(&mut line);
                echo = received(&mut w, n, name, &msg) || echo;
            }
        }
        shared.1.notify_all();
        drop(w);
        if echo {
            let until = Instant::now() + Duration::from_secs(1);
            let mut rest = data;
            while !rest.is_empty() && Instant::now() < until {
                // SAFETY: write(2) from a live buffer to our pty master.
                let r = unsafe { libc::write(fd.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
                if r > 0 {
                    rest = &rest[r as usize..];
                } else {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
}
