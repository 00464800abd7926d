//! Reading an image's files and blobs: opened once, the size checked against the descriptor
//! before any byte is used, JSON documents hashed while read and parsed through serde (errors
//! name the field), every error naming the image and the blob.

use std::io::Read;

use oci_spec::image::{Digest, DigestAlgorithm};
use serde::de::DeserializeOwned;

use super::meter::Meter;
use super::source::{Blob, Files, Found};
use crate::error::{Error, Result};

/// JSON blobs (index, manifests, configs) larger than this are refused.
pub const JSON_MAX: u64 = 4 << 20;

/// What the runtime reads: the image's files and how to name them in errors.
pub struct Image {
    pub shown: String,
    pub files: Files,
}

/// `data` as a `T`; the error names the field that is wrong (`layers[0].digest: …`).
pub fn from_json<T: DeserializeOwned>(data: &[u8]) -> std::result::Result<T, String> {
    crate::document::parse(data).map_err(|e| e.msg)
}

impl Image {
    pub fn fail(&self, what: &str) -> Error {
        Error::new(format!("image {}: {what}", self.shown))
    }

    /// `blobs/sha256/<hex>` for a sha256 digest.
    pub fn blob_path(&self, digest: &Digest) -> Result<String> {
        if *digest.algorithm() != DigestAlgorithm::Sha256 {
            return Err(self.fail(&format!(
                "unsupported or malformed digest \"{digest}\" (sha256 expected)"
            )));
        }
        Ok(format!("blobs/sha256/{}", digest.digest()))
    }

    /// The file `path`, `None` when it does not exist.
    pub fn open(&self, path: &str) -> Result<Option<Blob>> {
        match self.files.open(path) {
            Ok(Found::Blob(b)) => Ok(Some(b)),
            Ok(Found::Missing) => Ok(None),
            Ok(Found::NotRegular) => Err(self.fail(&format!(
                "{path} is not a regular file (a FIFO, device, directory or symlink): refused"
            ))),
            Err(e) => Err(Error::io(
                &e,
                format!("image {}: opening {path}", self.shown),
            )),
        }
    }

    /// The blob `digest` of `size` bytes (`what` it is, for messages), opened and its size
    /// checked; its content is checked while it is read.
    pub fn blob(&self, what: &str, digest: &Digest, size: u64) -> Result<Blob> {
        let path = self.blob_path(digest)?;
        let named = format!("{what} ({digest})");
        let Some(blob) = self.open(&path)? else {
            return Err(self.fail(&format!("blob {named} is missing (no {path})")));
        };
        if blob.size() != size {
            return Err(self.fail(&format!(
                "blob {named} has {} bytes, the descriptor says {size}",
                blob.size()
            )));
        }
        Ok(blob)
    }

    /// A JSON blob by descriptor, verified, parsed as `T`.
    pub fn json<T: DeserializeOwned>(&self, what: &str, digest: &Digest, size: u64) -> Result<T> {
        if size > JSON_MAX {
            return Err(self.fail(&format!("{what} ({digest}) is too large: {size} bytes")));
        }
        let blob = self.blob(what, digest, size)?;
        let data = self.read(what, blob, digest.as_ref(), Some(digest.as_ref()))?;
        self.parse(what, digest.as_ref(), &data)
    }

    /// A JSON file named by its path (docker-archive files, `index.json`): `None` when missing.
    /// With a `digest`, its content must match it.
    pub fn json_file<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        digest: Option<&str>,
    ) -> Result<Option<T>> {
        let named = digest.unwrap_or(path);
        let Some(blob) = self.open(path)? else {
            return Ok(None);
        };
        if blob.size() > JSON_MAX {
            return Err(self.fail(&format!(
                "{what} ({named}) is too large: {} bytes",
                blob.size()
            )));
        }
        let data = self.read(what, blob, named, digest)?;
        self.parse(what, named, &data).map(Some)
    }

    /// All of `blob`, hashed on the way and checked against `digest` when given.
    fn read(&self, what: &str, blob: Blob, named: &str, digest: Option<&str>) -> Result<Vec<u8>> {
        let size = blob.size();
        let mut meter = Meter::new(blob, JSON_MAX);
        let mut data = Vec::new();
        meter
            .read_to_end(&mut data)
            .map_err(|e| self.fail(&format!("reading blob {what} ({named}): {e}")))?;
        if meter.count != size {
            return Err(self.fail(&format!("blob {what} ({named}) is truncated")));
        }
        if let Some(want) = digest {
            let got = meter.digest();
            if got != want {
                return Err(self.fail(&format!(
                    "blob {what} ({named}) does not match its digest (its content hashes to {got})"
                )));
            }
        }
        Ok(data)
    }

    /// `data` as a `T`, or an error naming `what` and the field that is wrong.
    pub fn parse<T: DeserializeOwned>(&self, what: &str, named: &str, data: &[u8]) -> Result<T> {
        from_json(data).map_err(|e| self.fail(&format!("{what} ({named}) is not valid: {e}")))
    }
}
