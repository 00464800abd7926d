//! Core claims: `<host>/run/hybrid-runtime/cores/remoteprocN`, a file locked (flock) by the
//! monitor for its whole life, shared by every state root on the host. The kernel drops the lock
//! when the holder dies, however it dies; a file nobody locks is a stale claim and is taken over.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use crate::error::{Context, Error, Result};
use crate::host::Host;

pub struct Claim {
    pub file: File,
    pub path: PathBuf,
}

/// Who holds a claim: the state root and container id written in it.
pub fn holder(path: &std::path::Path) -> Option<(String, String)> {
    let mut s = String::new();
    File::open(path).ok()?.read_to_string(&mut s).ok()?;
    let mut lines = s.lines();
    let root = lines.next()?.to_string();
    let id = lines.next()?.to_string();
    Some((root, id))
}

/// The container that holds core `dev` now, if a live monitor holds its claim.
pub fn held_by(host: &Host, dev: &str) -> Option<String> {
    let path = host.claims().join(dev);
    let file = File::open(&path).ok()?;
    match crate::sys::flock(&file, true, true) {
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Some(holder_id(&path)),
        _ => None,
    }
}

/// The id in a claim someone holds. A claim just taken is locked before its holder writes its
/// name, so an empty one is read again for a moment before it is called unknown.
fn holder_id(path: &std::path::Path) -> String {
    for _ in 0..100 {
        if let Some((_, id)) = holder(path) {
            return id;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    String::from("(unknown)")
}

/// Take core `dev` for container `id` of state root `root`; `label` names the core in errors.
pub fn take(host: &Host, dev: &str, label: &str, root: &str, id: &str) -> Result<Claim> {
    let dir = host.claims();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ctx_path("creating the core claims directory", &dir)?;
    let path = dir.join(dev);
    loop {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .ctx_path("opening core claim", &path)?;
        if let Err(e) = crate::sys::flock(&file, true, true) {
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(Error::new(format!(
                    "core {label} is used by container {}",
                    holder_id(&path)
                )));
            }
            return Err(Error::io(&e, "locking core claim"));
        }
        // A delete may have unlinked the file between our open and our lock: retry on the new one.
        let same = match (file.metadata(), std::fs::metadata(&path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if !same {
            continue;
        }
        file.set_len(0).ctx_path("writing core claim", &path)?;
        file.write_all(format!("{root}\n{id}\n").as_bytes())
            .ctx_path("writing core claim", &path)?;
        return Ok(Claim { file, path });
    }
}

/// Remove the claim of container `id` on `dev` if nobody holds it (the monitor is gone). A free
/// claim that names nobody, left by a `create` killed before it wrote its name, goes too.
/// A monitor that has just ended may still hold its claim for a moment: a process is seen as
/// ended once its main thread is, and its files close with its last thread.
pub fn remove_if_free(host: &Host, dev: &str, root: &str, id: &str) {
    let path = host.claims().join(dev);
    let ours = || holder(&path).is_none_or(|(r, i)| r == root && i == id);
    let Ok(file) = File::open(&path) else { return };
    for _ in 0..RELEASE_WAIT_STEPS {
        if !ours() {
            return;
        }
        if crate::sys::flock(&file, true, true).is_ok() {
            let _ = std::fs::remove_file(&path);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// How many 5 ms steps `remove_if_free` waits for an ended monitor's claim to be released.
const RELEASE_WAIT_STEPS: u32 = 40;

/// Remove every free claim of container `id` of state root `root` (its record is lost).
pub fn remove_all_of(host: &Host, root: &str, id: &str) {
    let Ok(entries) = std::fs::read_dir(host.claims()) else {
        return;
    };
    for entry in entries.flatten() {
        if let Some(dev) = entry.file_name().to_str() {
            remove_if_free(host, dev, root, id);
        }
    }
}

/// Turn the kernel's shutdown-on-release off again for core `dev` once no container holds it
/// and it no longer runs: the flag belongs to the processor, so left set it would let any
/// later open and close of `/dev/remoteprocN` stop a core someone else started.
pub fn clear_release_flag(host: &Host, dev: &str) {
    let Ok(file) = File::open(host.claims().join(dev)) else {
        return;
    };
    if crate::sys::flock(&file, true, true).is_err() {
        return;
    }
    let class = host.remoteproc_class().join(dev);
    let state = crate::platform::remoteproc::read_attr(&class.join("state")).unwrap_or_default();
    if state == "running" || state == "attached" {
        return;
    }
    if let Ok(cdev) = crate::platform::cdev::Cdev::open(&host.dev(dev)) {
        let _ = cdev.set_shutdown_on_release(false);
    }
}

impl Claim {
    /// Remove the claim file while still holding it (rollback of a failed create).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}
