//! rpmsg while a firmware with an rpmsg vdev runs: the announced channels, a
//! pseudo-terminal per tty channel, `rpmsg-raw` and control-created endpoints
//! (one message per read/write), and what flows both ways.
mod endpoint;
mod pty;

pub use endpoint::{
    ctrl_ioctl, ept_ioctl, host_write, opened, poll_mask, read, readable, Endpoint,
};
use endpoint::{kill_endpoint, new_endpoint};
pub use pty::{serve_ttys, Pty};

use crate::kmsg::INFO;
use crate::world::{lock, Shared, World};

/// First address the host allocates.
const FIRST_ADDR: u32 = 1024;

/// Which transport a script command writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tty,
    Raw,
}

/// An announced channel.
pub enum ChannelDev {
    /// `ttyRPMSGi` backed by a pty.
    Tty(u32, Pty),
    /// `rpmsgM` (channel `rpmsg-raw`).
    Raw(u32),
    /// No driver binds: reachable through `rpmsg_ctrl` only.
    Other,
}

/// One channel: `virtioV.<name>.-1.<dst>`.
pub struct Channel {
    pub name: String,
    pub dst: u32,
    pub dev: ChannelDev,
}

/// The rpmsg side of a running firmware.
pub struct Vdev {
    /// `rproc-virtio.K.auto`.
    pub platform: u32,
    /// `virtioV`.
    pub virtio: u32,
    /// `rpmsg_ctrlC`.
    pub ctrl: u32,
    pub channels: Vec<Channel>,
}

impl Vdev {
    /// Directory of the virtio device, relative to the rproc directory.
    pub fn dir(&self) -> String {
        format!("rproc-virtio.{}.auto/virtio{}", self.platform, self.virtio)
    }
}

fn tty_channel(name: &str) -> bool {
    matches!(
        name,
        "rpmsg-tty" | "rpmsg-virtual-tty-channel" | "rpmsg-tty-channel"
    )
}

/// Creates the vdev and announces `names` (default `rpmsg-tty`, `rpmsg-raw`).
pub fn create(w: &mut World, n: usize, names: &[String]) -> Vdev {
    let defaults = ["rpmsg-tty".to_string(), "rpmsg-raw".to_string()];
    let names = if names.is_empty() {
        &defaults[..]
    } else {
        names
    };
    let vdev_numbers = (w.counters.platform, w.counters.virtio, w.counters.ctrl);
    w.counters.platform += 1;
    w.counters.virtio += 1;
    w.counters.ctrl += 1;
    let (platform, virtio, ctrl) = vdev_numbers;
    let dev = w.procs[n].dev();
    w.log(
        INFO,
        format!("remoteproc {dev}: registered virtio{virtio} (type 7)"),
    );
    w.log(
        INFO,
        format!("virtio_rpmsg_bus virtio{virtio}: rpmsg host is online"),
    );
    let mut channels = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let dst = FIRST_ADDR + i as u32;
        w.log(
            INFO,
            format!("virtio_rpmsg_bus virtio{virtio}: creating channel {name} addr 0x{dst:x}"),
        );
        let dev = if tty_channel(name) {
            match pty::open_pty() {
                Ok(pty) => {
                    let i = w.counters.tty;
                    w.counters.tty += 1;
                    ChannelDev::Tty(i, pty)
                }
                Err(e) => {
                    w.log(
                        3,
                        format!("rpmsg_tty virtio{virtio}.{name}: cannot open a pty: {e}"),
                    );
                    ChannelDev::Other
                }
            }
        } else if name == "rpmsg-raw" {
            let m = new_endpoint(w, n, name, u32::MAX, dst, true);
            ChannelDev::Raw(m)
        } else {
            ChannelDev::Other
        };
        channels.push(Channel {
            name: name.clone(),
            dst,
            dev,
        });
    }
    Vdev {
        platform,
        virtio,
        ctrl,
        channels,
    }
}

/// The firmware stopped: its channels and endpoints go away; blocked readers
/// get `EPIPE`, pty readers a hangup once the master is closed.
pub fn destroy(w: &mut World, n: usize) {
    let dead: Vec<u32> = w
        .endpoints
        .iter()
        .filter(|(_, e)| e.proc == n && !e.dead)
        .map(|(m, _)| *m)
        .collect();
    for m in dead {
        kill_endpoint(w, m);
    }
}

/// Records a message the firmware received, and echoes it when asked to.
fn received(w: &mut World, n: usize, channel: &str, data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    w.wake_firmware(n);
    let p = &mut w.procs[n];
    p.rx.push(format!("{channel} {}", text.trim_end_matches('\n')));
    match p.run.as_mut() {
        Some(r) => {
            r.rx_total += 1;
            r.echo
        }
        None => false,
    }
}

fn alive(w: &World, n: usize, generation: u64) -> bool {
    w.procs[n].generation == generation && w.procs[n].run.is_some()
}

/// The firmware sends `data`; waits while the transport is full. False when
/// the image stopped meanwhile.
pub fn firmware_send(
    shared: &Shared,
    n: usize,
    generation: u64,
    kind: Kind,
    data: Vec<u8>,
) -> bool {
    match kind {
        Kind::Tty => {
            let master = {
                let w = lock(shared);
                if !alive(&w, n, generation) {
                    return false;
                }
                pty::tty_master(&w, n)
            };
            match master {
                Some(tty) => pty::pty_write(shared, n, generation, &tty, &data),
                None => true,
            }
        }
        Kind::Raw => endpoint::firmware_send(shared, n, generation, data),
    }
}
