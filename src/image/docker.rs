//! docker-archive tars (as `docker save` writes them): `manifest.json` → config (its file name is
//! its digest) and layer tars, each checked against the config's `rootfs.diff_ids`.

use super::blob::{Image, JSON_MAX};
use super::source::clean;
use super::spec::{Chosen, Compression, ImageConfig, Layer};
use crate::error::{cat, Result};
use crate::json::At;

struct Entry {
    config: String,
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// `manifest.json`: a list of entries.
fn entries(at: &At) -> std::result::Result<Vec<Entry>, String> {
    at.each(|e| {
        Ok(Entry {
            config: e.need("Config")?.string()?,
            repo_tags: e.get("RepoTags")?.opt_strings()?,
            layers: e.get("Layers")?.strings()?,
        })
    })
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
    let data = img.verify_file("manifest.json", "manifest.json", None, None)?;
    if data.is_empty() {
        return Err(img.fail("manifest.json is empty or too large"));
    }
    let entries = img.parse("manifest.json", "manifest.json", &data, entries)?;
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
            return Err(img.fail(&cat(&[
                "no image tagged ",
                r,
                " in it (tags: ",
                &tags(),
                ")",
            ])))
        }
        (0, None) => return Err(img.fail("manifest.json lists no image")),
        _ => {
            return Err(img.fail(&cat(&[
                "it holds several images (",
                &tags(),
                "): name one as IMAGE:TAG",
            ])))
        }
    };
    let config_path = clean(&entry.config)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            img.fail(&cat(&[
                "bad config path ",
                &entry.config,
                " in manifest.json",
            ]))
        })?;
    // `<hex>.json` (docker save) or `blobs/sha256/<hex>` (newer docker): the name is the digest.
    let hex = config_path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_end_matches(".json");
    let digest = (hex.len() == 64).then(|| cat(&["sha256:", hex]));
    let data = img.verify_file("config", &config_path, digest.as_deref(), None)?;
    if data.is_empty() {
        return Err(img.fail(&cat(&[
            "config ",
            &config_path,
            " is empty or larger than ",
            &JSON_MAX.to_string(),
            " bytes",
        ])));
    }
    let config = img.parse("config", &config_path, &data, ImageConfig::read)?;
    if entry.layers.is_empty() {
        return Err(img.fail("manifest.json lists no layers"));
    }
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != entry.layers.len() {
        return Err(img.fail(&cat(&[
            "config ",
            &config_path,
            " lists ",
            &diff_ids.len().to_string(),
            " layer digests for ",
            &entry.layers.len().to_string(),
            " layers",
        ])));
    }
    let mut layers = Vec::new();
    for (i, (l, diff_id)) in entry.layers.iter().zip(diff_ids).enumerate() {
        let path = clean(l)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| img.fail(&cat(&["bad layer path ", l, " in manifest.json"])))?;
        if !img.files.has(&path) {
            return Err(img.fail(&cat(&["layer ", &path, " is missing"])));
        }
        layers.push(Layer {
            what: cat(&["layer ", &(i + 1).to_string(), " (", &path, ")"]),
            path,
            compression: Compression::Sniff,
            diff_id: Some(diff_id),
        });
    }
    Ok(Chosen {
        digest: digest.unwrap_or_else(|| config_path.clone()),
        config,
        config_digest: config_path,
        layers,
        annotations: Default::default(),
    })
}
