//! A streaming reader of tar archives (ustar, GNU long names, pax `path`/`linkpath`/`size`),
//! strict about what it does not understand: bad checksums, bad numbers and truncation are
//! errors, never guesses.

use std::io::{self, Read};

use crate::error::{cat, Error, Result};

/// Entry types, as the header's typeflag byte says.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    HardLink,
    Symlink,
    Device,
    Fifo,
    Dir,
    Other(u8),
}

pub struct Entry {
    pub path: String,
    pub link: String,
    pub kind: Kind,
    pub size: u64,
    pub mode: u32,
    /// Where the entry's data starts in the (uncompressed) stream.
    pub offset: u64,
}

/// Meta records (pax, GNU long names) larger than this are refused.
const META_MAX: u64 = 64 * 1024;

pub struct Reader<R> {
    inner: R,
    /// Bytes consumed from `inner`.
    pos: u64,
    /// Data of the current entry not read yet, and the padding after it.
    left: u64,
    pad: u64,
}

fn truncated() -> Error {
    Error::new("the archive is truncated")
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            pos: 0,
            left: 0,
            pad: 0,
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..]) {
                Ok(0) => return Err(truncated()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, mut n: u64) -> Result<()> {
        let mut buf = [0u8; 4096];
        while n > 0 {
            let k = n.min(buf.len() as u64) as usize;
            self.fill(&mut buf[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    /// The next entry, `None` at the end-of-archive marker.
    pub fn next_entry(&mut self) -> Result<Option<Entry>> {
        self.skip(self.left + self.pad)?;
        self.left = 0;
        self.pad = 0;
        let (mut long_path, mut long_link, mut pax_size) = (None, None, None);
        loop {
            let mut h = [0u8; 512];
            self.fill(&mut h)?;
            if h.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            let stored = number(&h[148..156])?;
            let sum: u64 = h
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u64::from(b)
                    }
                })
                .sum();
            if stored != sum {
                return Err(Error::new(cat(&[
                    "bad tar header checksum at byte ",
                    &(self.pos - 512).to_string(),
                ])));
            }
            let size = number(&h[124..136])?;
            let flag = h[156];
            match flag {
                b'x' | b'g' | b'L' | b'K' => {
                    if size > META_MAX {
                        return Err(Error::new("tar meta record too large"));
                    }
                    let mut data = vec![0u8; size as usize];
                    self.fill(&mut data)?;
                    self.skip(padding(size))?;
                    match flag {
                        b'L' => long_path = Some(c_string(&data)),
                        b'K' => long_link = Some(c_string(&data)),
                        b'x' => {
                            for (k, v) in pax_records(&data)? {
                                match k.as_str() {
                                    "path" => long_path = Some(v),
                                    "linkpath" => long_link = Some(v),
                                    "size" => {
                                        pax_size =
                                            Some(v.parse::<u64>().map_err(|_| {
                                                Error::new("bad size in a pax header")
                                            })?)
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                _ => {}
            }
            let path = long_path.unwrap_or_else(|| {
                let name = c_string(&h[0..100]);
                let prefix = if &h[257..262] == b"ustar" {
                    c_string(&h[345..500])
                } else {
                    String::new()
                };
                if prefix.is_empty() {
                    name
                } else {
                    cat(&[&prefix, "/", &name])
                }
            });
            let link = long_link.unwrap_or_else(|| c_string(&h[157..257]));
            let size = pax_size.unwrap_or(size);
            let kind = match flag {
                b'0' | 0 | b'7' => Kind::File,
                b'1' => Kind::HardLink,
                b'2' => Kind::Symlink,
                b'3' | b'4' => Kind::Device,
                b'5' => Kind::Dir,
                b'6' => Kind::Fifo,
                other => Kind::Other(other),
            };
            // Only regular files carry data (a hard link's size field is informational).
            let data = if kind == Kind::File || matches!(kind, Kind::Other(_)) {
                size
            } else {
                0
            };
            self.left = data;
            self.pad = padding(data);
            return Ok(Some(Entry {
                path,
                link,
                kind,
                size: data,
                mode: number(&h[100..108])? as u32,
                offset: self.pos,
            }));
        }
    }
}

impl<R: Read> Read for Reader<R> {
    /// Reads the current entry's data.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let k = (buf.len() as u64).min(self.left) as usize;
        let n = self.inner.read(&mut buf[..k])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
        }
        self.left -= n as u64;
        self.pos += n as u64;
        Ok(n)
    }
}

pub fn io_error(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return truncated();
    }
    match e.raw_os_error() {
        Some(errno) => Error::os(errno, "reading"),
        None => Error::new(e.to_string()),
    }
}

fn padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// An octal field (NUL/space padded) or a GNU base-256 number.
fn number(field: &[u8]) -> Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| Error::new("number too large in a tar header"))?;
        }
        return Ok(v);
    }
    let mut v: u64 = 0;
    for &b in field {
        match b {
            b'0'..=b'7' => {
                v = v
                    .checked_mul(8)
                    .map(|v| v + u64::from(b - b'0'))
                    .ok_or_else(|| Error::new("number too large in a tar header"))?
            }
            0 | b' ' => {
                if v > 0 {
                    break;
                }
            }
            _ => return Err(Error::new("not a tar archive (bad number in a header)")),
        }
    }
    Ok(v)
}

/// `"<len> <key>=<value>\n"` records.
fn pax_records(data: &[u8]) -> Result<Vec<(String, String)>> {
    let bad = || Error::new("malformed pax header");
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad());
        }
        let rec = String::from_utf8_lossy(&rest[sp + 1..len - 1]).into_owned();
        let (k, v) = rec.split_once('=').ok_or_else(bad)?;
        out.push((k.to_string(), v.to_string()));
        rest = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{Kind, Reader};
    use hybrid_sim::image::{header, tar, Entry};

    fn entries(data: &[u8]) -> Result<Vec<(String, String, u64)>, String> {
        let mut r = Reader::new(data);
        let mut out = Vec::new();
        while let Some(e) = r.next_entry().map_err(|e| e.msg)? {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut body).map_err(|e| e.to_string())?;
            assert_eq!(body.len() as u64, e.size);
            assert!(e.kind != Kind::Dir || e.size == 0);
            out.push((e.path, e.link, e.size));
        }
        Ok(out)
    }

    fn pad(v: &mut Vec<u8>) {
        v.resize(v.len().div_ceil(512) * 512, 0);
    }

    #[test]
    fn reads_ustar_gnu_long_names_and_pax_headers() {
        let long = format!("{}/firmware.elf", "dir".repeat(50));
        let plain = tar(&[
            Entry::File(long.clone(), b"abc".to_vec(), 0o644),
            Entry::Symlink("link".into(), "firmware.elf".into()),
        ]);
        let got = entries(&plain).unwrap();
        assert_eq!(got[0], (long.clone(), String::new(), 3));
        assert_eq!(got[1], ("link".into(), "firmware.elf".into(), 0));

        let record = format!("path={long}\n");
        let len = record.len() + 4; // "NNN " prefix, three digits
        let pax = format!("{len} {record}");
        let mut data = header("PaxHeaders/x", b'x', pax.len() as u64, "", 0o644, (0, 0));
        data.extend_from_slice(pax.as_bytes());
        pad(&mut data);
        data.extend_from_slice(&header("short", b'0', 2, "", 0o644, (0, 0)));
        data.extend_from_slice(b"hi");
        pad(&mut data);
        data.resize(data.len() + 1024, 0);
        assert_eq!(entries(&data).unwrap(), vec![(long, String::new(), 2)]);
    }

    #[test]
    fn refuses_bad_checksums_truncation_and_malformed_pax() {
        let mut data = tar(&[Entry::File("a".into(), vec![7; 600], 0o644)]);
        data[10] ^= 1;
        assert!(entries(&data)
            .unwrap_err()
            .contains("bad tar header checksum at byte 0"));

        let data = tar(&[Entry::File("a".into(), vec![7; 600], 0o644)]);
        assert_eq!(entries(&data[..700]).unwrap_err(), "truncated");
        assert_eq!(
            entries(&data[..1536]).unwrap_err(),
            "the archive is truncated"
        );

        let mut bad = header("PaxHeaders/x", b'x', 9, "", 0o644, (0, 0));
        bad.extend_from_slice(b"99 path=x");
        pad(&mut bad);
        bad.resize(bad.len() + 1024, 0);
        assert_eq!(entries(&bad).unwrap_err(), "malformed pax header");
    }
}
