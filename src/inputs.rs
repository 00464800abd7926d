//! Every parser of outside input, reachable from outside the crate so that the fuzz targets
//! (fuzz/) run exactly the code the runtime runs: bundle config and its settings, state
//! records, firmware ELF checks, image index/manifest/config, layer streams and their
//! unpacking, image archives, signal names, annotations and firmware output. Each returns the runtime's verdict; none may panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};

use crate::console::config::LogConfig;
use crate::container::stop::parse_signal;
use crate::container::{Exit, Record};
use crate::image::blob::{from_json, Image};
use crate::image::decompress::Decoder;
use crate::image::meter::{drain, Meter};
use crate::image::oci::{matches, show};
use crate::image::reference::{self, Form};
use crate::image::source::{clean, Files, Found};
use crate::image::spec::{Chosen, Compression, Layer};
use crate::image::{docker, entry};
use crate::oci::bundle::{Bundle, Config};
use crate::oci::select;

/// Longest line of firmware output kept in one piece.
pub const MAX_LINE: usize = crate::console::lines::MAX_LINE;

/// A bundle's `config.json`: parsed, then every setting `create` reads from it.
pub fn bundle_config(data: &[u8]) -> Result<(), String> {
    let config = Config::parse(data).map_err(|e| e.msg)?;
    config.check_version().map_err(|e| e.msg)?;
    crate::oci::hooks::check_supported(config.hooks.as_ref()).map_err(|e| e.msg)?;
    bundle_settings(config)
}

/// The annotations and environment of a bundle, as `create` reads them.
pub fn annotations(pairs: &[(String, String)], env: &[String]) -> Result<(), String> {
    let config = Config {
        annotations: pairs.iter().cloned().collect::<BTreeMap<_, _>>(),
        process: Some(crate::oci::bundle::Process {
            env: env.to_vec(),
            ..Default::default()
        }),
        ..Default::default()
    };
    bundle_settings(config)
}

fn bundle_settings(config: Config) -> Result<(), String> {
    let bundle = Bundle {
        dir: PathBuf::from("/nonexistent-bundle"),
        config,
    };
    let _ = bundle.rootfs();
    let _ = bundle.env("PATH");
    let _ = bundle.setting(select::CORE_KEYS, select::CORE_ENV);
    let _ = bundle.setting(select::BOARD_KEYS, select::BOARD_ENV);
    select::if_running(&bundle).map_err(|e| e.msg)?;
    LogConfig::from_settings(&|k| bundle.annotation(k), bundle.process_env()).map_err(|e| e.msg)?;
    Ok(())
}

/// A container's `state.json` and `exit.json`, as every command loads them.
pub fn state_record(data: &[u8], id: &str) -> Result<(), String> {
    let _ = Exit::parse(data);
    let record = Record::parse(data).map_err(|e| e.msg)?;
    crate::container::trust::check_record(&record, id).map_err(|e| e.msg)
}

/// A firmware file, as `create` checks it before touching a core.
pub fn firmware_elf(data: &[u8]) -> Result<(), &'static str> {
    crate::platform::elf::check(data)
}

/// An image's `index.json`, manifest and config blobs, the bundle config built from a config,
/// and a docker-archive's `manifest.json`.
pub fn image_json(data: &[u8]) {
    if let Ok(index) = from_json::<ImageIndex>(data) {
        for d in index.manifests() {
            let _ = matches(d, "latest");
            let _ = matches(d, "sha256:00");
            let _ = d.platform().as_ref().map(show);
        }
    }
    if let Ok(manifest) = from_json::<ImageManifest>(data) {
        for layer in manifest.layers() {
            let _ = Compression::of_media_type(layer.media_type());
        }
    }
    if let Ok(config) = from_json::<ImageConfiguration>(data) {
        let chosen = Chosen {
            digest: String::from("sha256:0"),
            config,
            config_digest: String::from("sha256:1"),
            layers: Vec::new(),
            annotations: BTreeMap::new(),
        };
        if let Ok(c) = chosen.bundle_config("image", "image") {
            let _ = bundle_settings(c);
        }
    }
    let _ = from_json::<Vec<docker::Entry>>(data);
}

/// A layer's tar stream (uncompressed, gzip or zstd, told by its first bytes), entry by entry
/// as unpacking reads it, with the paths cleaned as unpacking does. Returns the entries.
pub fn tar_entries(data: &[u8]) -> Result<usize, String> {
    let decoder = Decoder::new(data, Compression::Sniff).map_err(|e| e.to_string())?;
    let mut stream = Meter::new(decoder, 1 << 20);
    let mut archive = tar::Archive::new(&mut stream);
    let mut n = 0;
    for e in archive.entries().map_err(|e| e.to_string())? {
        let mut e = e.map_err(|e| e.to_string())?;
        let header = entry::read(&mut e).map_err(|e| e.to_string())?;
        let _ = clean(&header.path);
        let _ = clean(&header.link);
        n += 1;
    }
    drain(&mut stream).map_err(|e| e.to_string())?;
    Ok(n)
}

/// A layer blob (`data`) unpacked into `dir/rootfs` as `create` unpacks one, at most `cap` bytes;
/// `dir` is an empty directory the caller removes.
pub fn unpack_layer(data: &[u8], dir: &Path, cap: u64) -> Result<(), String> {
    std::fs::write(dir.join("layer"), data).map_err(|e| e.to_string())?;
    let img = Image {
        shown: String::from("layer"),
        files: Files::Dir(dir.to_path_buf()),
    };
    let Ok(Found::Blob(blob)) = img.files.open("layer") else {
        return Err(String::from("the layer file cannot be opened"));
    };
    let layer = Layer {
        blob,
        what: String::from("layer 1"),
        compression: Compression::Sniff,
        digest: Some(digest_of(data)),
        diff_id: None,
    };
    let rootfs = dir.join("rootfs");
    std::fs::create_dir(&rootfs).map_err(|e| e.to_string())?;
    crate::image::unpack(&img, vec![layer], &rootfs, cap).map_err(|e| e.msg)
}

/// An image archive (`data`: an oci-archive or docker-archive) read as `create` reads one: its
/// entries indexed, the manifest chosen, its blobs verified, the bundle config built and the
/// layers unpacked into `dir/rootfs`, at most `cap` bytes. `dir` is an empty directory the caller
/// removes.
pub fn image_archive(data: &[u8], dir: &Path, cap: u64) -> Result<(), String> {
    let file = dir.join("image.tar");
    std::fs::write(&file, data).map_err(|e| e.to_string())?;
    let Form::Image {
        image,
        reference,
        docker,
    } = reference::archive_file(&file).map_err(|e| e.msg)?
    else {
        return Ok(());
    };
    let chosen = crate::image::choose(&image, reference.as_deref(), docker).map_err(|e| e.msg)?;
    let config = chosen
        .bundle_config(&image.shown, "image")
        .map_err(|e| e.msg)?;
    let _ = bundle_settings(config);
    let rootfs = dir.join("rootfs");
    std::fs::create_dir(&rootfs).map_err(|e| e.to_string())?;
    crate::image::unpack(&image, chosen.layers, &rootfs, cap).map_err(|e| e.msg)
}

/// `sha256:<hex>` of `data`.
fn digest_of(data: &[u8]) -> String {
    let mut meter = Meter::new(data, u64::MAX);
    let _ = drain(&mut meter);
    meter.digest()
}

/// A signal given to `kill`.
pub fn signal(text: &str) -> Result<i32, String> {
    parse_signal(text).map_err(|e| e.msg)
}

/// Firmware output read from the trace buffer: `data` is a sequence of snapshots separated by
/// 0xff bytes (each cut at its first NUL, as a read of `trace0` is), followed as the monitor
/// follows them and framed into lines. Returns (lines, longest line).
pub fn firmware_trace(data: &[u8]) -> (usize, usize) {
    let mut follower = crate::platform::trace::TraceFollower::default();
    let mut lines = crate::console::lines::LineBuffer::default();
    let mut out = Vec::new();
    let (mut n, mut longest) = (0, 0);
    let mut count = |l: &[u8]| {
        n += 1;
        longest = longest.max(l.len());
    };
    for snap in data.split(|&b| b == 0xff) {
        let end = snap.iter().position(|&b| b == 0).unwrap_or(snap.len());
        out.clear();
        let _ = follower.update(&snap[..end], &mut out);
        lines.push(&out, &mut count);
    }
    lines.flush(&mut count);
    (n, longest)
}
