//! Firmware output reaching the container's stdout and `logs`, from each
//! source the kernel offers: the trace buffer, the rpmsg tty, an rpmsg endpoint.
use std::time::Duration;

use super::{ensure, eventually, Verdict};
use crate::kernel::Core;
use crate::runtime::{run, Bundle, CORE_KEY};
use crate::system;

const SOURCE: &str = "io.hybrid-runtime.log.source";
const SECOND: Duration = Duration::from_secs(1);

/// Runs a container of `fw` with log settings `settings` until `lines` appear
/// on its stdout, then checks `logs` and stops it.
fn streams(
    core: &Core,
    id: &str,
    fw: &[u8],
    settings: &[(&str, &str)],
    lines: &[String],
) -> Verdict {
    let bundle = Bundle::new(id, Some(fw), settings)?;
    let create = bundle.create();
    create.ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    run(&["start", id])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    let stdout = || std::fs::read_to_string(&create.stdout_path).unwrap_or_default();
    let all_there = |text: &str| {
        lines
            .iter()
            .all(|l| text.lines().any(|x| x.ends_with(l.as_str())))
    };
    let seen = eventually(5 * SECOND, || all_there(&stdout()));
    let out = stdout();
    let logs = run(&["logs", id]);
    run(&["kill", id, "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    system::wait_pid(pid, 5 * SECOND);
    run(&["delete", id])
        .ok()
        .map_err(|e| format!("delete: {e}"))?;
    core.wait_state("offline", SECOND)?;
    ensure(seen, || {
        format!(
            "container stdout: {out:?}; `logs`: exit {} {:?} {:?}",
            logs.code,
            logs.stdout,
            logs.stderr.trim()
        )
    })?;
    for l in lines {
        let n = out.lines().filter(|x| x.ends_with(l.as_str())).count();
        ensure(n == 1, || {
            format!("{l:?} appears {n} times on stdout: {out:?}")
        })?;
    }
    logs.ok().map_err(|e| format!("logs: {e}"))?;
    ensure(all_there(&logs.stdout), || {
        format!("`logs` printed {:?}", logs.stdout)
    })?;
    Ok(format!("{} lines on stdout and in `logs`", lines.len()))
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix} {i}")).collect()
}

pub fn trace(core: &Core) -> Verdict {
    let script = "repeat 5\ntrace trace line {n}\nsleep 50\nend\n";
    let fw = hybrid_sim::firmware::Firmware::new()
        .with_trace(4096)
        .script(script)
        .bytes();
    streams(
        core,
        "logtrace",
        &fw,
        &[(SOURCE, "trace")],
        &numbered("trace line", 5),
    )
}

pub fn tty(core: &Core) -> Verdict {
    let script = "sleep 300\nrepeat 5\ntty tty line {n}\nsleep 50\nend\n";
    let fw = hybrid_sim::firmware::Firmware::new()
        .with_rpmsg()
        .script(script)
        .bytes();
    streams(
        core,
        "logtty",
        &fw,
        &[(SOURCE, "tty")],
        &numbered("tty line", 5),
    )
}

pub fn endpoint(core: &Core) -> Verdict {
    let script = "sleep 300\nrepeat 5\nept endpoint line {n}\nsleep 50\nend\n";
    let fw = hybrid_sim::firmware::Firmware::new()
        .with_rpmsg()
        .script(script)
        .bytes();
    streams(
        core,
        "logept",
        &fw,
        &[(SOURCE, "endpoint")],
        &numbered("endpoint line", 5),
    )
}
/// A channel no kernel driver claims: the runtime creates the endpoint through
/// /dev/rpmsg_ctrlN and greets the firmware, which only talks once greeted.
pub fn created_endpoint(core: &Core) -> Verdict {
    let script = "announce my-log\nwait-rx\nrepeat 3\nept named line {n}\nsleep 50\nend\n";
    let fw = hybrid_sim::firmware::Firmware::new()
        .with_rpmsg()
        .script(script)
        .bytes();
    let settings = [
        (SOURCE, "endpoint"),
        ("io.hybrid-runtime.log.channel", "my-log"),
        ("io.hybrid-runtime.log.hello", "hi"),
    ];
    streams(core, "logctrl", &fw, &settings, &numbered("named line", 3))
}

/// A crash leaves the firmware's last trace lines and the kernel's crash line
/// in the container's output before the monitor exits with 134.
pub fn crash_context(core: &Core) -> Verdict {
    let script = "trace last words\nsleep 300\ncrash fatal-error\n";
    let fw = hybrid_sim::firmware::Firmware::new()
        .with_trace(4096)
        .script(script)
        .bytes();
    let bundle = Bundle::new("lastwords", Some(&fw), &[(SOURCE, "trace")])?;
    let create = bundle.create();
    create.ok().map_err(|e| format!("create: {e}"))?;
    let pid = bundle.monitor_pid()?;
    run(&["start", "lastwords"])
        .ok()
        .map_err(|e| format!("start: {e}"))?;
    let code = system::wait_pid(pid, 5 * SECOND);
    let out = std::fs::read_to_string(&create.stdout_path).unwrap_or_default();
    let logs = run(&["logs", "lastwords"]);
    run(&["delete", "--force", "lastwords"])
        .ok()
        .map_err(|e| format!("delete --force: {e}"))?;
    core.wait_state("offline", SECOND)?;
    ensure(code == Some(134), || {
        format!("monitor exit status {code:?}, expected 134")
    })?;
    for text in [&out, &logs.stdout] {
        ensure(
            text.lines().filter(|l| l.ends_with("last words")).count() == 1,
            || format!("last trace line not there exactly once: {text:?}"),
        )?;
        ensure(text.contains("crash detected in m4"), || {
            format!("no kernel crash line: {text:?}")
        })?;
    }
    Ok("last trace line and the kernel's crash line on stdout and in `logs`; 134".into())
}

/// Two cores at once, started in the reverse order of their numbers so that
/// remoteproc0's rpmsg devices are not number 0: each container gets its own
/// core's lines only, and stopping one leaves the other running.
pub fn two_cores_at_once(core: &Core) -> Verdict {
    let r5 = Core::find("r5").map_err(|e| e.to_string())?;
    ensure(r5.state() == "offline", || format!("r5 is {}", r5.state()))?;
    let fw = |who: &str| {
        let script = format!("sleep 200\nrepeat 3\ntty from {who} {{n}}\nsleep 50\nend\n");
        hybrid_sim::firmware::Firmware::new()
            .with_rpmsg()
            .script(&script)
            .bytes()
    };
    let mut running = Vec::new();
    for (id, name) in [("on-r5", "r5"), ("on-m4", "m4")] {
        let bundle = Bundle::new(id, Some(&fw(name)), &[(CORE_KEY, name), (SOURCE, "tty")])?;
        let create = bundle.create();
        create.ok().map_err(|e| format!("create {id}: {e}"))?;
        let pid = bundle.monitor_pid()?;
        run(&["start", id])
            .ok()
            .map_err(|e| format!("start {id}: {e}"))?;
        running.push((bundle, pid, create.stdout_path, name));
    }
    let stdout = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let complete = eventually(5 * SECOND, || {
        running
            .iter()
            .all(|(_, _, out, name)| stdout(out).contains(&format!("from {name} 3")))
    });
    let (first, rest) = running.split_first().ok_or("no containers")?;
    run(&["kill", &first.0.id, "TERM"])
        .ok()
        .map_err(|e| format!("kill: {e}"))?;
    system::wait_pid(first.1, 5 * SECOND);
    let other_state = core.state();
    for (bundle, pid, ..) in rest {
        run(&["kill", &bundle.id, "TERM"])
            .ok()
            .map_err(|e| format!("kill: {e}"))?;
        system::wait_pid(*pid, 5 * SECOND);
    }
    for (bundle, ..) in &running {
        run(&["delete", "--force", &bundle.id])
            .ok()
            .map_err(|e| format!("delete: {e}"))?;
    }
    ensure(complete, || {
        let outs: Vec<String> = running.iter().map(|(_, _, out, _)| stdout(out)).collect();
        format!("container stdouts: {outs:?}")
    })?;
    for (bundle, _, out, name) in &running {
        let text = stdout(out);
        let foreign = text
            .lines()
            .filter(|l| l.contains("from ") && !l.contains(&format!("from {name} ")))
            .count();
        ensure(foreign == 0, || {
            format!("{} got another core's lines: {text:?}", bundle.id)
        })?;
    }
    ensure(other_state == "running", || {
        format!("m4 {other_state} after the r5 container was killed")
    })?;
    Ok("each container saw only its core's tty lines; killing one left the other running".into())
}

/// An echoing firmware on the tty: the runtime's greeting comes back once. A tty
/// left in cooked mode would echo it back to the firmware, forever.
pub fn tty_raw_mode(core: &Core) -> Verdict {
    let script = "echo\nsleep 200\ntty ready\n";
    let fw = hybrid_sim::firmware::Firmware::new()
        .with_rpmsg()
        .script(script)
        .bytes();
    let settings = [(SOURCE, "tty"), ("io.hybrid-runtime.log.hello", "ping")];
    let lines = ["ready".to_string(), "ping".to_string()];
    streams(core, "ttyraw", &fw, &settings, &lines)
}
