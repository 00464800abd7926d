//! The simulator's own control files under `sim/remoteprocN/` (not a kernel
//! ABI): what happened to a core, and fault injection.
use crate::world::{State, World, FAULT_OPS, HANG_FILES};

/// Content of a readable control file.
pub fn read(w: &World, n: usize, name: &str) -> Result<Vec<u8>, i32> {
    let p = &w.procs[n];
    let lines = |items: Vec<String>| {
        Ok(items
            .into_iter()
            .flat_map(|l| (l + "\n").into_bytes())
            .collect())
    };
    match name {
        "events" => lines(p.events.clone()),
        "power" => lines(vec![p.power.to_string()]),
        "loaded" => lines(vec![p
            .loaded
            .as_ref()
            .map(|l| l.display().to_string())
            .unwrap_or_default()]),
        "starts" => lines(vec![p.starts.to_string()]),
        "cdev_holders" => lines(
            p.cdev_holders
                .iter()
                .map(|(_, pid)| pid.to_string())
                .collect(),
        ),
        "rx" => lines(p.rx.clone()),
        _ => Err(libc::EACCES),
    }
}

/// Parses an errno given by name (`EIO`) or number (`5`).
pub fn parse_errno(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (n > 0).then_some(n);
    }
    let table = [
        ("EPERM", libc::EPERM),
        ("ENOENT", libc::ENOENT),
        ("EINTR", libc::EINTR),
        ("EIO", libc::EIO),
        ("ENXIO", libc::ENXIO),
        ("ENOEXEC", libc::ENOEXEC),
        ("EAGAIN", libc::EAGAIN),
        ("ENOMEM", libc::ENOMEM),
        ("EACCES", libc::EACCES),
        ("EFAULT", libc::EFAULT),
        ("EBUSY", libc::EBUSY),
        ("ENODEV", libc::ENODEV),
        ("EINVAL", libc::EINVAL),
        ("ENOSPC", libc::ENOSPC),
        ("EPIPE", libc::EPIPE),
        ("ETIMEDOUT", libc::ETIMEDOUT),
        ("ENOSYS", libc::ENOSYS),
        ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ];
    table.iter().find(|(k, _)| *k == s).map(|&(_, v)| v)
}

/// A write to `fail` (`OP ERRNO`), `hang` (`FILE MS`), `force_state` (a state
/// name: puts the core in any of the eight states without side effects),
/// `remove` (anything: the driver goes away) or `replace` (a processor SPEC: the
/// driver is unbound and another processor registers as the same remoteprocN).
pub fn write(w: &mut World, n: usize, name: &str, data: &[u8]) -> Result<(), i32> {
    let text = String::from_utf8_lossy(data);
    if name == "remove" {
        crate::rproc::remove(w, n);
        return Ok(());
    }
    if name == "replace" {
        let spec = crate::config::ProcSpec::parse(text.trim()).map_err(|_| libc::EINVAL)?;
        crate::rproc::replace(w, n, spec);
        return Ok(());
    }
    if name == "force_state" {
        let state = State::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
            .ok_or(libc::EINVAL)?;
        let p = &mut w.procs[n];
        p.state = state;
        p.event(format!("force-state {}", state.as_str()));
        return Ok(());
    }
    let mut words = text.split_whitespace();
    let (Some(what), Some(arg), None) = (words.next(), words.next(), words.next()) else {
        return Err(libc::EINVAL);
    };
    let p = &mut w.procs[n];
    match name {
        "fail" => {
            let op = FAULT_OPS.iter().find(|o| **o == what).ok_or(libc::EINVAL)?;
            let errno = parse_errno(arg).ok_or(libc::EINVAL)?;
            p.faults.insert(op.to_string(), errno);
            Ok(())
        }
        "hang" => {
            let file = HANG_FILES
                .iter()
                .find(|o| **o == what)
                .ok_or(libc::EINVAL)?;
            let ms = arg.parse::<u64>().map_err(|_| libc::EINVAL)?;
            p.hangs.insert(file.to_string(), ms);
            Ok(())
        }
        _ => Err(libc::EACCES),
    }
}
