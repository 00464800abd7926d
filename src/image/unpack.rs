//! Applying layer tars to a fresh private directory, safely: no entry may land outside it
//! (`..`, absolute paths, paths through a symlink planted by an earlier entry, hard links to
//! outside), no device nodes, FIFOs or sparse files, whiteouts honoured (never of the directory
//! itself or its parent), and a cap on the unpacked size. Symlinks are created as they are and
//! never followed while unpacking. The tar crate reads the entries; nothing of its unpacking is
//! used.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::entry::{self, Header, Kind};
use crate::error::{Error, Result};

/// More entries than this in one image is refused (inodes are a resource too).
const MAX_ENTRIES: usize = 100_000;
const OPAQUE: &str = ".wh..wh..opq";

pub struct Unpacker {
    root: PathBuf,
    pub cap: u64,
    /// Bytes of file data unpacked so far.
    used: u64,
    /// Bytes of tar stream (headers and data) the layers may still decompress to: the cap, so
    /// that no stream, whatever its entries, expands without bound.
    pub tar_left: u64,
    entries: usize,
}

/// Why a layer stopped.
pub enum Stop {
    /// Its stream could not be read: bad compression, bad tar, truncation, a size limit.
    Read(io::Error),
    /// An entry broke a rule, or could not be written.
    Refused(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Refused(e)
    }
}

/// The message for unpacking past the cap; `detail` says where it was crossed.
pub fn too_big(cap: u64, detail: &str) -> String {
    format!(
        "the image unpacks to more than {cap} bytes ({detail}); raise the limit with \
         HYBRID_IMAGE_MAX_SIZE or image_max_size in the config file if this image is trusted"
    )
}

impl Unpacker {
    pub fn new(root: &Path, cap: u64) -> Self {
        Unpacker {
            root: root.to_path_buf(),
            cap,
            used: 0,
            tar_left: cap,
            entries: 0,
        }
    }

    /// Apply the tar stream of one layer, up to its end-of-archive marker.
    pub fn layer(&mut self, tar: impl Read) -> std::result::Result<(), Stop> {
        let mut archive = tar::Archive::new(tar);
        let mut this_layer = BTreeSet::new();
        for e in archive.entries().map_err(Stop::Read)? {
            let mut e = e.map_err(Stop::Read)?;
            let header = entry::read(&mut e).map_err(Stop::Read)?;
            self.entry(&header, &mut e, &mut this_layer)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        e: &Header,
        data: &mut impl Read,
        this_layer: &mut BTreeSet<String>,
    ) -> std::result::Result<(), Stop> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(Error::new(format!("more than {MAX_ENTRIES} entries")).into());
        }
        if e.kind == Kind::Global {
            return Ok(());
        }
        let rel = inside(&e.path)?;
        if rel.is_empty() {
            return Ok(());
        }
        let (parent, base) = match rel.rsplit_once('/') {
            Some((p, b)) => (p, b),
            None => ("", rel.as_str()),
        };
        let dir = self.dirs(parent, &rel)?;
        if base == OPAQUE {
            return Ok(self.opaque(&dir, parent, this_layer)?);
        }
        if let Some(hidden) = base.strip_prefix(".wh.") {
            if matches!(hidden, "" | "." | "..") {
                return Err(Error::new(format!(
                    "entry {} is a whiteout of the directory that holds it or of its parent: \
                     refused",
                    e.path
                ))
                .into());
            }
            return Ok(remove(&dir.join(hidden))?);
        }
        let target = dir.join(base);
        let existing = fs::symlink_metadata(&target).ok();
        if let Some(m) = &existing {
            if !(m.is_dir() && e.kind == Kind::Dir) {
                remove(&target)?;
            }
        }
        let made = match e.kind {
            Kind::Dir => match existing {
                Some(m) if m.is_dir() => Ok(()),
                _ => fs::DirBuilder::new().create(&target),
            },
            Kind::File => return self.file(e, data, &rel, &target, this_layer),
            Kind::Symlink => std::os::unix::fs::symlink(&e.link, &target),
            Kind::HardLink => {
                let to = inside(&e.link).map_err(|_| {
                    Error::new(format!(
                        "hard link {rel} points outside the image ({})",
                        e.link
                    ))
                })?;
                let (tp, tb) = match to.rsplit_once('/') {
                    Some((p, b)) => (p, b),
                    None => ("", to.as_str()),
                };
                let source = self.existing_dirs(tp, &rel)?.join(tb);
                match fs::symlink_metadata(&source) {
                    Ok(m) if m.is_file() => fs::hard_link(&source, &target),
                    _ => {
                        return Err(Error::new(format!(
                            "hard link {rel} points to {}, which is not a file unpacked before it",
                            e.link
                        ))
                        .into())
                    }
                }
            }
            Kind::Device | Kind::Fifo => {
                return Err(Error::new(format!(
                    "entry {rel} is a device node or FIFO: refused (a firmware image carries \
                     files only)"
                ))
                .into())
            }
            Kind::Sparse => {
                return Err(Error::new(format!(
                    "entry {rel} is a GNU sparse file: refused (archive the image's files \
                     without --sparse)"
                ))
                .into())
            }
            Kind::Other(flag) => {
                return Err(Error::new(format!(
                    "entry {rel} has the unsupported tar type '{}'",
                    char::from(flag)
                ))
                .into())
            }
            // Names no file (returned above).
            Kind::Global => return Ok(()),
        };
        made.map_err(|err| Error::io(&err, format!("creating {}", self.shown(&target))))?;
        this_layer.insert(rel);
        Ok(())
    }

    /// A regular file: counted against the cap, its data copied (never through a symlink).
    fn file(
        &mut self,
        e: &Header,
        data: &mut impl Read,
        rel: &str,
        target: &Path,
        this_layer: &mut BTreeSet<String>,
    ) -> std::result::Result<(), Stop> {
        self.used = self.used.saturating_add(e.size);
        if self.used > self.cap {
            return Err(Error::new(too_big(self.cap, &format!("at {rel}"))).into());
        }
        let writing = |err: io::Error| Error::io(&err, format!("writing {}", self.shown(target)));
        let mode = e.mode & 0o777;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(target)
            .map_err(writing)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut copied = 0u64;
        loop {
            let n = data.read(&mut buf).map_err(Stop::Read)?;
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).map_err(writing)?;
            copied += n as u64;
        }
        if copied != e.size {
            return Err(Error::new(format!("the layer is truncated (in {rel})")).into());
        }
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(writing)?;
        this_layer.insert(rel.to_string());
        Ok(())
    }

    fn shown(&self, t: &Path) -> String {
        t.strip_prefix(&self.root)
            .unwrap_or(t)
            .to_string_lossy()
            .into_owned()
    }

    /// The directory `parent` (relative), created as needed; refused when any component is a
    /// symlink or not a directory.
    fn dirs(&self, parent: &str, entry: &str) -> Result<PathBuf> {
        self.walk(parent, entry, true)
    }

    fn existing_dirs(&self, parent: &str, entry: &str) -> Result<PathBuf> {
        self.walk(parent, entry, false)
    }

    fn walk(&self, parent: &str, entry: &str, create: bool) -> Result<PathBuf> {
        let mut dir = self.root.clone();
        let mut so_far = String::new();
        for c in parent.split('/').filter(|c| !c.is_empty()) {
            dir.push(c);
            if !so_far.is_empty() {
                so_far.push('/');
            }
            so_far.push_str(c);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Error::new(format!(
                        "entry {entry} goes through the symlink {so_far}: refused (it could \
                         lead outside the image)"
                    )))
                }
                Ok(_) => {
                    return Err(Error::new(format!(
                        "entry {entry}: {so_far} is not a directory"
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    fs::DirBuilder::new()
                        .create(&dir)
                        .map_err(|e| Error::io(&e, format!("creating {so_far}")))?;
                }
                Err(_) => {
                    return Err(Error::new(format!(
                        "entry {entry}: {so_far} does not exist"
                    )))
                }
            }
        }
        Ok(dir)
    }

    /// `DIR/.wh..wh..opq`: remove what lower layers put in DIR.
    fn opaque(&self, dir: &Path, parent: &str, this_layer: &BTreeSet<String>) -> Result<()> {
        let list = fs::read_dir(dir).map_err(|e| Error::io(&e, format!("reading {parent}")))?;
        for child in list.flatten() {
            let name = child.file_name().to_string_lossy().into_owned();
            let rel = if parent.is_empty() {
                name
            } else {
                format!("{parent}/{name}")
            };
            if !this_layer.contains(&rel) {
                remove(&child.path())?;
            }
        }
        Ok(())
    }
}

/// A relative path that stays inside the image: absolute paths and `..` refused.
fn inside(path: &str) -> Result<String> {
    let p = path.strip_prefix("./").unwrap_or(path);
    if p.starts_with('/') {
        return Err(Error::new(format!(
            "entry {path} has an absolute path: refused"
        )));
    }
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(Error::new(format!(
                    "entry {path} contains \"..\": refused (it could lead outside the image)"
                )))
            }
            c => out.push(c),
        }
    }
    Ok(out.join("/"))
}

/// Remove a file, symlink or whole directory (symlinks never followed); absent is fine.
fn remove(path: &Path) -> Result<()> {
    let r = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => return Ok(()),
    };
    r.map_err(|e| Error::io(&e, format!("removing {}", path.to_string_lossy())))
}
