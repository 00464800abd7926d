//! The file tree of each mount, computed from the world on demand: every
//! lookup and directory listing sees the current processors, firmware and
//! channels.
use crate::world::{State, World};
use std::collections::BTreeMap;

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

/// Platform device directory of core `n`, relative to `sys/`.
pub fn platform_dir(n: usize) -> String {
    format!("devices/platform/sim-rproc.{n}")
}

/// The remoteproc class device directory of core `n`, relative to `sys/`.
pub fn rproc_dir(n: usize) -> String {
    format!("{}/remoteproc/remoteproc{n}", platform_dir(n))
}

/// Device-tree node name of core `n`.
fn dt_node(w: &World, n: usize) -> String {
    format!("{}@{n}", w.procs[n].spec.name)
}

fn nul_list(items: &[String]) -> Vec<u8> {
    items.iter().flat_map(|s| s.bytes().chain([0])).collect()
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
    t.add("class/rpmsg", Node::Dir);
    for (n, p) in w.procs.iter().enumerate() {
        let node = dt_node(w, n);
        t.file(
            &format!("firmware/devicetree/base/{node}/compatible"),
            FileKind::Const(nul_list(std::slice::from_ref(&p.spec.compatible))),
            0o444,
        );
        t.text(
            &format!("firmware/devicetree/base/{node}/name"),
            format!("{}\0", p.spec.name),
        );
        let pdir = platform_dir(n);
        t.link(
            &format!("{pdir}/of_node"),
            format!("../../../firmware/devicetree/base/{node}"),
        );
        let dir = rproc_dir(n);
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
        t.link(&format!("{dir}/device"), format!("../../../sim-rproc.{n}"));
        if p.spec.cdev {
            t.text(&format!("{dir}/dev"), format!("245:{n}\n"));
        }
        let dbg = format!("kernel/debug/remoteproc/remoteproc{n}");
        t.text(&format!("{dbg}/name"), format!("{}\n", p.spec.name));
        t.file(&format!("{dbg}/crash"), FileKind::Crash(n), 0o200);
        t.file(
            &format!("{dbg}/recovery"),
            FileKind::DebugRecovery(n),
            0o600,
        );
        if let Some((name, _)) = p.run.as_ref().and_then(|r| r.trace.as_ref()) {
            if matches!(p.state, State::Running | State::Crashed) {
                t.file(&format!("{dbg}/{name}"), FileKind::Trace(n), 0o400);
            }
        }
    }
}

fn dev(w: &World, t: &mut Tree) {
    t.file("kmsg", FileKind::Kmsg, 0o644);
    for (n, p) in w.procs.iter().enumerate() {
        if p.spec.cdev {
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
