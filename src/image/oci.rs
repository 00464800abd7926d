//! OCI image layouts (a directory, or the same tarred as an oci-archive): `index.json` →
//! manifest for this board's platform → config and layers, read as oci-spec's types; every blob
//! verified against its descriptor (JSON blobs as they are read, layers while they are unpacked).

use std::collections::BTreeMap;

use oci_spec::image::{
    Arch, Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, OciLayout, Os,
    Platform,
};

use super::blob::Image;
use super::spec::{Chosen, Compression, Layer};
use crate::error::{Error, Result};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// An image index (OCI or Docker's manifest list).
pub fn is_index(t: &MediaType) -> bool {
    match t {
        MediaType::ImageIndex => true,
        MediaType::Other(t) => t == DOCKER_LIST,
        _ => false,
    }
}

fn is_manifest(t: &MediaType) -> bool {
    match t {
        MediaType::ImageManifest => true,
        // Older layouts may leave it empty.
        MediaType::Other(t) => t == DOCKER_MANIFEST || t.is_empty(),
        _ => false,
    }
}

fn is_config(t: &MediaType) -> bool {
    match t {
        MediaType::ImageConfig => true,
        MediaType::Other(t) => t == DOCKER_CONFIG,
        _ => false,
    }
}

/// This machine's platform as OCI names it (the board's Linux side).
pub fn host_platform() -> (Os, Arch) {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        "x86_64" => "amd64",
        "x86" => "386",
        other => other,
    };
    (Os::Linux, Arch::from(arch))
}

/// `os/architecture[/variant]`.
pub fn show(p: &Platform) -> String {
    match p.variant() {
        Some(v) => format!("{}/{}/{v}", p.os(), p.architecture()),
        None => format!("{}/{}", p.os(), p.architecture()),
    }
}

/// The descriptor's `org.opencontainers.image.ref.name`.
pub fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations().as_ref()?.get(REF_NAME).map(String::as_str)
}

/// `index.json` of the image; the layout's `oci-layout`, when there is one, must say 1.x.
pub fn index(img: &Image) -> Result<ImageIndex> {
    let layout: Option<OciLayout> = img.json_file("oci-layout", "oci-layout", None)?;
    if let Some(version) = layout.as_ref().map(OciLayout::image_layout_version) {
        if !version.starts_with("1.") {
            return Err(img.fail(&format!(
                "unsupported image layout version {version} in oci-layout (1.x expected)"
            )));
        }
    }
    match img.json_file("index.json", "index.json", None)? {
        Some(index) => Ok(index),
        None => Err(img.fail("index.json is missing: not a complete OCI image layout")),
    }
}

/// The full image name containerd writes beside a ref name that holds the tag alone
/// (`ctr images export`).
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Does `d` answer to `reference` (a ref name, or containerd's full image name, `name:latest`
/// for a bare name, or a digest)?
pub fn matches(d: &Descriptor, reference: &str) -> bool {
    if let Some((_, digest)) = reference.rsplit_once('@') {
        return d.digest().as_ref() == digest;
    }
    if reference.starts_with("sha256:") {
        return d.digest().as_ref() == reference;
    }
    let bare = !reference.rsplit('/').next().unwrap_or("").contains(':');
    let names = d.annotations().iter().flat_map(|a| {
        [a.get(REF_NAME), a.get(CONTAINERD_NAME)]
            .into_iter()
            .flatten()
    });
    for name in names {
        if name == reference || (bare && name.strip_suffix(":latest") == Some(reference)) {
            return true;
        }
    }
    false
}

/// The manifest to run: by `reference` when given, then the one for this platform, else a
/// platform-less one, else the only one.
pub fn choose(img: &Image, reference: Option<&str>) -> Result<Chosen> {
    let top = index(img)?;
    let mut candidates: Vec<Descriptor> = match reference {
        Some(r) => top
            .manifests()
            .iter()
            .filter(|d| matches(d, r))
            .cloned()
            .collect(),
        None => top.manifests().clone(),
    };
    let mut names: Vec<&str> = Vec::new();
    for n in top.manifests().iter().filter_map(ref_name) {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if candidates.is_empty() {
        return Err(img.fail(&match reference {
            Some(r) if names.is_empty() => format!("no image named {r} in it (names: none)"),
            Some(r) => format!("no image named {r} in it (names: {})", names.join(", ")),
            None => String::from("index.json lists no manifest"),
        }));
    }
    if reference.is_none() && names.len() > 1 {
        return Err(img.fail(&format!(
            "it holds several images ({}): name one as IMAGE:NAME",
            names.join(", ")
        )));
    }
    for _depth in 0..3 {
        let d = pick_platform(img, &candidates)?;
        if is_index(d.media_type()) {
            let nested: ImageIndex = img.json("image index", d.digest(), d.size())?;
            candidates = nested.manifests().clone();
            if candidates.is_empty() {
                return Err(img.fail(&format!("image index {} lists no manifest", d.digest())));
            }
            continue;
        }
        return manifest(img, &d);
    }
    Err(img.fail("image indexes nested too deeply"))
}

pub fn pick_platform(img: &Image, candidates: &[Descriptor]) -> Result<Descriptor> {
    let (os, arch) = host_platform();
    // Attestations and other non-images (buildx marks them unknown/unknown).
    let unknown = Os::from("unknown");
    let usable: Vec<&Descriptor> = candidates
        .iter()
        .filter(|d| d.platform().as_ref().is_none_or(|p| *p.os() != unknown))
        .collect();
    let exact = usable.iter().find(|d| {
        d.platform()
            .as_ref()
            .is_some_and(|p| *p.os() == os && *p.architecture() == arch)
    });
    let bare = usable.iter().find(|d| {
        d.platform()
            .as_ref()
            .is_none_or(|p| matches!(p.os().to_string().as_str(), "" | "none"))
    });
    if let Some(d) = exact.or(bare) {
        return Ok((*d).clone());
    }
    if let [only] = usable.as_slice() {
        return Ok((*only).clone());
    }
    let have: Vec<String> = usable
        .iter()
        .filter_map(|d| d.platform().as_ref().map(show))
        .collect();
    Err(img.fail(&format!(
        "no manifest for this board's platform {os}/{arch} nor one without a platform (it has: \
         {})",
        have.join(", ")
    )))
}

fn manifest(img: &Image, d: &Descriptor) -> Result<Chosen> {
    if !is_manifest(d.media_type()) {
        return Err(unknown_type(img, "manifest", d, d.media_type()));
    }
    let m: ImageManifest = img.json("manifest", d.digest(), d.size())?;
    if let Some(t) = m.media_type().as_ref().filter(|t| !is_manifest(t)) {
        return Err(unknown_type(img, "manifest", d, t));
    }
    let c = m.config();
    if !is_config(c.media_type()) {
        return Err(unknown_type(img, "config", c, c.media_type()));
    }
    let config: ImageConfiguration = img.json("config", c.digest(), c.size())?;
    if m.layers().is_empty() {
        return Err(img.fail(&format!("manifest {} has no layers", d.digest())));
    }
    let diff_ids = diff_ids(img, &config, c.digest().as_ref(), m.layers().len())?;
    let mut layers = Vec::new();
    for ((i, l), diff_id) in m.layers().iter().enumerate().zip(diff_ids) {
        let what = format!("layer {}", i + 1);
        let compression = Compression::of_media_type(l.media_type())
            .map_err(|why| img.fail(&format!("blob {what} ({}): {why}", l.digest())))?;
        layers.push(Layer {
            blob: img.blob(&what, l.digest(), l.size())?,
            what: format!("{what} ({})", l.digest()),
            compression,
            digest: Some(l.digest().to_string()),
            diff_id: Some(diff_id),
        });
    }
    let mut annotations: BTreeMap<String, String> = m
        .annotations()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(name) = ref_name(d) {
        annotations
            .entry(String::from(REF_NAME))
            .or_insert_with(|| name.to_string());
    }
    Ok(Chosen {
        digest: d.digest().to_string(),
        config,
        config_digest: c.digest().to_string(),
        layers,
        annotations,
    })
}

/// The config's `rootfs.diff_ids` (the sha256 of each uncompressed layer), one per layer.
pub fn diff_ids(
    img: &Image,
    config: &ImageConfiguration,
    named: &str,
    layers: usize,
) -> Result<Vec<String>> {
    let ids = config.rootfs().diff_ids();
    if ids.len() != layers {
        return Err(img.fail(&format!(
            "config {named} lists {} layer digests for {layers} layers",
            ids.len()
        )));
    }
    ids.iter().map(|id| digest_text(img, id)).collect()
}

/// `text` if it is a well-formed sha256 digest.
fn digest_text(img: &Image, text: &str) -> Result<String> {
    let digest = oci_spec::image::Digest::try_from(text).map_err(|e| {
        img.fail(&format!(
            "unsupported or malformed digest \"{text}\" (sha256 expected): {e}"
        ))
    })?;
    img.blob_path(&digest)?;
    Ok(digest.to_string())
}

fn unknown_type(img: &Image, what: &str, d: &Descriptor, media_type: &MediaType) -> Error {
    img.fail(&format!(
        "blob {what} ({}) has the unknown media type \"{media_type}\"",
        d.digest()
    ))
}
