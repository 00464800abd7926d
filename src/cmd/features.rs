//! `features`: what this runtime supports, as runc's JSON, including which mechanism guards
//! each core (`cdev`: the kernel stops it when the monitor dies; `sysfs`: reconciliation only)
//! and which hooks a bundle may ask for.

use std::collections::HashMap;

use argh::FromArgs;
use oci_spec::runtime::FeaturesBuilder;

use crate::cli::{self, Global};
use crate::cmd::format::print_pretty;
use crate::error::{Error, Result};
use crate::oci::hooks;
use crate::platform::remoteproc;

/// Print what this runtime supports as JSON.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(Args {}) = cli::parse("features", args)? else {
        return Ok(0);
    };
    let mut annotations = HashMap::new();
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
            format!("io.hybrid-runtime.guard.{}", c.dev),
            String::from(guard),
        );
        annotations.insert(format!("io.hybrid-runtime.core.{}", c.dev), c.name.clone());
    }
    annotations.insert(String::from("io.hybrid-runtime.guard"), guards.join(","));
    let features = FeaturesBuilder::default()
        .oci_version_min("1.0.0")
        .oci_version_max("1.2.0")
        .hooks(hooks::SUPPORTED.map(String::from).to_vec())
        .mount_options(Vec::<String>::new())
        .annotations(annotations)
        .build()
        .map_err(|e| Error::new(format!("building the features: {e}")))?;
    // Through a JSON value: annotations in sorted order.
    let json = serde_json::to_value(&features)
        .map_err(|e| Error::new(format!("writing the features: {e}")))?;
    print_pretty(&json)?;
    Ok(0)
}
