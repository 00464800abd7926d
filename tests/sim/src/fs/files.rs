//! What reading, writing and ioctls on each simulated file do, errno included.
use super::tree::FileKind;
use crate::control;
use crate::rpmsg;
use crate::rproc::{self, sysfs_streq};
use crate::world::World;

/// `_IOW(0xB7, 1, __s32)`.
pub const RPROC_SET_SHUTDOWN_ON_RELEASE: u32 = 0x4004_B701;
/// `_IOR(0xB7, 2, __s32)`.
pub const RPROC_GET_SHUTDOWN_ON_RELEASE: u32 = 0x8004_B702;

/// The whole content of a file (the caller slices it by offset).
pub fn read(w: &World, kind: &FileKind) -> Result<Vec<u8>, i32> {
    let line = |s: &str| Ok(format!("{s}\n").into_bytes());
    match kind {
        FileKind::Const(b) => Ok(b.clone()),
        FileKind::State(n) => line(w.procs[*n].state.as_str()),
        FileKind::Firmware(n) => line(&w.procs[*n].firmware),
        FileKind::Recovery(n) | FileKind::DebugRecovery(n) => line(if w.procs[*n].recovery {
            "enabled"
        } else {
            "disabled"
        }),
        FileKind::Coredump(n) => line(&w.procs[*n].coredump),
        FileKind::Trace(n) => Ok(crate::trace::read(&w.procs[*n])),
        FileKind::FwClassPath => line(&w.fw_class_path),
        FileKind::Control(n, name) => control::read(w, *n, name),
        FileKind::Crash(_)
        | FileKind::Cdev(_)
        | FileKind::Kmsg
        | FileKind::Ept(_)
        | FileKind::Ctrl(_) => Err(libc::EINVAL),
    }
}

/// Whether the file is a sysfs attribute, which the kernel serves through a
/// seq_file: shown once per read from offset 0.
fn seq_file(kind: &FileKind) -> bool {
    matches!(
        kind,
        FileKind::Const(_)
            | FileKind::State(_)
            | FileKind::Firmware(_)
            | FileKind::Recovery(_)
            | FileKind::Coredump(_)
            | FileKind::FwClassPath
    )
}

/// What a read of `size` bytes at `offset` of open file `fh` returns. A sysfs
/// attribute is shown afresh for a read at offset 0 (so a descriptor kept open
/// and re-read with `pread` at 0 sees the current value) or at an offset other
/// than where the previous read ended; a read continuing where the previous one
/// ended goes on in that same showing, as `seq_read` does. Other files (debugfs,
/// the simulator's own) are read afresh every time.
pub fn read_at(
    w: &mut World,
    fh: u64,
    kind: &FileKind,
    offset: u64,
    size: u32,
) -> Result<Vec<u8>, i32> {
    let seq = seq_file(kind);
    let continued = w
        .files
        .get(&fh)
        .and_then(|f| f.shown.as_ref())
        .filter(|(_, end)| seq && offset != 0 && *end == offset)
        .map(|(shown, _)| shown.clone());
    let content = match continued {
        Some(c) => c,
        None => read(w, kind)?,
    };
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(content.len());
    let end = start.saturating_add(size as usize).min(content.len());
    let data = content[start..end].to_vec();
    if seq {
        if let Some(f) = w.files.get_mut(&fh) {
            f.shown = Some((content, end as u64));
        }
    }
    Ok(data)
}

/// Which `hang` key delays writes to this file.
fn hang_key(kind: &FileKind) -> Option<(usize, &'static str)> {
    match kind {
        FileKind::State(n) => Some((*n, "state")),
        FileKind::Firmware(n) => Some((*n, "firmware")),
        FileKind::Cdev(n) => Some((*n, "cdev")),
        FileKind::Crash(n) => Some((*n, "crash")),
        FileKind::Recovery(n) | FileKind::DebugRecovery(n) => Some((*n, "recovery")),
        _ => None,
    }
}

/// Takes a pending delay for the next write to this file.
pub fn take_hang(w: &mut World, kind: &FileKind) -> Option<u64> {
    let (n, key) = hang_key(kind)?;
    let ms = w.procs[n].hangs.remove(key)?;
    w.procs[n].event(format!("hang {key} {ms}"));
    Some(ms)
}

/// One `write()`; `Ok` means the whole buffer was consumed.
pub fn write(w: &mut World, kind: &FileKind, data: &[u8]) -> Result<(), i32> {
    match kind {
        FileKind::State(n) => rproc::write_state(w, *n, data),
        FileKind::Firmware(n) => rproc::write_firmware(w, *n, data),
        FileKind::Recovery(n) | FileKind::DebugRecovery(n) => rproc::write_recovery(w, *n, data),
        FileKind::Coredump(n) => {
            let mode = ["disabled", "enabled", "inline"]
                .into_iter()
                .find(|m| sysfs_streq(data, m))
                .ok_or(libc::EINVAL)?;
            w.procs[*n].coredump = mode.to_string();
            Ok(())
        }
        FileKind::Crash(n) => rproc::write_crash(w, *n, data),
        FileKind::Cdev(n) => rproc::write_cdev(w, *n, data),
        FileKind::FwClassPath => {
            // A string parameter of at most 255 characters.
            if data.len() > 255 {
                return Err(libc::ENOSPC);
            }
            let s = String::from_utf8_lossy(data);
            w.fw_class_path = s.strip_suffix('\n').unwrap_or(&s).to_string();
            Ok(())
        }
        FileKind::Kmsg => {
            // devkmsg_write: facility LOG_USER and the default level unless a
            // `<N>` prefix gives a level (and a facility, when not 0).
            let text = String::from_utf8_lossy(data);
            let text = text.trim_end_matches('\n');
            let (mut facility, mut level) = (1u32, 4u32);
            let mut body = text;
            if let Some((n, rest)) = text.strip_prefix('<').and_then(|t| t.split_once('>')) {
                if let Ok(u) = n.parse::<u32>() {
                    level = u & 7;
                    if u >> 3 != 0 {
                        facility = u >> 3;
                    }
                    body = rest;
                }
            }
            let prio = u8::try_from((facility << 3) | level).unwrap_or(12);
            w.log(prio, body.to_string());
            Ok(())
        }
        FileKind::Control(n, name) => control::write(w, *n, name, data),
        FileKind::Ept(m) => rpmsg::host_write(w, *m, data),
        FileKind::Const(_) | FileKind::Trace(_) | FileKind::Ctrl(_) => Err(libc::EACCES),
    }
}

/// An ioctl; returns the bytes copied back to the caller.
pub fn ioctl(
    w: &mut World,
    kind: &FileKind,
    _fh: u64,
    cmd: u32,
    input: &[u8],
) -> Result<Vec<u8>, i32> {
    match kind {
        FileKind::Cdev(n) => {
            let p = &mut w.procs[*n];
            match cmd {
                RPROC_SET_SHUTDOWN_ON_RELEASE => {
                    let v: [u8; 4] = input
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .ok_or(libc::EFAULT)?;
                    p.shutdown_on_release = i32::from_ne_bytes(v) != 0;
                    p.event(format!(
                        "set-shutdown-on-release {}",
                        u8::from(p.shutdown_on_release)
                    ));
                    Ok(Vec::new())
                }
                RPROC_GET_SHUTDOWN_ON_RELEASE => {
                    Ok(i32::from(p.shutdown_on_release).to_ne_bytes().to_vec())
                }
                _ => Err(libc::EINVAL),
            }
        }
        FileKind::Ctrl(n) => rpmsg::ctrl_ioctl(w, *n, cmd, input),
        FileKind::Ept(m) => rpmsg::ept_ioctl(w, *m, cmd),
        _ => Err(libc::ENOTTY),
    }
}

/// A file was opened.
pub fn open(w: &mut World, kind: &FileKind) {
    if let FileKind::Ept(m) = kind {
        rpmsg::opened(w, *m, 1);
    }
}

/// The last descriptor of an open file was closed (or its holder died).
pub fn release(w: &mut World, kind: &FileKind, fh: u64) {
    match kind {
        FileKind::Cdev(n) => rproc::release_cdev(w, *n, fh),
        FileKind::Ept(m) => rpmsg::opened(w, *m, -1),
        _ => {}
    }
}
