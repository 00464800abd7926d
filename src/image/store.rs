//! The local image store: one OCI image layout (default `/var/lib/hybrid-runtime/images` under
//! the host root; `HYBRID_IMAGES` or `images` in the config file name another) whose images are
//! named by their `org.opencontainers.image.ref.name`, as `skopeo copy … oci:STORE:NAME` writes.

use std::path::PathBuf;

use super::blob::Image;
use super::oci::{self, Manifest, REF_NAME};
use super::source::Files;
use super::spec::ImageConfig;
use crate::cli::Global;
use crate::error::{cat, Result};

pub const DEFAULT_DIR: &str = "/var/lib/hybrid-runtime/images";

pub fn dir(g: &Global) -> Result<PathBuf> {
    let given = std::env::var("HYBRID_IMAGES")
        .ok()
        .filter(|v| !v.is_empty())
        .or(crate::config::load()?.images);
    Ok(match given {
        Some(d) => PathBuf::from(d),
        None => g.host.path(DEFAULT_DIR),
    })
}

/// One image of the store, as `images` shows it.
pub struct Listed {
    pub name: String,
    pub digest: String,
    pub size: u64,
    pub board: String,
    pub core: String,
}

const BOARD_KEYS: &[&str] = &["io.hybrid-runtime.board", "board"];
const CORE_KEYS: &[&str] = &["io.hybrid-runtime.core", "remoteproc.name", "mcu"];

/// Every manifest the store's index names (an unreadable one is listed with what is known).
pub fn list(g: &Global) -> Result<(PathBuf, Vec<Listed>)> {
    let store = dir(g)?;
    if !store.join("index.json").is_file() {
        return Ok((store, Vec::new()));
    }
    let img = Image {
        shown: store.to_string_lossy().into_owned(),
        files: Files::Dir(store.clone()),
    };
    let index = oci::index(&img)?;
    let mut out = Vec::new();
    for d in &index.manifests {
        let mut item = Listed {
            name: d
                .annotations
                .get(REF_NAME)
                .cloned()
                .unwrap_or_else(|| String::from("<none>")),
            digest: d.digest.clone(),
            size: d.size,
            board: String::new(),
            core: String::new(),
        };
        // A multi-platform image: the manifest this board would run.
        let mut d = d.clone();
        if oci::INDEX_TYPES.contains(&d.media_type.as_str()) {
            if let Ok(nested) = img.json("image index", &d.digest, d.size, oci::Index::read) {
                if let Ok(picked) = oci::pick_platform(&img, &nested.manifests) {
                    d = picked;
                }
            }
        }
        if let Ok(m) = img.json("manifest", &d.digest, d.size, Manifest::read) {
            item.size += m.config.size + m.layers.iter().map(|l| l.size).sum::<u64>();
            let mut labels = m.annotations.clone();
            if let Ok(c) = img.json("config", &m.config.digest, m.config.size, ImageConfig::read) {
                if let Some(l) = c.config.and_then(|e| e.labels) {
                    for (k, v) in l {
                        labels.entry(k).or_insert(v);
                    }
                }
            }
            let first = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| labels.get(*k).cloned())
                    .unwrap_or_default()
            };
            item.board = first(BOARD_KEYS);
            item.core = first(CORE_KEYS);
        } else {
            item.board = String::from("?");
            item.core = String::from("? (manifest unreadable)");
        }
        out.push(item);
    }
    Ok((store, out))
}

/// `4.0M`, `812K`, `96B`.
pub fn human(size: u64) -> String {
    let (v, unit) = if size >= 1 << 20 {
        (size * 10 / (1 << 20), "M")
    } else if size >= 1 << 10 {
        (size * 10 / (1 << 10), "K")
    } else {
        return cat(&[&size.to_string(), "B"]);
    };
    cat(&[&(v / 10).to_string(), ".", &(v % 10).to_string(), unit])
}
