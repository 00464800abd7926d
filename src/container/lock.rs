//! A container's lock (`<dir>/lock`, flock): held by every command that changes the container.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Context, Error, Result};

pub const LOCK_FILE: &str = "lock";

/// Take the container's lock (held across each change), making the file if it is missing. The
/// lock taken must still be the one at the path: a `delete` (and maybe a new container under the
/// same id) may have removed it while this waited; that is reported as `ENOENT`.
pub fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&path)
        .ctx_path("opening", &path)?;
    crate::sys::flock(&f, true, false).ctx_path("locking", &path)?;
    let held = f.metadata().ctx_path("checking", &path)?;
    match std::fs::symlink_metadata(&path) {
        Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => Ok(f),
        _ => Err(Error::os(
            libc::ENOENT,
            format!("{} was removed while waiting for it", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{lock, LOCK_FILE};

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hybrid-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_lock_replaced_while_waiting_is_not_taken() {
        let dir = scratch("replaced");
        let first = lock(&dir).unwrap();
        let waiter = {
            let dir = dir.clone();
            std::thread::spawn(move || lock(&dir).map(|_| ()).map_err(|e| e.errno))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::remove_file(dir.join(LOCK_FILE)).unwrap();
        let _second = lock(&dir).unwrap();
        drop(first);
        assert_eq!(waiter.join().unwrap(), Err(libc::ENOENT));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
