//! The device tree: the board's `model` and `compatible`, and a core's own `compatible`.

use std::path::Path;

use crate::host::Host;

fn strings(path: &Path) -> Vec<String> {
    match std::fs::read(path) {
        Ok(bytes) => bytes
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| {
                String::from_utf8_lossy(s)
                    .trim_end_matches('\n')
                    .to_string()
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub fn model(host: &Host) -> Option<String> {
    strings(&host.devicetree().join("model")).into_iter().next()
}

pub fn compatible(host: &Host) -> Vec<String> {
    strings(&host.devicetree().join("compatible"))
}

/// The `compatible` strings of a core's device-tree node (`remoteprocN/device/of_node`).
pub fn core_compatible(core_dir: &Path) -> Vec<String> {
    strings(&core_dir.join("device/of_node/compatible"))
}

/// A core's device-tree node as a path below the tree's root (`/remoteproc@...`), or `None`
/// when the core has no node: with the processor name, what identifies a core across a driver
/// reload that registers another processor under the same `remoteprocN`.
pub fn core_node(host: &Host, core_dir: &Path) -> Option<String> {
    let node = std::fs::canonicalize(core_dir.join("device/of_node")).ok()?;
    let base = std::fs::canonicalize(host.devicetree()).ok()?;
    let rel = node.strip_prefix(base).ok()?;
    Some(format!("/{}", rel.display()))
}
