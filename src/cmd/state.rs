//! `state <CONTAINER_ID>`: the OCI state, reconciled with the monitor and the core.

use std::collections::HashMap;

use argh::FromArgs;
use oci_spec::runtime::{ContainerState, State, StateBuilder};

use crate::cli::{self, Global};
use crate::container::Container;
use crate::error::{Error, Result};
use crate::oci::status::Status;

/// Print the OCI state of a container as JSON.
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// the container
    #[argh(positional, arg_name = "CONTAINER_ID")]
    id: String,
}

/// The OCI version of the state this runtime prints.
const OCI_VERSION: &str = "1.0.2";

/// A container's OCI state, and when it was created (runc prints `created` too).
pub struct Report {
    pub state: State,
    pub created: String,
}

impl Report {
    /// The state as JSON, keys (annotations included) in sorted order.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        let mut value = serde_json::to_value(&self.state)
            .map_err(|e| Error::new(format!("writing the state: {e}")))?;
        if let Some(fields) = value.as_object_mut() {
            fields.insert(String::from("created"), self.created.clone().into());
        }
        Ok(value)
    }

    pub fn annotation(&self, key: &str) -> &str {
        self.state
            .annotations()
            .as_ref()
            .and_then(|a| a.get(key))
            .map_or("", String::as_str)
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

/// The state of one container, as `state` and `list` print it.
pub fn of(g: &Global, c: &Container) -> Result<Report> {
    let seen = c.seen(&g.host);
    let r = &c.record;
    // What the runtime reports is never taken from the bundle: a bundle cannot fake an exit
    // code, a lost monitor or an adopted core.
    let reported = |k: &str| {
        k.strip_prefix("io.hybrid-runtime.")
            .is_some_and(|name| REPORTED.contains(&name))
    };
    let mut annotations: HashMap<String, String> = r
        .annotations
        .iter()
        .filter(|(k, _)| !reported(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut put = |k: &str, v: String| {
        annotations.insert(format!("io.hybrid-runtime.{k}"), v);
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
    let status = match seen.status {
        Status::Creating => ContainerState::Creating,
        Status::Created => ContainerState::Created,
        Status::Running => ContainerState::Running,
        Status::Stopped => ContainerState::Stopped,
    };
    let state = StateBuilder::default()
        .version(OCI_VERSION)
        .id(r.id.clone())
        .status(status)
        .pid(pid)
        .bundle(r.bundle.clone())
        .annotations(annotations)
        .build()
        .map_err(|e| Error::new(format!("building the state of {}: {e}", r.id)))?;
    Ok(Report {
        state,
        created: r.created.clone(),
    })
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(Args { id }) = cli::parse("state", args)? else {
        return Ok(0);
    };
    let c = Container::load(&g.root, &id)?;
    let json = of(g, &c)?.to_json()?;
    crate::cmd::format::print_pretty(&json)?;
    Ok(0)
}
