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

/// Creates the vdev and announces `announced` (name, address if given). With
/// none, the core's default channels (a board's example firmware), or else
/// `rpmsg-tty` and `rpmsg-raw`. Addresses not given count up from 0x400.
pub fn create(w: &mut World, n: usize, announced: &[(String, Option<u32>)]) -> Vdev {
    let defaults: Vec<(String, Option<u32>)> = match &w.procs[n].spec.channels {
        c if c.is_empty() => ["rpmsg-tty", "rpmsg-raw"]
            .map(|name| (name.to_string(), None))
            .to_vec(),
        c => c.iter().map(|(name, a)| (name.clone(), Some(*a))).collect(),
    };
    let names = if announced.is_empty() {
        &defaults[..]
    } else {
        announced
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
    for (i, (name, addr)) in names.iter().enumerate() {
        let dst = addr.unwrap_or(FIRST_ADDR + i as u32);
        w.log(
            INFO,
            format!("virtio_rpmsg_bus virtio{virtio}: creating channel {name} addr 0x{dst:x}"),
        );
        let dev = if w.cfg.tty.channels.contains(name) {
            match pty::open_pty() {
                Ok(pty) if w.cfg.tty.named_by_address => ChannelDev::Tty(dst, pty),
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

/// What the kernel's tty driver sends on each new tty channel of core `n`
/// (NXP's says "hello world!"), received by the firmware like anything else.
pub fn greet(w: &mut World, n: usize) {
    let Some(hello) = w.cfg.tty.hello.clone() else {
        return;
    };
    let ttys: Vec<String> = w.procs[n]
        .run
        .as_ref()
        .and_then(|r| r.vdev.as_ref())
        .map(|v| {
            v.channels
                .iter()
                .filter(|c| matches!(c.dev, ChannelDev::Tty(..)))
                .map(|c| c.name.clone())
                .collect()
        })
        .unwrap_or_default();
    for name in ttys {
        received(w, n, &name, hello.as_bytes());
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
