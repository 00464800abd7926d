//! The image as the runtime uses it (config, layers, annotations) and the OCI bundle config
//! synthesised from it: Entrypoint+Cmd → process.args, Env, labels and manifest annotations →
//! annotations, so that core and board selection work as for any bundle.

use std::collections::BTreeMap;

use crate::error::{cat, Result};
use crate::json::At;
use crate::oci::bundle::{caller_env, root_at, Config, Process};

/// How a layer blob is compressed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    /// Detected from the first bytes (docker-archive layers carry no media type).
    Sniff,
}

impl Compression {
    pub fn of_media_type(t: &str) -> std::result::Result<Compression, String> {
        let base = t.replace(".nondistributable", "").replace(".foreign", "");
        match base.as_str() {
            "application/vnd.oci.image.layer.v1.tar" => Ok(Compression::None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip" => Ok(Compression::Gzip),
            "application/vnd.oci.image.layer.v1.tar+zstd" => Err(String::from(
                "zstd-compressed layers are not supported: build the image with gzip or \
                 uncompressed layers (e.g. buildx --output type=oci,compression=gzip)",
            )),
            _ => Err(cat(&["unknown media type \"", t, "\""])),
        }
    }
}

/// One layer to apply: its file in the image, how to name it, how to read it.
pub struct Layer {
    pub path: String,
    pub what: String,
    pub compression: Compression,
    /// The sha256 of the uncompressed tar, checked while unpacking (docker-archive).
    pub diff_id: Option<String>,
}

#[derive(Default)]
pub struct ImageConfig {
    pub config: Option<Exec>,
    pub rootfs: Option<RootFs>,
}

#[derive(Default)]
pub struct RootFs {
    pub diff_ids: Vec<String>,
}

#[derive(Default)]
pub struct Exec {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
}

impl ImageConfig {
    pub fn read(at: &At) -> std::result::Result<ImageConfig, String> {
        let exec = at.get("config")?;
        let rootfs = at.get("rootfs")?;
        Ok(ImageConfig {
            config: match exec.present() {
                true => Some(Exec {
                    entrypoint: exec.get("Entrypoint")?.opt_strings()?,
                    cmd: exec.get("Cmd")?.opt_strings()?,
                    env: exec.get("Env")?.opt_strings()?,
                    working_dir: exec.get("WorkingDir")?.opt_string()?,
                    labels: exec.get("Labels")?.opt_map()?,
                }),
                false => None,
            },
            rootfs: match rootfs.present() {
                true => Some(RootFs {
                    diff_ids: rootfs.get("diff_ids")?.strings()?,
                }),
                false => None,
            },
        })
    }
}

/// The manifest picked from an image, its config read and its layers verified.
pub struct Chosen {
    pub digest: String,
    pub config: ImageConfig,
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
        let exec = self.config.config.as_ref();
        let mut args: Vec<String> = exec.and_then(|e| e.entrypoint.clone()).unwrap_or_default();
        args.extend(exec.and_then(|e| e.cmd.clone()).unwrap_or_default());
        if args.first().map_or(true, |a| a.is_empty()) {
            return Err(crate::error::Error::new(cat(&[
                "image ",
                shown,
                ": its config (",
                &self.config_digest,
                ") has no Entrypoint or Cmd: the image must name its firmware file \
                 (ENTRYPOINT [\"/firmware.elf\"] in a Dockerfile)",
            ])));
        }
        Ok(args)
    }

    /// The bundle config (`given`: IMAGE as the user wrote it): root `rootfs` next to it, the caller's selector variables after the
    /// image's Env (so they win), labels then manifest annotations as annotations.
    pub fn bundle_config(&self, shown: &str, given: &str) -> Result<Config> {
        let args = self.args(shown)?;
        let exec = self.config.config.as_ref();
        let mut env = exec.and_then(|e| e.env.clone()).unwrap_or_default();
        env.extend(caller_env());
        let mut annotations = exec.and_then(|e| e.labels.clone()).unwrap_or_default();
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
                    .and_then(|e| e.working_dir.clone())
                    .filter(|w| !w.is_empty())
                    .unwrap_or_else(|| String::from("/")),
                terminal: false,
            }),
            annotations,
            ..Config::default()
        })
    }
}
