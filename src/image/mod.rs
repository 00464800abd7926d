//! `create <IMAGE> <ID>` for container images: IMAGE resolved (firmware file → OCI layout →
//! archive → name in the local store), the manifest for this board chosen, every blob verified,
//! the layers unpacked into the container's own state directory, and a bundle synthesised from
//! the image config.

mod blob;
mod docker;
pub(crate) mod gzip;
pub(crate) mod oci;
mod reference;
mod sha256;
pub(crate) mod source;
pub(crate) mod spec;
pub mod store;
pub(crate) mod tar;
mod unpack;

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::cli::Global;
use crate::error::{cat, Error, Result};
use crate::oci::bundle::Bundle;
use reference::Form;

/// Default cap on what an image may unpack to: firmware images are small.
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;

/// The container directory made for an unpacked image: removed when dropped, unless kept.
pub struct Unpacked {
    dir: PathBuf,
    kept: bool,
}

impl Unpacked {
    /// The container was created: its directory stays (`delete` removes it).
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The cap on unpacked bytes: `HYBRID_IMAGE_MAX_SIZE`, else `image_max_size` in the config
/// file, else the default. Accepts a number of bytes with an optional K, M or G suffix.
pub fn max_size() -> Result<u64> {
    let given = std::env::var("HYBRID_IMAGE_MAX_SIZE")
        .ok()
        .filter(|v| !v.is_empty())
        .or(crate::config::load()?.image_max_size);
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
            Error::new(cat(&[
                "invalid image size limit \"",
                &text,
                "\": give bytes, optionally with K, M or G",
            ]))
        })
}

/// The bundle for `create <IMAGE> <ID>`. A firmware file gives a bundle around it (no
/// directory made); an image is unpacked into `state_dir/rootfs`, `state_dir` created here
/// and removed again unless the caller keeps the returned guard.
pub fn bundle(g: &Global, image: &Path, state_dir: &Path) -> Result<(Bundle, Option<Unpacked>)> {
    let form = reference::resolve(g, image)?;
    let (img, reference, docker) = match form {
        Form::Firmware => return Ok((Bundle::for_image(image, state_dir)?, None)),
        Form::Image {
            image,
            reference,
            docker,
        } => (image, reference, docker),
    };
    let chosen = if docker {
        docker::choose(&img, reference.as_deref())?
    } else {
        oci::choose(&img, reference.as_deref())?
    };
    let config = chosen.bundle_config(&img.shown, &image.to_string_lossy())?;
    let cap = max_size()?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&g.root)
        .map_err(|e| {
            Error::io(
                &e,
                cat(&["creating state root ", &g.root.to_string_lossy()]),
            )
        })?;
    if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(state_dir) {
        let id = state_dir.file_name().unwrap_or_default().to_string_lossy();
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(Error::new(cat(&["container ", &id, " already exists"])));
        }
        return Err(Error::io(
            &e,
            cat(&["creating ", &state_dir.to_string_lossy()]),
        ));
    }
    let guard = Unpacked {
        dir: state_dir.to_path_buf(),
        kept: false,
    };
    let rootfs = state_dir.join("rootfs");
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(&rootfs)
        .map_err(|e| Error::io(&e, cat(&["creating ", &rootfs.to_string_lossy()])))?;
    let mut unpacker = unpack::Unpacker::new(&rootfs, cap);
    for layer in &chosen.layers {
        let Some((blob, _)) = img.files.open(&layer.path)? else {
            return Err(img.fail(&cat(&["blob ", &layer.what, " is missing"])));
        };
        unpacker
            .layer(
                blob,
                layer.compression,
                layer.diff_id.as_deref(),
                &layer.what,
            )
            .map_err(|e| img.fail(&e.msg))?;
    }
    let bundle = Bundle {
        dir: state_dir.to_path_buf(),
        config,
    };
    Ok((bundle, Some(guard)))
}
