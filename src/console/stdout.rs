//! The container's stdout as a log sink. Whatever it is (a pipe the engine reads, a read-only
//! `/dev/null` under `--null-io`, a closed descriptor), a failed write never stops the monitor
//! or the firmware: the sink turns itself off after the first failure and says so once.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;

pub struct StdoutSink {
    /// A duplicate of descriptor 1, so write errors are seen (std hides `EBADF`).
    out: Option<File>,
    record: Vec<u8>,
}

impl StdoutSink {
    pub fn new() -> StdoutSink {
        let out = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from);
        StdoutSink {
            out,
            record: Vec::new(),
        }
    }

    /// Write one line (a newline is added). Returns the error that disabled the sink, once.
    pub fn line(&mut self, line: &[u8]) -> Option<io::Error> {
        let out = self.out.as_mut()?;
        self.record.clear();
        self.record.extend_from_slice(line);
        self.record.push(b'\n');
        match out.write_all(&self.record) {
            Ok(()) => None,
            Err(e) => {
                self.out = None;
                Some(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_descriptor_disables_the_sink_once() {
        let ro = File::open("/dev/null").unwrap();
        let mut s = StdoutSink {
            out: Some(ro),
            record: Vec::new(),
        };
        let e = s
            .line(b"x")
            .expect("writing to a read-only descriptor fails");
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
        assert!(s.line(b"y").is_none());
        assert!(s.out.is_none());
    }
}
