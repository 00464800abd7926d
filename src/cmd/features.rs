//! `features`: what this runtime supports, as runc-like JSON, including which mechanism guards
//! each core (`cdev`: the kernel stops it when the monitor dies; `sysfs`: reconciliation only).

use std::collections::BTreeMap;

use argh::FromArgs;
use serde::Serialize;

use crate::cli::{parse, Global};
use crate::error::{cat, Error, Result};
use crate::platform::remoteproc;

#[derive(FromArgs)]
/// Print what this runtime supports as JSON.
struct Args {}

#[derive(Serialize)]
struct Features {
    #[serde(rename = "ociVersionMin")]
    oci_version_min: &'static str,
    #[serde(rename = "ociVersionMax")]
    oci_version_max: &'static str,
    hooks: [&'static str; 0],
    #[serde(rename = "mountOptions")]
    mount_options: [&'static str; 0],
    annotations: BTreeMap<String, String>,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(Args {}) = parse::<Args>("features", args)? else {
        return Ok(0);
    };
    let mut annotations = BTreeMap::new();
    annotations.insert(
        String::from("io.hybrid-runtime.version"),
        String::from(env!("CARGO_PKG_VERSION")),
    );
    let cores = remoteproc::list(&g.host).unwrap_or_default();
    let mut guards: Vec<&str> = Vec::new();
    for c in &cores {
        let guard = if c.cdev_path(&g.host).is_some() {
            "cdev"
        } else {
            "sysfs"
        };
        if !guards.contains(&guard) {
            guards.push(guard);
        }
        annotations.insert(
            cat(&["io.hybrid-runtime.guard.", &c.dev]),
            String::from(guard),
        );
        annotations.insert(cat(&["io.hybrid-runtime.core.", &c.dev]), c.name.clone());
    }
    annotations.insert(String::from("io.hybrid-runtime.guard"), guards.join(","));
    let f = Features {
        oci_version_min: "1.0.0",
        oci_version_max: "1.2.0",
        hooks: [],
        mount_options: [],
        annotations,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&f).map_err(|e| Error::new(e.to_string()))?
    );
    Ok(0)
}
