//! The host root (default `/`) turned into every absolute host path the runtime touches: sysfs,
//! debugfs, `/dev`, firmware directories, the device tree, the kernel log and the core claims.
//! `/proc` is always the real one. Tests point the root at a simulator.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Host {
    root: PathBuf,
}

impl Host {
    pub fn new(root: &Path) -> Self {
        Host {
            root: root.to_path_buf(),
        }
    }

    /// `rel` is an absolute host path such as `/sys/class/remoteproc`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    pub fn remoteproc_class(&self) -> PathBuf {
        self.path("/sys/class/remoteproc")
    }

    pub fn debugfs_remoteproc(&self, dev: &str) -> PathBuf {
        self.path("/sys/kernel/debug/remoteproc").join(dev)
    }

    pub fn dev(&self, name: &str) -> PathBuf {
        self.path("/dev").join(name)
    }

    pub fn kmsg(&self) -> PathBuf {
        self.path("/dev/kmsg")
    }

    pub fn firmware_class_path(&self) -> PathBuf {
        self.path("/sys/module/firmware_class/parameters/path")
    }

    pub fn devicetree(&self) -> PathBuf {
        self.path("/sys/firmware/devicetree/base")
    }

    /// Where core claims live: shared by every state root on this host.
    pub fn claims(&self) -> PathBuf {
        self.path("/run/hybrid-runtime/cores")
    }
}
