//! `state <CONTAINER_ID>`: the OCI state, reconciled with the monitor and the core.

use std::collections::BTreeMap;

use crate::cli::{parse, Global, Spec};
use crate::container::Container;
use crate::error::Result;
use crate::json::write::Writer;
use crate::oci::status::Status;

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime state [--] <CONTAINER_ID>

Print the OCI state of a container as JSON.

Positional Arguments:
  CONTAINER_ID      the container

Options:
  --help, help      display usage information
"#,
    opts: &[],
    positionals: &["CONTAINER_ID"],
    required: 1,
};

pub struct State {
    oci_version: &'static str,
    pub id: String,
    pub status: &'static str,
    pub pid: i32,
    pub bundle: String,
    pub created: String,
    pub annotations: BTreeMap<String, String>,
}

impl State {
    /// The state as OCI's JSON.
    pub fn write(&self, w: &mut Writer) {
        w.object().key("ociVersion").string(self.oci_version);
        w.key("id").string(&self.id);
        w.key("status").string(self.status);
        w.key("pid").raw(&self.pid.to_string());
        w.key("bundle").string(&self.bundle);
        w.key("created").string(&self.created);
        w.key("annotations").map(&self.annotations).end_object();
    }
}

/// The `io.hybrid-runtime.*` annotations `state` reports from the record and reality.
const REPORTED: &[&str] = &[
    "core",
    "core-name",
    "core-state",
    "firmware",
    "guard",
    "adopted",
    "monitor",
    "exit-code",
    "exit-reason",
];

/// The state of one container, as `state` and `list --format json` print it.
pub fn of(g: &Global, c: &Container) -> State {
    let seen = c.seen(&g.host);
    let r = &c.record;
    // What the runtime reports is never taken from the bundle: a bundle cannot fake an exit
    // code, a lost monitor or an adopted core. (Copied without them rather than removed from a
    // clone, which would add the map's whole removal code to the binary.)
    let reported = |k: &str| {
        k.strip_prefix("io.hybrid-runtime.")
            .is_some_and(|name| REPORTED.contains(&name))
    };
    let mut ann = BTreeMap::new();
    for (k, v) in &r.annotations {
        if !reported(k) {
            ann.insert(k.clone(), v.clone());
        }
    }
    let mut put = |k: &str, v: String| {
        ann.insert(crate::error::cat(&["io.hybrid-runtime.", k]), v);
    };
    // A pod sandbox holds no core: nothing to say about one.
    if !r.core.is_empty() {
        put("core", r.core.clone());
        put("core-name", r.core_name.clone());
        put("core-state", seen.core_state.clone());
        put("firmware", r.firmware.clone());
    }
    put("guard", r.guard.clone());
    if r.adopted {
        put("adopted", String::from("true"));
    }
    if seen.monitor_lost {
        put(
            "monitor",
            String::from(
                "lost: the core still runs this container's firmware; delete --force stops it",
            ),
        );
    }
    if let Some(exit) = &seen.exit {
        put("exit-code", exit.code.to_string());
        put("exit-reason", exit.reason.clone());
    }
    let pid = match seen.status {
        Status::Created | Status::Running if !seen.monitor_lost => r.pid,
        _ => 0,
    };
    State {
        oci_version: "1.0.2",
        id: r.id.clone(),
        status: seen.status.as_str(),
        pid,
        bundle: r.bundle.clone(),
        created: r.created.clone(),
        annotations: ann,
    }
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let id = p.positional(0).unwrap_or_default();
    let c = Container::load(&g.root, &id)?;
    let mut w = Writer::new(true);
    of(g, &c).write(&mut w);
    println!("{}", w.out);
    Ok(0)
}
