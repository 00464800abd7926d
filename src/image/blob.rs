//! Reading blobs by descriptor: the digest and size checked before any byte is used, every
//! error naming the image and the blob.

use std::io::Read;

use super::sha256::Sha256;
use super::source::Files;
use crate::error::{cat, Error, Result};
use crate::json::At;

/// JSON blobs (index, manifests, configs) larger than this are refused.
pub const JSON_MAX: u64 = 4 << 20;

/// What the runtime reads: the image's files and how to name them in errors.
pub struct Image {
    pub shown: String,
    pub files: Files,
}

impl Image {
    pub fn fail(&self, what: &str) -> Error {
        Error::new(cat(&["image ", &self.shown, ": ", what]))
    }

    /// `blobs/sha256/<hex>` for a well-formed sha256 digest.
    pub fn blob_path(&self, digest: &str) -> Result<String> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| {
                h.len() == 64
                    && h.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            })
            .ok_or_else(|| {
                self.fail(&cat(&[
                    "unsupported or malformed digest \"",
                    digest,
                    "\" (sha256 expected)",
                ]))
            })?;
        Ok(cat(&["blobs/sha256/", hex]))
    }

    /// Check the blob `digest` of `size` bytes (`what` it is, for messages) by reading it whole,
    /// in small pieces that are not kept.
    pub fn verify(&self, what: &str, digest: &str, size: u64) -> Result<()> {
        let path = self.blob_path(digest)?;
        self.hash_file(what, &path, Some(digest), Some(size), false)
            .map(|_| ())
    }

    /// Hash the file `path`; check it against `digest` and `size` when given. Returns its bytes
    /// when it is small enough to be JSON, else an empty vector.
    pub fn verify_file(
        &self,
        what: &str,
        path: &str,
        digest: Option<&str>,
        size: Option<u64>,
    ) -> Result<Vec<u8>> {
        self.hash_file(what, path, digest, size, true)
    }

    /// `verify_file`, returning the bytes only if `json` (and they are small enough for JSON).
    fn hash_file(
        &self,
        what: &str,
        path: &str,
        digest: Option<&str>,
        size: Option<u64>,
        json: bool,
    ) -> Result<Vec<u8>> {
        let named = cat(&[what, " (", digest.unwrap_or(path), ")"]);
        let Some((mut r, len)) = self.files.open(path)? else {
            return Err(self.fail(&cat(&["blob ", &named, " is missing (no ", path, ")"])));
        };
        if let Some(size) = size {
            if len != size {
                return Err(self.fail(&cat(&[
                    "blob ",
                    &named,
                    " has ",
                    &len.to_string(),
                    " bytes, the descriptor says ",
                    &size.to_string(),
                ])));
            }
        }
        let keep = json && len <= JSON_MAX;
        let mut data = Vec::new();
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 16 * 1024];
        let mut total = 0u64;
        loop {
            let n = r
                .read(&mut buf)
                .map_err(|e| self.fail(&cat(&["reading blob ", &named, ": ", &e.to_string()])))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            if keep {
                data.extend_from_slice(&buf[..n]);
            }
            total += n as u64;
        }
        if total != len {
            return Err(self.fail(&cat(&["blob ", &named, " is truncated"])));
        }
        if let Some(digest) = digest {
            let got = hash.finish();
            if got != digest {
                return Err(self.fail(&cat(&[
                    "blob ",
                    &named,
                    " does not match its digest (its content hashes to ",
                    &got,
                    ")",
                ])));
            }
        }
        Ok(data)
    }

    /// A JSON blob by descriptor, verified, parsed as `T`.
    pub fn json<T>(
        &self,
        what: &str,
        digest: &str,
        size: u64,
        read: fn(&At) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let data = self.json_bytes(what, digest, size)?;
        self.parse(what, digest, &data, read)
    }

    /// The verified bytes of a JSON blob (apart from `json` so that each type parsed adds only
    /// its parsing to the binary).
    #[inline(never)]
    fn json_bytes(&self, what: &str, digest: &str, size: u64) -> Result<Vec<u8>> {
        if size > JSON_MAX {
            return Err(self.fail(&cat(&[
                what,
                " (",
                digest,
                ") is too large: ",
                &size.to_string(),
                " bytes",
            ])));
        }
        let path = self.blob_path(digest)?;
        self.verify_file(what, &path, Some(digest), Some(size))
    }

    pub fn parse<T>(
        &self,
        what: &str,
        name: &str,
        data: &[u8],
        read: fn(&At) -> std::result::Result<T, String>,
    ) -> Result<T> {
        crate::json::read(data, read).map_err(|e| self.invalid(what, name, &e))
    }

    #[inline(never)]
    fn invalid(&self, what: &str, name: &str, e: &str) -> Error {
        self.fail(&cat(&[what, " (", name, ") is not valid: ", e]))
    }
}
