//! Find `process.args[0]` inside the bundle's root filesystem without ever leaving it: walked
//! component by component with lstat, `..` refused, absolute or escaping symlinks refused, and
//! the final file opened with O_NOFOLLOW.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const MAX_SYMLINKS: usize = 40;
/// A firmware file larger than this is refused before it is read.
pub const MAX_FIRMWARE: u64 = 128 << 20;

/// The firmware image: where it was found (inside the rootfs), the file opened there and its
/// length (read in small pieces, never whole).
pub struct Image {
    pub shown: String,
    pub basename: String,
    pub file: std::fs::File,
    pub len: u64,
}

/// Resolve `arg0` as runc would: absolute → under the rootfs; with a `/` → from `cwd`; a bare
/// name → each `PATH` entry, then `cwd`.
pub fn find(rootfs: &Path, arg0: &str, cwd: &str, path_env: Option<&str>) -> Result<Image> {
    if arg0.is_empty() {
        return Err(Error::new(
            "process.args[0] is empty: name the firmware file to run",
        ));
    }
    if arg0.split('/').any(|c| c == "..") {
        return Err(Error::new(format!(
            "firmware path {arg0} contains \"..\": it must stay inside the root filesystem"
        )));
    }
    let cwd = if cwd.is_empty() { "/" } else { cwd };
    let mut candidates = Vec::new();
    if arg0.starts_with('/') {
        candidates.push(arg0.to_string());
    } else if arg0.contains('/') {
        candidates.push(format!("{cwd}/{arg0}"));
    } else {
        for dir in path_env
            .unwrap_or("")
            .split(':')
            .filter(|d| d.starts_with('/'))
        {
            candidates.push(format!("{dir}/{arg0}"));
        }
        candidates.push(format!("{cwd}/{arg0}"));
    }
    for c in &candidates {
        match walk(rootfs, c)? {
            Some(real) => return open(rootfs, &real, arg0),
            None => continue,
        }
    }
    Err(Error::new(format!(
        "firmware {arg0} not found in the root filesystem {}",
        rootfs.display()
    )))
}

/// Walk `path` (relative to the rootfs) resolving symlinks inside it. `Ok(None)`: not found.
fn walk(rootfs: &Path, path: &str) -> Result<Option<Vec<String>>> {
    let mut done: Vec<String> = Vec::new();
    let mut todo: Vec<String> = path
        .split('/')
        .rev()
        .filter(|c| !c.is_empty() && *c != ".")
        .map(String::from)
        .collect();
    let mut links = 0;
    while let Some(comp) = todo.pop() {
        if comp == ".." {
            if done.pop().is_none() {
                return Err(Error::new(format!(
                    "firmware path {path} leads outside the root filesystem"
                )));
            }
            continue;
        }
        let here = join(rootfs, &done).join(&comp);
        let meta = match std::fs::symlink_metadata(&here) {
            Ok(m) => m,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
                return Ok(None)
            }
            Err(e) => return Err(Error::io(&e, format!("reading {}", here.display()))),
        };
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Error::new(format!(
                    "too many symbolic links resolving firmware {path}"
                )));
            }
            let target =
                std::fs::read_link(&here).map_err(|e| Error::io(&e, "reading a symbolic link"))?;
            let target = target.to_string_lossy().into_owned();
            if target.starts_with('/') {
                return Err(Error::new(format!("firmware path {path} goes through an absolute symbolic link ({} -> {target}): links must be relative and stay inside the root filesystem", here.display())));
            }
            for c in target
                .split('/')
                .rev()
                .filter(|c| !c.is_empty() && *c != ".")
            {
                todo.push(c.to_string());
            }
            continue;
        }
        done.push(comp);
    }
    Ok(Some(done))
}

fn join(rootfs: &Path, comps: &[String]) -> PathBuf {
    let mut p = rootfs.to_path_buf();
    for c in comps {
        p.push(c);
    }
    p
}

fn open(rootfs: &Path, comps: &[String], arg0: &str) -> Result<Image> {
    let path = join(rootfs, comps);
    let shown = path.to_string_lossy().into_owned();
    let not_regular = || Error::new(format!("firmware {arg0} ({shown}) is not a regular file"));
    // Never open a FIFO (it would block), a device (opening may act) or a directory.
    if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
        return Err(not_regular());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path)
        .map_err(|e| Error::io(&e, format!("opening firmware {shown}")))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(&e, "reading firmware"))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > MAX_FIRMWARE {
        return Err(Error::new(format!(
            "firmware {shown} is larger than {} MiB: no remote core loads that much",
            MAX_FIRMWARE >> 20
        )));
    }
    let basename = comps.last().cloned().unwrap_or_default();
    Ok(Image {
        shown,
        basename,
        file,
        len: meta.len(),
    })
}

impl Image {
    /// Check that the file is a firmware image a core can load, reading only its headers.
    pub fn check(&self) -> Result<()> {
        let verdict = crate::platform::elf::check_file(&self.file, self.len)
            .map_err(|e| Error::io(&e, format!("reading firmware {}", self.shown)))?;
        verdict.map_err(|why| {
            Error::new(format!(
                "firmware {} is not a usable firmware image: {why}",
                self.shown
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::find;
    use std::os::unix::fs::symlink;

    #[test]
    fn stays_inside_the_root_filesystem() {
        let dir = std::env::temp_dir().join(format!("hybrid-rootfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rootfs/fw")).unwrap();
        std::fs::write(dir.join("rootfs/fw/a.elf"), b"x").unwrap();
        std::fs::write(dir.join("outside.elf"), b"x").unwrap();
        symlink("fw/a.elf", dir.join("rootfs/rel.elf")).unwrap();
        symlink("/etc/passwd", dir.join("rootfs/abs.elf")).unwrap();
        symlink("../outside.elf", dir.join("rootfs/esc.elf")).unwrap();
        let root = dir.join("rootfs");
        assert_eq!(
            find(&root, "/fw/a.elf", "/", None).unwrap().basename,
            "a.elf"
        );
        assert_eq!(
            find(&root, "a.elf", "/", Some("/bin:/fw"))
                .unwrap()
                .basename,
            "a.elf"
        );
        assert_eq!(find(&root, "rel.elf", "/", None).unwrap().basename, "a.elf");
        assert!(find(&root, "abs.elf", "/", None)
            .err()
            .unwrap()
            .msg
            .contains("absolute symbolic link"));
        assert!(find(&root, "esc.elf", "/", None)
            .err()
            .unwrap()
            .msg
            .contains("outside"));
        assert!(find(&root, "../outside.elf", "/", None)
            .err()
            .unwrap()
            .msg
            .contains(".."));
        assert!(find(&root, "missing.elf", "/", None)
            .err()
            .unwrap()
            .msg
            .contains("not found"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
