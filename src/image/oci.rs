//! OCI image layouts (a directory, or the same tarred as an oci-archive): `index.json` →
//! manifest for this board's platform → config and layers, each blob verified before use.

use std::collections::BTreeMap;

use super::blob::{Image, JSON_MAX};
use super::spec::{Chosen, Compression, ImageConfig, Layer};
use crate::error::{cat, Result};
use crate::json::At;

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const INDEX_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
const CONFIG_TYPES: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

#[derive(Clone)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub platform: Option<Platform>,
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    fn read(at: &At) -> std::result::Result<Descriptor, String> {
        let platform = at.get("platform")?;
        Ok(Descriptor {
            media_type: at.get("mediaType")?.string()?,
            digest: at.need("digest")?.string()?,
            size: at.need("size")?.int("a u64")?,
            platform: match platform.present() {
                true => Some(Platform {
                    os: platform.get("os")?.string()?,
                    architecture: platform.get("architecture")?.string()?,
                    variant: platform.get("variant")?.opt_string()?,
                }),
                false => None,
            },
            annotations: at.get("annotations")?.map()?,
        })
    }
}

#[derive(Clone)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn show(&self) -> String {
        match &self.variant {
            Some(v) => cat(&[&self.os, "/", &self.architecture, "/", v]),
            None => cat(&[&self.os, "/", &self.architecture]),
        }
    }
}

pub struct Index {
    pub manifests: Vec<Descriptor>,
}

impl Index {
    pub fn read(at: &At) -> std::result::Result<Index, String> {
        Ok(Index {
            manifests: at.get("manifests")?.each(Descriptor::read)?,
        })
    }
}

pub struct Manifest {
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    pub fn read(at: &At) -> std::result::Result<Manifest, String> {
        Ok(Manifest {
            media_type: at.get("mediaType")?.string()?,
            config: Descriptor::read(&at.need("config")?)?,
            layers: at.get("layers")?.each(Descriptor::read)?,
            annotations: at.get("annotations")?.map()?,
        })
    }
}

/// This machine's platform as OCI names it (the board's Linux side).
pub fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        "arm" => "arm",
        "x86_64" => "amd64",
        "x86" => "386",
        "riscv64" => "riscv64",
        other => other,
    };
    ("linux", arch)
}

/// `index.json` of the image.
pub fn index(img: &Image) -> Result<Index> {
    let Some((mut r, len)) = img.files.open("index.json")? else {
        return Err(img.fail("index.json is missing: not a complete OCI image layout"));
    };
    if len > JSON_MAX {
        return Err(img.fail("index.json is too large"));
    }
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut data)
        .map_err(|e| img.fail(&cat(&["reading index.json: ", &e.to_string()])))?;
    img.parse("index.json", "index.json", &data, Index::read)
}

/// Does `d` answer to `reference` (a ref name, `name:latest` for a bare name, or a digest)?
pub fn matches(d: &Descriptor, reference: &str) -> bool {
    if let Some((_, digest)) = reference.rsplit_once('@') {
        return d.digest == digest;
    }
    if reference.starts_with("sha256:") {
        return d.digest == reference;
    }
    match d.annotations.get(REF_NAME) {
        Some(name) => {
            name == reference
                || (!reference.rsplit('/').next().unwrap_or("").contains(':')
                    && name.strip_suffix(":latest") == Some(reference))
        }
        None => false,
    }
}

/// The manifest to run: by `reference` when given, then the one for this platform, else a
/// platform-less one, else the only one.
pub fn choose(img: &Image, reference: Option<&str>) -> Result<Chosen> {
    let top = index(img)?;
    let mut candidates: Vec<Descriptor> = match reference {
        Some(r) => top
            .manifests
            .iter()
            .filter(|d| matches(d, r))
            .cloned()
            .collect(),
        None => top.manifests.clone(),
    };
    if candidates.is_empty() {
        let names: Vec<&str> = top
            .manifests
            .iter()
            .filter_map(|d| d.annotations.get(REF_NAME).map(String::as_str))
            .collect();
        return Err(img.fail(&match reference {
            Some(r) => cat(&[
                "no image named ",
                r,
                " in it (names: ",
                &if names.is_empty() {
                    String::from("none")
                } else {
                    names.join(", ")
                },
                ")",
            ]),
            None => String::from("index.json lists no manifest"),
        }));
    }
    if reference.is_none() {
        let mut names: Vec<&str> = Vec::new();
        for d in &candidates {
            if let Some(n) = d.annotations.get(REF_NAME) {
                if !names.contains(&n.as_str()) {
                    names.push(n);
                }
            }
        }
        if names.len() > 1 {
            return Err(img.fail(&cat(&[
                "it holds several images (",
                &names.join(", "),
                "): name one as IMAGE:NAME",
            ])));
        }
    }
    for _depth in 0..3 {
        let d = pick_platform(img, &candidates)?;
        if INDEX_TYPES.contains(&d.media_type.as_str()) {
            let nested = img.json("image index", &d.digest, d.size, Index::read)?;
            candidates = nested.manifests;
            if candidates.is_empty() {
                return Err(img.fail(&cat(&["image index ", &d.digest, " lists no manifest"])));
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
    let usable: Vec<&Descriptor> = candidates
        .iter()
        .filter(|d| d.platform.as_ref().map_or(true, |p| p.os != "unknown"))
        .collect();
    let exact = usable.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.os == os && p.architecture == arch)
    });
    let bare = usable.iter().find(|d| {
        d.platform
            .as_ref()
            .map_or(true, |p| p.os.is_empty() || p.os == "none")
    });
    if let Some(d) = exact.or(bare) {
        return Ok((*d).clone());
    }
    if let [only] = usable.as_slice() {
        return Ok((*only).clone());
    }
    let have: Vec<String> = usable
        .iter()
        .filter_map(|d| d.platform.as_ref().map(Platform::show))
        .collect();
    Err(img.fail(&cat(&[
        "no manifest for this board's platform ",
        os,
        "/",
        arch,
        " nor one without a platform (it has: ",
        &have.join(", "),
        ")",
    ])))
}

fn manifest(img: &Image, d: &Descriptor) -> Result<Chosen> {
    let known = |t: &str| t.is_empty() || MANIFEST_TYPES.contains(&t);
    if !known(&d.media_type) {
        return Err(unknown_type(img, "manifest", &d.digest, &d.media_type));
    }
    let m = img.json("manifest", &d.digest, d.size, Manifest::read)?;
    if !known(&m.media_type) {
        return Err(unknown_type(img, "manifest", &d.digest, &m.media_type));
    }
    if !CONFIG_TYPES.contains(&m.config.media_type.as_str()) {
        return Err(unknown_type(
            img,
            "config",
            &m.config.digest,
            &m.config.media_type,
        ));
    }
    let config = img.json("config", &m.config.digest, m.config.size, ImageConfig::read)?;
    if m.layers.is_empty() {
        return Err(img.fail(&cat(&["manifest ", &d.digest, " has no layers"])));
    }
    let mut layers = Vec::new();
    for (i, l) in m.layers.iter().enumerate() {
        let what = cat(&["layer ", &(i + 1).to_string()]);
        let compression = Compression::of_media_type(&l.media_type)
            .map_err(|why| img.fail(&cat(&["blob ", &what, " (", &l.digest, "): ", &why])))?;
        img.verify(&what, &l.digest, l.size)?;
        layers.push(Layer {
            path: img.blob_path(&l.digest)?,
            what: cat(&[&what, " (", &l.digest, ")"]),
            compression,
            diff_id: None,
        });
    }
    let mut annotations = m.annotations;
    if let Some(name) = d.annotations.get(REF_NAME) {
        annotations
            .entry(String::from(REF_NAME))
            .or_insert_with(|| name.clone());
    }
    Ok(Chosen {
        digest: d.digest.clone(),
        config,
        config_digest: m.config.digest.clone(),
        layers,
        annotations,
    })
}

fn unknown_type(img: &Image, what: &str, digest: &str, media_type: &str) -> crate::error::Error {
    img.fail(&cat(&[
        "blob ",
        what,
        " (",
        digest,
        ") has the unknown media type \"",
        media_type,
        "\"",
    ]))
}
