//! The bundle's hooks (OCI runtime spec, "POSIX-platform Hooks"): the runtime-namespace ones —
//! `prestart` and `createRuntime` at create, `poststart` after start, `poststop` after delete —
//! run in the spec's order with the container's state on stdin, their own `args` and `env`, and
//! within their `timeout`. A remote core has no container namespace, so `createContainer` and
//! `startContainer` are refused. Hooks are programs the bundle's author asked for.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
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
    let mut cmd = Command::new(path);
    if let Some(args) = hook.args() {
        if let Some((arg0, rest)) = args.split_first() {
            cmd.arg0(arg0).args(rest);
        }
    }
    cmd.env_clear();
    for kv in hook.env().as_deref().unwrap_or(&[]) {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io(&e, format!("cannot run hook {}", path.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin closes it: not an error.
        let _ = stdin.write_all(state.as_bytes());
    }
    let deadline = hook
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.unsigned_abs()));
    let (status, output) = wait(&mut child, deadline).map_err(|e| e.context(path.display()))?;
    let Some(status) = status else {
        return Err(Error::new(format!(
            "hook {} did not finish within its timeout of {} s and was killed{}",
            path.display(),
            hook.timeout().unwrap_or(0),
            shown(&output)
        )));
    };
    if status.success() {
        return Ok(());
    }
    Err(Error::new(format!(
        "hook {} failed ({status}){}",
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
/// status (`None`: killed at the deadline) and the first bytes of its output.
fn wait(
    child: &mut Child,
    deadline: Option<Instant>,
) -> Result<(Option<std::process::ExitStatus>, Vec<u8>)> {
    let mut kept = Vec::new();
    let mut pipes: Vec<Box<dyn ReadFd>> = Vec::new();
    if let Some(out) = child.stdout.take() {
        pipes.push(Box::new(out));
    }
    if let Some(err) = child.stderr.take() {
        pipes.push(Box::new(err));
    }
    loop {
        let left_ms = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).as_millis(),
            None => 100,
        };
        if deadline.is_some() && left_ms == 0 {
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, kept));
        }
        if pipes.is_empty() {
            if let Some(status) = child.try_wait().map_err(|e| Error::io(&e, "waiting"))? {
                return Ok((Some(status), kept));
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let mut fds: Vec<libc::pollfd> = pipes
            .iter()
            .map(|p| crate::sys::pollfd(p.raw_fd()))
            .collect();
        let timeout = i32::try_from(left_ms.min(100)).unwrap_or(100);
        crate::sys::poll(&mut fds, timeout).map_err(|e| Error::io(&e, "waiting"))?;
        let mut open = Vec::new();
        for (mut pipe, fd) in pipes.into_iter().zip(&fds) {
            if fd.revents == 0 {
                open.push(pipe);
                continue;
            }
            let mut buf = [0u8; 4096];
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => {}
                Ok(n) => {
                    let room = OUTPUT_KEPT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    open.push(pipe);
                }
            }
        }
        pipes = open;
    }
}

/// A pipe from the hook, read when poll says so.
trait ReadFd: Read {
    fn raw_fd(&self) -> i32;
}

impl<T: Read + AsRawFd> ReadFd for T {
    fn raw_fd(&self) -> i32 {
        self.as_raw_fd()
    }
}
