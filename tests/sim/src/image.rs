//! Container images built in test code, without network or docker: a firmware file in a layer
//! tar, an image config (Entrypoint/Cmd, Env, labels), a manifest and an index, written as an OCI
//! image layout directory, an `oci-archive` tar (a tarred layout) or a `docker-archive` tar (as
//! `docker save` writes it). Also the `hybrid-sim make-image` command line.
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// How an image is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OciLayout,
    OciArchive,
    DockerArchive,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "oci-layout" | "oci" => Some(Format::OciLayout),
            "oci-archive" => Some(Format::OciArchive),
            "docker-archive" => Some(Format::DockerArchive),
            _ => None,
        }
    }
}

/// One entry of a layer tar.
#[derive(Clone, Debug)]
pub enum Entry {
    File(String, Vec<u8>, u32),
    Dir(String),
    Symlink(String, String),
    Hardlink(String, String),
    /// A character device node (major, minor).
    CharDevice(String, u32, u32),
    Fifo(String),
    /// `.wh.NAME` next to `path`'s base name: deletes `path` from lower layers.
    Whiteout(String),
    /// `DIR/.wh..wh..opq`: hides everything lower layers put in `DIR`.
    Opaque(String),
}

/// A layer: its entries, or raw bytes used as the blob as they are, with the digest of the tar
/// they hold (the config's diff id).
#[derive(Clone, Debug)]
pub enum Layer {
    Entries(Vec<Entry>),
    Raw {
        bytes: Vec<u8>,
        media_type: String,
        diff_id: String,
    },
}

/// An image under construction. `Image::new(fw)` puts `fw` at `/firmware.elf` with
/// Entrypoint `["/firmware.elf"]`, platform `linux/arm64`, gzip-compressed layers.
#[derive(Clone, Debug)]
pub struct Image {
    pub layers: Vec<Layer>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub labels: Vec<(String, String)>,
    pub manifest_annotations: Vec<(String, String)>,
    /// `(os, architecture, variant)`; `None`: a platform-less firmware manifest.
    pub platform: Option<(String, String, Option<String>)>,
    /// `org.opencontainers.image.ref.name` (OCI) / the `RepoTags` entry (docker-archive).
    pub ref_name: Option<String>,
    pub gzip: bool,
    /// Media type written for every entries layer (overrides the tar/gzip type).
    pub layer_media_type: Option<String>,
    pub manifest_media_type: String,
    /// Added to the size recorded in the manifest for the first layer (a lying descriptor).
    pub layer_size_delta: i64,
}

/// The written image: what tests need to corrupt it precisely.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// `sha256:…` of the manifest, the config and each layer blob.
    pub manifest: String,
    pub config: String,
    pub layers: Vec<String>,
    /// Docker-archive paths inside the tar of the config and the layers.
    pub docker_config_path: String,
    pub docker_layer_paths: Vec<String>,
}

pub fn sha256_hex(data: &[u8]) -> String {
    let d = Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

impl Image {
    pub fn new(firmware: &[u8]) -> Image {
        Image {
            layers: vec![Layer::Entries(vec![Entry::File(
                "firmware.elf".into(),
                firmware.to_vec(),
                0o644,
            )])],
            entrypoint: Some(vec!["/firmware.elf".into()]),
            cmd: None,
            env: Vec::new(),
            working_dir: None,
            labels: Vec::new(),
            manifest_annotations: Vec::new(),
            platform: Some(("linux".into(), "arm64".into(), None)),
            ref_name: None,
            gzip: true,
            layer_media_type: None,
            manifest_media_type: MANIFEST_TYPE.into(),
            layer_size_delta: 0,
        }
    }

    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.push((k.into(), v.into()));
        self
    }

    pub fn annotation(mut self, k: &str, v: &str) -> Self {
        self.manifest_annotations.push((k.into(), v.into()));
        self
    }

    pub fn entrypoint(mut self, args: &[&str]) -> Self {
        self.entrypoint = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn no_entrypoint(mut self) -> Self {
        self.entrypoint = None;
        self.cmd = None;
        self
    }

    pub fn cmd(mut self, args: &[&str]) -> Self {
        self.cmd = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.into());
        self
    }

    pub fn tag(mut self, name: &str) -> Self {
        self.ref_name = Some(name.into());
        self
    }

    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// `linux/arm64`, `linux/arm/v7`, … or `none`.
    pub fn platform(mut self, spec: &str) -> Self {
        self.platform = parse_platform(spec);
        self
    }

    pub fn layer(mut self, entries: Vec<Entry>) -> Self {
        self.layers.push(Layer::Entries(entries));
        self
    }

    /// A layer blob of `bytes` as they are (an uncompressed tar: they are their own diff id).
    pub fn raw_layer(self, bytes: Vec<u8>, media_type: &str) -> Self {
        let tar = bytes.clone();
        self.compressed_layer(bytes, media_type, &tar)
    }

    /// A layer blob of `bytes` as they are, compressed by the caller from `tar` (its diff id).
    pub fn compressed_layer(mut self, bytes: Vec<u8>, media_type: &str, tar: &[u8]) -> Self {
        self.layers.push(Layer::Raw {
            bytes,
            media_type: media_type.into(),
            diff_id: digest(tar),
        });
        self
    }

    /// Only these layers (none at all: a manifest with no layers).
    pub fn only_layers(mut self, layers: Vec<Layer>) -> Self {
        self.layers = layers;
        self
    }

    fn layer_blobs(&self) -> Vec<(Vec<u8>, String, String)> {
        self.layers
            .iter()
            .map(|l| match l {
                Layer::Entries(entries) => {
                    let tar = layer_tar(entries);
                    let diff_id = digest(&tar);
                    let (blob, mt) = if self.gzip {
                        (gzip(&tar), LAYER_GZIP)
                    } else {
                        (tar, LAYER_TAR)
                    };
                    let mt = self.layer_media_type.clone().unwrap_or(mt.to_string());
                    (blob, mt, diff_id)
                }
                Layer::Raw {
                    bytes,
                    media_type,
                    diff_id,
                } => (bytes.clone(), media_type.clone(), diff_id.clone()),
            })
            .collect()
    }

    fn config_json(&self, diff_ids: &[String], docker: bool) -> Vec<u8> {
        let mut cfg = Map::new();
        if let Some(e) = &self.entrypoint {
            cfg.insert("Entrypoint".into(), json!(e));
        }
        if let Some(c) = &self.cmd {
            cfg.insert("Cmd".into(), json!(c));
        }
        if !self.env.is_empty() {
            cfg.insert("Env".into(), json!(self.env));
        }
        if let Some(w) = &self.working_dir {
            cfg.insert("WorkingDir".into(), json!(w));
        }
        if !self.labels.is_empty() {
            let l: Map<String, Value> = self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            cfg.insert("Labels".into(), Value::Object(l));
        }
        let (os, arch, variant) = match &self.platform {
            Some((o, a, v)) => (o.as_str(), a.as_str(), v.clone()),
            // docker load accepts only images for its own OS.
            None if docker => ("linux", "none", None),
            None => ("none", "none", None),
        };
        let mut top = json!({
            "architecture": arch,
            "os": os,
            "config": Value::Object(cfg),
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": "hybrid-sim make-image"}],
        });
        if let Some(v) = variant {
            top["variant"] = json!(v);
        }
        serde_json::to_vec(&top).expect("json")
    }

    /// Writes the image to `out` in `format`.
    pub fn write(&self, format: Format, out: &Path) -> std::io::Result<Written> {
        match format {
            Format::OciLayout => {
                let (files, w) = self.layout_files();
                let old = std::fs::read(out.join("index.json")).ok();
                std::fs::create_dir_all(out.join("blobs/sha256"))?;
                for (name, data) in files {
                    if name == "index.json" {
                        std::fs::write(out.join(name), merge_index(old.as_deref(), &data))?;
                    } else {
                        std::fs::write(out.join(name), data)?;
                    }
                }
                Ok(w)
            }
            Format::OciArchive => {
                let (files, w) = self.layout_files();
                let mut entries = vec![
                    Entry::Dir("blobs".into()),
                    Entry::Dir("blobs/sha256".into()),
                ];
                entries.extend(files.into_iter().map(|(n, d)| Entry::File(n, d, 0o644)));
                std::fs::write(out, tar(&entries))?;
                Ok(w)
            }
            Format::DockerArchive => {
                let (entries, w) = self.docker_entries();
                std::fs::write(out, tar(&entries))?;
                Ok(w)
            }
        }
    }

    /// The files of an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/*`).
    fn layout_files(&self) -> (Vec<(String, Vec<u8>)>, Written) {
        let blobs = self.layer_blobs();
        let diff_ids: Vec<String> = blobs.iter().map(|b| b.2.clone()).collect();
        let config = self.config_json(&diff_ids, false);
        let mut files = Vec::new();
        let mut layers = Vec::new();
        let mut w = Written {
            config: digest(&config),
            ..Default::default()
        };
        for (i, (blob, mt, _)) in blobs.iter().enumerate() {
            let d = digest(blob);
            let size = blob.len() as i64 + if i == 0 { self.layer_size_delta } else { 0 };
            layers.push(json!({"mediaType": mt, "digest": d, "size": size}));
            w.layers.push(d.clone());
            files.push((blob_path(&d), blob.clone()));
        }
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": self.manifest_media_type,
            "config": {"mediaType": CONFIG_TYPE, "digest": w.config, "size": config.len()},
            "layers": layers,
        });
        if !self.manifest_annotations.is_empty() {
            let a: Map<String, Value> = self
                .manifest_annotations
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            manifest["annotations"] = Value::Object(a);
        }
        let manifest = serde_json::to_vec(&manifest).expect("json");
        w.manifest = digest(&manifest);
        let mut desc = json!({
            "mediaType": self.manifest_media_type,
            "digest": w.manifest,
            "size": manifest.len(),
        });
        if let Some((os, arch, variant)) = &self.platform {
            desc["platform"] = json!({"os": os, "architecture": arch});
            if let Some(v) = variant {
                desc["platform"]["variant"] = json!(v);
            }
        }
        if let Some(r) = &self.ref_name {
            desc["annotations"] = json!({"org.opencontainers.image.ref.name": r});
        }
        let index = json!({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [desc]});
        files.push((blob_path(&w.config), config));
        files.push((blob_path(&w.manifest), manifest));
        files.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        files.push((
            "index.json".into(),
            serde_json::to_vec(&index).expect("json"),
        ));
        (files, w)
    }

    /// The entries of a `docker save` tar: `manifest.json`, `repositories`, `<id>.json`,
    /// `<layer id>/{VERSION,json,layer.tar}`.
    fn docker_entries(&self) -> (Vec<Entry>, Written) {
        let blobs = self.layer_blobs();
        let diff_ids: Vec<String> = blobs.iter().map(|b| b.2.clone()).collect();
        let config = self.config_json(&diff_ids, true);
        let config_hex = sha256_hex(&config);
        let mut w = Written {
            config: digest(&config),
            docker_config_path: format!("{config_hex}.json"),
            ..Default::default()
        };
        let mut entries = vec![Entry::File(w.docker_config_path.clone(), config, 0o644)];
        let mut parent: Option<String> = None;
        let mut last_id = String::new();
        for (blob, _, diff_id) in &blobs {
            let id =
                sha256_hex(format!("{}{}", parent.clone().unwrap_or_default(), diff_id).as_bytes());
            let mut j = json!({"id": id, "created": "1970-01-01T00:00:00Z"});
            if let Some(p) = &parent {
                j["parent"] = json!(p);
            }
            entries.push(Entry::Dir(id.clone()));
            entries.push(Entry::File(format!("{id}/VERSION"), b"1.0".to_vec(), 0o644));
            entries.push(Entry::File(
                format!("{id}/json"),
                serde_json::to_vec(&j).expect("json"),
                0o644,
            ));
            let path = format!("{id}/layer.tar");
            entries.push(Entry::File(path.clone(), blob.clone(), 0o644));
            w.layers.push(digest(blob));
            w.docker_layer_paths.push(path);
            parent = Some(id.clone());
            last_id = id;
        }
        let tags: Vec<String> = self.ref_name.iter().map(|r| docker_tag(r)).collect();
        let manifest = json!([{
            "Config": w.docker_config_path,
            "RepoTags": if tags.is_empty() { Value::Null } else { json!(tags) },
            "Layers": w.docker_layer_paths,
        }]);
        entries.push(Entry::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).expect("json"),
            0o644,
        ));
        if let Some(t) = tags.first() {
            if let Some((repo, tag)) = t.rsplit_once(':') {
                let mut tags = Map::new();
                tags.insert(tag.to_string(), json!(last_id));
                let mut r = Map::new();
                r.insert(repo.to_string(), Value::Object(tags));
                entries.push(Entry::File(
                    "repositories".into(),
                    serde_json::to_vec(&Value::Object(r)).expect("json"),
                    0o644,
                ));
            }
        }
        (entries, w)
    }
}

/// Writing into an existing layout (an image store) keeps its other images, as skopeo does:
/// the new index's manifests replace those with the same ref name, or join them.
fn merge_index(old: Option<&[u8]>, new: &[u8]) -> Vec<u8> {
    let Some(mut old) = old.and_then(|o| serde_json::from_slice::<Value>(o).ok()) else {
        return new.to_vec();
    };
    let new: Value = serde_json::from_slice(new).expect("json");
    let name = |d: &Value| d["annotations"][REF_NAME].as_str().map(String::from);
    let (Some(list), Some(added)) = (old["manifests"].as_array_mut(), new["manifests"].as_array())
    else {
        return serde_json::to_vec(&new).expect("json");
    };
    for d in added {
        if let Some(n) = name(d) {
            list.retain(|o| name(o).as_deref() != Some(n.as_str()));
        }
        list.push(d.clone());
    }
    serde_json::to_vec(&old).expect("json")
}

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// `name` → `name:latest` unless it has a tag.
fn docker_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

pub fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

fn parse_platform(spec: &str) -> Option<(String, String, Option<String>)> {
    if spec == "none" {
        return None;
    }
    let mut it = spec.split('/');
    let os = it.next().unwrap_or("linux").to_string();
    let arch = it.next().unwrap_or("arm64").to_string();
    Some((os, arch, it.next().map(String::from)))
}

/// A layer tar of `entries` (whiteouts written as the OCI spec says).
pub fn layer_tar(entries: &[Entry]) -> Vec<u8> {
    tar(entries)
}

/// A ustar archive of `entries`, ended by two zero blocks.
pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let (name, kind, size, link, data, mode, dev): (
            String,
            u8,
            usize,
            &str,
            &[u8],
            u32,
            (u32, u32),
        ) = match e {
            Entry::File(p, d, m) => (p.clone(), b'0', d.len(), "", d, *m, (0, 0)),
            Entry::Dir(p) => (
                format!("{}/", p.trim_end_matches('/')),
                b'5',
                0,
                "",
                &[],
                0o755,
                (0, 0),
            ),
            Entry::Symlink(p, t) => (p.clone(), b'2', 0, t, &[], 0o777, (0, 0)),
            Entry::Hardlink(p, t) => (p.clone(), b'1', 0, t, &[], 0o644, (0, 0)),
            Entry::CharDevice(p, a, b) => (p.clone(), b'3', 0, "", &[], 0o644, (*a, *b)),
            Entry::Fifo(p) => (p.clone(), b'6', 0, "", &[], 0o644, (0, 0)),
            Entry::Whiteout(p) => {
                let (dir, base) = match p.rsplit_once('/') {
                    Some((d, b)) => (format!("{d}/"), b),
                    None => (String::new(), p.as_str()),
                };
                (format!("{dir}.wh.{base}"), b'0', 0, "", &[], 0o644, (0, 0))
            }
            Entry::Opaque(d) => (
                format!("{}/.wh..wh..opq", d.trim_end_matches('/')),
                b'0',
                0,
                "",
                &[],
                0o644,
                (0, 0),
            ),
        };
        out.extend_from_slice(&header(&name, kind, size as u64, link, mode, dev));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A ustar header; names longer than 100 bytes go through a GNU `L` record.
pub fn header(name: &str, kind: u8, size: u64, link: &str, mode: u32, dev: (u32, u32)) -> Vec<u8> {
    let mut out = Vec::new();
    if name.len() > 100 {
        let mut long = name.as_bytes().to_vec();
        long.push(0);
        out.extend_from_slice(&header(
            "././@LongLink",
            b'L',
            long.len() as u64,
            "",
            0o644,
            (0, 0),
        ));
        out.extend_from_slice(&long);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    let mut h = [0u8; 512];
    let n = name.as_bytes();
    h[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
    octal(&mut h[100..108], mode as u64);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = kind;
    let l = link.as_bytes();
    h[157..157 + l.len().min(100)].copy_from_slice(&l[..l.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], dev.0 as u64);
    octal(&mut h[337..345], dev.1 as u64);
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    octal(&mut h[148..155], sum as u64);
    h[155] = b' ';
    out.extend_from_slice(&h);
    out
}

fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}", v, width = field.len() - 1);
    field[..s.len()].copy_from_slice(s.as_bytes());
    field[s.len()] = 0;
}

pub const MAKE_IMAGE_USAGE: &str = "\
hybrid-sim make-image --format FORMAT --out PATH --firmware FILE [OPTIONS]

Builds a container image holding a firmware file, without network or docker.

  --format FORMAT        oci-layout (a directory; an existing layout such as an image store
                         keeps its other images), oci-archive (a tar of the layout, as
                         skopeo writes it) or docker-archive (as `docker save` writes it)
  --out PATH             the directory (oci-layout) or tar file to write
  --firmware FILE        the firmware ELF to put in the image
  --path NAME            where the firmware goes in the image (default firmware.elf)
  --entrypoint ARG       Entrypoint (repeat for more; default /<path>)
  --no-entrypoint        no Entrypoint at all
  --cmd ARG              Cmd (repeat for more)
  --env K=V              Env (repeat)
  --label K=V            image config label (repeat), e.g. mcu=m4, board=…,
                         io.hybrid-runtime.core=…, io.hybrid-runtime.board=…
  --annotation K=V       manifest annotation (repeat)
  --platform P           linux/arm64 (default), linux/arm/v7, linux/amd64, … or none
                         (none: no platform in the index; the config says os/architecture
                         none, or linux/none in a docker-archive, which docker load needs)
  --tag NAME             ref name: org.opencontainers.image.ref.name in OCI forms, the
                         RepoTags entry in a docker-archive (`:latest` added when untagged)
  --gzip | --no-gzip     compress layers (default: gzip for OCI forms, none for docker-archive)
  --layer-file SRC:DEST  an extra layer holding file SRC at DEST (repeat: one layer each)
  --whiteout PATH        an extra layer deleting PATH from the layers below (repeat)
  --opaque DIR           an extra layer hiding what the layers below put in DIR (repeat)
";

/// `hybrid-sim make-image …` (see `MAKE_IMAGE_USAGE`).
pub fn cli(args: &[String]) -> Result<(), String> {
    let mut format = None;
    let mut out = None;
    let mut firmware = None;
    let mut path = String::from("firmware.elf");
    let (mut entry, mut no_entry, mut cmd) = (Vec::new(), false, Vec::new());
    let mut gzip = None;
    let mut img = Image::new(&[]);
    let mut extra = Vec::new();
    let mut it = args.iter();
    let kv = |s: &str, what: &str| -> Result<(String, String), String> {
        s.split_once('=')
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .ok_or_else(|| format!("{what} wants K=V, got `{s}`"))
    };
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--help" | "-h" => {
                print!("{MAKE_IMAGE_USAGE}");
                return Ok(());
            }
            "--format" => {
                let v = val()?;
                format = Some(Format::parse(&v).ok_or_else(|| format!("unknown --format `{v}`"))?);
            }
            "--out" => out = Some(val()?),
            "--firmware" => firmware = Some(val()?),
            "--path" => path = val()?.trim_start_matches('/').to_string(),
            "--entrypoint" => entry.push(val()?),
            "--no-entrypoint" => no_entry = true,
            "--cmd" => cmd.push(val()?),
            "--env" => img.env.push(val()?),
            "--label" => img.labels.push(kv(&val()?, "--label")?),
            "--annotation" => img.manifest_annotations.push(kv(&val()?, "--annotation")?),
            "--platform" => img.platform = parse_platform(&val()?),
            "--tag" => img.ref_name = Some(val()?),
            "--gzip" => gzip = Some(true),
            "--no-gzip" => gzip = Some(false),
            "--layer-file" => {
                let v = val()?;
                let (src, dest) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--layer-file wants SRC:DEST, got `{v}`"))?;
                let data = std::fs::read(src).map_err(|e| format!("cannot read {src}: {e}"))?;
                extra.push(vec![Entry::File(
                    dest.trim_start_matches('/').into(),
                    data,
                    0o644,
                )]);
            }
            "--whiteout" => {
                extra.push(vec![Entry::Whiteout(val()?.trim_start_matches('/').into())])
            }
            "--opaque" => extra.push(vec![Entry::Opaque(val()?.trim_start_matches('/').into())]),
            _ => return Err(format!("make-image: unknown argument `{a}` (see --help)")),
        }
    }
    let format = format.ok_or("make-image needs --format (see --help)")?;
    let out = out.ok_or("make-image needs --out PATH")?;
    let firmware = firmware.ok_or("make-image needs --firmware FILE")?;
    let data = std::fs::read(&firmware).map_err(|e| format!("cannot read {firmware}: {e}"))?;
    img.layers = vec![Layer::Entries(vec![Entry::File(path.clone(), data, 0o644)])];
    img.layers.extend(extra.into_iter().map(Layer::Entries));
    img.entrypoint = if no_entry {
        None
    } else if entry.is_empty() {
        Some(vec![format!("/{path}")])
    } else {
        Some(entry)
    };
    img.cmd = (!cmd.is_empty()).then_some(cmd);
    img.gzip = gzip.unwrap_or(format != Format::DockerArchive);
    img.write(format, Path::new(&out))
        .map(|_| ())
        .map_err(|e| format!("cannot write {out}: {e}"))
}
