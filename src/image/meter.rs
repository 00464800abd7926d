//! A reader that hashes (SHA-256) and counts the bytes passing through it, refuses to pass more
//! than a limit, and remembers whether its source ran dry: the digest, size and cap checks of
//! image blobs and layers, made on the one pass that reads them.

use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

pub struct Meter<R> {
    inner: R,
    hash: Sha256,
    /// Bytes passed so far.
    pub count: u64,
    limit: u64,
    /// More than the limit was offered (the read that crossed it failed).
    pub over: bool,
    /// The source returned end-of-file.
    pub ended: bool,
}

impl<R> Meter<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Meter {
            inner,
            hash: Sha256::new(),
            count: 0,
            limit,
            over: false,
            ended: false,
        }
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// `sha256:<hex>` of what passed so far.
    pub fn digest(&self) -> String {
        format!("sha256:{:x}", self.hash.clone().finalize())
    }
}

impl<R: Read> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended = true;
        }
        self.count += n as u64;
        if self.count > self.limit {
            self.over = true;
            return Err(io::Error::other("over the size limit"));
        }
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Skipping over data (an archive's entries, when only their headers are read) is not hashed.
impl<R: Seek> Seek for Meter<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// Read `r` to its end, keeping nothing (what passes is still hashed and counted by meters).
pub fn drain(r: &mut impl Read) -> io::Result<u64> {
    io::copy(r, &mut io::sink())
}
