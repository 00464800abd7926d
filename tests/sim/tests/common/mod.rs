//! Helpers shared by the simulator's tests: raw open/write/ioctl/poll with errno.
#![allow(dead_code)]
use hybrid_sim::harness::Sim;
use std::ffi::CString;
use std::time::{Duration, Instant};

pub const RPROC_SET_SHUTDOWN_ON_RELEASE: u64 = 0x4004_B701;
pub const RPROC_GET_SHUTDOWN_ON_RELEASE: u64 = 0x8004_B702;

/// The errno of a failed result (panics on success).
pub fn errno<T: std::fmt::Debug>(r: std::io::Result<T>) -> i32 {
    r.expect_err("expected an error")
        .raw_os_error()
        .expect("an OS error")
}

/// A raw file descriptor, closed on drop.
pub struct Fd(pub i32);

impl Fd {
    pub fn open(path: &std::path::Path, flags: i32) -> std::io::Result<Fd> {
        let c = CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: open(2) with a valid path.
        let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(Fd(fd))
        }
    }

    pub fn write(&self, data: &[u8]) -> std::io::Result<usize> {
        // SAFETY: write(2) from a valid buffer.
        let n = unsafe { libc::write(self.0, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    pub fn read(&self, size: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; size];
        // SAFETY: read(2) into a buffer of `size` bytes.
        let n = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), size) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// pread(2) of at most `size` bytes at `offset` (panics on error).
    pub fn pread(&self, size: usize, offset: i64) -> Vec<u8> {
        let mut buf = vec![0u8; size];
        // SAFETY: pread(2) into a buffer of `size` bytes.
        let n = unsafe { libc::pread(self.0, buf.as_mut_ptr().cast(), size, offset) };
        assert!(n >= 0, "pread: {}", std::io::Error::last_os_error());
        buf.truncate(n as usize);
        buf
    }

    pub fn ioctl_int(&self, cmd: u64, value: &mut i32) -> std::io::Result<i32> {
        // SAFETY: ioctl(2) with a pointer to a live i32.
        let r = unsafe { libc::ioctl(self.0, cmd as _, value as *mut i32) };
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    pub fn ioctl_buf(&self, cmd: u64, buf: &mut [u8]) -> std::io::Result<i32> {
        // SAFETY: ioctl(2) with a pointer to a live buffer of the ioctl's size.
        let r = unsafe { libc::ioctl(self.0, cmd as _, buf.as_mut_ptr()) };
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// poll(2) for `events`; returns revents (0 on timeout).
    pub fn poll(&self, events: i16, timeout_ms: i32) -> i16 {
        let mut p = libc::pollfd {
            fd: self.0,
            events,
            revents: 0,
        };
        // SAFETY: poll(2) on one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        assert!(r >= 0, "poll failed: {}", std::io::Error::last_os_error());
        p.revents
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: closing a descriptor we own.
        unsafe { libc::close(self.0) };
    }
}

/// Waits (5 s at most) until `f` holds; returns whether it did.
pub fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}

/// The kernel log as text lines (message part only).
pub fn kmsg_lines(sim: &Sim) -> Vec<String> {
    let fd = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY | libc::O_NONBLOCK).unwrap();
    let mut out = Vec::new();
    while let Ok(rec) = fd.read(8192) {
        let s = String::from_utf8_lossy(&rec).to_string();
        out.push(
            s.split_once(';')
                .map(|x| x.1)
                .unwrap_or("")
                .trim_end()
                .to_string(),
        );
    }
    out
}

pub const RP0: &str = "sys/class/remoteproc/remoteproc0";
