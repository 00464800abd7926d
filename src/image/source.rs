//! Where an image's files come from: an OCI layout directory, or a tar archive (oci-archive or
//! docker-archive) read in place through an index of its entries, never unpacked to disk.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};

use super::tar::{self, Kind};
use crate::error::{cat, Error, Result};

/// More entries than this in an image archive is refused.
const MAX_ENTRIES: usize = 100_000;

pub enum Files {
    Dir(PathBuf),
    /// Regular files of the archive: name → (data offset, size).
    Tar {
        path: PathBuf,
        files: BTreeMap<String, (u64, u64)>,
    },
}

/// A path inside an image: `./` and `/` prefixes and `.` components dropped, `..` resolved;
/// `None` when it climbs above the top.
pub fn clean(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out.join("/"))
}

impl Files {
    /// Index the entries of the tar archive at `path`.
    pub fn archive(path: &Path) -> Result<Files> {
        let shown = path.to_string_lossy();
        let file = File::open(path)
            .map_err(|e| Error::io(&e, cat(&["opening image archive ", &shown])))?;
        let mut reader = tar::Reader::new(BufReader::new(file));
        let mut files = BTreeMap::new();
        let mut links = Vec::new();
        let fail = |e: Error| Error::new(cat(&["image archive ", &shown, ": ", &e.msg]));
        while let Some(e) = reader.next_entry().map_err(fail)? {
            if files.len() + links.len() >= MAX_ENTRIES {
                return Err(fail(Error::new("too many entries")));
            }
            let Some(name) = clean(&e.path) else { continue };
            match e.kind {
                Kind::File => {
                    files.insert(name, (e.offset, e.size));
                }
                Kind::HardLink => links.push((name, clean(&e.link))),
                Kind::Symlink => {
                    let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                    let target = if e.link.starts_with('/') {
                        clean(&e.link)
                    } else {
                        clean(&cat(&[dir, "/", &e.link]))
                    };
                    links.push((name, target));
                }
                _ => {}
            }
        }
        // Links to files of the archive (docker save links layers shared by several images).
        for _ in 0..8 {
            for (name, target) in &links {
                if let Some(found) = target.as_ref().and_then(|t| files.get(t)).copied() {
                    files.entry(name.clone()).or_insert(found);
                }
            }
        }
        Ok(Files::Tar {
            path: path.to_path_buf(),
            files,
        })
    }

    pub fn has(&self, name: &str) -> bool {
        match self {
            Files::Dir(d) => d.join(name).is_file(),
            Files::Tar { files, .. } => files.contains_key(name),
        }
    }

    /// Open `name` (a clean relative path) and its size; `Ok(None)` when it does not exist.
    pub fn open(&self, name: &str) -> Result<Option<(Take<File>, u64)>> {
        match self {
            Files::Dir(d) => {
                let p = d.join(name);
                match File::open(&p).and_then(|f| f.metadata().map(|m| (f, m))) {
                    Ok((_, m)) if !m.is_file() => Ok(None),
                    Ok((f, m)) => Ok(Some((f.take(m.len()), m.len()))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io(&e, cat(&["opening ", &p.to_string_lossy()]))),
                }
            }
            Files::Tar { path, files } => {
                let Some(&(offset, size)) = files.get(name) else {
                    return Ok(None);
                };
                let mut f = File::open(path)
                    .map_err(|e| Error::io(&e, cat(&["opening ", &path.to_string_lossy()])))?;
                f.seek(SeekFrom::Start(offset)).map_err(tar::io_error)?;
                Ok(Some((f.take(size), size)))
            }
        }
    }
}
