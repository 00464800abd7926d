//! docker-archive tars (as `docker save` writes them): `manifest.json` → config (its file name is
//! its digest) and layer tars (uncompressed, gzip or zstd, told by their first bytes), each
//! checked against the config's `rootfs.diff_ids` while it is unpacked.

use oci_spec::image::ImageConfiguration;
use serde::Deserialize;

use super::blob::Image;
use super::oci::diff_ids;
use super::source::clean;
use super::spec::{Chosen, Compression, Layer};
use crate::error::Result;

/// One image of `manifest.json` (a list of them).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub layers: Vec<String>,
}

fn tagged(e: &Entry, reference: &str) -> bool {
    let tags = e.repo_tags.as_deref().unwrap_or(&[]);
    tags.iter().any(|t| {
        t == reference
            || t.strip_suffix(":latest") == Some(reference)
            || t.strip_prefix("docker.io/library/") == Some(reference)
    })
}

pub fn choose(img: &Image, reference: Option<&str>) -> Result<Chosen> {
    let Some(entries) = img.json_file::<Vec<Entry>>("manifest.json", "manifest.json", None)? else {
        return Err(img.fail("manifest.json is missing"));
    };
    let mut picked: Vec<&Entry> = match reference {
        Some(r) => entries.iter().filter(|e| tagged(e, r)).collect(),
        None => entries.iter().collect(),
    };
    let tags = || {
        let all: Vec<&str> = entries
            .iter()
            .flat_map(|e| e.repo_tags.iter().flatten().map(String::as_str))
            .collect();
        all.join(", ")
    };
    let entry = match (picked.len(), reference) {
        (1, _) => picked.remove(0),
        (0, Some(r)) => {
            return Err(img.fail(&format!("no image tagged {r} in it (tags: {})", tags())))
        }
        (0, None) => return Err(img.fail("manifest.json lists no image")),
        _ => {
            return Err(img.fail(&format!(
                "it holds several images ({}): name one as IMAGE:TAG",
                tags()
            )))
        }
    };
    let config_path = clean(&entry.config)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            img.fail(&format!(
                "bad config path {} in manifest.json",
                entry.config
            ))
        })?;
    // `<hex>.json` (docker save) or `blobs/sha256/<hex>` (newer docker): the name is the digest.
    let hex = config_path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_end_matches(".json");
    let digest = (hex.len() == 64).then(|| format!("sha256:{hex}"));
    let named = digest.clone().unwrap_or_else(|| config_path.clone());
    let Some(config) =
        img.json_file::<ImageConfiguration>("config", &config_path, digest.as_deref())?
    else {
        return Err(img.fail(&format!(
            "blob config ({named}) is missing (no {config_path})"
        )));
    };
    if entry.layers.is_empty() {
        return Err(img.fail("manifest.json lists no layers"));
    }
    let diff_ids = diff_ids(img, &config, &config_path, entry.layers.len())?;
    let mut layers = Vec::new();
    for (i, (l, diff_id)) in entry.layers.iter().zip(diff_ids).enumerate() {
        let path = clean(l)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| img.fail(&format!("bad layer path {l} in manifest.json")))?;
        let what = format!("layer {} ({path})", i + 1);
        let Some(blob) = img.open(&path)? else {
            return Err(img.fail(&format!("layer {path} is missing")));
        };
        layers.push(Layer {
            blob,
            what,
            compression: Compression::Sniff,
            digest: None,
            diff_id: Some(diff_id),
        });
    }
    Ok(Chosen {
        digest: named,
        config,
        config_digest: config_path,
        layers,
        annotations: Default::default(),
    })
}
