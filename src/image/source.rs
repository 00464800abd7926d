//! Where an image's files come from: an OCI layout directory, or a tar archive (oci-archive or
//! docker-archive) read in place through an index of its entries, never unpacked to disk. Each
//! file is opened once and read as a `Blob`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::entry::{self, Kind};
use super::meter::Meter;
use super::open::{open, Opened};
use crate::error::{Error, Result};

/// More entries than this in an image archive is refused.
const MAX_ENTRIES: usize = 100_000;
/// More than this read from an archive's headers (pax records and long names included) is
/// refused: they are held in memory while read.
const HEADERS_MAX: u64 = 16 << 20;

pub enum Files {
    Dir(PathBuf),
    /// Regular files of the archive: name → (data offset, size).
    Tar {
        file: Rc<File>,
        files: BTreeMap<String, (u64, u64)>,
    },
}

/// What `Files::open` found.
pub enum Found {
    Blob(Blob),
    Missing,
    /// A FIFO, device, directory or symlink where a layout's file should be.
    NotRegular,
}

/// A file of the image, read from an open descriptor at its own position.
pub struct Blob {
    file: Rc<File>,
    start: u64,
    pos: u64,
    end: u64,
}

impl Blob {
    fn new(file: Rc<File>, start: u64, size: u64) -> Blob {
        Blob {
            file,
            start,
            pos: start,
            end: start.saturating_add(size),
        }
    }

    pub fn size(&self) -> u64 {
        self.end - self.start
    }
}

impl Read for Blob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        if n == 0 {
            return Ok(0);
        }
        let got = self.file.read_at(&mut buf[..n], self.pos)?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for Blob {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = match to {
            SeekFrom::Start(n) => self.start.checked_add(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.end.checked_add_signed(d),
        };
        match at {
            Some(at) if at >= self.start => {
                self.pos = at;
                Ok(at - self.start)
            }
            _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }
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

/// The regular files and links of an archive, as its entries name them.
#[derive(Default)]
struct Listing {
    files: BTreeMap<String, (u64, u64)>,
    links: Vec<(String, Option<String>)>,
}

impl Listing {
    fn add<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> std::result::Result<(), String> {
        if self.files.len() + self.links.len() >= MAX_ENTRIES {
            return Err(String::from("too many entries"));
        }
        let h = entry::read(e).map_err(|e| e.to_string())?;
        let Some(name) = clean(&h.path) else {
            return Ok(());
        };
        match h.kind {
            Kind::File => {
                self.files.insert(name, (e.raw_file_position(), h.size));
            }
            Kind::HardLink => self.links.push((name, clean(&h.link))),
            Kind::Symlink => {
                let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                let target = if h.link.starts_with('/') {
                    clean(&h.link)
                } else {
                    clean(&format!("{dir}/{}", h.link))
                };
                self.links.push((name, target));
            }
            Kind::Sparse => return Err(format!("entry {} is a sparse file: refused", h.path)),
            _ => {}
        }
        Ok(())
    }

    /// Every entry of `archive`.
    fn read<R: Read + Seek>(&mut self, archive: &mut tar::Archive<R>) -> io::Result<()> {
        for e in archive.entries_with_seek()? {
            self.add(&mut e?).map_err(io::Error::other)?;
        }
        Ok(())
    }
}

impl Files {
    /// Index the entries of the tar archive at `path`.
    pub fn archive(path: &Path) -> Result<Files> {
        let shown = path.to_string_lossy();
        let fail = |msg: &str| Error::new(format!("image archive {shown}: {msg}"));
        let file = match open(path, true)
            .map_err(|e| Error::io(&e, format!("opening image archive {shown}")))?
        {
            Opened::File(f, _) => Rc::new(f),
            Opened::Missing => return Err(fail("no such file")),
            Opened::NotRegular => return Err(fail("not a regular file")),
        };
        let whole = Blob::new(file.clone(), 0, u64::MAX);
        let mut meter = Meter::new(whole, HEADERS_MAX);
        let mut listing = Listing::default();
        let read = listing.read(&mut tar::Archive::new(&mut meter));
        match read {
            Err(_) if meter.over => {
                return Err(fail(&format!(
                    "its tar headers take more than {HEADERS_MAX} bytes: refused"
                )))
            }
            Err(_) | Ok(()) if meter.ended => return Err(fail("the archive is truncated")),
            Err(e) => return Err(fail(&e.to_string())),
            Ok(()) => {}
        }
        let Listing { mut files, links } = listing;
        // Links to files of the archive (docker save links layers shared by several images).
        for _ in 0..8 {
            for (name, target) in &links {
                if let Some(found) = target.as_ref().and_then(|t| files.get(t)).copied() {
                    files.entry(name.clone()).or_insert(found);
                }
            }
        }
        Ok(Files::Tar { file, files })
    }

    pub fn has(&self, name: &str) -> bool {
        match self {
            Files::Dir(d) => d.join(name).is_file(),
            Files::Tar { files, .. } => files.contains_key(name),
        }
    }

    /// Open `name` (a clean relative path). A layout's files must be regular files themselves,
    /// not symlinks.
    pub fn open(&self, name: &str) -> io::Result<Found> {
        match self {
            Files::Dir(d) => Ok(match open(&d.join(name), false)? {
                Opened::File(f, size) => Found::Blob(Blob::new(Rc::new(f), 0, size)),
                Opened::Missing => Found::Missing,
                Opened::NotRegular => Found::NotRegular,
            }),
            Files::Tar { file, files } => Ok(match files.get(name) {
                Some(&(offset, size)) => Found::Blob(Blob::new(file.clone(), offset, size)),
                None => Found::Missing,
            }),
        }
    }
}
