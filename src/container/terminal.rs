//! The container's terminal (`create --console-socket`): a pseudo-terminal whose master is sent
//! to the engine over the unix socket with SCM_RIGHTS (as runc sends it) and whose slave becomes
//! the monitor's stdin, stdout and stderr, so that `ctr run -t` and `docker run -t` show the
//! firmware's console.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::error::{Context, Error, Result};

pub struct Terminal {
    socket: UnixStream,
    master: OwnedFd,
    slave: std::fs::File,
    name: String,
}

/// Connect to the engine's console socket and open a pseudo-terminal; changes nothing.
pub fn open(socket: &Path) -> Result<Terminal> {
    let stream = UnixStream::connect(socket).map_err(|e| {
        Error::io(
            &e,
            format!("cannot connect to the console socket {}", socket.display()),
        )
    })?;
    let (master, name) = crate::sys::open_pty().ctx("creating a terminal for the container")?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&name)
        .ctx_path("opening the terminal", Path::new(&name))?;
    Ok(Terminal {
        socket: stream,
        master,
        slave,
        name,
    })
}

impl Terminal {
    /// In the monitor: the terminal becomes stdin, stdout and stderr.
    pub fn attach_stdio(&self) -> std::io::Result<()> {
        for target in 0..3 {
            crate::sys::dup_onto(&self.slave, target)?;
        }
        Ok(())
    }

    /// In `create`, once the monitor holds the slave: hand the master to the engine.
    pub fn send_master(self) -> Result<()> {
        crate::sys::send_fd(&self.socket, self.name.as_bytes(), self.master.as_raw_fd())
            .map_err(|e| Error::io(&e, "sending the terminal over the console socket"))
    }
}
