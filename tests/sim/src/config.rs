//! Command line of `hybrid-sim`: the board and its processors.
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

/// One `--processor` specification.
#[derive(Clone, Debug)]
pub struct ProcSpec {
    pub name: String,
    pub compatible: String,
    pub attached: bool,
    pub detach: bool,
    pub cdev: bool,
    pub name_file: bool,
    pub recovery: bool,
    /// Whether `stop` takes a crashed core offline (mainline answers `EINVAL`).
    pub crash_stop: bool,
    pub firmware: String,
}

impl ProcSpec {
    fn named(name: &str) -> Self {
        ProcSpec {
            name: name.to_string(),
            compatible: format!("hybrid,sim-{name}"),
            attached: false,
            detach: true,
            cdev: true,
            name_file: true,
            recovery: false,
            crash_stop: true,
            firmware: format!("rproc-{name}-fw"),
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
                "detach" => p.detach = yes()?,
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

/// Everything the command line configures.
#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub kernel: Kernel,
    pub model: String,
    pub compatible: Vec<String>,
    pub fw_path: String,
    pub processors: Vec<ProcSpec>,
    /// Unmount and exit when the parent process dies.
    pub exit_with_parent: bool,
}

pub const USAGE: &str = "usage: hybrid-sim --root DIR [--kernel 6.1|5.10] [--model STR] \
[--compatible A,B,...] [--fw-path PATH] [--exit-with-parent] [--processor SPEC]...
  SPEC = name=m4[;compatible=C][;state=offline|attached][;detach=yes|no][;cdev=yes|no]
         [;name-file=yes|no][;recovery=enabled|disabled][;crash-stop=yes|no][;firmware=NAME]
       hybrid-sim make-firmware --out FILE [--trace LEN] [--rpmsg] [--script TEXT | --script-file F]";

impl Config {
    /// Parses the simulator's arguments (without the program name).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut root = None;
        let mut cfg = Config {
            root: PathBuf::new(),
            kernel: Kernel::V6_1,
            model: "Hybrid Simulator Board".into(),
            compatible: vec!["hybrid,sim-board".into()],
            fw_path: String::new(),
            processors: Vec::new(),
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
                "--kernel" => {
                    cfg.kernel = match val()?.as_str() {
                        "6.1" => Kernel::V6_1,
                        "5.10" => Kernel::V5_10,
                        k => return Err(format!("--kernel must be 6.1 or 5.10, not `{k}`")),
                    }
                }
                "--model" => cfg.model = val()?,
                "--compatible" => cfg.compatible = val()?.split(',').map(str::to_string).collect(),
                "--fw-path" => cfg.fw_path = val()?,
                "--processor" => cfg.processors.push(ProcSpec::parse(&val()?)?),
                "--exit-with-parent" => cfg.exit_with_parent = true,
                _ => return Err(format!("unknown argument `{a}`")),
            }
        }
        cfg.root = root.ok_or("--root DIR is required")?;
        if cfg.processors.is_empty() {
            cfg.processors.push(ProcSpec::named("m4"));
        }
        Ok(cfg)
    }
}
