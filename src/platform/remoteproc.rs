//! remoteproc through sysfs: list the cores, read and write `state` and `firmware`, recovery;
//! attributes kept open for polling.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::host::Host;

/// One remote processor, `/sys/class/remoteproc/remoteprocN`.
#[derive(Clone, Debug)]
pub struct Core {
    pub index: u32,
    /// `remoteprocN`.
    pub dev: String,
    /// Its sysfs directory.
    pub dir: PathBuf,
    /// The processor name (`name` file; the device name on kernels without it).
    pub name: String,
}

/// Every core on the host, by index.
pub fn list(host: &Host) -> io::Result<Vec<Core>> {
    let class = host.remoteproc_class();
    let mut cores = Vec::new();
    let entries = match std::fs::read_dir(&class) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(cores),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let dev = entry.file_name().to_string_lossy().into_owned();
        let Some(index) = dev.strip_prefix("remoteproc").and_then(|n| n.parse().ok()) else {
            continue;
        };
        let dir = class.join(&dev);
        let name = read_attr(&dir.join("name")).unwrap_or_else(|_| dev.clone());
        cores.push(Core {
            index,
            dev,
            dir,
            name,
        });
    }
    cores.sort_by_key(|c| c.index);
    Ok(cores)
}

/// Core `dev` (`remoteprocN`) known by its name already; `ENODEV` when the device is gone.
pub fn by_dev(host: &Host, dev: &str, name: &str) -> io::Result<Core> {
    let index = dev
        .strip_prefix("remoteproc")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))?;
    let dir = host.remoteproc_class().join(dev);
    if !dir.exists() {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    Ok(Core {
        index,
        dev: dev.to_string(),
        dir,
        name: name.to_string(),
    })
}

/// A sysfs attribute, trailing newline removed.
pub fn read_attr(path: &Path) -> io::Result<String> {
    read_whole(&File::open(path)?)
}

/// An attribute read from its start on an open file, trailing newline removed: sysfs produces
/// it afresh on every read at offset 0. Read in page-sized pieces until its end, without asking
/// for its size first (sysfs reports a page for every attribute: one system call less).
fn read_whole(f: &File) -> io::Result<String> {
    let mut chunk = [0u8; 4096];
    let mut bytes = Vec::new();
    loop {
        match f.read_at(&mut chunk, bytes.len() as u64) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut s =
        String::from_utf8(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    let trimmed = s.trim_end_matches(['\n', '\0']).len();
    s.truncate(trimmed);
    Ok(s)
}

/// An attribute polled again and again (the core's `state`): kept open and re-read from
/// offset 0 with `pread`, one system call instead of open, read and close. A read that fails is
/// tried once more on a fresh open, which cures a file that was replaced (its device went away
/// and came back); when the open fails too, that error is the answer (the device is gone).
pub struct Attr {
    path: PathBuf,
    file: Option<File>,
}

impl Attr {
    pub fn new(path: PathBuf) -> Attr {
        Attr { path, file: None }
    }

    pub fn read(&mut self) -> io::Result<String> {
        if let Some(value) = self.file.as_ref().and_then(|f| read_whole(f).ok()) {
            return Ok(value);
        }
        self.file = None;
        let file = File::open(&self.path)?;
        let value = read_whole(&file)?;
        self.file = Some(file);
        Ok(value)
    }
}

/// Write an attribute in one write(2), as the kernel expects; the errno comes back unchanged.
pub fn write_attr(path: &Path, value: &str) -> io::Result<()> {
    // O_TRUNC: no difference on sysfs, but a plain-file stand-in of it (a test rig) must not
    // keep the tail of a longer old value ("start" over "offline" is not "startne").
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    let n = f.write(value.as_bytes())?;
    if n != value.len() {
        return Err(io::Error::from_raw_os_error(libc::EIO));
    }
    Ok(())
}

impl Core {
    pub fn state(&self) -> io::Result<String> {
        read_attr(&self.dir.join("state"))
    }

    /// `state`, to be read again and again.
    pub fn state_attr(&self) -> Attr {
        Attr::new(self.dir.join("state"))
    }

    pub fn set_state(&self, cmd: &str) -> io::Result<()> {
        write_attr(&self.dir.join("state"), cmd)
    }

    pub fn firmware(&self) -> io::Result<String> {
        read_attr(&self.dir.join("firmware"))
    }

    pub fn set_firmware(&self, name: &str) -> io::Result<()> {
        write_attr(&self.dir.join("firmware"), name)
    }

    /// Whether the kernel restarts this core after a crash (sysfs `recovery`, else debugfs).
    pub fn recovery_enabled(&self, host: &Host) -> bool {
        read_attr(&self.dir.join("recovery"))
            .or_else(|_| read_attr(&host.debugfs_remoteproc(&self.dev).join("recovery")))
            .map(|v| v == "enabled")
            .unwrap_or(false)
    }

    /// `/dev/remoteprocN`, when the kernel has the character device.
    pub fn cdev_path(&self, host: &Host) -> Option<PathBuf> {
        let p = host.dev(&self.dev);
        p.exists().then_some(p)
    }

    /// `remoteproc0 (m4)`, as messages name a core.
    pub fn label(&self) -> String {
        let mut s = self.dev.clone();
        if self.name != self.dev {
            s.push_str(" (");
            s.push_str(&self.name);
            s.push(')');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_value_replaces_a_longer_one_in_a_plain_file() {
        let path = std::env::temp_dir().join(format!("hybrid-state-{}", std::process::id()));
        std::fs::write(&path, "offline\n").unwrap();
        write_attr(&path, "start").unwrap();
        assert_eq!(read_attr(&path).unwrap(), "start");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_attribute_kept_open_is_opened_once_it_exists_and_reads_its_current_value() {
        let dir = std::env::temp_dir().join(format!("hybrid-attr-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        let mut state = Attr::new(path.clone());
        assert_eq!(
            state.read().unwrap_err().kind(),
            io::ErrorKind::NotFound,
            "no file, no value"
        );
        std::fs::write(&path, "offline\n").unwrap();
        assert_eq!(state.read().unwrap(), "offline");
        // Rewritten in place, as sysfs produces a new value at every read from offset 0.
        std::fs::write(&path, "running\n").unwrap();
        assert_eq!(state.read().unwrap(), "running");
        std::fs::write(&path, "crashed\n").unwrap();
        assert_eq!(state.read().unwrap(), "crashed");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
