//! `create`: check everything that can be checked without changing anything (id, duplicate,
//! bundle, core, core state, firmware), then claim the core, stage the firmware, write the
//! record and fork the monitor. Any failure rolls all of it back.

use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::cli::Global;
use crate::console::config::LogConfig;
use crate::error::{cat, Context, Error, Result};
use crate::monitor::{self, Setup};
use crate::oci::bundle::Bundle;
use crate::oci::select::{self, IfRunning};
use crate::oci::{id, rootfs};
use crate::platform::{claim, firmware};

use super::sandbox;
use super::terminal::{self, Terminal};
use super::{dir_of, write_atomic, write_replacing, Record, REPLY_FIFO, START_FIFO, STATE_FILE};

pub struct Request {
    pub id: String,
    /// `create <IMAGE> <ID>`: a firmware file instead of a bundle.
    pub image: Option<PathBuf>,
    pub bundle: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    /// `--console-socket`: where to send the container's terminal.
    pub console_socket: Option<PathBuf>,
}

/// What was changed so far, undone on failure.
struct Undo<'a> {
    g: &'a Global,
    id: &'a str,
    dir: Option<PathBuf>,
    claim: Option<claim::Claim>,
    staged: bool,
}

impl Undo<'_> {
    fn run(mut self) {
        if self.staged {
            firmware::unstage(&self.g.host, self.id);
        }
        if let Some(c) = self.claim.take() {
            c.remove();
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

pub fn create(g: &Global, req: &Request) -> Result<i32> {
    id::validate(&req.id)?;
    let dir = dir_of(&g.root, &req.id);
    if dir == g.host.claims() {
        return Err(Error::new(cat(&[
            "container id ",
            &req.id,
            " is reserved in this state root: the core claims live in ",
            &dir.to_string_lossy(),
        ])));
    }
    if dir.exists() {
        return Err(Error::new(cat(&["container ", &req.id, " already exists"])));
    }
    // An image (not a firmware file) is unpacked into `dir`, removed on failure unless kept.
    let (bundle, unpacked) = match &req.image {
        Some(image) => crate::image::bundle(g, image, &dir)?,
        None => {
            let b = match &req.bundle {
                Some(b) => b.clone(),
                None => std::env::current_dir().ctx("reading the working directory")?,
            };
            (Bundle::load(&b)?, None)
        }
    };
    if sandbox::is_sandbox(&bundle) {
        return sandbox::create(g, req, &dir, &bundle);
    }
    let if_running = select::if_running(&bundle)?;
    let annotation = |k: &str| bundle.annotation(k);
    let env = bundle
        .config
        .process
        .as_ref()
        .map_or(&[][..], |p| &p.env[..]);
    let logs = LogConfig::from_settings(&annotation, env)?;
    let core = select::choose(&g.host, &bundle)?;
    let label = core.label();
    // A core taken by another container is not "already running" for us: name its owner.
    if let Some(by) = claim::held_by(&g.host, &core.dev) {
        return Err(Error::new(cat(&[
            "core ",
            &label,
            " is used by container ",
            &by,
        ])));
    }
    let state = core.state().ctx_path("reading the state of", &core.dir)?;
    let adopt = match (state.as_str(), if_running) {
        ("offline", _) => false,
        ("running" | "attached", IfRunning::Adopt) => true,
        ("running" | "attached", IfRunning::Stop) => false,
        ("running" | "attached", IfRunning::Refuse) => {
            return Err(Error::new(cat(&[
                "core ",
                &label,
                " is already ",
                &state,
                " (not started by a container): stop it first, or set the annotation \
                 io.hybrid-runtime.if-running to stop or adopt",
            ])))
        }
        _ => {
            return Err(Error::new(cat(&[
                "core ",
                &label,
                " is ",
                &state,
                ", not offline: it cannot take a firmware now",
            ])))
        }
    };
    let image = if adopt {
        None
    } else {
        let process = bundle.config.process.as_ref();
        let arg0 = process
            .and_then(|p| p.args.first())
            .map(String::as_str)
            .unwrap_or("");
        let cwd = process.map(|p| p.cwd.as_str()).unwrap_or("/");
        let img = rootfs::find(&bundle.rootfs(), arg0, cwd, bundle.env("PATH"))?;
        img.check()?;
        Some(img)
    };
    if image.is_some() {
        firmware::check_dir(&g.host)?;
    }
    // Adopting a core someone started through sysfs: holding the device with shutdown-on-release
    // would drop their reference when we go, so such a core is guarded by sysfs only.
    let cdev = core
        .cdev_path(&g.host)
        .filter(|_| !(adopt && state == "running"));
    let guard = if cdev.is_some() { "cdev" } else { "sysfs" };
    let terminal = req
        .console_socket
        .as_deref()
        .map(terminal::open)
        .transpose()?;

    // From here on, every change is undone on failure.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&g.root)
        .ctx_path("creating state root", &g.root)?;
    // A state root others may write lets them swap container directories under us.
    super::trust::check_dir(&g.root)?;
    let made = match unpacked {
        Some(_) => Ok(()),
        None => std::fs::DirBuilder::new().mode(0o700).create(&dir),
    };
    if let Err(e) = made {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(Error::new(cat(&["container ", &req.id, " already exists"])));
        }
        return Err(Error::io(&e, cat(&["creating ", &dir.to_string_lossy()])));
    }
    let mut undo = Undo {
        g,
        id: &req.id,
        dir: Some(dir.clone()),
        claim: None,
        staged: false,
    };
    match prepare(
        g, req, &dir, &bundle, &core, adopt, if_running, image, guard, &mut undo,
    ) {
        Ok(record) => match spawn(g, req, &dir, record, core, cdev, logs, terminal, &mut undo) {
            Ok(()) => {
                if let Some(u) = unpacked {
                    u.keep();
                }
                Ok(0)
            }
            Err(e) => {
                undo.run();
                Err(e)
            }
        },
        Err(e) => {
            undo.run();
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn prepare(
    g: &Global,
    req: &Request,
    dir: &Path,
    bundle: &Bundle,
    core: &crate::platform::remoteproc::Core,
    adopt: bool,
    if_running: IfRunning,
    image: Option<rootfs::Image>,
    guard: &str,
    undo: &mut Undo,
) -> Result<Record> {
    let _lock = super::lock(dir)?;
    let root = g.root.to_string_lossy();
    undo.claim = Some(claim::take(
        &g.host,
        &core.dev,
        &core.label(),
        &root,
        &req.id,
    )?);
    if !adopt && if_running == IfRunning::Stop && core.state().unwrap_or_default() != "offline" {
        super::stop::stop_core(core)?;
    }
    let firmware = match &image {
        Some(img) => {
            // A failed stage cleans up after itself, and never touches a copy that is not ours.
            let name = firmware::stage(&g.host, &req.id, &img.basename, &img.file, img.len)?;
            undo.staged = true;
            name
        }
        None => String::new(),
    };
    if req.image.is_some() {
        write_atomic(dir, "config.json", bundle.config.to_json().as_bytes())?;
    }
    let record = Record {
        id: req.id.clone(),
        bundle: bundle.dir.to_string_lossy().into_owned(),
        created: crate::report::rfc3339_now(),
        pid: 0,
        pid_start: 0,
        core: core.dev.clone(),
        core_name: core.name.clone(),
        firmware,
        guard: guard.to_string(),
        adopted: adopt,
        annotations: bundle.config.annotations.clone(),
    };
    save_with_fifos(dir, &record)?;
    Ok(record)
}

pub fn save(dir: &Path, record: &Record) -> Result<()> {
    write_atomic(dir, STATE_FILE, record.to_json().as_bytes())
}

/// A new container's first record, and the fifos `start` and its monitor talk through.
pub(super) fn save_with_fifos(dir: &Path, record: &Record) -> Result<()> {
    save(dir, record)?;
    for fifo in [START_FIFO, REPLY_FIFO] {
        let p = dir.join(fifo);
        crate::sys::mkfifo(&p).ctx_path("creating", &p)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    g: &Global,
    req: &Request,
    dir: &Path,
    record: Record,
    core: crate::platform::remoteproc::Core,
    cdev: Option<PathBuf>,
    logs: LogConfig,
    terminal: Option<Terminal>,
    undo: &mut Undo,
) -> Result<()> {
    let record_core = record.core.clone();
    let lock = super::lock(dir)?;
    let (ready_read, ready_write) = crate::sys::pipe().ctx("creating a pipe")?;
    let claim = undo.claim.take();
    match crate::sys::fork().ctx("starting the monitor")? {
        crate::sys::Forked::Child => {
            drop(ready_read);
            drop(lock);
            if let Some(t) = terminal {
                if let Err(e) = t.attach_stdio() {
                    let msg = cat(&["attaching the terminal: ", &e.to_string()]);
                    let _ = std::fs::File::from(ready_write).write_all(msg.as_bytes());
                    crate::sys::exit_now(monitor::EXIT_MONITOR_FAILED);
                }
            }
            let setup = Setup {
                log: Box::new(crate::console::stream::LogStream::new(
                    logs, &g.host, &core.dev, dir,
                )),
                host: g.host.clone(),
                state_dir: dir.to_path_buf(),
                core,
                cdev,
                firmware: record.firmware.clone(),
                adopted: record.adopted,
                claim,
                record,
            };
            monitor::run(setup, ready_write)
        }
        crate::sys::Forked::Parent(pid) => {
            drop(ready_write);
            undo.claim = claim;
            let mut answer = String::new();
            let _ = std::fs::File::from(ready_read).read_to_string(&mut answer);
            if answer != "ok" {
                let _ = crate::sys::waitpid(pid);
                let msg = if answer.is_empty() {
                    "the monitor failed to start"
                } else {
                    answer.as_str()
                };
                return Err(Error::new(msg));
            }
            // The monitor recorded its pid before saying it is ready.
            crate::report::debug(
                g,
                &cat(&[
                    "container ",
                    &req.id,
                    ": monitor ",
                    &pid.to_string(),
                    " holds core ",
                    &record_core,
                ]),
            );
            let written = match &req.pid_file {
                Some(p) => write_pid_file(p, pid),
                None => Ok(()),
            }
            .and_then(|()| terminal.map_or(Ok(()), Terminal::send_master));
            if let Err(e) = written {
                let _ = crate::sys::kill(pid, libc::SIGKILL);
                let _ = crate::sys::waitpid(pid);
                return Err(e);
            }
            // The monitor holds the claim from now on; our copy closes on return.
            drop(undo.claim.take());
            Ok(())
        }
    }
}

/// Bare digits, no newline, written through a temporary file and a rename.
pub(super) fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(cat(&[".", &name, ".tmp"]));
    write_replacing(path, &tmp, pid.to_string().as_bytes(), 0o644)
        .ctx_path("writing pid file", path)
}
