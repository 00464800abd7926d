//! A container on disk (`<root>/<id>/`: state.json, lock, fifos, exit record) and its status,
//! reconciled every time with the monitor process and the core itself.

pub mod control;
pub mod create;
pub mod process;
pub mod remove;
pub mod sandbox;
pub mod stop;
pub mod terminal;
pub mod trust;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{cat, Context, Error, Result};
use crate::host::Host;
use crate::json::{self, At};
use crate::oci::status::Status;
use crate::platform::remoteproc;

pub const STATE_FILE: &str = "state.json";
pub const LOCK_FILE: &str = "lock";
pub const START_FIFO: &str = "start.fifo";
pub const REPLY_FIFO: &str = "reply.fifo";
pub const STARTED_FILE: &str = "started";
pub const EXIT_FILE: &str = "exit.json";

/// What `create` records; never rewritten except to add the monitor once it is ready.
#[derive(Clone, Default)]
pub struct Record {
    pub id: String,
    pub bundle: String,
    pub created: String,
    /// The monitor (0 while creating) and its start time in clock ticks.
    pub pid: i32,
    pub pid_start: u64,
    /// The core: `remoteprocN` and its processor name.
    pub core: String,
    pub core_name: String,
    /// The firmware name as written to `firmware` (empty when adopted).
    pub firmware: String,
    /// `cdev` or `sysfs`: what ties the core to the monitor.
    pub guard: String,
    pub adopted: bool,
    pub annotations: BTreeMap<String, String>,
}

/// How the monitor ended.
#[derive(Clone)]
pub struct Exit {
    pub code: i32,
    pub reason: String,
}

/// The text fields of a record, in the order `Record::parse` takes them.
const TEXT_FIELDS: [&str; 7] = [
    "id",
    "bundle",
    "created",
    "core",
    "core_name",
    "firmware",
    "guard",
];

impl Record {
    /// A record as `state.json` holds it: every field required.
    pub fn parse(data: &[u8]) -> std::result::Result<Record, String> {
        let doc = json::parse(data)?;
        let top = At::root(&doc);
        // The text fields in one loop: one error path instead of one per field.
        let mut text = Vec::new();
        for key in TEXT_FIELDS {
            text.push(top.need(key)?.string()?);
        }
        let mut text = text.into_iter();
        let mut next = || text.next().unwrap_or_default();
        Ok(Record {
            id: next(),
            bundle: next(),
            created: next(),
            core: next(),
            core_name: next(),
            firmware: next(),
            guard: next(),
            pid: top.need("pid")?.int("an i32")?,
            pid_start: top.need("pid_start")?.int("a u64")?,
            adopted: top.need("adopted")?.bool()?,
            annotations: top.need("annotations")?.map()?,
        })
    }

    pub fn to_json(&self) -> String {
        let mut w = json::write::Writer::new(false);
        w.object();
        w.key("id").string(&self.id);
        w.key("bundle").string(&self.bundle);
        w.key("created").string(&self.created);
        w.key("pid").raw(&self.pid.to_string());
        w.key("pid_start").raw(&self.pid_start.to_string());
        w.key("core").string(&self.core);
        w.key("core_name").string(&self.core_name);
        w.key("firmware").string(&self.firmware);
        w.key("guard").string(&self.guard);
        w.key("adopted")
            .raw(if self.adopted { "true" } else { "false" });
        w.key("annotations").map(&self.annotations).end_object();
        w.out
    }
}

impl Exit {
    pub fn parse(data: &[u8]) -> std::result::Result<Exit, String> {
        let doc = json::parse(data)?;
        let top = At::root(&doc);
        Ok(Exit {
            code: top.need("code")?.int("an i32")?,
            reason: top.need("reason")?.string()?,
        })
    }

    pub fn to_json(&self) -> String {
        let mut w = json::write::Writer::new(false);
        w.object().key("code").raw(&self.code.to_string());
        w.key("reason").string(&self.reason).end_object();
        w.out
    }
}

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

/// Write `data` to `dir/name` through a temporary file and a rename.
pub fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<()> {
    let path = dir.join(name);
    write_replacing(&path, &dir.join(cat(&[".", name, ".tmp"])), data, 0o600)
        .ctx_path("writing", &path)
}

/// Write `data` to the new file `tmp` (with `mode`), then rename it to `path`.
pub fn write_replacing(path: &Path, tmp: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    // A leftover temporary file (or a link planted in its place) is removed, never written through.
    let _ = std::fs::remove_file(tmp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(tmp)
        .and_then(|mut f| f.write_all(data))
        .and_then(|_| std::fs::rename(tmp, path))
}

/// Read a file of the state directory: never through a symbolic link, never more than `max`.
pub fn read_private(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut data = Vec::new();
    Read::by_ref(&mut f).take(max + 1).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(std::io::Error::from_raw_os_error(libc::EFBIG));
    }
    Ok(data)
}

/// Take the container's lock (held across each mutation).
pub fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&path)
        .ctx_path("opening", &path)?;
    crate::sys::flock(&f, true, false).ctx_path("locking", &path)?;
    Ok(f)
}

impl Container {
    pub fn load(root: &Path, id: &str) -> Result<Container> {
        crate::oci::id::validate(id)?;
        let dir = dir_of(root, id);
        trust::check_dir(&dir)?;
        let path = dir.join(STATE_FILE);
        let bytes = match read_private(&path, trust::STATE_MAX) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::new(cat(&["container ", id, " does not exist"])))
            }
            Err(e) => return Err(Error::io(&e, cat(&["reading ", &path.to_string_lossy()]))),
        };
        let record = Record::parse(&bytes).map_err(|e| {
            Error::new(cat(&[
                "corrupt state file ",
                &path.to_string_lossy(),
                ": ",
                &e,
                "; inspect and remove ",
                &dir.to_string_lossy(),
                " by hand",
            ]))
        })?;
        trust::check_record(&record, id)?;
        Ok(Container { dir, record })
    }

    /// Load, take the lock, and load again: what another command finished while this one
    /// waited for the lock (a create writing its monitor, a delete) is what this one sees.
    pub fn load_locked(root: &Path, id: &str) -> Result<(Container, File)> {
        let first = Container::load(root, id)?;
        let lock = lock(&first.dir).map_err(|e| {
            if e.errno == libc::ENOENT {
                Error::new(cat(&["container ", id, " does not exist"]))
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
        let bytes = read_private(&self.dir.join(EXIT_FILE), trust::STATE_MAX).ok()?;
        Exit::parse(&bytes).ok()
    }

    pub fn write_exit(&self, code: i32, reason: &str) -> Result<()> {
        let exit = Exit {
            code,
            reason: reason.to_string(),
        };
        write_atomic(&self.dir, EXIT_FILE, exit.to_json().as_bytes())
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

#[cfg(test)]
mod tests {
    use super::{Exit, Record};

    #[test]
    fn records_read_back_what_was_written_and_name_a_missing_field() {
        let mut r = Record {
            id: String::from("c1"),
            bundle: String::from("/b \"q\""),
            created: String::from("2026-01-01T00:00:00Z"),
            pid: 42,
            pid_start: 7,
            core: String::from("remoteproc0"),
            core_name: String::from("m4"),
            firmware: String::from("fw.elf"),
            guard: String::from("cdev"),
            adopted: true,
            ..Default::default()
        };
        r.annotations.insert(String::from("k"), String::from("v\n"));
        let back = Record::parse(r.to_json().as_bytes()).unwrap();
        assert_eq!(back.to_json(), r.to_json());
        assert_eq!((back.id.as_str(), back.pid, back.pid_start), ("c1", 42, 7));
        assert_eq!(back.guard, "cdev");
        let text = r.to_json().replace("\"guard\":\"cdev\",", "");
        assert_eq!(
            Record::parse(text.as_bytes()).err().unwrap(),
            "missing field `guard`"
        );
        let exit = Exit {
            code: 137,
            reason: String::from("stopped by signal KILL"),
        };
        assert_eq!(
            exit.to_json(),
            r#"{"code":137,"reason":"stopped by signal KILL"}"#
        );
        assert_eq!(Exit::parse(exit.to_json().as_bytes()).unwrap().code, 137);
    }
}
