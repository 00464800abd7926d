//! Every parser of outside input, reachable from outside the crate so that the fuzz targets
//! (fuzz/) run exactly the code the runtime runs: bundle config and its settings, state
//! records, firmware ELF checks, image index/manifest/config, tar entries, signal names,
//! annotations and firmware output. Each returns the runtime's verdict; none may panic.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use crate::console::config::LogConfig;
use crate::container::stop::parse_signal;
use crate::container::{Exit, Record};
use crate::image::oci::{matches, Index, Manifest};
use crate::image::spec::{Chosen, Compression, ImageConfig};
use crate::image::{gzip, source, tar};
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

/// An image's `index.json`, manifest and config blobs.
pub fn image_json(data: &[u8]) {
    if let Ok(index) = crate::json::read(data, Index::read) {
        for d in &index.manifests {
            let _ = matches(d, "latest");
            let _ = matches(d, "sha256:00");
            let _ = d.platform.as_ref().map(|p| p.show());
        }
    }
    if let Ok(manifest) = crate::json::read(data, Manifest::read) {
        for layer in &manifest.layers {
            let _ = Compression::of_media_type(&layer.media_type);
        }
    }
    if let Ok(config) = crate::json::read(data, ImageConfig::read) {
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
}

/// A tar stream (gzip-compressed or not), entry by entry, with the path cleaning unpacking does.
pub fn tar_entries(data: &[u8]) -> Result<usize, String> {
    let mut plain = Vec::new();
    let input: &[u8] = if data.starts_with(&gzip::MAGIC) {
        let mut z = gzip::Gunzip::new(data).map_err(|e| e.to_string())?;
        z.by_ref()
            .take(1 << 20)
            .read_to_end(&mut plain)
            .map_err(|e| e.to_string())?;
        &plain
    } else {
        data
    };
    let mut reader = tar::Reader::new(input);
    let mut n = 0;
    while let Some(e) = reader.next_entry().map_err(|e| e.msg)? {
        let _ = source::clean(&e.path);
        let _ = source::clean(&e.link);
        n += 1;
    }
    Ok(n)
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
