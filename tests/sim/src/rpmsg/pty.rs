//! Tty channels: a pseudo-terminal per channel, held by the simulator in raw
//! mode, with a thread relaying what the host writes to the firmware. Threads
//! blocked on a pty also watch the pty's `gone` pipe, which hangs up when the
//! channel goes away, so none of them polls on a timer.
use super::{alive, received, ChannelDev};
use crate::world::{lock, Shared, World};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A pseudo-terminal the simulator holds in raw mode.
pub struct Pty {
    pub master: Arc<OwnedFd>,
    _slave: OwnedFd,
    pub path: String,
    /// The read end of a pipe whose write end `_alive` closes with the pty.
    pub gone: Arc<OwnedFd>,
    _alive: OwnedFd,
}

/// The two descriptors of a pipe (read end, write end), close-on-exec.
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two ints we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Waits until `fd` is ready for `events` or `gone` hangs up; false when gone
/// (or when poll itself fails).
fn ready_or_gone(fd: &OwnedFd, events: i16, gone: &OwnedFd) -> bool {
    let mut fds = [
        libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: gone.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: poll(2) on two pollfds of descriptors we hold.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
    r > 0 && fds[1].revents == 0
}

pub fn open_pty() -> std::io::Result<Pty> {
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
    let (gone, alive) = pipe()?;
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
        gone: Arc::new(gone),
        _alive: alive,
    })
}

/// The pty master of the first tty channel of core `n`, and its `gone` pipe.
pub fn tty_master(w: &World, n: usize) -> Option<(Arc<OwnedFd>, Arc<OwnedFd>)> {
    let vdev = w.procs[n].run.as_ref()?.vdev.as_ref()?;
    vdev.channels.iter().find_map(|c| match &c.dev {
        ChannelDev::Tty(_, pty) => Some((pty.master.clone(), pty.gone.clone())),
        _ => None,
    })
}

/// Writes all of `data` to a pty master, waiting while the terminal is full.
pub fn pty_write(
    shared: &Shared,
    n: usize,
    generation: u64,
    (fd, gone): &(Arc<OwnedFd>, Arc<OwnedFd>),
    mut data: &[u8],
) -> bool {
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
        if !ready_or_gone(fd, libc::POLLOUT, gone) || !alive(&lock(shared), n, generation) {
            return false;
        }
    }
    true
}

/// Relays what the host writes on each tty channel of this image to the
/// firmware (recording it, echoing it when asked) until the image stops.
pub fn serve_ttys(shared: &Shared, n: usize, generation: u64) {
    let ttys: Vec<(String, Arc<OwnedFd>, Arc<OwnedFd>)> = {
        let w = lock(shared);
        let Some(vdev) = w.procs[n].run.as_ref().and_then(|r| r.vdev.as_ref()) else {
            return;
        };
        vdev.channels
            .iter()
            .filter_map(|c| match &c.dev {
                ChannelDev::Tty(_, pty) => {
                    Some((c.name.clone(), pty.master.clone(), pty.gone.clone()))
                }
                _ => None,
            })
            .collect()
    };
    for (name, fd, gone) in ttys {
        let shared = shared.clone();
        std::thread::spawn(move || tty_reader(&shared, n, generation, &name, &fd, &gone));
    }
}

fn tty_reader(
    shared: &Shared,
    n: usize,
    generation: u64,
    name: &str,
    fd: &OwnedFd,
    gone: &OwnedFd,
) {
    let mut line = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if !ready_or_gone(fd, libc::POLLIN, gone) {
            return;
        }
        // SAFETY: read(2) into a local buffer from the master we hold.
        let got = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
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
