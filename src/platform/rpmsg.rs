//! rpmsg channels of one remote processor, found by walking its sysfs directory (never by
//! number): tty channels (`…/virtioV.rpmsg-tty.S.D/tty/ttyRPMSGn`; NXP kernels call the channel
//! `rpmsg-virtual-tty-channel`, older ST ones `rpmsg-tty-channel`: any channel with a `tty/`
//! child is one), raw endpoints
//! (`…/rpmsg/rpmsgM`) and the control device (`…/rpmsg/rpmsg_ctrlC`) that creates named
//! endpoints; and opening them for reading the firmware's output.

use crate::error::{Context, Result};
use crate::sys;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Channel names that rpmsg_tty binds to (mainline, NXP, older ST kernels).
const TTY_CHANNELS: [&str; 3] = [
    "rpmsg-tty",
    "rpmsg-virtual-tty-channel",
    "rpmsg-tty-channel",
];
/// The kernel's own name-service channel, not the firmware's.
const NAME_SERVICE: &str = "rpmsg_ns";
/// The channel that rpmsg_char turns into an endpoint device by itself (kernel ≥ 5.18).
pub const RAW_CHANNEL: &str = "rpmsg-raw";
/// Largest payload of one message with the kernel's 512-byte buffers: a message this long may
/// be part of a longer line.
pub const MAX_PAYLOAD: usize = 496;
/// How long a created endpoint's device may take to appear.
const NEW_DEVICE_WAIT: Duration = Duration::from_secs(1);
/// Address meaning "any" when creating an endpoint.
pub const ADDR_ANY: u32 = 0xFFFF_FFFF;
/// Longest channel or endpoint name the kernel takes (31 bytes).
pub const NAME_MAX: usize = sys::RPMSG_NAME_MAX;

/// A channel or endpoint name that fits the kernel's structures.
pub type Name = heapless::String<NAME_MAX>;

/// Links in sysfs device directories that lead away from the device's children.
const NOT_CHILDREN: [&str; 6] = [
    "device",
    "subsystem",
    "of_node",
    "power",
    "driver",
    "firmware_node",
];
const MAX_DEPTH: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Tty,
    Endpoint,
    Control,
    /// Announced by the firmware but claimed by no kernel driver (no device node): what a
    /// named endpoint is created towards.
    Unclaimed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub kind: Kind,
    /// Channel name as announced by the firmware (`rpmsg-tty`, `rpmsg-raw`, …).
    pub name: String,
    /// Device node name under /dev (`ttyRPMSG0`, `rpmsg1`, `rpmsg_ctrl0`).
    pub dev: String,
    /// The firmware's address of the channel.
    pub dst: u32,
}

/// True when the firmware declared an rpmsg virtio device (its channels may still be coming).
pub fn has_vdev(rproc_dir: &Path) -> bool {
    fs::read_dir(rproc_dir).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("rproc-virtio"))
    })
}

/// Every channel below the remote processor's sysfs directory, in a stable order.
pub fn discover(rproc_dir: &Path) -> Vec<Channel> {
    let mut found = Vec::new();
    walk(rproc_dir, 0, &mut found);
    found.sort_by(|a, b| {
        (a.kind as u8, a.dev.len(), &a.dev).cmp(&(b.kind as u8, b.dev.len(), &b.dev))
    });
    found
}

/// One directory is read at a time (a directory stream holds a 32 KiB buffer: nesting them
/// would show in the monitor's memory).
fn walk(dir: &Path, depth: usize, found: &mut Vec<Channel>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let subdirs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !NOT_CHILDREN.contains(&name.as_str()))
        .collect();
    for (name, path) in subdirs {
        if name.starts_with("virtio") && name.contains('.') {
            channel(&path, &name, found);
        } else if depth < MAX_DEPTH {
            walk(&path, depth + 1, found);
        }
    }
}

/// A `virtioV.<channel>.<src>.<dst>` directory (the kernel's `%s.%s.%d.%d`): record the device
/// node it carries. The name says where to look first, so one directory read usually does.
fn channel(dir: &Path, dir_name: &str, found: &mut Vec<Channel>) {
    let mut parts = dir_name.rsplitn(3, '.');
    let dst = parts.next().and_then(parse_addr).unwrap_or(ADDR_ANY);
    let _src = parts.next();
    let name = parts
        .next()
        .and_then(|p| p.split_once('.'))
        .map_or("", |(_, n)| n);
    let order = if TTY_CHANNELS.contains(&name) {
        ["tty", "rpmsg"]
    } else {
        ["rpmsg", "tty"]
    };
    for sub in order {
        let Ok(devs) = fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for d in devs.flatten() {
            let dev = d.file_name().to_string_lossy().into_owned();
            let kind = match () {
                _ if sub == "tty" => Kind::Tty,
                _ if dev.starts_with("rpmsg_ctrl") => Kind::Control,
                _ => Kind::Endpoint,
            };
            found.push(Channel {
                kind,
                name: name.to_owned(),
                dev,
                dst,
            });
        }
        return;
    }
    if name != NAME_SERVICE {
        found.push(Channel {
            kind: Kind::Unclaimed,
            name: name.to_owned(),
            dev: String::new(),
            dst,
        });
    }
}

/// `0x400`, `1024` or `-1` (any).
fn parse_addr(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None if s == "-1" => Some(ADDR_ANY),
        None => s.parse().ok(),
    }
}

fn read_trimmed(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

/// Open a tty channel's device for reading and writing, in raw mode (no echo back to the
/// firmware, no line editing), non-blocking, never becoming our controlling terminal.
pub fn open_tty(path: &Path) -> Result<File> {
    let f = open_dev(path, libc::O_NOCTTY)?;
    sys::tty_raw(&f).ctx_path("cannot put in raw mode the rpmsg tty", path)?;
    Ok(f)
}

/// Open an endpoint device (one message per read and per write), non-blocking.
pub fn open_endpoint(path: &Path) -> Result<File> {
    open_dev(path, 0)
}

fn open_dev(path: &Path, extra: i32) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | extra)
        .open(path)
        .ctx_path("cannot open rpmsg device", path)
}

/// Create endpoint `name` towards the firmware address `dst` through the control device at
/// `ctrl`, then find the new device under `class_dir` (`/sys/class/rpmsg`) by its name and open
/// it from `dev_dir`. Returns the open endpoint and its device name; remove it with `destroy`.
pub fn create_endpoint(
    ctrl: &Path,
    class_dir: &Path,
    dev_dir: &Path,
    name: &Name,
    dst: u32,
) -> Result<(File, String)> {
    let before = named_endpoints(class_dir, name);
    let ctrl_file = open_dev(ctrl, 0)?;
    sys::rpmsg_create_ept(&ctrl_file, name, ADDR_ANY, dst).ctx_path(
        &format!("cannot create rpmsg endpoint {name} through"),
        ctrl,
    )?;
    // The device shows up in sysfs, then in /dev, a moment after the ioctl returns.
    let deadline = Instant::now() + NEW_DEVICE_WAIT;
    loop {
        let dev = named_endpoints(class_dir, name)
            .into_iter()
            .filter(|d| !before.contains(d))
            .max_by_key(|d| d.trim_start_matches("rpmsg").parse::<u32>().unwrap_or(0));
        let opened = dev.as_ref().map(|d| open_endpoint(&dev_dir.join(d)));
        let late = Instant::now() >= deadline;
        match (dev, opened) {
            (Some(dev), Some(Ok(f))) => return Ok((f, dev)),
            (_, Some(Err(e))) if e.errno != libc::ENOENT || late => return Err(e),
            (_, None) if late => {
                return Err(io::Error::from_raw_os_error(libc::ENODEV)).ctx_path(
                    &format!("no device appeared for rpmsg endpoint {name} in"),
                    class_dir,
                )
            }
            _ => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Tell the kernel to remove an endpoint made by `create_endpoint` (it also goes away when the
/// core stops).
pub fn destroy(endpoint: &File) {
    let _ = sys::rpmsg_destroy_ept(endpoint);
}

/// Endpoint devices (`rpmsgM`, not controls) under `class_dir` whose `name` is `name`.
fn named_endpoints(class_dir: &Path, name: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(class_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|d| d.starts_with("rpmsg") && !d.starts_with("rpmsg_ctrl"))
        .filter(|d| read_trimmed(&class_dir.join(d).join("name")).as_deref() == Some(name))
        .collect()
}

/// Read what is available (one message on an endpoint); `Ok(0)` when nothing is ready,
/// `Err` when the channel is gone (hang-up, device removed).
pub fn read_available(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    match f.read(buf) {
        Ok(0) => Err(io::Error::from_raw_os_error(libc::EIO)),
        Ok(n) => Ok(n),
        Err(e)
            if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> PathBuf {
        let root = std::env::temp_dir().join(format!("hybrid-rpmsg-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let rp = root.join("devices/platform/sim.0/remoteproc/remoteproc1");
        let v = rp.join("rproc-virtio.0.auto/virtio3");
        for (dir, sub, name, dst) in [
            (
                "virtio3.rpmsg-tty.-1.1024",
                "tty/ttyRPMSG2",
                "rpmsg-tty",
                "0x400",
            ),
            (
                "virtio3.rpmsg-raw.-1.1025",
                "rpmsg/rpmsg5",
                "rpmsg-raw",
                "0x401",
            ),
            (
                "virtio3.rpmsg_ctrl.0.0",
                "rpmsg/rpmsg_ctrl1",
                "rpmsg_ctrl",
                "0x0",
            ),
            (
                "virtio3.rpmsg-virtual-tty-channel.-1.30",
                "tty/ttyRPMSG0",
                "rpmsg-virtual-tty-channel",
                "0x1e",
            ),
        ] {
            fs::create_dir_all(v.join(dir).join(sub)).unwrap();
            fs::write(v.join(dir).join("name"), format!("{name}\n")).unwrap();
            fs::write(v.join(dir).join("dst"), format!("{dst}\n")).unwrap();
        }
        // Announced, but no driver claimed it; and the name service.
        fs::create_dir_all(v.join("virtio3.my-log.-1.1027")).unwrap();
        fs::create_dir_all(v.join("virtio3.rpmsg_ns.53.53")).unwrap();
        // A channel hidden behind a link that must not be followed.
        fs::create_dir_all(root.join("elsewhere/virtio9.rpmsg-tty.-1.1/tty/ttyRPMSG9")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), rp.join("device")).unwrap();
        fs::create_dir_all(root.join("class")).unwrap();
        std::os::unix::fs::symlink(&rp, root.join("class/remoteproc1")).unwrap();
        root
    }

    #[test]
    fn discovery_walks_the_tree_and_reads_names_and_addresses() {
        let root = tree();
        let found = discover(&root.join("class/remoteproc1"));
        let got: Vec<(Kind, &str, &str, u32)> = found
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.dev.as_str(), c.dst))
            .collect();
        assert_eq!(
            got,
            [
                (Kind::Tty, "rpmsg-virtual-tty-channel", "ttyRPMSG0", 30),
                (Kind::Tty, "rpmsg-tty", "ttyRPMSG2", 1024),
                (Kind::Endpoint, "rpmsg-raw", "rpmsg5", 1025),
                (Kind::Control, "rpmsg_ctrl", "rpmsg_ctrl1", 0),
                (Kind::Unclaimed, "my-log", "", 1027),
            ]
        );
        assert!(has_vdev(&root.join("class/remoteproc1")));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("0x400"), Some(1024));
        assert_eq!(parse_addr("1024"), Some(1024));
        assert_eq!(parse_addr("-1"), Some(ADDR_ANY));
        assert_eq!(parse_addr("x"), None);
    }
}
