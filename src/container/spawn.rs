//! Starting the process that stands for a container: fork, let the child get ready (it says
//! `ok` or why not on a pipe), then write the engine's pid file and hand over the terminal.
//! If any of that fails the child is killed and reaped: `create` leaves no process behind.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

use crate::error::{Context, Error, Result};
use crate::sys::Forked;

use super::record::write_pid_file;
use super::terminal::Terminal;

/// What the new process needs from `create` besides its own body.
pub struct Spawn<'a> {
    /// What it is, for messages (`the monitor`, `the sandbox monitor`).
    pub what: &'a str,
    /// The container's lock: held by `create` throughout, never by the child.
    pub lock: File,
    pub pid_file: Option<&'a Path>,
    /// `--console-socket`: the child's stdio becomes this terminal, its master goes to the engine.
    pub terminal: Option<Terminal>,
}

/// Fork and run `body` in the child, which reports on `ready` and ends the process. Returns the
/// child's pid and the lock once the child is ready and the pid file written.
pub fn spawn(s: Spawn, body: impl FnOnce(OwnedFd)) -> Result<(i32, File)> {
    let (ready_read, ready_write) = crate::sys::pipe().ctx("creating a pipe")?;
    match crate::sys::fork().ctx(&format!("starting {}", s.what))? {
        Forked::Child => {
            drop(ready_read);
            drop(s.lock);
            // The child keeps the terminal as its stdio only: its copies of the master and of
            // the socket close here.
            if let Some(t) = s.terminal {
                if let Err(e) = t.attach_stdio() {
                    let msg = format!("attaching the terminal: {e}");
                    let _ = File::from(ready_write).write_all(msg.as_bytes());
                    crate::sys::exit_now(1);
                }
            }
            body(ready_write);
            // The body ends the process itself; this only guards against a body that returns.
            crate::sys::exit_now(1)
        }
        Forked::Parent(pid) => {
            drop(ready_write);
            let mut answer = String::new();
            let _ = File::from(ready_read).read_to_string(&mut answer);
            if answer != "ok" {
                let _ = crate::sys::waitpid(pid);
                return Err(Error::new(if answer.is_empty() {
                    format!("{} failed to start", s.what)
                } else {
                    answer
                }));
            }
            let handed = s
                .pid_file
                .map_or(Ok(()), |p| write_pid_file(p, pid))
                .and_then(|()| s.terminal.map_or(Ok(()), Terminal::send_master));
            if let Err(e) = handed {
                let _ = crate::sys::kill(pid, libc::SIGKILL);
                let _ = crate::sys::waitpid(pid);
                return Err(e);
            }
            Ok((pid, s.lock))
        }
    }
}
