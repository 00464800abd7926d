//! Firmware files on the host: the directory the kernel searches (the `firmware_class` path
//! parameter if set, else `/lib/firmware`; never changed here), and the per-container copy
//! `<dir>/hybrid-runtime/<id>/<name>` written atomically and removed on delete.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::host::Host;

/// The `firmware_class` path parameter as the kernel uses it: reading it back adds one
/// newline; anything else, a newline written with the value included, is part of the path.
fn param(host: &Host) -> String {
    let raw = std::fs::read(host.firmware_class_path()).unwrap_or_default();
    let mut value = String::from_utf8_lossy(&raw).into_owned();
    if let Some(nul) = value.find('\0') {
        value.truncate(nul);
    }
    if value.ends_with('\n') {
        value.pop();
    }
    value
}

/// The host-absolute firmware directory the copies go to (e.g. `/lib/firmware`).
pub fn host_dir(host: &Host) -> String {
    let param = param(host);
    if param.is_empty() {
        String::from("/lib/firmware")
    } else {
        param
    }
}

/// Refuse a path parameter the kernel takes literally but nobody means: with a newline (as
/// `echo DIR >` writes it) or surrounding spaces, the kernel looks in a directory of that name.
pub fn check_dir(host: &Host) -> Result<()> {
    let param = param(host);
    if param.contains('\n') || param.trim() != param {
        let shown: String = param.chars().flat_map(char::escape_default).collect();
        return Err(Error::new(format!("the firmware_class path parameter \"{shown}\" contains a newline or surrounding spaces, so the kernel looks for firmware in a directory of that exact name: set it again without them (echo -n DIR > /sys/module/firmware_class/parameters/path)")));
    }
    Ok(())
}

/// Every directory the kernel searches, as host paths, for "not found in …" messages.
pub fn search_dirs(host: &Host) -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let mut dirs = Vec::new();
    let param = host_dir(host);
    if param != "/lib/firmware" {
        dirs.push(param);
    }
    dirs.push(format!("/lib/firmware/updates/{release}"));
    dirs.push(String::from("/lib/firmware/updates"));
    dirs.push(format!("/lib/firmware/{release}"));
    dirs.push(String::from("/lib/firmware"));
    dirs.join(", ")
}

/// The name written to `firmware` for container `id`'s copy of `basename`.
pub fn name_for(id: &str, basename: &str) -> String {
    format!("hybrid-runtime/{id}/{basename}")
}

fn container_dir(host: &Host, id: &str) -> PathBuf {
    host.path(&host_dir(host)).join("hybrid-runtime").join(id)
}

/// Copy the `len` bytes of `firmware` (from its start, through a small buffer)
/// to the container's firmware directory (temp file + rename); returns its name.
pub fn stage(
    host: &Host,
    id: &str,
    basename: &str,
    firmware: &std::fs::File,
    len: u64,
) -> Result<String> {
    let fwdir = host_dir(host);
    let dir = container_dir(host, id);
    let fail = |e: std::io::Error, what: &str| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        let mut m = format!("cannot {what} in the firmware directory {fwdir}");
        if errno == libc::EROFS || errno == libc::EACCES || errno == libc::EPERM {
            m.push_str(" (it must be writable: set the firmware_class path parameter to a writable directory)");
        }
        Error::os(errno, m)
    };
    let top = host.path(&fwdir).join("hybrid-runtime");
    // The copy goes only into real directories of ours: never through a link planted in the
    // firmware directory (which may be shared), never into a directory others may write.
    let refuse = |d: &std::path::Path| {
        Error::new(format!("refusing to copy the firmware into {}: it is a symbolic link, not owned by this user, or writable by others", d.display()))
    };
    if std::fs::symlink_metadata(&top).is_ok() && !own_dir(&top) {
        return Err(refuse(&top));
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&top)
        .map_err(|e| fail(e, "create a directory"))?;
    if !own_dir(&top) {
        return Err(refuse(&top));
    }
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        // Copies are named by container id only: the same id under another state root (another
        // engine namespace) must not overwrite, and later delete, the copy a core runs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::new(format!("the firmware copy {} already exists: a container with the same id runs under another state root (ids must be unique across them), or a crashed create left it (remove it)", dir.display())))
        }
        Err(e) => return Err(fail(e, "create a directory")),
        _ if !own_dir(&dir) => return Err(refuse(&dir)),
        _ => {}
    }
    let tmp = dir.join(format!(".{basename}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| copy(firmware, len, &mut f).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, dir.join(basename)));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        unstage(host, id);
        return Err(fail(e, "copy the firmware"));
    }
    Ok(name_for(id, basename))
}

/// Copy the first `len` bytes of `from` (fewer if it is shorter) to `to` through a small buffer.
fn copy(mut from: &std::fs::File, len: u64, to: &mut std::fs::File) -> std::io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    let mut left = len;
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = match from.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// A directory (not a link), owned by this user, that nobody else may write.
fn own_dir(path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.is_dir() && m.uid() == crate::sys::euid() && m.mode() & 0o022 == 0)
}

/// Remove container `id`'s firmware copy and its directory (never through a planted link).
pub fn unstage(host: &Host, id: &str) {
    let dir = container_dir(host, id);
    let top = host.path(&host_dir(host)).join("hybrid-runtime");
    if std::fs::symlink_metadata(&top).is_ok_and(|m| m.file_type().is_symlink()) {
        return;
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(parent) = dir.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

#[cfg(test)]
mod tests {
    use super::{check_dir, host_dir};
    use crate::host::Host;

    #[test]
    fn the_path_parameter_is_read_as_the_kernel_uses_it() {
        let root = std::env::temp_dir().join(format!("hybrid-fwparam-{}", std::process::id()));
        let host = Host::new(&root);
        let file = host.firmware_class_path();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        for (read_back, dir, ok) in [
            ("\n", "/lib/firmware", true),
            ("/x\n", "/x", true),
            ("/x\n\n", "/x\n", false),
            (" /x\n", " /x", false),
        ] {
            std::fs::write(&file, read_back).unwrap();
            assert_eq!(host_dir(&host), dir, "{read_back:?}");
            assert_eq!(check_dir(&host).is_ok(), ok, "{read_back:?}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
