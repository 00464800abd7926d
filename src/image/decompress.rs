//! A layer's tar stream out of its blob: gzip (flate2; every member read, each member's CRC and
//! length checked, nothing accepted after the last one), zstd (ruzstd; every frame, skippable
//! frames skipped) or uncompressed. Errors say which format was bad.

use std::io::{self, BufRead, Read};

use flate2::bufread::MultiGzDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::spec::Compression;

/// The first bytes of a gzip member and of a zstd frame.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The largest zstd window ruzstd accepts (the history a frame keeps in memory).
const WINDOW_MAX: u64 = 100 << 20;

/// An empty zstd frame, as `zstd` writes it for empty input (without its checksum).
const EMPTY_ZSTD_FRAME: [u8; 9] = [0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00];

/// How data starting with `head` is compressed (docker-archive layers carry no media type).
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

pub enum Decoder<R> {
    Plain(R),
    Gzip(MultiGzDecoder<R>),
    /// Boxed: a zstd decoder's tables are large.
    Zstd(Box<Zstd<R>>),
}

impl<R: BufRead> Decoder<R> {
    /// Decompress `source` as `compression` says (`Sniff`: as its first bytes say).
    pub fn new(mut source: R, compression: Compression) -> io::Result<Decoder<R>> {
        let compression = match compression {
            Compression::Sniff => sniff(source.fill_buf()?),
            known => known,
        };
        Ok(match compression {
            Compression::Gzip => Decoder::Gzip(MultiGzDecoder::new(source)),
            Compression::Zstd => Decoder::Zstd(Box::new(Zstd::new(source))),
            Compression::None | Compression::Sniff => Decoder::Plain(source),
        })
    }

    /// The compressed stream, to read what is left of it.
    pub fn source(&mut self) -> &mut R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(z) => z.get_mut(),
            Decoder::Zstd(z) => &mut z.source,
        }
    }
}

fn bad(format: &str, e: &dyn std::fmt::Display) -> io::Error {
    io::Error::other(format!("bad {format} data: {e}"))
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(z) => z.read(buf).map_err(|e| bad("gzip", &e)),
            Decoder::Zstd(z) => z.read(buf).map_err(|e| bad("zstd", &e)),
        }
    }
}

/// Every zstd frame of `source`, one after the other.
pub struct Zstd<R> {
    source: R,
    frame: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> Zstd<R> {
    fn new(source: R) -> Zstd<R> {
        let mut frame = FrameDecoder::new();
        // ruzstd bounds a frame's window to WINDOW_MAX only when a decoder is reused: start it
        // on an empty frame so that every frame is bounded.
        let _ = frame.init(&EMPTY_ZSTD_FRAME[..]);
        Zstd {
            source,
            frame,
            in_frame: false,
        }
    }

    /// Start the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.frame.init(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped != u64::from(length) {
                        return Err(io::Error::other("truncated skippable frame"));
                    }
                }
                Err(FrameDecoderError::WindowSizeTooBig { requested }) => {
                    return Err(io::Error::other(format!(
                        "a frame needs a window of {requested} bytes (at most {WINDOW_MAX} are \
                         kept in memory)"
                    )))
                }
                Err(e) => return Err(io::Error::other(e.to_string())),
            }
        }
    }
}

impl<R: BufRead> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                while self.frame.can_collect() < buf.len() && !self.frame.is_finished() {
                    let wanted = buf.len() - self.frame.can_collect();
                    self.frame
                        .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(wanted))
                        .map_err(|e| io::Error::other(e.to_string()))?;
                }
                let n = self.frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.in_frame = false;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
            self.in_frame = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::{Compression, Decoder};
    use hybrid_sim::image::gzip;

    fn decode(data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut d = Decoder::new(data, Compression::Sniff).map_err(|e| e.to_string())?;
        d.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn gzip_members_are_all_read_and_trailers_checked() {
        let mut two = gzip(b"first, ");
        two.extend(gzip(b"second"));
        assert_eq!(decode(&two).unwrap(), b"first, second");
        let mut garbage = two.clone();
        garbage.extend_from_slice(b"junk");
        assert!(decode(&garbage).unwrap_err().starts_with("bad gzip data: "));
        let n = two.len();
        two[n - 8] ^= 1;
        assert_eq!(
            decode(&two).unwrap_err(),
            "bad gzip data: corrupt gzip stream does not have a matching checksum"
        );
        let cut = gzip(b"cut short");
        assert!(decode(&cut[..cut.len() - 4]).is_err());
    }

    #[test]
    fn zstd_frames_are_all_read_and_skippable_frames_skipped() {
        let mut data = zstd::encode_all(&b"first, "[..], 3).unwrap();
        // A skippable frame (RFC 8878, 3.1.2): magic 0x184D2A5?, length, payload.
        data.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
        data.extend_from_slice(&3u32.to_le_bytes());
        data.extend_from_slice(b"xyz");
        data.extend(zstd::encode_all(&b"second"[..], 19).unwrap());
        assert_eq!(decode(&data).unwrap(), b"first, second");
        data.extend_from_slice(b"junk");
        assert!(decode(&data).unwrap_err().starts_with("bad zstd data: "));
    }

    #[test]
    fn zstd_frames_with_a_window_too_large_to_hold_are_refused() {
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        enc.set_parameter(zstd::stream::raw::CParameter::WindowLog(27))
            .unwrap();
        enc.write_all(&[7u8; 1000]).unwrap();
        let frame = enc.finish().unwrap();
        let err = decode(&frame).unwrap_err();
        assert!(
            err.contains("a frame needs a window of 134217728 bytes"),
            "{err}"
        );
        // Below the bound, the same data decodes.
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        enc.set_parameter(zstd::stream::raw::CParameter::WindowLog(26))
            .unwrap();
        enc.write_all(&[7u8; 1000]).unwrap();
        assert_eq!(decode(&enc.finish().unwrap()).unwrap(), vec![7u8; 1000]);
    }
}
