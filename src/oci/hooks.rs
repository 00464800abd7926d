//! The bundle's hooks (OCI runtime spec, "POSIX-platform Hooks"): the runtime-namespace ones —
//! `prestart` and `createRuntime` at create, `poststart` after start, `poststop` after delete —
//! run in the spec's order with the container's state on stdin, their own `args` and `env`, and
//! within their `timeout`. A remote core has no container namespace, so `createContainer` and
//! `startContainer` are refused. Hooks are programs the bundle's author asked for.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use oci_spec::runtime::{Hook, Hooks};

use crate::cli::Global;
use crate::container::Container;
use crate::error::{Error, Result};

/// The hooks this runtime runs, as `features` lists them.
pub const SUPPORTED: [&str; 4] = ["prestart", "createRuntime", "poststart", "poststop"];

/// How much of a hook's output is kept for an error message.
const OUTPUT_KEPT: usize = 2048;

/// Refuse what cannot be honoured: hooks in the container namespace, relative paths, a
/// timeout that is not positive.
pub fn check_supported(hooks: Option<&Hooks>) -> Result<()> {
    let Some(hooks) = hooks else { return Ok(()) };
    for (kind, given) in [
        ("createContainer", hooks.create_container()),
        ("startContainer", hooks.start_container()),
    ] {
        if given.as_ref().is_some_and(|h| !h.is_empty()) {
            return Err(Error::new(format!(
                "hooks.{kind} is not supported: these hooks run in the container's namespaces, \
                 and a firmware on a remote core has none (supported: {})",
                SUPPORTED.join(", ")
            )));
        }
    }
    for (kind, list) in all(hooks) {
        for (n, hook) in list.iter().enumerate() {
            if !hook.path().is_absolute() {
                return Err(Error::new(format!(
                    "hooks.{kind}[{n}].path {} must be an absolute path",
                    hook.path().display()
                )));
            }
            if hook.timeout().is_some_and(|t| t <= 0) {
                return Err(Error::new(format!(
                    "hooks.{kind}[{n}].timeout must be greater than zero"
                )));
            }
        }
    }
    Ok(())
}

/// The runtime-namespace hooks of `hooks`, in the order the spec runs them.
fn all(hooks: &Hooks) -> [(&'static str, &[Hook]); 4] {
    fn list(h: &Option<Vec<Hook>>) -> &[Hook] {
        h.as_deref().unwrap_or(&[])
    }
    [
        ("prestart", list(hooks.prestart())),
        ("createRuntime", list(hooks.create_runtime())),
        ("poststart", list(hooks.poststart())),
        ("poststop", list(hooks.poststop())),
    ]
}

/// The hooks of `kind` recorded for container `c`.
fn of_kind<'a>(c: &'a Container, kind: &str) -> &'a [Hook] {
    let Some(hooks) = &c.record.hooks else {
        return &[];
    };
    all(hooks)
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, list)| list)
}

/// `prestart` then `createRuntime`, once the monitor is ready: the first that fails fails the
/// create (which then undoes everything).
pub fn run_create_hooks(g: &Global, c: &Container) -> Result<()> {
    let state = state_json(g, c)?;
    for kind in ["prestart", "createRuntime"] {
        for (n, hook) in of_kind(c, kind).iter().enumerate() {
            run(hook, &state).map_err(|e| e.context(format!("hooks.{kind}[{n}]")))?;
        }
    }
    Ok(())
}

/// `poststart` after a start, or `poststop` after a delete (`state` is the container's last
/// state): a failure is a warning, and the other hooks still run.
pub fn run_after(g: &Global, c: &Container, kind: &str, state: &str) {
    for (n, hook) in of_kind(c, kind).iter().enumerate() {
        if let Err(e) = run(hook, state) {
            let msg = format!("warning: hooks.{kind}[{n}]: {}", e.msg);
            eprintln!("hybrid-runtime: {msg}");
            crate::report::log_line(g, "warning", &msg);
        }
    }
}

/// The container's state as hooks receive it on stdin.
pub fn state_json(g: &Global, c: &Container) -> Result<String> {
    let json = crate::cmd::state::of(g, c)?.to_json()?;
    crate::document::to_line(&json)
}

/// Run one hook: `state` on its stdin, its output kept for the error message, killed after its
/// timeout.
fn run(hook: &Hook, state: &str) -> Result<()> {
    let path = hook.path();
    // `args[0]` is the program's argv[0]; without args, its path.
    let args = match hook.args() {
        Some(a) if !a.is_empty() => a.clone(),
        _ => vec![path.display().to_string()],
    };
    let env = hook.env().clone().unwrap_or_default();
    let mut child = crate::sys::spawn(path, &args, &env)
        .map_err(|e| Error::io(&e, format!("cannot run hook {}", path.display())))?;
    // A hook that does not read its stdin closes it: not an error.
    let _ = child.stdin.write_all(state.as_bytes());
    drop(child.stdin);
    let deadline = hook
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.unsigned_abs()));
    let mut pipes = [Some(child.stdout), Some(child.stderr)];
    let (status, output) =
        wait(child.pid, &mut pipes, deadline).map_err(|e| e.context(path.display()))?;
    let Some(status) = status else {
        return Err(Error::new(format!(
            "hook {} did not finish within its timeout of {} s and was killed{}",
            path.display(),
            hook.timeout().unwrap_or(0),
            shown(&output)
        )));
    };
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    let how = if libc::WIFSIGNALED(status) {
        format!("signal: {}", libc::WTERMSIG(status))
    } else {
        format!("exit status: {}", libc::WEXITSTATUS(status))
    };
    Err(Error::new(format!(
        "hook {} failed ({how}){}",
        path.display(),
        shown(&output)
    )))
}

/// `: <what the hook printed>`, or nothing when it printed nothing.
fn shown(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// Collect the hook's output until it exits or the deadline passes (then kill it). Returns its
/// raw wait status (`None`: killed at the deadline) and the first bytes of its output.
fn wait(
    pid: i32,
    pipes: &mut [Option<File>; 2],
    deadline: Option<Instant>,
) -> Result<(Option<i32>, Vec<u8>)> {
    let mut kept = Vec::new();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = crate::sys::kill(pid, libc::SIGKILL);
            let _ = crate::sys::waitpid(pid);
            return Ok((None, kept));
        }
        if pipes.iter().all(Option::is_none) {
            if let Some(status) = crate::sys::try_wait(pid).map_err(|e| Error::io(&e, "waiting"))? {
                return Ok((Some(status), kept));
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let mut fds = pipes
            .each_ref()
            .map(|p| crate::sys::pollfd(p.as_ref().map_or(-1, |f| f.as_raw_fd())));
        crate::sys::poll(&mut fds, 100).map_err(|e| Error::io(&e, "waiting"))?;
        for (pipe, fd) in pipes.iter_mut().zip(&fds) {
            let Some(file) = pipe.as_mut().filter(|_| fd.revents != 0) else {
                continue;
            };
            let mut buf = [0u8; 4096];
            match file.read(&mut buf) {
                Ok(0) | Err(_) => *pipe = None,
                Ok(n) => {
                    let room = OUTPUT_KEPT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
    }
}
