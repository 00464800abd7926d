//! Direct access to the kernel's remoteproc interfaces (sysfs, debugfs, the
//! character device) for setting up scenarios and checking what the runtime did.
use std::fs;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `_IOW(0xB7, 1, __s32)` and `_IOR(0xB7, 2, __s32)`.
/// The request type is the C library's (`unsigned long` in glibc, `int` in musl): same bits.
pub const RPROC_SET_SHUTDOWN_ON_RELEASE: libc::Ioctl = 0x4004_b701_u32 as libc::Ioctl;
pub const RPROC_GET_SHUTDOWN_ON_RELEASE: libc::Ioctl = 0x8004_b702_u32 as libc::Ioctl;

/// One remote processor, found by name under /sys/class/remoteproc.
#[derive(Clone, Debug)]
pub struct Core {
    pub dev: String,
}

impl Core {
    pub fn find(name: &str) -> io::Result<Core> {
        for entry in fs::read_dir("/sys/class/remoteproc")? {
            let dev = entry?.file_name().to_string_lossy().into_owned();
            let found = fs::read_to_string(format!("/sys/class/remoteproc/{dev}/name"))?;
            if found.trim() == name {
                return Ok(Core { dev });
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no remote processor named {name}"),
        ))
    }

    pub fn sys(&self, file: &str) -> PathBuf {
        PathBuf::from(format!("/sys/class/remoteproc/{}/{file}", self.dev))
    }

    pub fn debug(&self, file: &str) -> PathBuf {
        PathBuf::from(format!("/sys/kernel/debug/remoteproc/{}/{file}", self.dev))
    }

    pub fn cdev(&self) -> PathBuf {
        PathBuf::from(format!("/dev/{}", self.dev))
    }

    pub fn state(&self) -> String {
        fs::read_to_string(self.sys("state"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// One write(2) of `text` to a sysfs/debugfs file; the kernel's errno comes back.
    pub fn write(&self, path: PathBuf, text: &str) -> io::Result<()> {
        let mut f = fs::OpenOptions::new().write(true).open(&path)?;
        f.write_all(text.as_bytes())
    }

    pub fn set_state(&self, text: &str) -> io::Result<()> {
        self.write(self.sys("state"), text)
    }

    pub fn trace(&self) -> String {
        fs::read(self.debug("trace0"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits until `state` reads `want`; returns how long it took.
    pub fn wait_state(&self, want: &str, timeout: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let now = self.state();
            if now == want {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "{} is {now}, expected {want} within {timeout:?}",
                    self.dev
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Brings the core back to `offline` whatever a failed scenario left behind.
    pub fn reset(&self) {
        for _ in 0..8 {
            if self.state() == "offline" {
                break;
            }
            let _ = self.set_state("stop");
        }
        let _ = self.write(self.debug("recovery"), "disabled");
        // The shutdown-on-release flag belongs to the processor and outlives its setter.
        if let Ok(cdev) = Cdev::open(self) {
            let _ = cdev.set_shutdown_on_release(false);
        }
    }
}

/// An open /dev/remoteprocN.
pub struct Cdev {
    file: fs::File,
}

impl Cdev {
    pub fn open(core: &Core) -> io::Result<Cdev> {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(core.cdev())?;
        Ok(Cdev { file })
    }

    pub fn write(&mut self, text: &str) -> io::Result<()> {
        self.file.write_all(text.as_bytes())
    }

    pub fn set_shutdown_on_release(&self, on: bool) -> io::Result<()> {
        let value: i32 = on.into();
        // SAFETY: the ioctl reads one i32 from a valid pointer.
        let ret =
            unsafe { libc::ioctl(self.file.as_raw_fd(), RPROC_SET_SHUTDOWN_ON_RELEASE, &value) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn shutdown_on_release(&self) -> io::Result<bool> {
        let mut value: i32 = -1;
        // SAFETY: the ioctl writes one i32 to a valid pointer.
        let ret = unsafe {
            libc::ioctl(
                self.file.as_raw_fd(),
                RPROC_GET_SHUTDOWN_ON_RELEASE,
                &mut value,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(value != 0)
    }
}

/// The last kernel log lines containing `needle` (from /dev/kmsg, non-blocking).
pub fn kmsg_lines(needle: &str) -> Vec<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut out = Vec::new();
    let Ok(mut f) = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
    else {
        return out;
    };
    let mut buf = vec![0u8; 8192];
    while let Ok(n) = f.read(&mut buf) {
        if n == 0 {
            break;
        }
        let rec = String::from_utf8_lossy(&buf[..n]);
        if let Some((_, text)) = rec.split_once(';') {
            if text.contains(needle) {
                out.push(text.trim_end().to_string());
            }
        }
    }
    out
}
