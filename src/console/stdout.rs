//! The container's stdout as a log sink. Whatever it is (a pipe the engine reads, a read-only
//! `/dev/null` under `--null-io`, a closed descriptor), a failed write never stops the monitor
//! or the firmware: the sink turns itself off after the first failure and says so once.
//! A pipe is written without blocking, so a reader that stops reading cannot stall the monitor:
//! what does not fit waits in a bounded buffer, and lines beyond it are counted and reported
//! with a note once the reader catches up (the log file still has them).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

/// Output kept for a pipe that is full, beyond the pipe's own buffer.
const MAX_PENDING: usize = 64 * 1024;

pub struct StdoutSink {
    out: Option<File>,
    /// Bytes the reader has not taken yet, oldest first, in a queue of fixed capacity; boxed so
    /// that it is made in place, its pages untouched until a backlog needs them.
    pending: Box<heapless::Deque<u8, MAX_PENDING>>,
    /// Lines dropped since the buffer filled; new lines are dropped until it has drained.
    dropped: u64,
}

impl StdoutSink {
    pub fn new() -> StdoutSink {
        // A duplicate of descriptor 1, so write errors are seen (std hides `EBADF`).
        let out = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from);
        StdoutSink::to(out.map(nonblocking_if_pipe))
    }

    fn to(out: Option<File>) -> StdoutSink {
        StdoutSink {
            out,
            pending: Box::default(),
            dropped: 0,
        }
    }

    /// Write one line (a newline is added). Returns the error that disabled the sink, once.
    pub fn line(&mut self, line: &[u8]) -> Option<io::Error> {
        self.out.as_ref()?;
        if self.dropped > 0 || !self.queue(line) {
            self.dropped += 1;
        }
        self.flush()
    }

    /// Queue `line` and its newline if both fit; false (nothing queued) if not.
    fn queue(&mut self, line: &[u8]) -> bool {
        if self.pending.len() + line.len() + 1 > MAX_PENDING {
            return false;
        }
        for &b in line.iter().chain(b"\n") {
            // Fits: checked above.
            let _ = self.pending.push_back(b);
        }
        true
    }

    /// Write what is waiting, as far as the reader takes it now.
    pub fn flush(&mut self) -> Option<io::Error> {
        loop {
            let out = self.out.as_mut()?;
            while !self.pending.is_empty() {
                // The oldest bytes, as far as the queue holds them in one piece.
                match out.write(self.pending.as_slices().0) {
                    Ok(n) => {
                        for _ in 0..n {
                            self.pending.pop_front();
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                    Err(e) => {
                        self.out = None;
                        self.pending.clear();
                        return Some(e);
                    }
                }
            }
            // Start again from the beginning of the queue's buffer: while the reader keeps up,
            // only its first page is ever used.
            self.pending.clear();
            if self.dropped == 0 {
                return None;
            }
            let note = format!(
                "hybrid-runtime: {} lines were not written to stdout because it was not read in \
                 time; the log (`logs`) has them",
                self.dropped
            );
            // The queue is empty: the note fits.
            self.queue(note.as_bytes());
            self.dropped = 0;
        }
    }
}

/// A pipe gets an open file description of its own, non-blocking; the engine's (and any other
/// holder's) description keeps its flags. Anything else is written as it is.
fn nonblocking_if_pipe(f: File) -> File {
    use std::os::fd::AsRawFd;
    if !f.metadata().is_ok_and(|m| m.file_type().is_fifo()) {
        return f;
    }
    let mut link = String::from("/proc/self/fd/");
    link.push_str(&f.as_raw_fd().to_string());
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(link)
        .unwrap_or(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_failing_descriptor_disables_the_sink_once() {
        let ro = File::open("/dev/null").unwrap();
        let mut s = StdoutSink::to(Some(ro));
        let e = s
            .line(b"x")
            .expect("writing to a read-only descriptor fails");
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
        assert!(s.line(b"y").is_none());
        assert!(s.out.is_none());
    }

    #[test]
    fn a_full_pipe_leaves_at_most_64_kib_waiting_then_lines_are_counted() {
        let (_reader, w) = crate::sys::pipe().unwrap();
        let mut s = StdoutSink::to(Some(nonblocking_if_pipe(File::from(w))));
        let line = [b'y'; 999];
        for _ in 0..1000 {
            assert!(s.line(&line).is_none());
        }
        let waiting = s.pending.len();
        assert!(
            waiting <= MAX_PENDING && waiting > MAX_PENDING - line.len() - 1,
            "{waiting} bytes waiting"
        );
        assert!(s.dropped > 0);
        // A short line that would fit is left out too, until the queue has drained: the lines
        // shown stay in order.
        s.line(b"short");
        assert_eq!(s.pending.len(), waiting);
    }

    #[test]
    fn a_pipe_nobody_reads_never_blocks_and_the_gap_is_reported() {
        let (r, w) = crate::sys::pipe().unwrap();
        let mut reader = File::from(r);
        let mut s = StdoutSink::to(Some(nonblocking_if_pipe(File::from(w))));
        let line = [b'x'; 99];
        let n = 4000; // 400 KB: far more than the pipe and the buffer hold.
        for _ in 0..n {
            assert!(s.line(&line).is_none());
        }
        assert!(s.dropped > 0);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        while !s.pending.is_empty() || s.dropped > 0 {
            let k = reader.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..k]);
            assert!(s.flush().is_none());
        }
        assert!(s.line(b"after").is_none());
        let k = reader.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..k]);
        let text = String::from_utf8(got).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let whole = lines.iter().filter(|l| l.len() == 99).count();
        let note = format!(
            "hybrid-runtime: {} lines were not written to stdout because it was not read in time; \
             the log (`logs`) has them",
            n - whole
        );
        assert_eq!(lines[whole..], [note.as_str(), "after"]);
    }
}
