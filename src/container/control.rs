//! How `start` talks to the monitor: it writes `start` into the `start.fifo` the monitor holds
//! open, and reads the monitor's answer (`0` or `<errno> <message>`) from `reply.fifo`. Fifos in
//! the state dir have no path-length limit (unlike unix sockets under long engine roots).

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::error::{Error, Result};

use super::{process, Container, REPLY_FIFO, START_FIFO};

/// How long `start` waits for the kernel's answer through the monitor.
const START_TIMEOUT_MS: u64 = 60_000;

/// The monitor's end of the start fifo in `dir`: read and write, so that it never reads
/// end-of-file between two `start`s, and never blocks.
pub fn open_requests(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join(START_FIFO))
}

pub fn request_start(c: &Container) -> Result<()> {
    let gone = || {
        Error::new(format!(
            "the monitor of container {} is gone: delete the container",
            c.record.id
        ))
    };
    let mut reply = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(c.dir.join(REPLY_FIFO))
        .map_err(|e| Error::io(&e, "opening the monitor's reply fifo"))?;
    let mut request = match std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(c.dir.join(START_FIFO))
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Err(gone()),
        Err(e) => return Err(Error::io(&e, "reaching the monitor")),
    };
    request
        .write_all(b"start\n")
        .map_err(|e| Error::io(&e, "asking the monitor to start"))?;
    let mut answer = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(START_TIMEOUT_MS);
    let mut writer_seen = false;
    loop {
        let mut fds = [crate::sys::pollfd(reply.as_raw_fd())];
        crate::sys::poll(&mut fds, 100).map_err(|e| Error::io(&e, "waiting for the monitor"))?;
        let mut buf = [0u8; 512];
        match reply.read(&mut buf) {
            Ok(0) if writer_seen => break,
            Ok(0) => {}
            Ok(n) => {
                writer_seen = true;
                answer.extend_from_slice(&buf[..n]);
                if answer.ends_with(b"\n") {
                    break;
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
            Err(e) => return Err(Error::io(&e, "reading the monitor's answer")),
        }
        if !process::alive(c.record.pid, c.record.pid_start) {
            return Err(gone());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::new(
                "the monitor did not answer within 60 s; the core's driver may be stuck",
            ));
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let text = text.trim_end();
    let (code, msg) = text.split_once(' ').unwrap_or((text, ""));
    match code.parse::<i32>() {
        Ok(0) => Ok(()),
        Ok(errno) => Err(Error::with_errno(errno, msg)),
        Err(_) => Err(Error::new(format!(
            "unexpected answer from the monitor: {text}"
        ))),
    }
}
