//! The image as the runtime uses it (config, layers, annotations) and the OCI bundle config
//! synthesised from it: Entrypoint+Cmd → process.args, Env, labels and manifest annotations →
//! annotations, so that core and board selection work as for any bundle.

use std::collections::BTreeMap;

use oci_spec::image::{ImageConfiguration, MediaType};

use super::source::Blob;
use crate::error::{Error, Result};
use crate::oci::bundle::{caller_env, root_at, Config, Process};

/// How a layer blob is compressed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    /// Detected from the first bytes (docker-archive layers carry no media type).
    Sniff,
}

/// Docker's layer media types (OCI's are `MediaType` variants).
const DOCKER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
const DOCKER_GZIP: &[&str] = &[
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

impl Compression {
    pub fn of_media_type(t: &MediaType) -> std::result::Result<Compression, String> {
        match t {
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => Ok(Compression::None),
            MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => {
                Ok(Compression::Gzip)
            }
            MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => {
                Ok(Compression::Zstd)
            }
            MediaType::Other(t) if t == DOCKER_TAR => Ok(Compression::None),
            MediaType::Other(t) if DOCKER_GZIP.contains(&t.as_str()) => Ok(Compression::Gzip),
            other => Err(format!("unknown media type \"{other}\"")),
        }
    }
}

/// One layer to apply: its blob, opened, how to name it, how to read it and check it.
pub struct Layer {
    pub blob: Blob,
    pub what: String,
    pub compression: Compression,
    /// `sha256:…` of the blob as stored (an OCI descriptor's digest; its size is the blob's).
    pub digest: Option<String>,
    /// `sha256:…` of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: Option<String>,
}

/// The manifest picked from an image, its config read and its layers opened.
pub struct Chosen {
    pub digest: String,
    pub config: ImageConfiguration,
    pub config_digest: String,
    pub layers: Vec<Layer>,
    pub annotations: BTreeMap<String, String>,
}

/// Annotations the runtime adds: where the container's image came from.
pub const IMAGE_KEY: &str = "io.hybrid-runtime.image";
pub const DIGEST_KEY: &str = "io.hybrid-runtime.image.digest";

impl Chosen {
    /// `process.args`; an error (naming the image and its config) when there are none.
    pub fn args(&self, shown: &str) -> Result<Vec<String>> {
        let exec = self.config.config().as_ref();
        let mut args: Vec<String> = exec
            .and_then(|e| e.entrypoint().clone())
            .unwrap_or_default();
        args.extend(exec.and_then(|e| e.cmd().clone()).unwrap_or_default());
        if args.first().is_none_or(|a| a.is_empty()) {
            return Err(Error::new(format!(
                "image {shown}: its config ({}) has no Entrypoint or Cmd: the image must name \
                 its firmware file (ENTRYPOINT [\"/firmware.elf\"] in a Dockerfile)",
                self.config_digest
            )));
        }
        Ok(args)
    }

    /// The bundle config (`given`: IMAGE as the user wrote it): root `rootfs` next to it, the
    /// caller's selector variables after the image's Env (so they win), labels then manifest
    /// annotations as annotations.
    pub fn bundle_config(&self, shown: &str, given: &str) -> Result<Config> {
        let args = self.args(shown)?;
        let exec = self.config.config().as_ref();
        let mut env = exec.and_then(|e| e.env().clone()).unwrap_or_default();
        env.extend(caller_env());
        let mut annotations = labels(&self.config);
        annotations.extend(self.annotations.clone());
        annotations.insert(String::from(IMAGE_KEY), String::from(given));
        annotations.insert(String::from(DIGEST_KEY), self.digest.clone());
        Ok(Config {
            oci_version: String::from("1.0.2"),
            root: Some(root_at("rootfs")),
            process: Some(Process {
                args,
                env,
                cwd: exec
                    .and_then(|e| e.working_dir().clone())
                    .filter(|w| !w.is_empty())
                    .unwrap_or_else(|| String::from("/")),
                terminal: false,
            }),
            annotations,
            ..Config::default()
        })
    }
}

/// The labels of an image config, sorted.
pub fn labels(config: &ImageConfiguration) -> BTreeMap<String, String> {
    let labels = config.config().as_ref().and_then(|e| e.labels().as_ref());
    labels
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}
