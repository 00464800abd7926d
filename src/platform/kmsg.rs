//! The kernel log (`/dev/kmsg`): read new records without blocking, to see a core's crash and
//! recovery lines (`remoteproc remoteprocN: crash detected in …`, `… recovering …`).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub struct Kmsg {
    file: File,
}

/// What a kernel log record says about a core.
#[derive(PartialEq, Eq, Debug)]
pub enum CoreEvent {
    Crashed(String),
    Recovering,
}

impl Kmsg {
    /// Open non-blocking and skip the records already there.
    pub fn open(path: &Path) -> io::Result<Kmsg> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        let mut k = Kmsg { file };
        while k.next_record().is_some() {}
        Ok(k)
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// The text of the next record, if one is ready.
    pub fn next_record(&mut self) -> Option<String> {
        let mut buf = [0u8; 1024];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => {
                    let rec = String::from_utf8_lossy(&buf[..n]);
                    let text = rec.split_once(';').map(|(_, t)| t).unwrap_or(&rec);
                    return Some(text.lines().next().unwrap_or("").to_string());
                }
                // EPIPE: records were overwritten before we read them; go on with the next.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                Err(_) => return None,
            }
        }
    }
}

/// Parse a record for core `dev` (`remoteprocN`).
pub fn core_event(dev: &str, text: &str) -> Option<CoreEvent> {
    let rest = text
        .strip_prefix("remoteproc ")?
        .strip_prefix(dev)?
        .strip_prefix(": ")?;
    if let Some(t) = rest.strip_prefix("crash detected in ") {
        let kind = t
            .split_once(": type ")
            .map(|(_, k)| k.trim())
            .unwrap_or("unknown");
        return Some(CoreEvent::Crashed(kind.to_string()));
    }
    if rest.starts_with("recovering ") {
        return Some(CoreEvent::Recovering);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{core_event, CoreEvent};

    #[test]
    fn recognises_crash_and_recovery_of_one_core() {
        let crash = "remoteproc remoteproc1: crash detected in m4: type watchdog";
        assert_eq!(
            core_event("remoteproc1", crash),
            Some(CoreEvent::Crashed("watchdog".into()))
        );
        assert_eq!(core_event("remoteproc0", crash), None);
        assert_eq!(
            core_event("remoteproc1", "remoteproc remoteproc1: recovering m4"),
            Some(CoreEvent::Recovering)
        );
        assert_eq!(
            core_event("remoteproc1", "remoteproc remoteproc12: recovering m4"),
            None
        );
    }
}
