//! `/dev/remoteprocN`: start/stop through a descriptor, and RPROC_SET_SHUTDOWN_ON_RELEASE so
//! that the kernel stops the core when the last descriptor closes, however its holder died.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// `_IOW(0xB7, 1, __s32)`.
const RPROC_SET_SHUTDOWN_ON_RELEASE: u64 = (1 << 30) | (4 << 16) | (0xB7 << 8) | 1;
/// `_IOR(0xB7, 2, __s32)`.
const RPROC_GET_SHUTDOWN_ON_RELEASE: u64 = (2 << 30) | (4 << 16) | (0xB7 << 8) | 2;

pub struct Cdev {
    file: File,
}

impl Cdev {
    /// Opened read-write and close-on-exec: never inherited by anything executed.
    pub fn open(path: &Path) -> io::Result<Cdev> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        Ok(Cdev { file })
    }

    /// Set shutdown-on-release and read it back; EPROTO when the kernel did not keep it.
    pub fn set_shutdown_on_release(&self, on: bool) -> io::Result<()> {
        let mut v = i32::from(on);
        crate::sys::ioctl_int(&self.file, RPROC_SET_SHUTDOWN_ON_RELEASE, &mut v)?;
        let mut back = -1;
        crate::sys::ioctl_int(&self.file, RPROC_GET_SHUTDOWN_ON_RELEASE, &mut back)?;
        if (back != 0) != on {
            return Err(io::Error::from_raw_os_error(libc::EPROTO));
        }
        Ok(())
    }

    /// `start`, `stop` or `detach`, in one write.
    pub fn command(&mut self, cmd: &str) -> io::Result<()> {
        let n = self.file.write(cmd.as_bytes())?;
        if n != cmd.len() {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }
}
