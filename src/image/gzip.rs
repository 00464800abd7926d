//! gzip (RFC 1952) decompression as a `Read`: the header parsed here, the deflate stream
//! inflated by miniz_oxide. The blob's digest is verified before, so the trailer's CRC is not.

use std::io::{self, BufRead, Read};

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

pub struct Gunzip<R> {
    inner: R,
    state: Box<InflateState>,
    done: bool,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn byte<R: BufRead>(r: &mut R) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

impl<R: BufRead> Gunzip<R> {
    /// Reads the gzip header; the data follows through `read`.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut h = [0u8; 10];
        inner.read_exact(&mut h)?;
        if h[..2] != MAGIC || h[2] != 8 {
            return Err(invalid("not gzip data"));
        }
        let flags = h[3];
        if flags & 4 != 0 {
            let len = u16::from_le_bytes([byte(&mut inner)?, byte(&mut inner)?]);
            for _ in 0..len {
                byte(&mut inner)?;
            }
        }
        for bit in [8u8, 16] {
            if flags & bit != 0 {
                while byte(&mut inner)? != 0 {}
            }
        }
        if flags & 2 != 0 {
            byte(&mut inner)?;
            byte(&mut inner)?;
        }
        Ok(Gunzip {
            inner,
            state: InflateState::new_boxed(DataFormat::Raw),
            done: false,
        })
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            let eof = input.is_empty();
            let r = inflate(&mut self.state, input, out, MZFlush::None);
            self.inner.consume(r.bytes_consumed);
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.done = true;
                    return Ok(r.bytes_written);
                }
                Ok(_) | Err(MZError::Buf) => {
                    if r.bytes_written > 0 {
                        return Ok(r.bytes_written);
                    }
                    if eof {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "truncated gzip data",
                        ));
                    }
                    if r.bytes_consumed == 0 {
                        return Err(invalid("corrupt gzip data"));
                    }
                }
                Err(_) => return Err(invalid("corrupt gzip data")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use hybrid_sim::image::{gzip, tar, Entry};

    #[test]
    fn gzip_layers_inflate_and_truncated_gzip_is_an_error() {
        let data = tar(&[Entry::File("fw".into(), vec![42; 100_000], 0o644)]);
        let gz = gzip(&data);
        let mut out = Vec::new();
        let mut z = super::Gunzip::new(&gz[..]).unwrap();
        std::io::Read::read_to_end(&mut z, &mut out).unwrap();
        assert_eq!(out, data);
        let mut z = super::Gunzip::new(&gz[..gz.len() / 2]).unwrap();
        let err = std::io::Read::read_to_end(&mut z, &mut Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "truncated gzip data");
        assert!(super::Gunzip::new(&data[..]).is_err(), "not gzip");
    }
}
