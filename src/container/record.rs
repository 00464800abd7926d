//! What a container keeps on disk and how it is written: the state record (`state.json`), the
//! monitor's exit record (`exit.json`), the engine's pid file, all written through a temporary
//! file and a rename, and read back never through a symbolic link.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Hooks;
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};

pub const STATE_FILE: &str = "state.json";
pub const EXIT_FILE: &str = "exit.json";

/// What `create` records; never rewritten except to add the monitor once it is ready.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: String,
    /// The bundle directory, absolute.
    pub bundle: String,
    pub created: String,
    /// The monitor (0 while creating) and its start time in clock ticks.
    pub pid: i32,
    pub pid_start: u64,
    /// The core: `remoteprocN` and its processor name.
    pub core: String,
    pub core_name: String,
    /// The core's device-tree node when it has one (`…/of_node` resolved): with the name, what
    /// tells this core from another processor registered later as the same `remoteprocN`.
    #[serde(default)]
    pub core_node: String,
    /// The firmware name as written to `firmware` (empty when adopted).
    pub firmware: String,
    /// `cdev` or `sysfs`: what ties the core to the monitor (`none` for a pod sandbox).
    pub guard: String,
    pub adopted: bool,
    pub annotations: BTreeMap<String, String>,
    /// The bundle's hooks that run after `create` (poststart, poststop).
    #[serde(default)]
    pub hooks: Option<Hooks>,
}

/// How the monitor ended.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exit {
    pub code: i32,
    pub reason: String,
}

/// A state file larger than this was not written by `create`.
pub const STATE_MAX: u64 = 1 << 20;

impl Record {
    /// A record as `state.json` holds it.
    pub fn parse(data: &[u8]) -> Result<Record> {
        crate::document::parse(data)
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        write_atomic(dir, STATE_FILE, crate::document::to_line(self)?.as_bytes())
    }
}

impl Exit {
    pub fn parse(data: &[u8]) -> Result<Exit> {
        crate::document::parse(data)
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        write_atomic(dir, EXIT_FILE, crate::document::to_line(self)?.as_bytes())
    }

    pub fn load(dir: &Path) -> Option<Exit> {
        let bytes = read_private(&dir.join(EXIT_FILE), STATE_MAX).ok()?;
        Exit::parse(&bytes).ok()
    }
}

/// Write `data` to `dir/name` through a temporary file and a rename.
pub fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<()> {
    let path = dir.join(name);
    write_replacing(&path, &dir.join(format!(".{name}.tmp")), data, 0o600)
        .ctx_path("writing", &path)
}

/// Write `data` to the new file `tmp` (with `mode`), then rename it to `path`.
fn write_replacing(path: &Path, tmp: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
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

/// The engine's pid file: bare digits, no newline, written through a temporary file and a
/// rename.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    write_replacing(path, &tmp, pid.to_string().as_bytes(), 0o644)
        .ctx_path("writing pid file", path)
}

/// Read a file of the state directory: never through a symbolic link, never more than `max`.
pub fn read_private(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
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

/// Load the record of `dir`; `Ok(None)` when there is none.
pub fn load(dir: &Path) -> Result<Option<Record>> {
    let path = dir.join(STATE_FILE);
    let bytes = match read_private(&path, STATE_MAX) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&e, format!("reading {}", path.display()))),
    };
    let record = Record::parse(&bytes).map_err(|e| {
        Error::new(format!(
            "corrupt state file {}: {}; inspect and remove {} by hand",
            path.display(),
            e.msg,
            dir.display()
        ))
    })?;
    Ok(Some(record))
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
        let text = crate::document::to_line(&r).unwrap();
        let back = Record::parse(text.as_bytes()).unwrap();
        assert_eq!(crate::document::to_line(&back).unwrap(), text);
        assert_eq!((back.id.as_str(), back.pid, back.pid_start), ("c1", 42, 7));
        let missing = text.replace("\"guard\":\"cdev\",", "");
        let e = Record::parse(missing.as_bytes()).err().unwrap();
        assert!(e.msg.contains("missing field `guard`"), "{}", e.msg);
        let unknown = text.replace("\"guard\"", "\"guard\":\"x\",\"guardian\"");
        let e = Record::parse(unknown.as_bytes()).err().unwrap();
        assert!(e.msg.contains("unknown field `guardian`"), "{}", e.msg);
        let exit = Exit {
            code: 137,
            reason: String::from("stopped by signal KILL"),
        };
        let line = crate::document::to_line(&exit).unwrap();
        assert_eq!(line, r#"{"code":137,"reason":"stopped by signal KILL"}"#);
        assert_eq!(Exit::parse(line.as_bytes()).unwrap().code, 137);
    }
}
