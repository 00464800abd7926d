//! The bundle's `config.json`, read through serde: oci-spec's `Root` and `Hooks`, and a small
//! view of `process` (oci-spec's `Process` would bring a regular-expression engine into the
//! binary for a field a firmware never uses). Fields the runtime does not use are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Hooks, LinuxNamespace, Root};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The OCI runtime spec versions this runtime reads: every 1.x.y.
const SPEC_MAJOR: u64 = 1;
/// The version of the configs this runtime writes.
pub const OCI_VERSION: &str = "1.0.2";

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    #[serde(default, deserialize_with = "null_as_default")]
    pub oci_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    #[serde(default)]
    pub process: Option<Process>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Hooks>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub annotations: BTreeMap<String, String>,
    /// Read for a pod sandbox's namespaces; never written.
    #[serde(default, skip_serializing)]
    pub linux: Option<Linux>,
}

/// The part of `linux` a pod sandbox uses: the namespaces it holds for the pod.
#[derive(Default, Deserialize)]
pub struct Linux {
    #[serde(default, deserialize_with = "null_as_default")]
    pub namespaces: Vec<LinuxNamespace>,
}

/// The fields of `process` a firmware container uses; absent or null ones are empty.
#[derive(Default, Serialize, Deserialize)]
pub struct Process {
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cwd: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub terminal: bool,
}

/// `root` with this path (relative to the bundle, or absolute).
pub fn root_at(path: impl Into<PathBuf>) -> Root {
    let mut root = Root::default();
    root.set_path(path.into());
    root.set_readonly(None);
    root
}

/// A field that may be null: null reads as the type's default.
fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Config {
    /// The fields the runtime uses; the others are ignored.
    pub fn parse(data: &[u8]) -> Result<Config> {
        crate::document::parse(data)
    }

    /// `ociVersion` must be there and be a SemVer 1.x.y: the spec requires runtimes to refuse
    /// a version they cannot read.
    pub fn check_version(&self) -> Result<()> {
        let v = &self.oci_version;
        if v.is_empty() {
            return Err(Error::new(
                "ociVersion is missing: the OCI runtime spec requires it (e.g. \"1.0.2\")",
            ));
        }
        match semver::Version::parse(v) {
            Ok(version) if version.major == SPEC_MAJOR => Ok(()),
            Ok(_) => Err(Error::new(format!(
                "ociVersion \"{v}\" is not supported: this runtime reads version 1.x.y of the \
                 OCI runtime spec"
            ))),
            Err(e) => Err(Error::new(format!(
                "ociVersion \"{v}\" is not a SemVer version ({e}): use the spec version the \
                 bundle follows, e.g. \"1.0.2\""
            ))),
        }
    }

    /// The config as `config.json`, indented.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::new(format!("writing the bundle config: {e}")))
    }
}

pub struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    pub config: Config,
}

impl Bundle {
    pub fn load(dir: &Path) -> Result<Bundle> {
        let dir = std::path::absolute(dir)
            .map_err(|e| Error::io(&e, format!("resolving the bundle path {}", dir.display())))?;
        let path = dir.join("config.json");
        let bytes = read_config(&path).map_err(|e| {
            Error::io(
                &e,
                format!("cannot read the bundle's config {}", path.display()),
            )
        })?;
        let invalid = |e: Error| Error::new(format!("invalid {}: {}", path.display(), e.msg));
        let config = Config::parse(&bytes).map_err(invalid)?;
        config.check_version().map_err(invalid)?;
        crate::oci::hooks::check_supported(config.hooks.as_ref()).map_err(invalid)?;
        Ok(Bundle { dir, config })
    }

    /// A bundle for `create <IMAGE> <ID>`: the image's directory is the root filesystem, and
    /// the selectors found in the caller's environment are passed on.
    pub fn for_image(image: &Path, state_dir: &Path) -> Result<Bundle> {
        let abs = std::path::absolute(image)
            .map_err(|e| Error::io(&e, "reading the working directory"))?;
        let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
            return Err(Error::new(format!(
                "invalid image path {}",
                image.display()
            )));
        };
        let config = Config {
            oci_version: String::from(OCI_VERSION),
            root: Some(root_at(dir)),
            process: Some(Process {
                args: vec![format!("/{}", name.to_string_lossy())],
                env: caller_env(),
                cwd: String::from("/"),
                terminal: false,
            }),
            hooks: None,
            annotations: BTreeMap::new(),
            linux: None,
        };
        Ok(Bundle {
            dir: state_dir.to_path_buf(),
            config,
        })
    }

    pub fn rootfs(&self) -> PathBuf {
        match &self.config.root {
            Some(r) => self.dir.join(r.path()),
            None => self.dir.join("rootfs"),
        }
    }

    /// `process.env`, empty when there is no process.
    pub fn process_env(&self) -> &[String] {
        self.config.process.as_ref().map_or(&[], |p| &p.env[..])
    }

    pub fn env(&self, key: &str) -> Option<&str> {
        self.process_env()
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
                return Some((format!("annotation {a}"), v.to_string()));
            }
        }
        for e in env {
            if let Some(v) = self.env(e).filter(|v| !v.is_empty()) {
                return Some((format!("environment variable {e}"), v.to_string()));
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
    .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::Config;

    fn version_of(v: &str) -> Result<(), String> {
        let c = Config {
            oci_version: v.to_string(),
            ..Default::default()
        };
        c.check_version().map_err(|e| e.msg)
    }

    #[test]
    fn accepts_every_1_x_y_version_and_nothing_else() {
        for good in ["1.0.0", "1.0.2", "1.2.0", "1.3.0-rc.1", "1.0.2-dev"] {
            assert!(version_of(good).is_ok(), "{good}");
        }
        assert!(version_of("")
            .unwrap_err()
            .contains("ociVersion is missing"));
        assert!(version_of("invalid").unwrap_err().contains("not a SemVer"));
        assert!(version_of("1.0").unwrap_err().contains("not a SemVer"));
        assert!(version_of("2.0.0").unwrap_err().contains("not supported"));
    }

    #[test]
    fn null_fields_read_as_empty() {
        let c = Config::parse(
            br#"{"ociVersion":"1.0.2","process":{"args":null,"env":null},"annotations":null}"#,
        )
        .unwrap();
        assert!(c.annotations.is_empty());
        assert!(c.process.unwrap().args.is_empty());
    }
}
