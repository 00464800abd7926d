//! The local image store: one OCI image layout (default `/var/lib/hybrid-runtime/images` under
//! the host root; `HYBRID_IMAGES` or `images` in the config file name another) whose images are
//! named by their `org.opencontainers.image.ref.name`, as `skopeo copy … oci:STORE:NAME` writes.

use std::path::PathBuf;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

use super::blob::Image;
use super::oci;
use super::source::Files;
use super::spec::labels;
use crate::cli::Global;
use crate::error::Result;

pub const DEFAULT_DIR: &str = "/var/lib/hybrid-runtime/images";

pub fn dir(g: &Global) -> PathBuf {
    let given = std::env::var("HYBRID_IMAGES")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| g.images.clone());
    match given {
        Some(d) => PathBuf::from(d),
        None => g.host.path(DEFAULT_DIR),
    }
}

/// One image of the store, as `images` shows it; `digest` is a validated digest (ASCII).
pub struct Listed {
    pub name: String,
    pub digest: String,
    pub size: u64,
    pub board: String,
    pub core: String,
}

const BOARD_KEYS: &[&str] = &["io.hybrid-runtime.board", "board"];
const CORE_KEYS: &[&str] = &["io.hybrid-runtime.core", "remoteproc.name", "mcu"];

/// Every manifest the store's index names (one that cannot be read is listed with what is
/// known). An `index.json` that is not valid is an error naming the entry and field.
pub fn list(g: &Global) -> Result<(PathBuf, Vec<Listed>)> {
    let store = dir(g);
    if !store.join("index.json").is_file() {
        return Ok((store, Vec::new()));
    }
    let img = Image {
        shown: store.to_string_lossy().into_owned(),
        files: Files::Dir(store.clone()),
    };
    let index = oci::index(&img)?;
    let out = index.manifests().iter().map(|d| listed(&img, d)).collect();
    Ok((store, out))
}

fn listed(img: &Image, d: &Descriptor) -> Listed {
    let mut item = Listed {
        name: oci::ref_name(d).unwrap_or("<none>").to_string(),
        digest: d.digest().to_string(),
        size: d.size(),
        board: String::new(),
        core: String::new(),
    };
    // A multi-platform image: the manifest this board would run.
    let mut d = d.clone();
    if oci::is_index(d.media_type()) {
        if let Ok(nested) = img.json::<ImageIndex>("image index", d.digest(), d.size()) {
            if let Ok(picked) = oci::pick_platform(img, nested.manifests()) {
                d = picked;
            }
        }
    }
    let Ok(m) = img.json::<ImageManifest>("manifest", d.digest(), d.size()) else {
        item.board = String::from("?");
        item.core = String::from("? (manifest unreadable)");
        return item;
    };
    let blobs = std::iter::once(m.config()).chain(m.layers());
    item.size = blobs.fold(item.size, |sum, b| sum.saturating_add(b.size()));
    let mut found = m.annotations().clone().unwrap_or_default();
    let c = m.config();
    if let Ok(config) = img.json::<ImageConfiguration>("config", c.digest(), c.size()) {
        for (k, v) in labels(&config) {
            found.entry(k).or_insert(v);
        }
    }
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| found.get(*k).cloned())
            .unwrap_or_default()
    };
    item.board = first(BOARD_KEYS);
    item.core = first(CORE_KEYS);
    item
}

/// `4.0M`, `812K`, `96B`.
pub fn human(size: u64) -> String {
    let (v, unit) = if size >= 1 << 20 {
        (size * 10 / (1 << 20), "M")
    } else if size >= 1 << 10 {
        (size * 10 / (1 << 10), "K")
    } else {
        return format!("{size}B");
    };
    format!("{}.{}{unit}", v / 10, v % 10)
}
