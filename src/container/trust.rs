//! What makes a container's state fit to act on: a real directory owned by us that nobody
//! else may write, and a record written for this id that names a core and a firmware copy the
//! way `create` does. A tampered state is refused before any core, process or file is touched.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::platform::firmware;

use super::Record;

fn untrusted(dir: &Path, why: &str) -> Error {
    Error::new(format!(
        "state directory {} cannot be trusted: {why}; it was not left so by hybrid-runtime: \
         inspect it and remove it by hand",
        dir.display()
    ))
}

/// `dir` is a directory (not a link to one), ours, and writable by nobody else.
pub fn check_dir(dir: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(_) => return Ok(()), // absent: the caller reports "does not exist"
    };
    if meta.file_type().is_symlink() {
        return Err(untrusted(dir, "it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(untrusted(dir, "it is not a directory"));
    }
    if meta.uid() != crate::sys::euid() {
        return Err(untrusted(
            dir,
            &format!("it is owned by uid {}", meta.uid()),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(untrusted(
            dir,
            &format!("others may write to it (mode {:04o})", meta.mode() & 0o777),
        ));
    }
    Ok(())
}

/// The record names this container, a core as `remoteprocN`, its own firmware copy, and a
/// process id that is one process.
pub fn check_record(r: &Record, id: &str) -> Result<()> {
    let bad = |why: &str| Error::new(format!("state of container {id} is not valid: {why}"));
    if r.id != id {
        return Err(bad("it was written for another container id"));
    }
    let core_ok = r.core.is_empty()
        || r.core.strip_prefix("remoteproc").is_some_and(|n| {
            !n.is_empty() && n.len() <= 10 && n.bytes().all(|b| b.is_ascii_digit())
        });
    if !core_ok {
        return Err(bad("its core is not a remoteprocN name"));
    }
    if !r.firmware.is_empty() {
        let prefix = firmware::name_for(id, "");
        let base = r.firmware.strip_prefix(&prefix).unwrap_or("");
        if base.is_empty() || base == "." || base == ".." || base.contains('/') {
            return Err(bad("its firmware is not the container's own copy"));
        }
    }
    if r.pid < 0 {
        return Err(bad("its monitor process id is negative"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_record, Record};

    #[test]
    fn refuses_records_that_point_elsewhere() {
        let good = Record {
            id: String::from("a"),
            core: String::from("remoteproc3"),
            firmware: String::from("hybrid-runtime/a/fw.elf"),
            pid: 12,
            ..Default::default()
        };
        assert!(check_record(&good, "a").is_ok());
        let variants: [fn(&mut Record); 6] = [
            |r| r.id = String::from("../../etc"),
            |r| r.core = String::from("../../x"),
            |r| r.core = String::from("remoteproc"),
            |r| r.firmware = String::from("hybrid-runtime/b/fw.elf"),
            |r| r.firmware = String::from("hybrid-runtime/a/../../x"),
            |r| r.pid = -1,
        ];
        for change in variants {
            let mut r = good.clone();
            change(&mut r);
            assert!(check_record(&r, "a").is_err());
        }
    }
}
