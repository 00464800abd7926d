//! The per-container log file `<state dir>/console.log`: one timestamped line per firmware line,
//! bounded by a size cap; when full it is rotated to `console.log.1` … `console.log.<max-files>`
//! and the oldest rotation is dropped.

use crate::console::timestamp;
use crate::error::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// File name of the current log inside the container's state directory.
pub const FILE_NAME: &str = "console.log";

/// Path of rotation `n` (1 = the most recent) of the log at `path`.
pub fn rotation(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(n.to_string());
    PathBuf::from(s)
}

pub struct LogFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    max_files: u32,
    record: Vec<u8>,
}

impl LogFile {
    /// Open (or create, mode 0600) the log at `path` for appending.
    pub fn open(path: &Path, max_size: u64, max_files: u32) -> Result<LogFile> {
        let file = open_append(path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogFile {
            path: path.to_owned(),
            file,
            size,
            max_size,
            max_files,
            record: Vec::new(),
        })
    }

    /// Append one line, stamped with the current time; rotate first when it would not fit.
    /// The record goes out in a single write so a reader never sees half of it.
    pub fn append(&mut self, line: &[u8]) -> Result<()> {
        self.record.clear();
        timestamp::push_now(&mut self.record);
        self.record.push(b' ');
        self.record.extend_from_slice(line);
        self.record.push(b'\n');
        if self.size > 0 && self.size + self.record.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file
            .write_all(&self.record)
            .ctx_path("cannot write the log file", &self.path)?;
        self.size += self.record.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> Result<()> {
        if self.max_files == 0 {
            self.file
                .set_len(0)
                .ctx_path("cannot truncate the log file", &self.path)?;
        } else {
            for n in (1..self.max_files).rev() {
                let from = rotation(&self.path, n);
                if from.exists() {
                    fs::rename(&from, rotation(&self.path, n + 1))
                        .ctx_path("cannot rotate the log file", &from)?;
                }
            }
            fs::rename(&self.path, rotation(&self.path, 1))
                .ctx_path("cannot rotate the log file", &self.path)?;
            self.file = open_append(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
        .ctx_path("cannot open the log file", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hybrid-store-{}-{}", tag, std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn lines_of(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| l[timestamp::LEN + 1..].to_string())
            .collect()
    }

    #[test]
    fn lines_are_stamped_and_appended() {
        let d = temp_dir("append");
        let p = d.join(FILE_NAME);
        let mut f = LogFile::open(&p, 1 << 20, 1).unwrap();
        f.append(b"one").unwrap();
        f.append(b"").unwrap();
        drop(f);
        let mut f = LogFile::open(&p, 1 << 20, 1).unwrap();
        f.append(b"two").unwrap();
        let text = fs::read(&p).unwrap();
        assert!(timestamp::starts_line(&text));
        assert_eq!(lines_of(&p), ["one", "", "two"]);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn rotation_keeps_max_files_and_bounds_every_file() {
        let d = temp_dir("rotate");
        let p = d.join(FILE_NAME);
        let record = timestamp::LEN as u64 + 1 + 4 + 1;
        let mut f = LogFile::open(&p, record * 3, 2).unwrap();
        for i in 0..20 {
            f.append(format!("l{:03}", i).as_bytes()).unwrap();
        }
        for path in [&p, &rotation(&p, 1), &rotation(&p, 2)] {
            assert!(fs::metadata(path).unwrap().len() <= record * 3);
        }
        assert!(!rotation(&p, 3).exists());
        assert_eq!(lines_of(&rotation(&p, 2)), ["l012", "l013", "l014"]);
        assert_eq!(lines_of(&rotation(&p, 1)), ["l015", "l016", "l017"]);
        assert_eq!(lines_of(&p), ["l018", "l019"]);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_log_file_that_is_a_symlink_is_refused() {
        let d = temp_dir("symlink");
        let target = d.join("elsewhere");
        fs::write(&target, "untouched").unwrap();
        std::os::unix::fs::symlink(&target, d.join(FILE_NAME)).unwrap();
        let e = LogFile::open(&d.join(FILE_NAME), 1 << 20, 1).err().unwrap();
        assert_eq!(e.errno, libc::ELOOP);
        assert_eq!(fs::read_to_string(&target).unwrap(), "untouched");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn no_rotations_means_truncate_in_place() {
        let d = temp_dir("truncate");
        let p = d.join(FILE_NAME);
        let record = timestamp::LEN as u64 + 1 + 2 + 1;
        let mut f = LogFile::open(&p, record * 2, 0).unwrap();
        for l in ["a1", "a2", "a3"] {
            f.append(l.as_bytes()).unwrap();
        }
        assert_eq!(lines_of(&p), ["a3"]);
        assert!(!rotation(&p, 1).exists());
        fs::remove_dir_all(d).unwrap();
    }
}
