//! What /init must do as PID 1: console, pseudo filesystems, loading the fake
//! remote processor module, reaping, and ending the VM.
use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;

fn check(ret: libc::c_int, what: &str) -> io::Result<()> {
    if ret < 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(err.kind(), format!("{what}: {err}")));
    }
    Ok(())
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// Mounts `fstype` on `target` (created first).
pub fn mount(fstype: &str, target: &str) -> io::Result<()> {
    std::fs::create_dir_all(target)?;
    let (src, dir, ty) = (cstr(fstype), cstr(target), cstr(fstype));
    // SAFETY: all pointers are valid NUL-terminated strings; data is NULL.
    let ret = unsafe { libc::mount(src.as_ptr(), dir.as_ptr(), ty.as_ptr(), 0, std::ptr::null()) };
    check(ret, &format!("mount {fstype} on {target}"))
}

/// Makes /dev/console our stdin, stdout and stderr.
pub fn attach_console() -> io::Result<()> {
    let console = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")?;
    for fd in 0..3 {
        // SAFETY: dup2 on a valid open descriptor.
        check(
            unsafe { libc::dup2(console.as_raw_fd(), fd) },
            "dup2 console",
        )?;
    }
    Ok(())
}

/// Loads a kernel module from a file, with module parameters.
pub fn load_module(path: &str, params: &str) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    let params = cstr(params);
    // SAFETY: finit_module with a valid fd and a NUL-terminated parameter string.
    let ret =
        unsafe { libc::syscall(libc::SYS_finit_module, file.as_raw_fd(), params.as_ptr(), 0) };
    check(ret as libc::c_int, &format!("finit_module {path}"))
}

/// Status of a child as a shell reports it: the exit code, or 128+N when killed by signal N.
pub fn status_code(status: libc::c_int) -> i32 {
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

/// Waits up to `timeout` for `pid` (our child or an orphan handed to us as
/// PID 1) to end; returns its shell-style status, or None on timeout.
pub fn wait_pid(pid: i32, timeout: std::time::Duration) -> Option<i32> {
    let end = std::time::Instant::now() + timeout;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let ret = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if ret == pid {
            return Some(status_code(status));
        }
        if ret < 0 || std::time::Instant::now() >= end {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Collects every ended orphan (the runtime's monitors whose status nobody asked for).
pub fn reap_orphans() {
    let mut status = 0;
    // SAFETY: waitpid with a valid status pointer.
    while unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } > 0 {}
}

/// Ends every process but ourselves (what a failed scenario may have left
/// running) and collects them: a clean slate for the next scenario.
pub fn kill_all_others() {
    // SAFETY: kill(-1) from PID 1 signals every other process; no pointers.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let ret = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        // ECHILD: nothing left; 0: someone still dying.
        if ret < 0 || std::time::Instant::now() >= end {
            return;
        }
        if ret == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Sends `sig` to `pid`.
pub fn kill(pid: i32, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: plain kill(2).
    check(unsafe { libc::kill(pid, sig) }, "kill")
}

/// Ends the VM: a reboot request, which QEMU started with -no-reboot turns into an exit.
pub fn end_vm() -> ! {
    // SAFETY: sync and reboot take no pointers.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_AUTOBOOT);
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// Unloads a kernel module without waiting for its users (`rmmod`).
pub fn unload_module(name: &str) -> io::Result<()> {
    let name = cstr(name);
    // SAFETY: delete_module with a NUL-terminated name.
    let ret = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::status_code;

    #[test]
    fn status_code_is_shell_style() {
        assert_eq!(status_code(3 << 8), 3);
        assert_eq!(status_code(libc::SIGTERM), 143);
        assert_eq!(status_code(libc::SIGKILL), 137);
    }
}
