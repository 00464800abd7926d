//! rpmsg endpoint devices (`dev/rpmsgM`): the `rpmsg-raw` channel's own and
//! those created through `dev/rpmsg_ctrlC`; one message per read and write.
use super::{alive, received};
use crate::world::{lock, wait_firmware, Shared, Source, World};
use std::collections::VecDeque;

/// Largest payload of one rpmsg message (512-byte buffers, 16-byte header).
pub const MAX_PAYLOAD: usize = 496;

/// Messages an endpoint queues before the firmware has to wait.
const QUEUE: usize = 64;

/// `RPMSG_CREATE_EPT_IOCTL`.
pub const CREATE_EPT: u32 = 0x4028_b501;

/// `RPMSG_DESTROY_EPT_IOCTL`.
pub const DESTROY_EPT: u32 = 0xb502;

/// An rpmsg endpoint device `dev/rpmsgM`.
pub struct Endpoint {
    pub proc: usize,
    pub name: String,
    pub src: u32,
    pub dst: u32,
    /// The `rpmsg-raw` channel's own endpoint (cannot be destroyed).
    pub default: bool,
    /// Open descriptions: a created endpoint only receives while open.
    pub opened: u32,
    /// Firmware → host messages not yet read.
    pub queue: VecDeque<Vec<u8>>,
    /// Destroyed or its channel went away: reads answer `EPIPE`.
    pub dead: bool,
}

pub fn new_endpoint(w: &mut World, n: usize, name: &str, src: u32, dst: u32, default: bool) -> u32 {
    let m = w.counters.ept;
    w.counters.ept += 1;
    w.endpoints.insert(
        m,
        Endpoint {
            proc: n,
            name: name.to_string(),
            src,
            dst,
            default,
            opened: 0,
            queue: VecDeque::new(),
            dead: false,
        },
    );
    m
}

pub fn kill_endpoint(w: &mut World, m: u32) {
    if let Some(e) = w.endpoints.get_mut(&m) {
        let n = e.proc;
        e.dead = true;
        e.queue.clear();
        if e.opened == 0 {
            w.endpoints.remove(&m);
        }
        w.wake_firmware(n);
    }
    w.wake(&Source::Ept(m));
}

/// Reads one message for a host reader: `EAGAIN` when none, `EPIPE` when gone.
pub fn read(w: &mut World, m: u32, size: u32) -> Result<Vec<u8>, i32> {
    let e = w.endpoints.get_mut(&m).ok_or(libc::EPIPE)?;
    if e.dead {
        return Err(libc::EPIPE);
    }
    let mut msg = e.queue.pop_front().ok_or(libc::EAGAIN)?;
    let n = e.proc;
    msg.truncate(size as usize);
    w.wake_firmware(n);
    Ok(msg)
}

/// Whether a read would not block.
pub fn readable(w: &World, m: u32) -> bool {
    w.endpoints
        .get(&m)
        .is_none_or(|e| e.dead || !e.queue.is_empty())
}

/// Poll mask of an endpoint.
pub fn poll_mask(w: &World, m: u32) -> (bool, bool, bool) {
    match w.endpoints.get(&m) {
        Some(e) if !e.dead => (!e.queue.is_empty(), true, false),
        _ => (false, false, true),
    }
}

/// A host `write()` on `dev/rpmsgM`: one message to the firmware.
pub fn host_write(w: &mut World, m: u32, data: &[u8]) -> Result<(), i32> {
    let e = w.endpoints.get(&m).ok_or(libc::EPIPE)?;
    if e.dead {
        return Err(libc::EPIPE);
    }
    if data.len() > MAX_PAYLOAD {
        return Err(libc::EMSGSIZE);
    }
    let (n, name) = (e.proc, e.name.clone());
    if received(w, n, &name, data) {
        if let Some(e) = w.endpoints.get_mut(&m) {
            if e.queue.len() < QUEUE {
                e.queue.push_back(data.to_vec());
            }
        }
        w.wake(&Source::Ept(m));
    }
    Ok(())
}

/// An endpoint was opened or released.
pub fn opened(w: &mut World, m: u32, delta: i32) {
    if let Some(e) = w.endpoints.get_mut(&m) {
        e.opened = e.opened.saturating_add_signed(delta);
        let n = e.proc;
        if e.dead && e.opened == 0 {
            w.endpoints.remove(&m);
        }
        w.wake_firmware(n);
    }
}

/// ioctl on `dev/rpmsg_ctrlC` of core `n`.
pub fn ctrl_ioctl(w: &mut World, n: usize, cmd: u32, input: &[u8]) -> Result<Vec<u8>, i32> {
    if cmd != CREATE_EPT {
        return Err(libc::EINVAL);
    }
    let info = input.get(..40).ok_or(libc::EFAULT)?;
    let end = info[..32].iter().position(|&c| c == 0).unwrap_or(32);
    let name = String::from_utf8_lossy(&info[..end]).into_owned();
    let word = |o: usize| u32::from_ne_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
    let m = new_endpoint(w, n, &name, word(32), word(36), false);
    w.procs[n].event(format!("create-ept {name} rpmsg{m}"));
    Ok(Vec::new())
}

/// ioctl on `dev/rpmsgM`.
pub fn ept_ioctl(w: &mut World, m: u32, cmd: u32) -> Result<Vec<u8>, i32> {
    let e = w.endpoints.get(&m).ok_or(libc::ENODEV)?;
    if cmd != DESTROY_EPT || e.default {
        return Err(libc::EINVAL);
    }
    let n = e.proc;
    w.procs[n].event(format!("destroy-ept rpmsg{m}"));
    kill_endpoint(w, m);
    Ok(Vec::new())
}

/// The firmware sends `data` on every endpoint that can receive (the
/// `rpmsg-raw` one always, created ones while open); waits while one of them
/// is full. False when the image stopped meanwhile.
pub fn firmware_send(shared: &Shared, n: usize, generation: u64, data: Vec<u8>) -> bool {
    let mut w = lock(shared);
    loop {
        if !alive(&w, n, generation) {
            return false;
        }
        let targets: Vec<u32> = w
            .endpoints
            .iter()
            .filter(|(_, e)| e.proc == n && !e.dead && (e.default || e.opened > 0))
            .map(|(m, _)| *m)
            .collect();
        let full = targets
            .iter()
            .any(|m| w.endpoints.get(m).is_some_and(|e| e.queue.len() >= QUEUE));
        if !full {
            for m in targets {
                if let Some(e) = w.endpoints.get_mut(&m) {
                    e.queue.push_back(data.clone());
                }
                w.wake(&Source::Ept(m));
            }
            return true;
        }
        w = wait_firmware(w, n, None);
    }
}
