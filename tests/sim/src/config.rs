//! Command line of `hybrid-sim`: the board and its processors, given one by one
//! (`--processor`) or as a real board's preset (`--board`, see `board.rs`).
use crate::board;
use std::path::PathBuf;

/// Kernel generation whose remoteproc quirks are reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// 5.10: `start` on a running core answers `EBUSY`.
    V5_10,
    /// 6.1: `start` on a running core takes another power reference.
    V6_1,
}

impl Kernel {
    /// `uname -r` of the simulated kernel (used in the firmware search path).
    pub fn release(self) -> &'static str {
        match self {
            Kernel::V5_10 => "5.10.0-sim",
            Kernel::V6_1 => "6.1.0-sim",
        }
    }
}

/// What the driver does with `detach`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detach {
    /// The core is left running, detached.
    Yes,
    /// The driver has no detach operation: `EINVAL`.
    No,
    /// The driver has one that refuses with this errno (i.MX8M with SMC: `EOPNOTSUPP`).
    Refused(i32),
}

/// One `--processor` specification (or one core of a board preset).
#[derive(Clone, Debug)]
pub struct ProcSpec {
    /// The remoteproc `name` attribute (`rproc->name`).
    pub name: String,
    pub compatible: String,
    /// Device-tree node name (default `<name>@<index>`).
    pub node: Option<String>,
    /// Platform device the remoteproc hangs below (default `sim-rproc.<index>`).
    pub device: Option<String>,
    /// Its driver (`None`: `sim-rproc`; `Some("")`: not bound to one).
    pub driver: Option<String>,
    pub attached: bool,
    pub detach: Detach,
    pub cdev: bool,
    pub name_file: bool,
    pub recovery: bool,
    /// Whether `stop` takes a crashed core offline (mainline answers `EINVAL`).
    pub crash_stop: bool,
    pub firmware: String,
    /// Channels (name, address) a firmware with no `announce` line announces; empty: the
    /// simulator's `rpmsg-tty` and `rpmsg-raw`.
    pub channels: Vec<(String, u32)>,
}

impl ProcSpec {
    pub fn named(name: &str) -> Self {
        ProcSpec {
            name: name.to_string(),
            compatible: format!("hybrid,sim-{name}"),
            node: None,
            device: None,
            driver: None,
            attached: false,
            detach: Detach::Yes,
            cdev: true,
            name_file: true,
            recovery: false,
            crash_stop: true,
            firmware: format!("rproc-{name}-fw"),
            channels: Vec::new(),
        }
    }

    /// Parses `name=m4;compatible=…;state=…;detach=…;cdev=…;name-file=…;recovery=…;firmware=…`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut items = Vec::new();
        for item in spec.split(';').filter(|s| !s.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("processor option `{item}` is not KEY=VALUE"))?;
            items.push((k, v));
        }
        let name = items
            .iter()
            .find(|(k, _)| *k == "name")
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("processor `{spec}` needs name=…"))?;
        let mut p = ProcSpec::named(name);
        for (k, v) in items {
            let yes = || match v {
                "yes" | "enabled" => Ok(true),
                "no" | "disabled" => Ok(false),
                _ => Err(format!("processor option `{k}` takes yes/no, not `{v}`")),
            };
            match k {
                "name" => {}
                "compatible" => p.compatible = v.to_string(),
                "state" => {
                    p.attached = match v {
                        "offline" => false,
                        "attached" => true,
                        _ => {
                            return Err(format!(
                                "processor state must be offline or attached, not `{v}`"
                            ))
                        }
                    }
                }
                "detach" => {
                    p.detach = match v {
                        "yes" => Detach::Yes,
                        "no" => Detach::No,
                        _ => Detach::Refused(crate::control::parse_errno(v).ok_or_else(|| {
                            format!("processor option detach takes yes, no or an errno, not `{v}`")
                        })?),
                    }
                }
                "cdev" => p.cdev = yes()?,
                "name-file" => p.name_file = yes()?,
                "recovery" => p.recovery = yes()?,
                "crash-stop" => p.crash_stop = yes()?,
                "firmware" => p.firmware = v.to_string(),
                _ => return Err(format!("unknown processor option `{k}`")),
            }
        }
        Ok(p)
    }
}

/// The kernel's rpmsg tty driver: which channel names it binds and how it names
/// the tty.
#[derive(Clone, Debug)]
pub struct TtyDriver {
    /// The driver's name on the rpmsg bus (`/sys/bus/rpmsg/drivers/<driver>`).
    pub driver: String,
    pub channels: Vec<String>,
    /// `ttyRPMSG<dst>` (NXP's imx_rpmsg_tty) rather than the next free number.
    pub named_by_address: bool,
    /// What the driver sends the firmware when the channel appears.
    pub hello: Option<String>,
}

impl Default for TtyDriver {
    /// Every name a tty driver binds somewhere (mainline, NXP, older ST), numbered in order.
    fn default() -> Self {
        TtyDriver {
            driver: String::from("rpmsg_tty"),
            channels: [
                "rpmsg-tty",
                "rpmsg-virtual-tty-channel",
                "rpmsg-tty-channel",
            ]
            .map(String::from)
            .to_vec(),
            named_by_address: false,
            hello: None,
        }
    }
}

/// Everything the command line configures.
#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub kernel: Kernel,
    pub model: String,
    pub compatible: Vec<String>,
    pub fw_path: String,
    pub processors: Vec<ProcSpec>,
    pub tty: TtyDriver,
    /// The rpmsg drivers shown in `/sys/bus/rpmsg/drivers` (what `info` looks for; the
    /// simulated channels work the same without them).
    pub rpmsg_drivers: Vec<String>,
    /// debugfs mounted (`/sys/kernel/debug/remoteproc`).
    pub debugfs: bool,
    /// Unmount and exit when the parent process dies.
    pub exit_with_parent: bool,
}

pub const USAGE: &str = "usage: hybrid-sim --root DIR [--board BOARD] [--attached CORES] \
[--kernel 6.1|5.10] [--model STR] [--compatible A,B,...] [--fw-path PATH] [--exit-with-parent] \
[--no-debugfs] [--rpmsg-drivers none|NAME,...] [--no-remoteproc] [--processor SPEC]...
  BOARD = imx8mp | stm32mp157 | am62x | zynqmp | zynqmp-lockstep (not with --processor)
  CORES = all | none | NAME[,NAME...] (cores the boot loader started: the kernel attaches to them)
  --rpmsg-drivers: the drivers /sys/bus/rpmsg/drivers lists (default: rpmsg_chrdev, rpmsg_ctrl,
         rpmsg_ns and the board's tty driver); --no-remoteproc: a kernel without remote processors
  SPEC = name=m4[;compatible=C][;state=offline|attached][;detach=yes|no|ERRNO][;cdev=yes|no]
         [;name-file=yes|no][;recovery=enabled|disabled][;crash-stop=yes|no][;firmware=NAME]
       hybrid-sim make-firmware --out FILE [--trace LEN] [--rpmsg] [--script TEXT | --script-file F]";

impl Config {
    /// Parses the simulator's arguments (without the program name).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut root = None;
        let mut board = None;
        let mut attached = None;
        let mut rpmsg_drivers = None;
        let mut no_remoteproc = false;
        let (mut model, mut compatible) = (None, None);
        let mut cfg = Config {
            root: PathBuf::new(),
            kernel: Kernel::V6_1,
            model: "Hybrid Simulator Board".into(),
            compatible: vec!["hybrid,sim-board".into()],
            fw_path: String::new(),
            processors: Vec::new(),
            tty: TtyDriver::default(),
            rpmsg_drivers: Vec::new(),
            debugfs: true,
            exit_with_parent: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{a} needs a value"))
            };
            match a.as_str() {
                "--root" => root = Some(PathBuf::from(val()?)),
                "--board" => board = Some(val()?),
                "--attached" => attached = Some(val()?),
                "--kernel" => {
                    cfg.kernel = match val()?.as_str() {
                        "6.1" => Kernel::V6_1,
                        "5.10" => Kernel::V5_10,
                        k => return Err(format!("--kernel must be 6.1 or 5.10, not `{k}`")),
                    }
                }
                "--model" => model = Some(val()?),
                "--compatible" => {
                    compatible = Some(val()?.split(',').map(str::to_string).collect())
                }
                "--fw-path" => cfg.fw_path = val()?,
                "--processor" => cfg.processors.push(ProcSpec::parse(&val()?)?),
                "--exit-with-parent" => cfg.exit_with_parent = true,
                "--no-debugfs" => cfg.debugfs = false,
                "--no-remoteproc" => no_remoteproc = true,
                "--rpmsg-drivers" => {
                    rpmsg_drivers = Some(match val()?.as_str() {
                        "none" => Vec::new(),
                        list => list.split(',').map(str::to_string).collect(),
                    })
                }
                _ => return Err(format!("unknown argument `{a}`")),
            }
        }
        cfg.root = root.ok_or("--root DIR is required")?;
        if let Some(name) = board {
            if !cfg.processors.is_empty() {
                return Err(
                    "--board gives the cores: it cannot be combined with --processor".into(),
                );
            }
            let b = board::preset(&name, cfg.kernel).ok_or_else(|| {
                format!(
                    "unknown board `{name}`: use one of {}",
                    board::NAMES.join(", ")
                )
            })?;
            cfg.model = b.model;
            cfg.compatible = b.compatible;
            cfg.tty = b.tty;
            cfg.processors = b.processors;
        }
        if no_remoteproc {
            if !cfg.processors.is_empty() {
                return Err(
                    "--no-remoteproc cannot be combined with --board or --processor".into(),
                );
            }
        } else if cfg.processors.is_empty() {
            cfg.processors.push(ProcSpec::named("m4"));
        }
        cfg.rpmsg_drivers = rpmsg_drivers.unwrap_or_else(|| {
            [
                "rpmsg_chrdev",
                "rpmsg_ctrl",
                "rpmsg_ns",
                cfg.tty.driver.as_str(),
            ]
            .map(String::from)
            .to_vec()
        });
        cfg.model = model.unwrap_or(cfg.model);
        cfg.compatible = compatible.unwrap_or(cfg.compatible);
        if let Some(cores) = attached {
            cfg.set_attached(&cores)?;
        }
        Ok(cfg)
    }

    /// `--attached all|none|NAME,…`: the named cores (by name or index) are
    /// attached at boot, the others offline.
    fn set_attached(&mut self, cores: &str) -> Result<(), String> {
        let wanted: Vec<&str> = match cores {
            "none" => Vec::new(),
            _ => cores.split(',').collect(),
        };
        for w in &wanted {
            let known = *w == "all"
                || self
                    .processors
                    .iter()
                    .enumerate()
                    .any(|(i, p)| p.name == *w || i.to_string() == *w);
            if !known {
                let names: Vec<&str> = self.processors.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "--attached: no core `{w}` (cores: {})",
                    names.join(", ")
                ));
            }
        }
        for (i, p) in self.processors.iter_mut().enumerate() {
            p.attached = wanted
                .iter()
                .any(|w| *w == "all" || *w == p.name || *w == i.to_string());
        }
        Ok(())
    }
}
