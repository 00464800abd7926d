//! Reading a container's saved log for `logs`: the rotations oldest first, then `console.log`,
//! optionally only the last N lines, with or without the stored timestamps; and following the
//! log as the monitor appends to it, across rotations.

use crate::console::store::{self, rotation};
use crate::console::timestamp;
use crate::error::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Rotations looked for (the cap on `io.hybrid-runtime.log.max-files`).
const MAX_ROTATIONS: u32 = crate::console::config::MAX_MAX_FILES;

pub struct Printer<'a> {
    pub out: &'a mut dyn Write,
    pub timestamps: bool,
}

impl Printer<'_> {
    /// One stored record (a line with its newline), as the user asked to see it.
    fn record(&mut self, rec: &[u8]) -> io::Result<()> {
        if !self.timestamps && timestamp::starts_line(rec) {
            self.out.write_all(&rec[timestamp::LEN + 1..])
        } else {
            self.out.write_all(rec)
        }
    }
}

/// The log of the container whose state directory is `state_dir`, being printed and maybe followed.
pub struct Log {
    path: PathBuf,
    /// `console.log` as opened before printing; followed from where printing ended.
    current: Option<File>,
    partial: Vec<u8>,
}

impl Log {
    pub fn open(state_dir: &Path) -> Log {
        let path = state_dir.join(store::FILE_NAME);
        let current = open_log(&path).ok();
        Log {
            path,
            current,
            partial: Vec::new(),
        }
    }

    /// Print what is saved (the last `tail` lines when given), oldest first.
    pub fn print(&mut self, p: &mut Printer, tail: Option<usize>) -> Result<()> {
        let mut files: Vec<PathBuf> = (1..=MAX_ROTATIONS)
            .map(|n| rotation(&self.path, n))
            .take_while(|r| r.exists())
            .collect();
        files.reverse();
        let mut skip = match tail {
            Some(n) => {
                let mut total = 0;
                for f in &files {
                    total += count_lines(f)?;
                }
                if let Some(cur) = &mut self.current {
                    total += count_lines_of(cur, &self.path)?;
                    cur.rewind().ctx_path("cannot read", &self.path)?;
                }
                total.saturating_sub(n)
            }
            None => 0,
        };
        for f in &files {
            // A rotation may vanish while a running container rotates again: skip it.
            if let Ok(file) = open_log(f) {
                copy_records(file, f, p, &mut skip)?;
            }
        }
        if let Some(cur) = &mut self.current {
            copy_records(&mut *cur, &self.path, p, &mut skip)?;
        }
        p.out.flush().ctx("cannot write the log")
    }

    /// Print what was appended since the last call, following rotations.
    pub fn follow(&mut self, p: &mut Printer) -> Result<()> {
        loop {
            let Some(cur) = &mut self.current else {
                self.current = open_log(&self.path).ok();
                if self.current.is_none() {
                    return Ok(());
                }
                continue;
            };
            let mut buf = [0u8; 8192];
            loop {
                let n = cur.read(&mut buf).ctx_path("cannot read", &self.path)?;
                if n == 0 {
                    break;
                }
                self.partial.extend_from_slice(&buf[..n]);
                while let Some(nl) = self.partial.iter().position(|&b| b == b'\n') {
                    p.record(&self.partial[..=nl]).ctx("cannot write the log")?;
                    self.partial.drain(..=nl);
                }
            }
            p.out.flush().ctx("cannot write the log")?;
            let pos = cur.stream_position().unwrap_or(0);
            let ours = cur.metadata().map(|m| m.ino()).ok();
            match fs::metadata(&self.path) {
                // Rotated: the old file was drained above, go on with the new one.
                Ok(m) if Some(m.ino()) != ours => {
                    self.current = open_log(&self.path).ok();
                    self.partial.clear();
                }
                // Truncated in place (no rotations kept): start over.
                Ok(m) if m.len() < pos => {
                    cur.rewind().ctx_path("cannot read", &self.path)?;
                    self.partial.clear();
                }
                _ => return Ok(()),
            }
        }
    }
}

/// Log files are never read through a symbolic link.
fn open_log(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn count_lines(path: &Path) -> Result<usize> {
    match open_log(path) {
        Ok(mut f) => count_lines_of(&mut f, path),
        Err(_) => Ok(0),
    }
}

fn count_lines_of(f: &mut File, path: &Path) -> Result<usize> {
    let mut n = 0;
    let mut buf = [0u8; 8192];
    loop {
        let got = f.read(&mut buf).ctx_path("cannot read", path)?;
        if got == 0 {
            return Ok(n);
        }
        n += buf[..got].iter().filter(|&&b| b == b'\n').count();
    }
}

fn copy_records(file: impl Read, path: &Path, p: &mut Printer, skip: &mut usize) -> Result<()> {
    let mut r = BufReader::new(file);
    let mut rec = Vec::new();
    loop {
        rec.clear();
        if r.read_until(b'\n', &mut rec)
            .ctx_path("cannot read", path)?
            == 0
        {
            return Ok(());
        }
        if *skip > 0 {
            *skip -= 1;
            continue;
        }
        if rec.last() != Some(&b'\n') {
            rec.push(b'\n');
        }
        p.record(&rec).ctx("cannot write the log")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::store::LogFile;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hybrid-history-{}-{}", tag, std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn print(dir: &Path, tail: Option<usize>, timestamps: bool) -> String {
        let mut out = Vec::new();
        Log::open(dir)
            .print(
                &mut Printer {
                    out: &mut out,
                    timestamps,
                },
                tail,
            )
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn record_len(line: &str) -> u64 {
        (timestamp::LEN + 1 + line.len() + 1) as u64
    }

    #[test]
    fn prints_rotations_in_order_with_tail_and_timestamps() {
        let d = temp_dir("print");
        let mut f = LogFile::open(&d.join(store::FILE_NAME), record_len("l00") * 4, 2).unwrap();
        for i in 0..10 {
            f.append(format!("l{i:02}").as_bytes()).unwrap();
        }
        let all: String = (0..10).map(|i| format!("l{i:02}\n")).collect();
        assert_eq!(print(&d, None, false), all);
        assert_eq!(print(&d, Some(3), false), "l07\nl08\nl09\n");
        assert_eq!(print(&d, Some(0), false), "");
        assert_eq!(print(&d, Some(100), false), all);
        let stamped = print(&d, Some(1), true);
        assert!(
            timestamp::starts_line(stamped.as_bytes()) && stamped.ends_with(" l09\n"),
            "{stamped}"
        );
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn an_empty_or_missing_log_prints_nothing() {
        let d = temp_dir("empty");
        assert_eq!(print(&d, None, false), "");
        assert_eq!(print(&d, Some(5), false), "");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn follow_sees_appends_and_rotations_each_line_once() {
        let d = temp_dir("follow");
        let mut f = LogFile::open(&d.join(store::FILE_NAME), record_len("l00") * 3, 1).unwrap();
        f.append(b"l00").unwrap();
        let mut log = Log::open(&d);
        let mut out = Vec::new();
        log.print(
            &mut Printer {
                out: &mut out,
                timestamps: false,
            },
            None,
        )
        .unwrap();
        for i in 1..20 {
            f.append(format!("l{i:02}").as_bytes()).unwrap();
            if i % 2 == 0 {
                log.follow(&mut Printer {
                    out: &mut out,
                    timestamps: false,
                })
                .unwrap();
            }
        }
        log.follow(&mut Printer {
            out: &mut out,
            timestamps: false,
        })
        .unwrap();
        let all: String = (0..20).map(|i| format!("l{i:02}\n")).collect();
        assert_eq!(String::from_utf8(out).unwrap(), all);
        fs::remove_dir_all(d).unwrap();
    }
}
