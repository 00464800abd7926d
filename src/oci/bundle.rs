//! The bundle's `config.json`, read through a small view of the fields the runtime uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{cat, Error, Result};
use crate::json::{self, At};

#[derive(Default)]
pub struct Config {
    pub oci_version: String,
    pub root: Option<Root>,
    pub process: Option<Process>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Default)]
pub struct Root {
    pub path: String,
}

#[derive(Default)]
pub struct Process {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub terminal: bool,
}

impl Config {
    /// The fields the runtime uses (the others are ignored); absent or null ones are empty.
    pub fn parse(data: &[u8]) -> std::result::Result<Config, String> {
        let doc = json::parse(data)?;
        let top = At::root(&doc);
        let root = top.get("root")?;
        let process = top.get("process")?;
        Ok(Config {
            oci_version: top.get("ociVersion")?.string()?,
            root: match root.present() {
                true => Some(Root {
                    path: root.need("path")?.string()?,
                }),
                false => None,
            },
            process: match process.present() {
                true => Some(Process {
                    args: process.get("args")?.strings()?,
                    env: process.get("env")?.strings()?,
                    cwd: process.get("cwd")?.string()?,
                    terminal: process.get("terminal")?.bool()?,
                }),
                false => None,
            },
            annotations: top.get("annotations")?.map()?,
        })
    }

    /// The config as `config.json`, indented.
    pub fn to_json(&self) -> String {
        let mut w = json::write::Writer::new(true);
        w.object().key("ociVersion").string(&self.oci_version);
        w.key("root");
        match &self.root {
            Some(r) => w.object().key("path").string(&r.path).end_object(),
            None => w.raw("null"),
        };
        w.key("process");
        match &self.process {
            Some(p) => w
                .object()
                .key("args")
                .strings(&p.args)
                .key("env")
                .strings(&p.env)
                .key("cwd")
                .string(&p.cwd)
                .key("terminal")
                .raw(if p.terminal { "true" } else { "false" })
                .end_object(),
            None => w.raw("null"),
        };
        w.key("annotations").map(&self.annotations).end_object();
        w.out
    }
}

pub struct Bundle {
    pub dir: PathBuf,
    pub config: Config,
}

impl Bundle {
    pub fn load(dir: &Path) -> Result<Bundle> {
        let path = dir.join("config.json");
        let bytes = read_config(&path).map_err(|e| {
            Error::io(
                &e,
                cat(&["cannot read the bundle's config ", &path.to_string_lossy()]),
            )
        })?;
        let config = Config::parse(&bytes)
            .map_err(|e| Error::new(cat(&["invalid ", &path.to_string_lossy(), ": ", &e])))?;
        Ok(Bundle {
            dir: dir.to_path_buf(),
            config,
        })
    }

    /// A bundle for `create <IMAGE> <ID>`: the image's directory is the root filesystem, and
    /// the selectors found in the caller's environment are passed on.
    pub fn for_image(image: &Path, state_dir: &Path) -> Result<Bundle> {
        let abs = if image.is_absolute() {
            image.to_path_buf()
        } else {
            let cwd = std::env::current_dir()
                .map_err(|e| Error::io(&e, "reading the working directory"))?;
            cwd.join(image)
        };
        let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
            return Err(Error::new(cat(&[
                "invalid image path ",
                &image.to_string_lossy(),
            ])));
        };
        let config = Config {
            oci_version: String::from("1.0.2"),
            root: Some(Root {
                path: dir.to_string_lossy().into_owned(),
            }),
            process: Some(Process {
                args: vec![cat(&["/", &name.to_string_lossy()])],
                env: caller_env(),
                cwd: String::from("/"),
                terminal: false,
            }),
            annotations: BTreeMap::new(),
        };
        Ok(Bundle {
            dir: state_dir.to_path_buf(),
            config,
        })
    }

    pub fn rootfs(&self) -> PathBuf {
        let rel = self
            .config
            .root
            .as_ref()
            .map(|r| r.path.as_str())
            .unwrap_or("rootfs");
        self.dir.join(rel)
    }

    pub fn env(&self, key: &str) -> Option<&str> {
        let process = self.config.process.as_ref()?;
        process
            .env
            .iter()
            .rev()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.config.annotations.get(key).map(String::as_str)
    }

    /// The first of these annotations, then the first of these environment variables.
    pub fn setting(&self, annotations: &[&str], env: &[&str]) -> Option<(String, String)> {
        for a in annotations {
            if let Some(v) = self.annotation(a).filter(|v| !v.is_empty()) {
                return Some((cat(&["annotation ", a]), v.to_string()));
            }
        }
        for e in env {
            if let Some(v) = self.env(e).filter(|v| !v.is_empty()) {
                return Some((cat(&["environment variable ", e]), v.to_string()));
            }
        }
        None
    }
}

/// A bundle config larger than this is refused (engines write a few kilobytes).
pub const CONFIG_MAX: u64 = 4 << 20;

/// `config.json`: a regular file (never a FIFO or a device), at most `CONFIG_MAX` bytes.
pub fn read_config(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::from_raw_os_error(libc::EISDIR));
    }
    if !meta.is_file() {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut data = Vec::new();
    f.take(CONFIG_MAX + 1).read_to_end(&mut data)?;
    if data.len() as u64 > CONFIG_MAX {
        return Err(std::io::Error::from_raw_os_error(libc::EFBIG));
    }
    Ok(data)
}

/// The selector and log settings in the caller's environment, passed on to a bundle that
/// `create <IMAGE> <ID>` synthesises.
pub fn caller_env() -> Vec<String> {
    [
        "HYBRID_CORE",
        "HYBRID_BOARD",
        "HYBRID_IF_RUNNING",
        "MCU",
        "BOARD",
        "HYBRID_LOG_SOURCE",
        "HYBRID_LOG_CHANNEL",
        "HYBRID_LOG_HELLO",
        "HYBRID_LOG_MAX_SIZE",
        "HYBRID_LOG_MAX_FILES",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok().map(|v| cat(&[k, "=", &v])))
    .collect()
}
