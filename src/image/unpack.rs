//! Applying layer tars to a fresh private directory, safely: no entry may land outside it
//! (`..`, absolute paths, paths through a symlink planted by an earlier entry, hard links to
//! outside), no device nodes or FIFOs, whiteouts honoured, and a cap on the unpacked size.
//! Symlinks are created as they are and never followed while unpacking.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::gzip::{Gunzip, MAGIC};
use super::sha256::Sha256;
use super::spec::Compression;
use super::tar::{self, Kind};
use crate::error::{cat, Error, Result};

/// More entries than this in one image is refused (inodes are a resource too).
const MAX_ENTRIES: usize = 100_000;
const OPAQUE: &str = ".wh..wh..opq";

pub struct Unpacker {
    root: PathBuf,
    cap: u64,
    used: u64,
    entries: usize,
}

/// A layer's tar stream, compressed or not.
enum Stream<R> {
    Plain(R),
    Gzip(Gunzip<R>),
}

impl<R: BufRead> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(r) => r.read(buf),
            Stream::Gzip(r) => r.read(buf),
        }
    }
}

/// Hashes what passes through (the uncompressed tar, for docker-archive diff ids).
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    total: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.total += n as u64;
        Ok(n)
    }
}

impl Unpacker {
    pub fn new(root: &Path, cap: u64) -> Self {
        Unpacker {
            root: root.to_path_buf(),
            cap,
            used: 0,
            entries: 0,
        }
    }

    /// Apply one layer blob; `what` names it in errors.
    pub fn layer(
        &mut self,
        blob: std::io::Take<fs::File>,
        compression: Compression,
        diff_id: Option<&str>,
        what: &str,
    ) -> Result<()> {
        let fail = |msg: &str| Error::new(cat(&[what, ": ", msg]));
        let mut buffered = BufReader::with_capacity(16 * 1024, blob);
        let gzip = match compression {
            Compression::Gzip => true,
            Compression::None => false,
            Compression::Sniff => {
                let head = buffered.fill_buf().map_err(|e| fail(&e.to_string()))?;
                if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                    return Err(fail("zstd-compressed layers are not supported"));
                }
                head.starts_with(&MAGIC)
            }
        };
        let stream = if gzip {
            Stream::Gzip(Gunzip::new(buffered).map_err(|e| fail(&e.to_string()))?)
        } else {
            Stream::Plain(buffered)
        };
        let mut hashing = Hashing {
            inner: stream,
            hash: Sha256::new(),
            total: 0,
        };
        {
            let mut reader = tar::Reader::new(&mut hashing);
            let mut this_layer = BTreeSet::new();
            while let Some(e) = reader.next_entry().map_err(|e| fail(&e.msg))? {
                self.entry(&mut reader, &e, &mut this_layer)
                    .map_err(|e| fail(&e.msg))?;
            }
        }
        if let Some(want) = diff_id {
            // The rest of the tar (padding after the end marker) counts for the digest.
            let mut sink = [0u8; 8192];
            loop {
                match hashing.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) if hashing.total > self.cap => {
                        return Err(fail("too much data after the end of the tar"))
                    }
                    Ok(_) => {}
                    Err(e) => return Err(fail(&e.to_string())),
                }
            }
            let got = hashing.hash.finish();
            if got != want {
                return Err(fail(&cat(&[
                    "does not match its digest in the image config (",
                    want,
                    "; its content hashes to ",
                    &got,
                    ")",
                ])));
            }
        }
        Ok(())
    }

    fn entry<R: Read>(
        &mut self,
        data: &mut tar::Reader<R>,
        e: &tar::Entry,
        this_layer: &mut BTreeSet<String>,
    ) -> Result<()> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(Error::new(cat(&[
                "more than ",
                &MAX_ENTRIES.to_string(),
                " entries",
            ])));
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
            return self.opaque(&dir, parent, this_layer);
        }
        if let Some(hidden) = base.strip_prefix(".wh.") {
            return remove(&dir.join(hidden));
        }
        let target = dir.join(base);
        let existing = fs::symlink_metadata(&target).ok();
        if let Some(m) = &existing {
            if !(m.is_dir() && e.kind == Kind::Dir) {
                remove(&target)?;
            }
        }
        let shown = |t: &Path| {
            t.strip_prefix(&self.root)
                .unwrap_or(t)
                .to_string_lossy()
                .into_owned()
        };
        let made = match e.kind {
            Kind::Dir => match existing {
                Some(m) if m.is_dir() => Ok(()),
                _ => fs::DirBuilder::new().create(&target),
            },
            Kind::File => {
                self.used = self.used.saturating_add(e.size);
                if self.used > self.cap {
                    return Err(Error::new(cat(&[
                        "the image unpacks to more than ",
                        &self.cap.to_string(),
                        " bytes (at ",
                        &rel,
                        "); raise the limit with HYBRID_IMAGE_MAX_SIZE or image_max_size in \
                         the config file if this image is trusted",
                    ])));
                }
                let mode = e.mode & 0o777;
                fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&target)
                    .and_then(|mut f| {
                        let n = io::copy(data, &mut f)?;
                        if n != e.size {
                            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
                        }
                        f.set_permissions(fs::Permissions::from_mode(mode))
                    })
                    .map_err(|err| {
                        if err.kind() == io::ErrorKind::UnexpectedEof {
                            return Error::new(cat(&["the layer is truncated (in ", &rel, ")"]));
                        }
                        Error::io(&err, cat(&["writing ", &shown(&target)]))
                    })?;
                Ok(())
            }
            Kind::Symlink => std::os::unix::fs::symlink(&e.link, &target),
            Kind::HardLink => {
                let to = inside(&e.link).map_err(|_| {
                    Error::new(cat(&[
                        "hard link ",
                        &rel,
                        " points outside the image (",
                        &e.link,
                        ")",
                    ]))
                })?;
                let (tp, tb) = match to.rsplit_once('/') {
                    Some((p, b)) => (p, b),
                    None => ("", to.as_str()),
                };
                let source = self.existing_dirs(tp, &rel)?.join(tb);
                match fs::symlink_metadata(&source) {
                    Ok(m) if m.is_file() => fs::hard_link(&source, &target),
                    _ => {
                        return Err(Error::new(cat(&[
                            "hard link ",
                            &rel,
                            " points to ",
                            &e.link,
                            ", which is not a file unpacked before it",
                        ])))
                    }
                }
            }
            Kind::Device | Kind::Fifo => {
                return Err(Error::new(cat(&[
                    "entry ",
                    &rel,
                    " is a device node or FIFO: refused (a firmware image carries files only)",
                ])))
            }
            Kind::Other(flag) => {
                return Err(Error::new(cat(&[
                    "entry ",
                    &rel,
                    " has the unsupported tar type '",
                    &char::from(flag).to_string(),
                    "'",
                ])))
            }
        };
        made.map_err(|err| Error::io(&err, cat(&["creating ", &shown(&target)])))?;
        this_layer.insert(rel);
        Ok(())
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
                    return Err(Error::new(cat(&[
                        "entry ",
                        entry,
                        " goes through the symlink ",
                        &so_far,
                        ": refused (it could lead outside the image)",
                    ])))
                }
                Ok(_) => {
                    return Err(Error::new(cat(&[
                        "entry ",
                        entry,
                        ": ",
                        &so_far,
                        " is not a directory",
                    ])))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    fs::DirBuilder::new()
                        .create(&dir)
                        .map_err(|e| Error::io(&e, cat(&["creating ", &so_far])))?;
                }
                Err(_) => {
                    return Err(Error::new(cat(&[
                        "entry ",
                        entry,
                        ": ",
                        &so_far,
                        " does not exist",
                    ])))
                }
            }
        }
        Ok(dir)
    }

    /// `DIR/.wh..wh..opq`: remove what lower layers put in DIR.
    fn opaque(&self, dir: &Path, parent: &str, this_layer: &BTreeSet<String>) -> Result<()> {
        let list = fs::read_dir(dir).map_err(|e| Error::io(&e, cat(&["reading ", parent])))?;
        for child in list.flatten() {
            let name = child.file_name().to_string_lossy().into_owned();
            let rel = if parent.is_empty() {
                name
            } else {
                cat(&[parent, "/", &name])
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
        return Err(Error::new(cat(&[
            "entry ",
            path,
            " has an absolute path: refused",
        ])));
    }
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(Error::new(cat(&[
                    "entry ",
                    path,
                    " contains \"..\": refused (it could lead outside the image)",
                ])))
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
    r.map_err(|e| Error::io(&e, cat(&["removing ", &path.to_string_lossy()])))
}
