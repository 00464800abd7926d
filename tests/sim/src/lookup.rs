//! The firmware search path, in the kernel's order: the `firmware_class.path`
//! parameter, then `lib/firmware/updates/<release>`, `lib/firmware/updates`,
//! `lib/firmware/<release>`, `lib/firmware`, all below the simulator root.
use crate::world::World;
use std::path::PathBuf;

/// Finds firmware `name`; `Err(errno)` as `request_firmware` answers.
pub fn find(w: &World, name: &str) -> Result<PathBuf, i32> {
    if name.split('/').any(|c| c == "..") {
        return Err(libc::EINVAL);
    }
    let root = &w.cfg.root;
    let release = w.cfg.kernel.release();
    let mut dirs = Vec::new();
    if !w.fw_class_path.is_empty() {
        dirs.push(root.join(w.fw_class_path.trim_start_matches('/')));
    }
    for d in [
        format!("lib/firmware/updates/{release}"),
        "lib/firmware/updates".to_string(),
        format!("lib/firmware/{release}"),
        "lib/firmware".to_string(),
    ] {
        dirs.push(root.join(d));
    }
    let rel = name.trim_start_matches('/');
    dirs.into_iter()
        .map(|d| d.join(rel))
        .find(|p| p.is_file())
        .ok_or(libc::ENOENT)
}
