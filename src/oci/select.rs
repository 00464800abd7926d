//! Choosing the core for a bundle: from annotations (`io.hybrid-runtime.core`, Arm's
//! `remoteproc.name`, the prototype's `mcu`), the environment (`HYBRID_CORE`, `MCU`) for engines
//! that cannot pass annotations, and a board check against the device tree. No selector and one
//! core → that core. Every error lists the cores available.

use crate::error::{Error, Result};
use crate::host::Host;
use crate::oci::bundle::Bundle;
use crate::platform::devicetree;
use crate::platform::remoteproc::{self, Core};

pub const CORE_KEYS: &[&str] = &["io.hybrid-runtime.core", "remoteproc.name", "mcu"];
pub const CORE_ENV: &[&str] = &["HYBRID_CORE", "MCU"];
pub const BOARD_KEYS: &[&str] = &["io.hybrid-runtime.board", "board"];
pub const BOARD_ENV: &[&str] = &["HYBRID_BOARD", "BOARD"];

/// What to do with a core that is not offline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IfRunning {
    Refuse,
    Stop,
    Adopt,
}

pub fn if_running(bundle: &Bundle) -> Result<IfRunning> {
    match bundle.setting(&["io.hybrid-runtime.if-running"], &["HYBRID_IF_RUNNING"]) {
        None => Ok(IfRunning::Refuse),
        Some((_, v)) => match v.as_str() {
            "refuse" => Ok(IfRunning::Refuse),
            "stop" => Ok(IfRunning::Stop),
            "adopt" => Ok(IfRunning::Adopt),
            other => Err(Error::new(format!(
                "invalid io.hybrid-runtime.if-running \"{other}\": use refuse, stop or adopt"
            ))),
        },
    }
}

/// `remoteproc0 (m4, offline), remoteproc1 (r5f, running)`.
pub fn describe(cores: &[Core]) -> String {
    if cores.is_empty() {
        return String::from("none");
    }
    let mut s = String::new();
    for (i, c) in cores.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let state = c.state().unwrap_or_else(|_| String::from("unknown"));
        s.push_str(&format!("{} ({}, {state})", c.dev, c.name));
    }
    s
}

fn available(host: &Host, cores: &[Core]) -> String {
    if cores.is_empty() {
        return format!(
            "no remote processor found in {}",
            host.remoteproc_class().display()
        );
    }
    format!("available cores: {}", describe(cores))
}

fn matches(core: &Core, wanted: &str) -> bool {
    if core.dev == wanted || core.index.to_string() == wanted {
        return true;
    }
    core.name.eq_ignore_ascii_case(wanted)
        || devicetree::core_compatible(&core.dir)
            .iter()
            .any(|c| c == wanted)
}

pub fn choose(host: &Host, bundle: &Bundle) -> Result<Core> {
    let cores = remoteproc::list(host).map_err(|e| Error::io(&e, "listing remote processors"))?;
    if let Some((from, board)) = bundle.setting(BOARD_KEYS, BOARD_ENV) {
        let model = devicetree::model(host);
        let compatible = devicetree::compatible(host);
        let fits = model
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(&board))
            || compatible.iter().any(|c| c.eq_ignore_ascii_case(&board));
        if !fits {
            return Err(Error::new(format!("this board is not \"{board}\" ({from}): the device tree says model \"{}\", compatible \"{}\"", model.as_deref().unwrap_or("unknown"), compatible.join(", "))));
        }
    }
    match bundle.setting(CORE_KEYS, CORE_ENV) {
        Some((from, wanted)) => {
            let found: Vec<&Core> = cores.iter().filter(|c| matches(c, &wanted)).collect();
            match found.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(Error::new(format!("no core \"{wanted}\" ({from}); {}", available(host, &cores)))),
                _ => Err(Error::new(format!("several cores match \"{wanted}\" ({from}): name one by device (remoteprocN); {}", available(host, &cores)))),
            }
        }
        None => match cores.as_slice() {
            [one] => Ok(one.clone()),
            _ if cores.is_empty() => Err(Error::new(available(host, &cores))),
            _ => Err(Error::new(format!("several cores: choose one with the annotation io.hybrid-runtime.core or the environment variable HYBRID_CORE (a name, an index or remoteprocN); {}", available(host, &cores)))),
        },
    }
}
