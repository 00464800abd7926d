//! The runtime SIGKILLed in the middle of a command: no core may be left
//! running that no container owns, and `state` must tell the truth.
use std::time::Duration;

use super::{ensure, Verdict};
use crate::kernel::Core;
use crate::runtime::{firmware, run, spawn, Bundle};
use crate::system;

const SECOND: Duration = Duration::from_secs(1);
/// Delays before the SIGKILL, spread over the commands' run time under TCG.
const DELAYS_US: &[u64] = &[0, 500, 2_000, 5_000, 10_000, 20_000, 40_000, 80_000];

/// When to SIGKILL a command.
#[derive(Clone)]
enum Cut {
    After(Duration),
    /// The moment this path appears (bounded by one second).
    When(std::path::PathBuf),
}

/// Kills `hybrid-runtime ARGS…` at `cut`; returns whether it had already finished.
fn interrupt(args: &[&str], cut: &Cut) -> Result<bool, String> {
    let mut child = spawn(args).map_err(|e| format!("spawn: {e}"))?;
    match cut {
        Cut::After(delay) => std::thread::sleep(*delay),
        Cut::When(path) => {
            let end = std::time::Instant::now() + SECOND;
            while !path.exists() && std::time::Instant::now() < end {
                std::hint::spin_loop();
            }
        }
    }
    let finished = matches!(child.try_wait(), Ok(Some(_)));
    let _ = child.kill();
    let _ = child.wait();
    Ok(finished)
}

/// The delays to cut after, each with how it reads in a message.
fn delays() -> impl Iterator<Item = (String, Cut)> {
    DELAYS_US.iter().map(|us| {
        (
            format!("after {us} µs"),
            Cut::After(Duration::from_micros(*us)),
        )
    })
}

/// One create of container `id` cut at `cut`, then `delete --force`: the core
/// must stay offline and nothing of the container may remain. Returns the outcome.
fn create_cut(core: &Core, id: &str, when: &str, cut: &Cut) -> Result<String, String> {
    let bundle = Bundle::new(id, Some(&firmware("trace cut\n")), &[])?;
    let dir = bundle.dir.to_string_lossy().into_owned();
    let pid_file = format!("{dir}/init.pid");
    let args = ["create", "--bundle", &dir, "--pid-file", &pid_file, id];
    let finished = interrupt(&args, cut)?;
    let state = core.state();
    let status = bundle.status().unwrap_or_else(|_| "absent".into());
    run(&["delete", "--force", id])
        .ok()
        .map_err(|e| format!("delete --force: {e}"))?;
    system::reap_orphans();
    ensure(state == "offline", || {
        format!("create killed {when} left the core {state}")
    })?;
    ensure(
        matches!(
            status.as_str(),
            "creating" | "created" | "absent" | "stopped"
        ),
        || format!("create killed {when}: status {status}"),
    )?;
    ensure(!bundle.state_dir().exists(), || {
        format!("delete --force left {}", bundle.state_dir().display())
    })?;
    ensure(core.state() == "offline", || {
        format!("core {} after delete --force", core.state())
    })?;
    let path = format!("/lib/firmware/hybrid-runtime/{id}");
    ensure(!std::path::Path::new(&path).exists(), || {
        format!("create killed {when} ({status}), then delete --force, left {path}")
    })?;
    Ok(if finished { "done".to_string() } else { status })
}

pub fn create_killed(core: &Core) -> Verdict {
    let mut outcomes = Vec::new();
    for (i, (when, cut)) in delays().enumerate() {
        outcomes.push(create_cut(core, &format!("cut{i}"), &when, &cut)?);
    }
    Ok(format!(
        "core never left running; outcomes by delay: {}",
        outcomes.join(", ")
    ))
}

/// The window between staging the firmware copy and recording the container.
pub fn create_killed_at_staging(core: &Core) -> Verdict {
    let cut = Cut::When("/lib/firmware/hybrid-runtime/staged".into());
    let outcome = create_cut(core, "staged", "as its firmware copy appeared", &cut)?;
    Ok(format!("nothing left behind; outcome {outcome}"))
}

pub fn start_killed(core: &Core) -> Verdict {
    let mut outcomes = Vec::new();
    for (i, (when, cut)) in delays().enumerate() {
        let bundle = Bundle::new(&format!("half{i}"), Some(&firmware("trace half\n")), &[])?;
        bundle.create().ok().map_err(|e| format!("create: {e}"))?;
        let pid = bundle.monitor_pid()?;
        interrupt(&["start", &bundle.id], &cut)?;
        // Whatever the cut, the core and the status must agree once the dust settles.
        let (mut state, mut status) = (String::new(), String::new());
        let truthful = super::eventually(2 * SECOND, || {
            state = core.state();
            status = bundle.status().unwrap_or_default();
            matches!(
                (state.as_str(), status.as_str()),
                ("running", "running") | ("offline", "created")
            )
        });
        run(&["delete", "--force", &bundle.id])
            .ok()
            .map_err(|e| format!("delete --force: {e}"))?;
        system::wait_pid(pid, 5 * SECOND);
        ensure(truthful, || {
            format!("start killed {when}: core {state} but status {status}")
        })?;
        ensure(core.state() == "offline", || {
            format!("core {} after delete --force", core.state())
        })?;
        outcomes.push(status);
    }
    Ok(format!(
        "status matched the core every time: {}",
        outcomes.join(", ")
    ))
}
