//! Creating a firmware container: check everything that can be checked without changing
//! anything (core, core state, firmware), then, under the container's lock, claim the core,
//! stage the firmware, write the record, start the monitor and run the bundle's create hooks.
//! Any failure rolls all of it back.

use std::path::PathBuf;

use crate::cli::Global;
use crate::console::config::LogConfig;
use crate::console::stream::LogStream;
use crate::error::{Context, Error, Result};
use crate::monitor::{self, Setup};
use crate::oci::bundle::Bundle;
use crate::oci::hooks;
use crate::oci::rootfs;
use crate::oci::select::{self, IfRunning};
use crate::platform::remoteproc::Core;
use crate::platform::{claim, devicetree, firmware};

use super::record::write_atomic;
use super::spawn::{spawn, Spawn};
use super::statedir::NewDir;
use super::terminal::{self, Terminal};
use super::{Record, REPLY_FIFO, START_FIFO};

pub struct Request {
    pub id: String,
    /// `create <IMAGE> <ID>`: a firmware file or an image instead of a bundle.
    pub image: Option<PathBuf>,
    pub bundle: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    /// `--console-socket`: where to send the container's terminal.
    pub console_socket: Option<PathBuf>,
}

/// What the checks decided, for the part that changes things.
struct Plan {
    core: Core,
    adopt: bool,
    if_running: IfRunning,
    image: Option<rootfs::Image>,
    /// `/dev/remoteprocN` when the kernel guards the core.
    cdev: Option<PathBuf>,
    logs: LogConfig,
    terminal: Option<Terminal>,
}

/// What was changed so far, undone on failure.
struct Undo<'a> {
    g: &'a Global,
    id: &'a str,
    /// The claim while `create` holds it.
    claim: Option<claim::Claim>,
    /// The core claimed, once the claim went to the monitor.
    claimed: Option<String>,
    staged: bool,
    /// The monitor, once started.
    monitor: Option<i32>,
}

impl Undo<'_> {
    fn run(mut self) {
        if let Some(pid) = self.monitor.take() {
            let _ = crate::sys::kill(pid, libc::SIGKILL);
            let _ = crate::sys::waitpid(pid);
        }
        if self.staged {
            firmware::unstage(&self.g.host, self.id);
        }
        if let Some(c) = self.claim.take() {
            c.remove();
        }
        if let Some(dev) = self.claimed.take() {
            let root = self.g.root.to_string_lossy();
            claim::remove_if_free(&self.g.host, &dev, &root, self.id);
        }
    }
}

/// Create the firmware container `req.id` from `bundle` in the new directory `dir`.
/// `lock` is the container's lock, held until the monitor is ready and the hooks have run.
pub fn create(
    g: &Global,
    req: &Request,
    bundle: &Bundle,
    dir: NewDir,
    lock: std::fs::File,
) -> Result<i32> {
    let plan = check(g, req, bundle)?;
    let mut undo = Undo {
        g,
        id: &req.id,
        claim: None,
        claimed: None,
        staged: false,
        monitor: None,
    };
    match make(g, req, bundle, &dir, plan, lock, &mut undo) {
        Ok(()) => {
            dir.keep();
            Ok(0)
        }
        Err(e) => {
            undo.run();
            Err(e)
        }
    }
}

/// Every check that needs no change: settings, core, core state, firmware file.
fn check(g: &Global, req: &Request, bundle: &Bundle) -> Result<Plan> {
    let if_running = select::if_running(bundle)?;
    let annotation = |k: &str| bundle.annotation(k);
    let logs = LogConfig::from_settings(&annotation, bundle.process_env())?;
    let core = select::choose(&g.host, bundle)?;
    let label = core.label();
    // A core taken by another container is not "already running" for us: name its owner.
    if let Some(by) = claim::held_by(&g.host, &core.dev) {
        return Err(Error::new(format!(
            "core {label} is used by container {by}"
        )));
    }
    let state = core.state().ctx_path("reading the state of", &core.dir)?;
    let adopt = match (state.as_str(), if_running) {
        ("offline", _) => false,
        ("running" | "attached", IfRunning::Adopt) => true,
        ("running" | "attached", IfRunning::Stop) => false,
        ("running" | "attached", IfRunning::Refuse) => {
            return Err(Error::new(format!(
                "core {label} is already {state} (not started by a container): stop it first, \
                 or set the annotation io.hybrid-runtime.if-running to stop or adopt"
            )))
        }
        _ => {
            return Err(Error::new(format!(
                "core {label} is {state}, not offline: it cannot take a firmware now"
            )))
        }
    };
    let image = if adopt {
        None
    } else {
        let process = bundle.config.process.as_ref();
        let arg0 = process
            .and_then(|p| p.args.first())
            .map_or("", String::as_str);
        let cwd = process.map_or("/", |p| p.cwd.as_str());
        let img = rootfs::find(&bundle.rootfs(), arg0, cwd, bundle.env("PATH"))?;
        img.check()?;
        firmware::check_dir(&g.host)?;
        Some(img)
    };
    // Adopting a core someone started through sysfs: holding the device with shutdown-on-release
    // would drop their reference when we go, so such a core is guarded by sysfs only.
    let cdev = core
        .cdev_path(&g.host)
        .filter(|_| !(adopt && state == "running"));
    let terminal = req
        .console_socket
        .as_deref()
        .map(terminal::open)
        .transpose()?;
    Ok(Plan {
        core,
        adopt,
        if_running,
        image,
        cdev,
        logs,
        terminal,
    })
}

/// The changes, all under the container's lock (a concurrent `delete` waits for the end).
fn make(
    g: &Global,
    req: &Request,
    bundle: &Bundle,
    dir: &NewDir,
    plan: Plan,
    lock: std::fs::File,
    undo: &mut Undo,
) -> Result<()> {
    let core = plan.core;
    let root = g.root.to_string_lossy();
    undo.claim = Some(claim::take(
        &g.host,
        &core.dev,
        &core.label(),
        &root,
        &req.id,
    )?);
    if !plan.adopt
        && plan.if_running == IfRunning::Stop
        && core.state().unwrap_or_default() != "offline"
    {
        super::stop::stop_core(&core)?;
    }
    let firmware = match &plan.image {
        Some(img) => {
            // A failed stage cleans up after itself, and never touches a copy that is not ours.
            let name = firmware::stage(&g.host, &req.id, &img.basename, &img.file, img.len)?;
            undo.staged = true;
            name
        }
        None => String::new(),
    };
    if req.image.is_some() {
        write_atomic(
            &dir.path,
            "config.json",
            bundle.config.to_json()?.as_bytes(),
        )?;
    }
    let record = Record {
        id: req.id.clone(),
        bundle: bundle.dir.to_string_lossy().into_owned(),
        created: crate::report::rfc3339_now(),
        pid: 0,
        pid_start: 0,
        core: core.dev.clone(),
        core_name: core.name.clone(),
        core_node: devicetree::core_node(&g.host, &core.dir).unwrap_or_default(),
        firmware: firmware.clone(),
        guard: String::from(if plan.cdev.is_some() { "cdev" } else { "sysfs" }),
        adopted: plan.adopt,
        annotations: bundle.config.annotations.clone(),
        hooks: bundle.config.hooks.clone(),
    };
    save_with_fifos(&dir.path, &record)?;
    // The monitor holds the claim from now on; the copy in `create` closes once it is forked.
    let claim = undo.claim.take();
    undo.claimed = Some(core.dev.clone());
    let (host, state_dir) = (g.host.clone(), dir.path.clone());
    let spawned = spawn(
        Spawn {
            what: "the monitor",
            lock,
            pid_file: req.pid_file.as_deref(),
            terminal: plan.terminal,
        },
        // Made in the monitor, once its stdio is the container's (a terminal, perhaps): the
        // log stream writes to that.
        move |ready| {
            let log = LogStream::new(plan.logs, &host, &core.dev, &state_dir);
            let setup = Setup {
                host,
                state_dir,
                core,
                cdev: plan.cdev,
                firmware,
                adopted: plan.adopt,
                claim,
                record,
                log: Box::new(log),
            };
            monitor::run(setup, ready)
        },
    );
    let (pid, _lock) = spawned?;
    undo.monitor = Some(pid);
    crate::report::debug(g, &format!("container {}: monitor {pid}", req.id));
    let c = super::Container::load(&g.root, &req.id)?;
    hooks::run_create_hooks(g, &c)?;
    undo.monitor = None;
    undo.claimed = None;
    Ok(())
}

/// A new container's first record, and the fifos `start` and its monitor talk through.
pub fn save_with_fifos(dir: &std::path::Path, record: &Record) -> Result<()> {
    record.save(dir)?;
    for fifo in [START_FIFO, REPLY_FIFO] {
        let p = dir.join(fifo);
        crate::sys::mkfifo(&p).map_err(|e| Error::io(&e, format!("creating {}", p.display())))?;
    }
    Ok(())
}
