//! Opening a file that an image names without trusting it: never blocking on a FIFO
//! (`O_NONBLOCK`), never following a symlink planted as the last component of a layout's file
//! (`O_NOFOLLOW`, where asked), and checked with fstat to be a regular file before any byte of it
//! is read.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// What is at a path.
pub enum Opened {
    /// A regular file, opened, and its size.
    File(File, u64),
    Missing,
    /// A FIFO, device, socket, directory, or (with `follow` off) a symlink.
    NotRegular,
}

/// Open `path` for reading; `follow`: whether a symlink as its last component is followed.
pub fn open(path: &Path, follow: bool) -> io::Result<Opened> {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = match OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) => {
            return match e.raw_os_error() {
                Some(libc::ENOENT | libc::ENOTDIR) => Ok(Opened::Missing),
                Some(libc::ELOOP | libc::ENXIO | libc::EISDIR) => Ok(Opened::NotRegular),
                _ => Err(e),
            }
        }
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Opened::NotRegular);
    }
    Ok(Opened::File(file, meta.len()))
}
