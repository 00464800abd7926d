//! Support shared by the adversarial suites (hostile input, stress, faults): a snapshot of
//! everything a command could change on the simulated host, the system invariants, and the
//! monitors of a state root found in /proc.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{Out, Rt};

/// Everything a runtime command may change: files under the state root, the firmware
/// directory and the claims directory (path → kind and mode), each core's state, power
/// references, event count and device holders, and the monitors alive.
#[derive(PartialEq, Eq, Debug, Clone)]
pub struct Snapshot {
    pub files: BTreeMap<String, String>,
    pub cores: Vec<(String, u32, usize, String)>,
    pub monitors: Vec<i32>,
}

fn walk(base: &Path, rel: &str, out: &mut BTreeMap<String, String>) {
    let dir = base.join(rel);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let Ok(m) = std::fs::symlink_metadata(base.join(&r)) else {
            continue;
        };
        let kind = if m.file_type().is_symlink() {
            "link"
        } else if m.is_dir() {
            "dir"
        } else {
            "file"
        };
        out.insert(
            r.clone(),
            format!("{kind} {:o} {} {}", m.mode() & 0o7777, m.len(), m.uid()),
        );
        if kind == "dir" {
            walk(base, &r, out);
        }
    }
}

impl Snapshot {
    pub fn take(rt: &Rt, cores: u32) -> Snapshot {
        let mut files = BTreeMap::new();
        for top in ["work/state", "lib/firmware", "run"] {
            let mut part = BTreeMap::new();
            walk(&rt.sim.path(top), "", &mut part);
            for (k, v) in part {
                // Directory sizes change with their entries; the entries themselves are listed.
                let v = if v.starts_with("dir") {
                    v.split(' ').take(2).collect::<Vec<_>>().join(" ")
                } else {
                    v
                };
                files.insert(format!("{top}/{k}"), v);
            }
        }
        let cores = (0..cores)
            .map(|n| {
                (
                    rt.sim.state(n),
                    rt.sim.power(n),
                    rt.sim.events(n).len(),
                    rt.sim
                        .read(&format!("sim/remoteproc{n}/cdev_holders"))
                        .unwrap_or_default(),
                )
            })
            .collect();
        Snapshot {
            files,
            cores,
            monitors: monitors(rt),
        }
    }
}

/// Processes of the runtime binary started for this state root (monitors), by /proc.
pub fn monitors(rt: &Rt) -> Vec<i32> {
    let root = rt.root.to_string_lossy().into_owned();
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(") ")
            .is_some_and(|(_, r)| r.starts_with('Z'));
        if !zombie
            && args.iter().any(|a| a == "create")
            && args.windows(2).any(|w| w[0] == "--root" && w[1] == root)
        {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

/// The containers in the state root (directory names).
pub fn containers(rt: &Rt) -> Vec<String> {
    crate::common::names_in(&rt.root)
}

/// The system invariants; `Err` says which one is broken:
/// - a core is running iff exactly one container says it is running on it;
/// - no firmware copy without a container; no monitor without a container.
pub fn check_invariants(rt: &Rt, cores: u32) -> Result<(), String> {
    let ids = containers(rt);
    let mut running_on: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in &ids {
        let o = rt.run(&["state", id]);
        if o.code != 0 {
            return Err(format!("state {id} failed: {}", o.stderr));
        }
        let v: serde_json::Value =
            serde_json::from_str(&o.stdout).map_err(|e| format!("state {id}: {e}"))?;
        if v["status"] == "running" {
            let core = v["annotations"]["io.hybrid-runtime.core"]
                .as_str()
                .unwrap_or("")
                .to_string();
            running_on.entry(core).or_default().push(id.clone());
        }
    }
    for n in 0..cores {
        let dev = format!("remoteproc{n}");
        let state = rt.sim.state(n);
        let claimed = running_on.get(&dev).map_or(0, Vec::len);
        let runs = state == "running";
        if runs != (claimed == 1) || claimed > 1 {
            return Err(format!(
                "{dev} is {state} (power {}) but containers running on it: {:?}",
                rt.sim.power(n),
                running_on.get(&dev)
            ));
        }
    }
    let copies = rt.sim.path("lib/firmware/hybrid-runtime");
    for e in std::fs::read_dir(&copies).into_iter().flatten().flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        if !ids.contains(&id) {
            return Err(format!("firmware copy of {id} without a container"));
        }
    }
    let alive = monitors(rt);
    let mut owned = Vec::new();
    for id in &ids {
        if let Ok(text) = std::fs::read_to_string(rt.state_dir(id).join("state.json")) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                owned.push(v["pid"].as_i64().unwrap_or(0) as i32);
            }
        }
    }
    for pid in alive {
        if !owned.contains(&pid) {
            return Err(format!("monitor {pid} without a container"));
        }
    }
    Ok(())
}

/// Start the runtime against `rt` with stdio in files (a monitor may inherit them) and the
/// environment given.
pub fn spawn(
    rt: &Rt,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, PathBuf, PathBuf) {
    let (out, err) = rt.output_files();
    let mut c = rt.command(args);
    c.stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .envs(env.iter().copied());
    (c.spawn().expect("run hybrid-runtime"), out, err)
}

/// Run the runtime against `rt` with stdio in files (a monitor may inherit them) and the
/// environment given; a command still running after `secs` is killed and reported as code -2.
pub fn run_bounded(rt: &Rt, args: &[&str], env: &[(&str, &str)], secs: u64) -> Out {
    let mut c = rt.command(args);
    c.envs(env.iter().copied());
    rt.output_within(&mut c, Duration::from_secs(secs))
}
