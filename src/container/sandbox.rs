//! The Kubernetes pod sandbox ("pause") container, marked by the annotation
//! `io.kubernetes.cri.container-type=sandbox` (containerd) or
//! `io.kubernetes.cri-o.ContainerType=sandbox` (CRI-O). Its monitor stands for the pod: it holds
//! the pod's IPC, UTS and network namespaces (new ones, or those at the paths the engine gives),
//! waits for `start`, then for a signal, and touches no core, so a RuntimeClass can run whole
//! pods.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use crate::cli::Global;
use crate::error::{cat, Context, Error, Result};
use crate::oci::bundle::{read_config, Bundle};

use super::create::{save, save_with_fifos, write_pid_file, Request};
use super::{process, write_atomic, Exit, Record, EXIT_FILE, REPLY_FIFO, STARTED_FILE};

/// What `state` shows as the guard of a container that holds no core.
pub const GUARD: &str = "none";

pub fn is_sandbox(bundle: &Bundle) -> bool {
    bundle.annotation("io.kubernetes.cri.container-type") == Some("sandbox")
        || bundle.annotation("io.kubernetes.cri-o.ContainerType") == Some("sandbox")
}

/// Record the sandbox and fork its monitor; on failure nothing is left.
pub fn create(g: &Global, req: &Request, dir: &Path, bundle: &Bundle) -> Result<i32> {
    let namespaces = namespaces(bundle)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&g.root)
        .ctx_path("creating state root", &g.root)?;
    if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(dir) {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(Error::new(cat(&["container ", &req.id, " already exists"])));
        }
        return Err(Error::io(&e, cat(&["creating ", &dir.to_string_lossy()])));
    }
    let made = spawn(g, req, dir, bundle, &namespaces);
    if made.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    made.map(|()| 0)
}

fn spawn(
    g: &Global,
    req: &Request,
    dir: &Path,
    bundle: &Bundle,
    namespaces: &[Namespace],
) -> Result<()> {
    let lock = super::lock(dir)?;
    let record = Record {
        id: req.id.clone(),
        bundle: bundle.dir.to_string_lossy().into_owned(),
        created: crate::report::rfc3339_now(),
        guard: String::from(GUARD),
        annotations: bundle.config.annotations.clone(),
        ..Record::default()
    };
    save_with_fifos(dir, &record)?;
    let (ready_read, ready_write) = crate::sys::pipe().ctx("creating a pipe")?;
    match crate::sys::fork().ctx("starting the sandbox monitor")? {
        crate::sys::Forked::Child => {
            drop(ready_read);
            drop(lock);
            run(dir, record, namespaces, ready_write)
        }
        crate::sys::Forked::Parent(pid) => {
            drop(ready_write);
            let mut answer = String::new();
            let _ = std::fs::File::from(ready_read).read_to_string(&mut answer);
            if answer != "ok" {
                let _ = crate::sys::waitpid(pid);
                return Err(Error::new(if answer.is_empty() {
                    String::from("the sandbox monitor failed to start")
                } else {
                    answer
                }));
            }
            crate::report::debug(
                g,
                &cat(&["pod sandbox ", &req.id, ": monitor ", &pid.to_string()]),
            );
            if let Some(p) = &req.pid_file {
                if let Err(e) = write_pid_file(p, pid) {
                    let _ = crate::sys::kill(pid, libc::SIGKILL);
                    let _ = crate::sys::waitpid(pid);
                    return Err(e);
                }
            }
            Ok(())
        }
    }
}

/// The sandbox monitor: answers `start`, ends with 128+N on signal N. Never returns.
fn run(dir: &Path, mut record: Record, namespaces: &[Namespace], ready: OwnedFd) -> ! {
    crate::sys::setsid();
    let mut ready = std::fs::File::from(ready);
    let mut setup = || -> std::result::Result<(OwnedFd, std::fs::File), String> {
        for ns in namespaces {
            enter(ns)?;
        }
        let signals = crate::sys::signalfd(&[libc::SIGTERM, libc::SIGINT, libc::SIGQUIT])
            .map_err(|e| cat(&["sandbox monitor: signalfd: ", &e.to_string()]))?;
        let requests = super::control::open_requests(dir)
            .map_err(|e| cat(&["sandbox monitor: opening the start fifo: ", &e.to_string()]))?;
        let me = std::process::id() as i32;
        record.pid = me;
        record.pid_start = process::start_time(me).unwrap_or(0);
        save(dir, &record).map_err(|e| e.msg)?;
        Ok((signals, requests))
    };
    let (signals, mut requests) = match setup() {
        Ok(s) => s,
        Err(msg) => {
            let _ = ready.write_all(msg.as_bytes());
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
                    reason: cat(&["stopped by signal ", super::stop::signal_name(sig)]),
                };
                let _ = write_atomic(dir, EXIT_FILE, exit.to_json().as_bytes());
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

/// A namespace of the pod that the sandbox holds.
struct Namespace {
    kind: String,
    /// Join this one (e.g. the network namespace the engine made); empty: a new one.
    path: String,
}

/// `linux.namespaces` of a bundle config.
fn parse_namespaces(data: &[u8]) -> std::result::Result<Vec<Namespace>, String> {
    let doc = crate::json::parse(data)?;
    crate::json::At::root(&doc)
        .get("linux")?
        .get("namespaces")?
        .each(|n| {
            Ok(Namespace {
                kind: n.need("type")?.string()?,
                path: n.get("path")?.string()?,
            })
        })
}

/// The CLONE_NEW* flag of the namespaces a sandbox holds. The others mean nothing to a pod of
/// firmware: a new pid namespace would hold only the monitor's children, and there is no mount
/// tree, user or cgroup to separate.
fn flag(kind: &str) -> Option<i32> {
    match kind {
        "ipc" => Some(libc::CLONE_NEWIPC),
        "uts" => Some(libc::CLONE_NEWUTS),
        "network" => Some(libc::CLONE_NEWNET),
        _ => None,
    }
}

/// The namespaces in the bundle's `linux.namespaces` that the sandbox holds.
fn namespaces(bundle: &Bundle) -> Result<Vec<Namespace>> {
    let path = bundle.dir.join("config.json");
    let data = match read_config(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&e, cat(&["reading ", &path.to_string_lossy()]))),
    };
    let mut all = parse_namespaces(&data).map_err(|e| {
        Error::new(cat(&[
            "invalid linux.namespaces in ",
            &path.to_string_lossy(),
            ": ",
            &e,
        ]))
    })?;
    all.retain(|n| flag(&n.kind).is_some());
    Ok(all)
}

/// Enter one namespace of the pod: a new one, or the one at its path.
fn enter(ns: &Namespace) -> std::result::Result<(), String> {
    let Some(flag) = flag(&ns.kind) else {
        return Ok(());
    };
    let failed = |what: &str, e: std::io::Error| {
        cat(&[
            "pod sandbox: cannot ",
            what,
            " its ",
            &ns.kind,
            " namespace",
            if ns.path.is_empty() { "" } else { " " },
            &ns.path,
            ": ",
            &crate::sys::strerror(e.raw_os_error().unwrap_or(libc::EIO)),
        ])
    };
    if ns.path.is_empty() {
        return crate::sys::unshare(flag).map_err(|e| failed("create", e));
    }
    // Never block on what is not a namespace file (a planted FIFO).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&ns.path)
        .map_err(|e| failed("open", e))?;
    crate::sys::setns(&file, flag).map_err(|e| failed("join", e))
}
