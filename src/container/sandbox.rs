//! The Kubernetes pod sandbox ("pause") container, marked by the annotation
//! `io.kubernetes.cri.container-type=sandbox` (containerd) or
//! `io.kubernetes.cri-o.ContainerType=sandbox` (CRI-O). Its monitor stands for the pod: it holds
//! the pod's IPC, UTS and network namespaces (new ones, or those at the paths the engine gives),
//! waits for `start`, then for a signal, and touches no core, so a RuntimeClass can run whole
//! pods.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::cli::Global;
use crate::error::{Error, Result};
use crate::oci::bundle::Bundle;

use super::create::{save_with_fifos, Request};
use super::record::write_atomic;
use super::spawn::{spawn, Spawn};
use super::statedir::NewDir;
use super::{process, Container, Exit, Record, REPLY_FIFO, STARTED_FILE};

/// What `state` shows as the guard of a container that holds no core.
pub const GUARD: &str = "none";

pub fn is_sandbox(bundle: &Bundle) -> bool {
    bundle.annotation("io.kubernetes.cri.container-type") == Some("sandbox")
        || bundle.annotation("io.kubernetes.cri-o.ContainerType") == Some("sandbox")
}

/// Record the sandbox and start its monitor; on failure nothing is left.
pub fn create(
    g: &Global,
    req: &Request,
    bundle: &Bundle,
    dir: NewDir,
    lock: std::fs::File,
) -> Result<i32> {
    let namespaces: Vec<LinuxNamespace> = bundle
        .config
        .linux
        .as_ref()
        .map(|l| l.namespaces.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|n| held(n.typ()))
        .collect();
    let record = Record {
        id: req.id.clone(),
        bundle: bundle.dir.to_string_lossy().into_owned(),
        created: crate::report::rfc3339_now(),
        guard: String::from(GUARD),
        annotations: bundle.config.annotations.clone(),
        hooks: bundle.config.hooks.clone(),
        ..Record::default()
    };
    save_with_fifos(&dir.path, &record)?;
    let state_dir = dir.path.clone();
    let (pid, _lock) = spawn(
        Spawn {
            what: "the sandbox monitor",
            lock,
            pid_file: req.pid_file.as_deref(),
            terminal: None,
        },
        move |ready| run(&state_dir, record, &namespaces, ready),
    )?;
    crate::report::debug(g, &format!("pod sandbox {}: monitor {pid}", req.id));
    let hooks =
        Container::load(&g.root, &req.id).and_then(|c| crate::oci::hooks::run_create_hooks(g, &c));
    if let Err(e) = hooks {
        let _ = crate::sys::kill(pid, libc::SIGKILL);
        let _ = crate::sys::waitpid(pid);
        return Err(e);
    }
    dir.keep();
    Ok(0)
}

/// The sandbox monitor: answers `start`, ends with 128+N on signal N. Never returns.
fn run(dir: &Path, mut record: Record, namespaces: &[LinuxNamespace], ready: OwnedFd) -> ! {
    crate::sys::setsid();
    let mut ready = std::fs::File::from(ready);
    let mut setup = || -> Result<(OwnedFd, std::fs::File)> {
        for ns in namespaces {
            enter(ns)?;
        }
        let signals = crate::sys::signalfd(&[libc::SIGTERM, libc::SIGINT, libc::SIGQUIT])
            .map_err(|e| Error::io(&e, "sandbox monitor: signalfd"))?;
        let requests = super::control::open_requests(dir)
            .map_err(|e| Error::io(&e, "sandbox monitor: opening the start fifo"))?;
        let me = std::process::id() as i32;
        record.pid = me;
        record.pid_start = process::start_time(me).unwrap_or(0);
        record.save(dir)?;
        Ok((signals, requests))
    };
    let (signals, mut requests) = match setup() {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.write_all(e.msg.as_bytes());
            crate::sys::exit_now(1)
        }
    };
    // `create` died before hearing that we are ready: no one knows this monitor.
    if ready.write_all(b"ok").is_err() {
        crate::sys::exit_now(1);
    }
    drop(ready);
    loop {
        let mut fds = [
            crate::sys::pollfd(signals.as_raw_fd()),
            crate::sys::pollfd(requests.as_raw_fd()),
        ];
        if crate::sys::poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds[0].revents != 0 {
            if let Some(sig) = crate::sys::signalfd_read(&signals) {
                let exit = Exit {
                    code: 128 + sig,
                    reason: format!("stopped by signal {}", super::stop::signal_name(sig)),
                };
                let _ = exit.save(dir);
                crate::sys::die_by_signal(sig);
            }
        }
        if fds[1].revents != 0 {
            let mut buf = [0u8; 64];
            if matches!(requests.read(&mut buf), Ok(n) if buf[..n].starts_with(b"start")) {
                let _ = write_atomic(dir, STARTED_FILE, b"");
                if let Ok(mut reply) = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(dir.join(REPLY_FIFO))
                {
                    let _ = reply.write_all(b"0\n");
                }
            }
        }
    }
}

/// The namespaces a sandbox holds. The others mean nothing to a pod of firmware: a new pid
/// namespace would hold only the monitor's children, and there is no mount tree, user or
/// cgroup to separate.
fn held(kind: LinuxNamespaceType) -> bool {
    matches!(
        kind,
        LinuxNamespaceType::Ipc | LinuxNamespaceType::Uts | LinuxNamespaceType::Network
    )
}

/// Enter one namespace of the pod: a new one, or the one at its path.
fn enter(ns: &LinuxNamespace) -> Result<()> {
    let flag = ns.typ() as i32;
    let kind = match ns.typ() {
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Ipc => "ipc",
        _ => "uts",
    };
    let path: Option<&PathBuf> = ns.path().as_ref().filter(|p| !p.as_os_str().is_empty());
    let failed = |what: &str, e: std::io::Error| {
        let at = path
            .map(|p| format!(" {}", p.display()))
            .unwrap_or_default();
        Error::io(
            &e,
            format!("pod sandbox: cannot {what} its {kind} namespace{at}"),
        )
    };
    let Some(path) = path else {
        return crate::sys::unshare(flag).map_err(|e| failed("create", e));
    };
    // Never block on what is not a namespace file (a planted FIFO).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| failed("open", e))?;
    crate::sys::setns(&file, flag).map_err(|e| failed("join", e))
}
