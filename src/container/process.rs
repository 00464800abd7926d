//! The monitor process as `/proc` sees it: start time (field 22 of its stat file) so that a
//! reused pid is never mistaken for ours, and whether it is still alive (not a zombie).
//! The main thread's `/proc/<pid>/task/<pid>/stat` is read: it holds the same fields as
//! `/proc/<pid>/stat`, and user-mode emulators (qemu-user) fake only the latter.

/// (state letter, start time in clock ticks) of `pid`.
fn stat(pid: i32) -> Option<(char, u64)> {
    if pid <= 0 {
        return None;
    }
    let path = format!("/proc/{pid}/task/{pid}/stat");
    let text = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may contain spaces: fields restart after the last ')'.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    // `rest` starts at field 3; field 22 is 19 further on.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|(_, t)| t)
}

/// True when `pid` runs and is the process that started at `start`.
pub fn alive(pid: i32, start: u64) -> bool {
    matches!(stat(pid), Some((s, t)) if t == start && s != 'Z' && s != 'X')
}

/// Wait until the process is gone (or a zombie), up to `ms` milliseconds.
pub fn wait_gone(pid: i32, start: u64, ms: u64) -> bool {
    let step = std::time::Duration::from_millis(5);
    let end = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while alive(pid, start) {
        if std::time::Instant::now() >= end {
            return false;
        }
        std::thread::sleep(step);
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_itself() {
        let me = std::process::id() as i32;
        let t = super::start_time(me).unwrap();
        assert!(super::alive(me, t));
        assert!(!super::alive(me, t + 1));
        assert!(!super::alive(0, 0));
    }
}
