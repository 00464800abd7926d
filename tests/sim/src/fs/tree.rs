//! The file tree of each mount, computed from the world on demand: every
//! lookup and directory listing sees the current processors, firmware and
//! channels.
use crate::rpmsg::{ChannelDev, Vdev};
use crate::world::{State, World};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Which of the three mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mount {
    Sys,
    Dev,
    Sim,
}

impl Mount {
    pub fn dir(self) -> &'static str {
        match self {
            Mount::Sys => "sys",
            Mount::Dev => "dev",
            Mount::Sim => "sim",
        }
    }
}

/// What a regular file of the simulator does when read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Fixed content.
    Const(Vec<u8>),
    State(usize),
    Firmware(usize),
    Recovery(usize),
    Coredump(usize),
    DebugRecovery(usize),
    Crash(usize),
    Trace(usize),
    FwClassPath,
    Kmsg,
    Cdev(usize),
    /// A control file `sim/remoteprocN/<name>`.
    Control(usize, &'static str),
    /// `dev/rpmsgM`.
    Ept(u32),
    /// `dev/rpmsg_ctrlC` of core N.
    Ctrl(usize),
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir,
    File(FileKind, u16),
    Link(String),
}

/// A snapshot: path (relative to the mount, "" is its root) → node.
pub struct Tree(pub BTreeMap<String, Node>);

impl Tree {
    fn add(&mut self, path: &str, node: Node) {
        let mut p = path;
        while let Some((parent, _)) = p.rsplit_once('/') {
            self.0.entry(parent.to_string()).or_insert(Node::Dir);
            p = parent;
        }
        self.0.insert(path.to_string(), node);
    }

    fn file(&mut self, path: &str, kind: FileKind, mode: u16) {
        self.add(path, Node::File(kind, mode));
    }

    fn text(&mut self, path: &str, text: String) {
        self.file(path, FileKind::Const(text.into_bytes()), 0o444);
    }

    fn link(&mut self, path: &str, target: String) {
        self.add(path, Node::Link(target));
    }

    /// Direct children of `dir`.
    pub fn children(&self, dir: &str) -> Vec<(String, &Node)> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.0
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k.is_empty() && !k[prefix.len()..].contains('/'))
            .map(|(k, n)| (k[prefix.len()..].to_string(), n))
            .collect()
    }
}

/// Name of the platform device of core `n` (`sim-rproc.N` unless the board says).
fn platform_device(w: &World, n: usize) -> String {
    w.procs[n]
        .spec
        .device
        .clone()
        .unwrap_or_else(|| format!("sim-rproc.{n}"))
}

/// Device-tree node name of core `n` (`<name>@N` unless the board says).
fn dt_node(w: &World, n: usize) -> String {
    let spec = &w.procs[n].spec;
    spec.node
        .clone()
        .unwrap_or_else(|| format!("{}@{n}", spec.name))
}

fn nul_list(items: &[String]) -> Vec<u8> {
    items.iter().flat_map(|s| s.bytes().chain([0])).collect()
}

/// Whether core `n` shows its trace buffer in debugfs: its name, while it does.
fn trace_name(w: &World, n: usize) -> Option<&str> {
    let p = &w.procs[n];
    let (name, _) = p.run.as_ref()?.trace.as_ref()?;
    matches!(p.state, State::Running | State::Crashed).then_some(name.as_str())
}

/// A fingerprint of everything `build` reads from the state that can change (processors, their
/// running images and channels, endpoints): equal fingerprints give equal trees, so a tree built
/// once serves every request until one of these changes.
pub fn shape(w: &World) -> u64 {
    let mut h = DefaultHasher::new();
    for (n, p) in w.procs.iter().enumerate() {
        p.removed.hash(&mut h);
        (&p.spec.name, &p.spec.compatible, &p.spec.node).hash(&mut h);
        trace_name(w, n).hash(&mut h);
        let vdev = p.run.as_ref().and_then(|r| r.vdev.as_ref());
        vdev.map(|v| (v.platform, v.virtio, v.ctrl)).hash(&mut h);
        for c in vdev.iter().flat_map(|v| &v.channels) {
            (&c.name, c.dst).hash(&mut h);
            match &c.dev {
                ChannelDev::Tty(i, pty) => (0, *i, pty.path.as_str()).hash(&mut h),
                ChannelDev::Raw(m) => (1, *m, "").hash(&mut h),
                ChannelDev::Other => (2, 0, "").hash(&mut h),
            }
        }
    }
    for (m, e) in &w.endpoints {
        (m, e.proc, e.dead, e.default, &e.name, e.src, e.dst).hash(&mut h);
    }
    h.finish()
}

/// Builds the tree of `mount` from the current state.
pub fn build(w: &World, mount: Mount) -> Tree {
    let mut t = Tree(BTreeMap::new());
    t.0.insert(String::new(), Node::Dir);
    match mount {
        Mount::Sys => sys(w, &mut t),
        Mount::Dev => dev(w, &mut t),
        Mount::Sim => sim(w, &mut t),
    }
    t
}

fn sys(w: &World, t: &mut Tree) {
    t.file(
        "firmware/devicetree/base/model",
        FileKind::Const(nul_list(std::slice::from_ref(&w.cfg.model))),
        0o444,
    );
    t.file(
        "firmware/devicetree/base/compatible",
        FileKind::Const(nul_list(&w.cfg.compatible)),
        0o444,
    );
    t.file(
        "module/firmware_class/parameters/path",
        FileKind::FwClassPath,
        0o644,
    );
    t.add("bus/rpmsg/devices", Node::Dir);
    for driver in &w.cfg.rpmsg_drivers {
        t.add(&format!("bus/rpmsg/drivers/{driver}"), Node::Dir);
    }
    t.add("class/rpmsg", Node::Dir);
    t.add("class/tty", Node::Dir);
    for (n, p) in w.procs.iter().enumerate() {
        let node = dt_node(w, n);
        t.file(
            &format!("firmware/devicetree/base/{node}/compatible"),
            FileKind::Const(nul_list(std::slice::from_ref(&p.spec.compatible))),
            0o444,
        );
        // The `name` property is the node name without its unit address.
        let node_name = node.split('@').next().unwrap_or(&node);
        t.text(
            &format!("firmware/devicetree/base/{node}/name"),
            format!("{node_name}\0"),
        );
        if p.removed {
            continue;
        }
        let device = platform_device(w, n);
        let pdir = format!("devices/platform/{device}");
        t.link(
            &format!("{pdir}/of_node"),
            format!("../../../firmware/devicetree/base/{node}"),
        );
        let driver = p.spec.driver.as_deref().unwrap_or("sim-rproc");
        if !driver.is_empty() {
            t.link(
                &format!("{pdir}/driver"),
                format!("../../../bus/platform/drivers/{driver}"),
            );
            t.link(
                &format!("bus/platform/drivers/{driver}/{device}"),
                format!("../../../../{pdir}"),
            );
        }
        let dir = format!("{pdir}/remoteproc/remoteproc{n}");
        t.link(
            &format!("class/remoteproc/remoteproc{n}"),
            format!("../../{dir}"),
        );
        if p.spec.name_file {
            t.text(&format!("{dir}/name"), format!("{}\n", p.spec.name));
        }
        t.file(&format!("{dir}/state"), FileKind::State(n), 0o644);
        t.file(&format!("{dir}/firmware"), FileKind::Firmware(n), 0o644);
        t.file(&format!("{dir}/recovery"), FileKind::Recovery(n), 0o644);
        t.file(&format!("{dir}/coredump"), FileKind::Coredump(n), 0o644);
        t.link(&format!("{dir}/device"), format!("../../../{device}"));
        if p.spec.cdev {
            t.text(&format!("{dir}/dev"), format!("245:{n}\n"));
        }
        if let Some(vdev) = p.run.as_ref().and_then(|r| r.vdev.as_ref()) {
            rpmsg_sys(w, t, &dir, n, vdev);
        }
        if !w.cfg.debugfs {
            continue;
        }
        let dbg = format!("kernel/debug/remoteproc/remoteproc{n}");
        t.text(&format!("{dbg}/name"), format!("{}\n", p.spec.name));
        t.file(&format!("{dbg}/crash"), FileKind::Crash(n), 0o200);
        t.file(
            &format!("{dbg}/recovery"),
            FileKind::DebugRecovery(n),
            0o600,
        );
        if let Some(name) = trace_name(w, n) {
            t.file(&format!("{dbg}/{name}"), FileKind::Trace(n), 0o400);
        }
    }
}

/// The rpmsg devices of one running vdev, as the virtio rpmsg bus lays them out.
fn rpmsg_sys(w: &World, t: &mut Tree, rproc: &str, n: usize, vdev: &Vdev) {
    let v = vdev.virtio;
    let base = format!("{rproc}/{}", vdev.dir());
    let channel = |t: &mut Tree, dirname: &str, name: &str, src: u32, dst: u32| -> String {
        let d = format!("{base}/{dirname}");
        t.text(&format!("{d}/name"), format!("{name}\n"));
        t.text(&format!("{d}/src"), format!("0x{src:x}\n"));
        t.text(&format!("{d}/dst"), format!("0x{dst:x}\n"));
        t.link(
            &format!("bus/rpmsg/devices/{dirname}"),
            format!("../../../{d}"),
        );
        d
    };
    channel(t, &format!("virtio{v}.rpmsg_ns.53.53"), "rpmsg_ns", 53, 53);
    for c in &vdev.channels {
        let d = channel(
            t,
            &format!("virtio{v}.{}.-1.{}", c.name, c.dst),
            &c.name,
            u32::MAX,
            c.dst,
        );
        match &c.dev {
            ChannelDev::Tty(i, _) => {
                t.text(&format!("{d}/tty/ttyRPMSG{i}/dev"), format!("236:{i}\n"));
                t.link(
                    &format!("class/tty/ttyRPMSG{i}"),
                    format!("../../{d}/tty/ttyRPMSG{i}"),
                );
            }
            ChannelDev::Raw(m) => endpoint_sys(w, t, &format!("{d}/rpmsg"), *m),
            ChannelDev::Other => {}
        }
    }
    let ctrl = channel(t, &format!("virtio{v}.rpmsg_ctrl.0.0"), "rpmsg_ctrl", 0, 0);
    let c = vdev.ctrl;
    let cdir = format!("{ctrl}/rpmsg/rpmsg_ctrl{c}");
    t.text(&format!("{cdir}/dev"), format!("237:{c}\n"));
    t.link(
        &format!("class/rpmsg/rpmsg_ctrl{c}"),
        format!("../../{cdir}"),
    );
    for (m, e) in &w.endpoints {
        if e.proc == n && !e.dead && !e.default {
            endpoint_sys(w, t, &cdir, *m);
        }
    }
}

/// `rpmsgM/{name,src,dst}` below `parent`, and its class link.
fn endpoint_sys(w: &World, t: &mut Tree, parent: &str, m: u32) {
    let Some(e) = w.endpoints.get(&m) else { return };
    let d = format!("{parent}/rpmsg{m}");
    t.text(&format!("{d}/name"), format!("{}\n", e.name));
    t.text(&format!("{d}/src"), format!("{}\n", e.src as i32));
    t.text(&format!("{d}/dst"), format!("{}\n", e.dst as i32));
    t.link(&format!("class/rpmsg/rpmsg{m}"), format!("../../{d}"));
}

fn dev(w: &World, t: &mut Tree) {
    t.file("kmsg", FileKind::Kmsg, 0o644);
    for (m, e) in &w.endpoints {
        if !e.dead {
            t.file(&format!("rpmsg{m}"), FileKind::Ept(*m), 0o600);
        }
    }
    for (n, p) in w.procs.iter().enumerate() {
        let Some(vdev) = p.run.as_ref().and_then(|r| r.vdev.as_ref()) else {
            continue;
        };
        t.file(
            &format!("rpmsg_ctrl{}", vdev.ctrl),
            FileKind::Ctrl(n),
            0o600,
        );
        for c in &vdev.channels {
            if let ChannelDev::Tty(i, pty) = &c.dev {
                t.link(&format!("ttyRPMSG{i}"), pty.path.clone());
            }
        }
    }
    for (n, p) in w.procs.iter().enumerate() {
        if p.spec.cdev && !p.removed {
            t.file(&format!("remoteproc{n}"), FileKind::Cdev(n), 0o600);
        }
    }
}

fn sim(w: &World, t: &mut Tree) {
    for n in 0..w.procs.len() {
        for (name, mode) in [
            ("events", 0o444),
            ("power", 0o444),
            ("loaded", 0o444),
            ("starts", 0o444),
            ("fail", 0o200),
            ("hang", 0o200),
            ("force_state", 0o200),
            ("remove", 0o200),
            ("replace", 0o200),
            ("cdev_holders", 0o444),
            ("rx", 0o444),
        ] {
            t.file(
                &format!("remoteproc{n}/{name}"),
                FileKind::Control(n, name),
                mode,
            );
        }
    }
}
