//! The Kubernetes pod sandbox ("pause") container, marked by the annotation
//! `io.kubernetes.cri.container-type=sandbox` (containerd) or
//! `io.kubernetes.cri-o.ContainerType=sandbox` (CRI-O). Its monitor stands for the pod: it holds
//! the pod's IPC, UTS and network namespaces (new ones, or those at the paths the engine gives),
//! waits for `start`, then for a signal, and touches no core, so a RuntimeClass can run whole
//! pods.

use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::cli::Global;
use crate::error::{Error, Result};
use crate::oci::bundle::Bundle;

use crate::monitor::serve::{self, Ending, Watched};

use super::create::{save_with_fifos, Request};
use super::spawn::{spawn, Spawn};
use super::statedir::NewDir;
use super::{Container, Record};

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

/// The sandbox monitor: holds the pod's namespaces, answers `start`, ends with 128+N on signal
/// N. Never returns.
fn run(dir: &Path, mut record: Record, namespaces: &[LinuxNamespace], ready: OwnedFd) -> ! {
    crate::sys::setsid();
    let entered = namespaces.iter().try_for_each(enter);
    match entered.and_then(|()| serve::begin(dir, &mut record)) {
        Ok(channels) => {
            serve::report_ready(ready, Ok(()));
            serve::serve(channels, &mut Pod)
        }
        Err(e) => {
            serve::report_ready(ready, Err(&e.msg));
            crate::sys::exit_now(serve::EXIT_MONITOR_FAILED)
        }
    }
}

/// What a pod sandbox watches: nothing but its orders.
struct Pod;

impl Watched for Pod {
    fn fds(&self) -> [RawFd; 2] {
        [-1, -1]
    }

    fn polled(&mut self, _: [bool; 2]) -> Option<Ending> {
        None
    }

    fn start(&mut self) -> Result<()> {
        Ok(())
    }

    fn tick(&mut self) -> Option<Ending> {
        None
    }

    fn stop_by_signal(&mut self, sig: i32) -> Ending {
        Ending::by_signal(sig)
    }

    fn release(&mut self) {}
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
