//! The only place with `unsafe`: thin wrappers over the libc calls std does not offer (flock,
//! fork, kill, ioctl, poll, signalfd, fifos, pipes), each returning errno-carrying errors.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

fn last() -> io::Error {
    io::Error::last_os_error()
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(last())
    } else {
        Ok(r)
    }
}

fn cstr(p: &Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The text of an errno, without the "(os error N)" suffix std adds.
pub fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 128];
    // SAFETY: buf is writable for its length; the XSI variant writes a NUL-terminated string.
    let r = unsafe { libc::strerror_r(errno, buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if r != 0 {
        return String::from("unknown error");
    }
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// flock(2); `nonblock` adds LOCK_NB (EWOULDBLOCK when held elsewhere).
pub fn flock(fd: &impl AsRawFd, exclusive: bool, nonblock: bool) -> io::Result<()> {
    let mut op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    if nonblock {
        op |= libc::LOCK_NB;
    }
    loop {
        // SAFETY: plain syscall on a valid descriptor.
        match cvt(unsafe { libc::flock(fd.as_raw_fd(), op) }) {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            r => return r.map(|_| ()),
        }
    }
}

pub enum Forked {
    Child,
    Parent(i32),
}

/// fork(2). The runtime is single-threaded when it forks.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the process has one thread; the child only runs Rust code of this program.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid)
    })
}

pub fn setsid() {
    // SAFETY: no memory involved; failure (already a group leader) is harmless.
    unsafe { libc::setsid() };
}

pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain syscall.
    cvt(unsafe { libc::kill(pid, sig) }).map(|_| ())
}

/// waitpid(2) without flags; returns the raw status.
pub fn waitpid(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        match cvt(unsafe { libc::waitpid(pid, &mut status, 0) }) {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            r => return r.map(|_| status),
        }
    }
}

/// ioctl with an `int` argument passed by pointer (both `_IOW` and `_IOR` shapes).
pub fn ioctl_int(fd: &impl AsRawFd, req: u64, val: &mut i32) -> io::Result<()> {
    // SAFETY: val points to a live i32, which is what both remoteproc ioctls read or write.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), req as _, val as *mut i32) }).map(|_| ())
}

/// poll(2) over (fd, events); fills revents. EINTR → Ok(0).
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: fds is a valid slice of pollfd.
    match cvt(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) }) {
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(0),
        r => r.map(|n| n as usize),
    }
}

pub fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// A pipe with both ends close-on-exec: (read, write).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn mkfifo(path: &Path) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated path.
    cvt(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }).map(|_| ())
}

/// Block `sigs` and return a signalfd (non-blocking, close-on-exec) that reports them.
pub fn signalfd(sigs: &[i32]) -> io::Result<OwnedFd> {
    // SAFETY: set is initialised by sigemptyset before use; pointers are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        cvt(libc::sigprocmask(
            libc::SIG_BLOCK,
            &set,
            std::ptr::null_mut(),
        ))?;
        let fd = cvt(libc::signalfd(
            -1,
            &set,
            libc::SFD_NONBLOCK | libc::SFD_CLOEXEC,
        ))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Read one pending signal number from a signalfd, if any.
pub fn signalfd_read(fd: &impl AsRawFd) -> Option<i32> {
    // SAFETY: info is a plain-old-data struct of the size the kernel writes.
    unsafe {
        let mut info: libc::signalfd_siginfo = std::mem::zeroed();
        let n = libc::read(
            fd.as_raw_fd(),
            &mut info as *mut _ as *mut libc::c_void,
            std::mem::size_of::<libc::signalfd_siginfo>(),
        );
        if n == std::mem::size_of::<libc::signalfd_siginfo>() as isize {
            Some(info.ssi_signo as i32)
        } else {
            None
        }
    }
}

pub fn ignore_sigpipe() {
    // SAFETY: installing SIG_IGN has no memory effects.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Die by `sig` with its default action, so that a waiting parent sees a signal death.
pub fn die_by_signal(sig: i32) -> ! {
    // SAFETY: restoring the default action, unblocking and raising are plain syscalls.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::_exit(128 + sig)
    }
}

/// Exit immediately without running destructors or flushing std buffers twice (after fork).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns.
    unsafe { libc::_exit(code) }
}

/// Put a terminal in raw mode (no echo, no line editing, no output processing), immediately.
pub fn tty_raw(fd: &impl AsRawFd) -> io::Result<()> {
    // SAFETY: t is initialised by tcgetattr before use; fd is a valid descriptor.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        cvt(libc::tcgetattr(fd.as_raw_fd(), &mut t))?;
        libc::cfmakeraw(&mut t);
        cvt(libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, &t)).map(|_| ())
    }
}

/// Longest rpmsg channel or endpoint name: `RPMSG_NAME_SIZE` (32) with its NUL.
pub const RPMSG_NAME_MAX: usize = 31;

/// `struct rpmsg_endpoint_info` of <linux/rpmsg.h>.
#[repr(C)]
struct RpmsgEndpointInfo {
    name: [u8; RPMSG_NAME_MAX + 1],
    src: u32,
    dst: u32,
}

/// RPMSG_CREATE_EPT_IOCTL = _IOW(0xb5, 0x1, struct rpmsg_endpoint_info).
const RPMSG_CREATE_EPT_IOCTL: u64 = 0x4028_b501;
/// RPMSG_DESTROY_EPT_IOCTL = _IO(0xb5, 0x2).
const RPMSG_DESTROY_EPT_IOCTL: u64 = 0xb502;

/// Ask an rpmsg control device (`/dev/rpmsg_ctrlN`) for a new endpoint device named `name`
/// from address `src` to the firmware's address `dst`. The name's type bounds it, so it always
/// fits the kernel's structure whole, with its NUL.
pub fn rpmsg_create_ept(
    ctrl: &impl AsRawFd,
    name: &heapless::String<RPMSG_NAME_MAX>,
    src: u32,
    dst: u32,
) -> io::Result<()> {
    let mut info = RpmsgEndpointInfo {
        name: [0; RPMSG_NAME_MAX + 1],
        src,
        dst,
    };
    info.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: info is a live struct with the layout the ioctl reads.
    cvt(unsafe { libc::ioctl(ctrl.as_raw_fd(), RPMSG_CREATE_EPT_IOCTL as _, &info) }).map(|_| ())
}

/// Remove the endpoint device open on `ept` (`/dev/rpmsgM`).
pub fn rpmsg_destroy_ept(ept: &impl AsRawFd) -> io::Result<()> {
    // SAFETY: the ioctl takes no argument.
    cvt(unsafe { libc::ioctl(ept.as_raw_fd(), RPMSG_DESTROY_EPT_IOCTL as _) }).map(|_| ())
}

/// A new pseudo-terminal: its master (close-on-exec) and the path of its slave.
pub fn open_pty() -> io::Result<(OwnedFd, String)> {
    // SAFETY: posix_openpt returns a new descriptor that nobody else owns.
    let fd = cvt(unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
    // SAFETY: fd was just created and is owned here only.
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut name = [0 as libc::c_char; 64];
    // SAFETY: master is a pty master; name is writable for its length and NUL-terminated on success.
    unsafe {
        cvt(libc::grantpt(fd))?;
        cvt(libc::unlockpt(fd))?;
        let r = libc::ptsname_r(fd, name.as_mut_ptr(), name.len());
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
    }
    let bytes: Vec<u8> = name
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    Ok((master, String::from_utf8_lossy(&bytes).into_owned()))
}

/// Send `fd` over a connected unix socket with SCM_RIGHTS, `payload` as the message (runc sends
/// the terminal's name this way).
pub fn send_fd(socket: &impl AsRawFd, payload: &[u8], fd: RawFd) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // Room for one cmsghdr carrying one int, 8-byte aligned.
    let mut control = [0u64; 4];
    // SAFETY: msg points to live buffers (iov, control) for the duration of sendmsg; the
    // control buffer is large enough for CMSG_SPACE(sizeof(int)) and suitably aligned.
    unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        let n = libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL);
        if n < 0 {
            return Err(last());
        }
    }
    Ok(())
}

/// Make `fd` the descriptor number `target` (dup2), e.g. a terminal as stdin/stdout/stderr.
pub fn dup_onto(fd: &impl AsRawFd, target: RawFd) -> io::Result<()> {
    // SAFETY: dup2 on descriptors; replacing `target` is the intent.
    cvt(unsafe { libc::dup2(fd.as_raw_fd(), target) }).map(|_| ())
}

/// The effective user id: who owns what this process creates.
pub fn euid() -> u32 {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// The command line as the C entry point received it (lossily decoded).
pub fn c_args(argc: i32, argv: *const *const libc::c_char) -> Vec<String> {
    let mut args = Vec::with_capacity(argc.max(0) as usize);
    for i in 0..argc.max(0) as usize {
        // SAFETY: the C runtime passes argc valid NUL-terminated strings in argv.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        args.push(arg.to_string_lossy().into_owned());
    }
    args
}

/// unshare(2): move this process into new namespaces of the kinds in `flags` (CLONE_NEW*).
pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: plain syscall with integer flags.
    cvt(unsafe { libc::unshare(flags) }).map(|_| ())
}

/// setns(2): join the namespace open on `ns` (e.g. `/proc/<pid>/ns/net`), of kind `nstype`.
pub fn setns(ns: &impl AsRawFd, nstype: i32) -> io::Result<()> {
    // SAFETY: plain syscall on a descriptor we hold.
    cvt(unsafe { libc::setns(ns.as_raw_fd(), nstype) }).map(|_| ())
}

/// Whether this process may write in `path` (faccessat with the effective ids); changes nothing.
pub fn can_write(path: &Path) -> io::Result<bool> {
    let c = cstr(path)?;
    // SAFETY: c is a valid NUL-terminated path; no memory is written.
    let r = unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) };
    if r == 0 {
        return Ok(true);
    }
    let e = last();
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EROFS) | Some(libc::EPERM) => Ok(false),
        _ => Err(e),
    }
}

/// Bytes available to this process on the filesystem holding `path` (statvfs).
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let c = cstr(path)?;
    // SAFETY: st is plain data written by statvfs; c is a valid NUL-terminated path.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        cvt(libc::statvfs(c.as_ptr(), &mut st))?;
        Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
    }
}

/// A program started by `spawn`, its stdin, stdout and stderr on pipes.
pub struct Spawned {
    pub pid: i32,
    pub stdin: std::fs::File,
    pub stdout: std::fs::File,
    pub stderr: std::fs::File,
}

/// Run `path` with `argv` (`argv[0]` included) and exactly the environment `env`
/// (`KEY=VALUE`), its stdio on new pipes. Fails with execve's errno when the program cannot be
/// run. Every other descriptor of this process is close-on-exec.
pub fn spawn(path: &Path, argv: &[String], env: &[String]) -> io::Result<Spawned> {
    fn c_strings(items: &[String]) -> io::Result<Vec<CString>> {
        items
            .iter()
            .map(|s| {
                CString::new(s.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
            })
            .collect()
    }
    // Everything the child needs is made before the fork: it only calls dup2, signal, execve,
    // write and _exit, which are safe between fork and exec.
    let program = cstr(path)?;
    let args = c_strings(argv)?;
    let vars = c_strings(env)?;
    let mut arg_ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    arg_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = vars.iter().map(|v| v.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());
    let (in_read, in_write) = pipe()?;
    let (out_read, out_write) = pipe()?;
    let (err_read, err_write) = pipe()?;
    // The child reports a failed execve here; a successful one closes it (close-on-exec).
    let (status_read, status_write) = pipe()?;
    // SAFETY: the child only runs async-signal-safe calls on memory prepared above, then
    // replaces itself (execve) or exits (_exit).
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: see above; descriptors are valid, the pointer arrays are NULL-terminated.
        unsafe {
            libc::dup2(in_read.as_raw_fd(), 0);
            libc::dup2(out_write.as_raw_fd(), 1);
            libc::dup2(err_write.as_raw_fd(), 2);
            // The runtime ignores SIGPIPE; the program gets the default back.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::execve(program.as_ptr(), arg_ptrs.as_ptr(), env_ptrs.as_ptr());
            let errno = *libc::__errno_location();
            let bytes = errno.to_ne_bytes();
            libc::write(status_write.as_raw_fd(), bytes.as_ptr().cast(), bytes.len());
            libc::_exit(127)
        }
    }
    drop((in_read, out_write, err_write, status_write));
    let mut errno = [0u8; 4];
    let mut status = std::fs::File::from(status_read);
    if io::Read::read_exact(&mut status, &mut errno).is_ok() {
        let _ = waitpid(pid);
        return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)));
    }
    Ok(Spawned {
        pid,
        stdin: std::fs::File::from(in_write),
        stdout: std::fs::File::from(out_read),
        stderr: std::fs::File::from(err_read),
    })
}

/// waitpid(2) with WNOHANG: the raw status once `pid` has ended, `None` while it runs.
pub fn try_wait(pid: i32) -> io::Result<Option<i32>> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        match cvt(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) }) {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Ok(0) => return Ok(None),
            r => return r.map(|_| Some(status)),
        }
    }
}
