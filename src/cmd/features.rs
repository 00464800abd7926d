//! `features`: what this runtime supports, as runc-like JSON, including which mechanism guards
//! each core (`cdev`: the kernel stops it when the monitor dies; `sysfs`: reconciliation only).

use std::collections::BTreeMap;

use crate::cli::{parse, Global, Spec};
use crate::error::{cat, Result};
use crate::json::write::Writer;
use crate::platform::remoteproc;

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime features

Print what this runtime supports as JSON.

Options:
  --help, help      display usage information
"#,
    opts: &[],
    positionals: &[],
    required: 0,
};

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(_) = parse(&SPEC, args)? else {
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
    let mut w = Writer::new(true);
    w.object().key("ociVersionMin").string("1.0.0");
    w.key("ociVersionMax").string("1.2.0");
    w.key("hooks").list().end_list();
    w.key("mountOptions").list().end_list();
    w.key("annotations").map(&annotations).end_object();
    println!("{}", w.out);
    Ok(0)
}
