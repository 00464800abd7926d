//! `create <IMAGE> <ID>` for container images: IMAGE resolved (firmware file → OCI layout →
//! archive → name in the local store), the manifest for this board chosen, its JSON blobs
//! verified as they are read, the layers unpacked into the container's own state directory (each
//! checked against its digests as it streams), and a bundle synthesised from the image config.

pub(crate) mod blob;
pub(crate) mod decompress;
pub(crate) mod docker;
pub(crate) mod entry;
mod layer;
pub(crate) mod meter;
pub(crate) mod oci;
mod open;
pub(crate) mod reference;
pub(crate) mod source;
pub(crate) mod spec;
pub mod store;
mod unpack;

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use crate::cli::Global;
use crate::error::{Error, Result};
use crate::oci::bundle::Bundle;
use blob::Image;
use reference::Form;
use spec::{Chosen, Layer};

/// Default cap on what an image may unpack to: firmware images are small.
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;

/// The cap on unpacked bytes: `HYBRID_IMAGE_MAX_SIZE`, else `image_max_size` in the config
/// file, else the default. Accepts a number of bytes with an optional K, M or G suffix.
pub fn max_size(g: &Global) -> Result<u64> {
    let given = std::env::var("HYBRID_IMAGE_MAX_SIZE")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| g.image_max_size.clone());
    let Some(text) = given else {
        return Ok(DEFAULT_MAX_SIZE);
    };
    let t = text.trim();
    let (num, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| {
            Error::new(format!(
                "invalid image size limit \"{text}\": give bytes, optionally with K, M or G"
            ))
        })
}

/// What a container is created from, checked without changing anything.
pub enum Resolved {
    /// A bundle: given, or made around a firmware file.
    Bundle(Box<Bundle>),
    /// An image whose manifest and config were read and checked; its layers are unpacked by
    /// `unpack_into`.
    Image(Box<Prepared>),
}

/// An image ready to unpack.
pub struct Prepared {
    img: Image,
    chosen: Chosen,
    config: crate::oci::bundle::Config,
    cap: u64,
}

/// Resolve IMAGE (`state_dir`: where the container will live) and read its manifest and
/// config.
pub fn resolve(g: &Global, image: &Path, state_dir: &Path) -> Result<Resolved> {
    let form = reference::resolve(g, image)?;
    let (img, reference, docker) = match form {
        Form::Firmware => {
            return Ok(Resolved::Bundle(Box::new(Bundle::for_image(
                image, state_dir,
            )?)))
        }
        Form::Image {
            image,
            reference,
            docker,
        } => (image, reference, docker),
    };
    let chosen = choose(&img, reference.as_deref(), docker)?;
    let config = chosen.bundle_config(&img.shown, &image.to_string_lossy())?;
    Ok(Resolved::Image(Box::new(Prepared {
        img,
        chosen,
        config,
        cap: max_size(g)?,
    })))
}

impl Prepared {
    /// Unpack the layers into `state_dir/rootfs` (`state_dir` is the container's new, empty
    /// directory, removed by the caller on failure); the bundle is `state_dir` itself.
    pub fn unpack_into(self, state_dir: &Path) -> Result<Bundle> {
        let rootfs = state_dir.join("rootfs");
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&rootfs)
            .map_err(|e| Error::io(&e, format!("creating {}", rootfs.display())))?;
        unpack(&self.img, self.chosen.layers, &rootfs, self.cap)?;
        Ok(Bundle {
            dir: state_dir.to_path_buf(),
            config: self.config,
        })
    }
}

/// The manifest to run from `img` (a docker-archive or an OCI layout).
pub(crate) fn choose(img: &Image, reference: Option<&str>, docker: bool) -> Result<Chosen> {
    if docker {
        docker::choose(img, reference)
    } else {
        oci::choose(img, reference)
    }
}

/// Apply `layers` in order to the empty directory `rootfs`, unpacking at most `cap` bytes.
pub(crate) fn unpack(img: &Image, layers: Vec<Layer>, rootfs: &Path, cap: u64) -> Result<()> {
    let mut unpacker = unpack::Unpacker::new(rootfs, cap);
    for l in layers {
        layer::apply(&mut unpacker, l).map_err(|e| img.fail(&e))?;
    }
    Ok(())
}
