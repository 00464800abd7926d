//! A container on disk (`<root>/<id>/`: state record, lock, fifos, exit record) and its status,
//! reconciled every time with the monitor process and the core itself.

pub mod control;
pub mod create;
pub mod lock;
pub mod process;
pub mod record;
pub mod remove;
pub mod sandbox;
pub mod spawn;
pub mod statedir;
pub mod stop;
pub mod terminal;
pub mod trust;

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::host::Host;
use crate::oci::status::Status;
use crate::platform::remoteproc;

pub use lock::lock;
pub use record::{write_atomic, Exit, Record, STATE_FILE};

pub const START_FIFO: &str = "start.fifo";
pub const REPLY_FIFO: &str = "reply.fifo";
pub const STARTED_FILE: &str = "started";

pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
}

/// The reconciled truth about a container.
pub struct Seen {
    pub status: Status,
    pub exit: Option<Exit>,
    /// The monitor is gone but the core still runs our firmware.
    pub monitor_lost: bool,
    pub core_state: String,
}

pub fn dir_of(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// The ids of the containers under `root` that have a state record, sorted.
pub fn ids(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = match std::fs::read_dir(root) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| crate::oci::id::validate(&e.file_name().to_string_lossy()).is_ok())
            .filter(|e| e.path().join(STATE_FILE).is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    ids.sort();
    ids
}

fn unknown(id: &str) -> Error {
    Error::new(format!("container {id} does not exist"))
}

impl Container {
    pub fn load(root: &Path, id: &str) -> Result<Container> {
        crate::oci::id::validate(id)?;
        let dir = dir_of(root, id);
        trust::check_dir(&dir)?;
        let record = record::load(&dir)?.ok_or_else(|| unknown(id))?;
        trust::check_record(&record, id)?;
        Ok(Container { dir, record })
    }

    /// Load, take the lock, and load again: what another command finished while this one
    /// waited for the lock (a create writing its monitor, a delete) is what this one sees.
    pub fn load_locked(root: &Path, id: &str) -> Result<(Container, File)> {
        let first = Container::load(root, id)?;
        let lock = lock(&first.dir).map_err(|e| {
            if e.errno == libc::ENOENT {
                unknown(id)
            } else {
                e
            }
        })?;
        Ok((Container::load(root, id)?, lock))
    }

    pub fn monitor_alive(&self) -> bool {
        process::alive(self.record.pid, self.record.pid_start)
    }

    pub fn exit(&self) -> Option<Exit> {
        Exit::load(&self.dir)
    }

    pub fn write_exit(&self, code: i32, reason: &str) -> Result<()> {
        let exit = Exit {
            code,
            reason: reason.to_string(),
        };
        exit.save(&self.dir)
    }

    pub fn started(&self) -> bool {
        self.dir.join(STARTED_FILE).exists()
    }

    pub fn core(&self, host: &Host) -> Option<remoteproc::Core> {
        remoteproc::by_dev(host, &self.record.core, &self.record.core_name).ok()
    }

    /// The core runs the firmware this container loaded (or, adopted, still runs at all).
    pub fn core_runs_ours(&self, host: &Host) -> bool {
        let Some(core) = self.core(host) else {
            return false;
        };
        let state = core.state().unwrap_or_default();
        if state != "running" && state != "attached" {
            return false;
        }
        self.record.adopted || core.firmware().is_ok_and(|f| f == self.record.firmware)
    }

    /// The status from the record, the monitor and the core.
    pub fn seen(&self, host: &Host) -> Seen {
        let core_state = self
            .core(host)
            .and_then(|c| c.state().ok())
            .unwrap_or_else(|| String::from("gone"));
        let exit = self.exit();
        let mut monitor_lost = false;
        let status = if self.record.pid == 0 {
            Status::Creating
        } else if self.monitor_alive() {
            if self.started() {
                Status::Running
            } else {
                Status::Created
            }
        } else if self.core_runs_ours(host)
            && (!self.record.adopted || (exit.is_none() && self.started()))
        {
            // The firmware name is the container's own: the core runs it although the monitor
            // died (between starting the core and recording it, or killed before a stop).
            monitor_lost = true;
            Status::Running
        } else {
            Status::Stopped
        };
        Seen {
            status,
            exit,
            monitor_lost,
            core_state,
        }
    }
}
