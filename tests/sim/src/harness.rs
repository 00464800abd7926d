//! `Sim`: runs `hybrid-sim` on a fresh temporary root for one test and tears it
//! down (SIGTERM, wait, verify unmounted, remove the root) when dropped, also
//! when the test panics. The first start in a process also clears the roots
//! and stale mounts of test processes that were killed before their guards ran.
use crate::firmware::Firmware;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Once};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SWEEP: Once = Once::new();

/// Mount points listed in /proc/self/mountinfo.
fn mount_points() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .collect()
}

fn detach(path: &Path) {
    if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
        // SAFETY: umount2 with a valid C string.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// The test process that made temp root `name` (`hybrid-sim-<pid>-<n>`), if
/// it is gone.
fn dead_owner(name: &str) -> bool {
    name.strip_prefix("hybrid-sim-")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(pid, n)| Some((pid.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
        .is_some_and(|(pid, _)| !Path::new(&format!("/proc/{pid}")).exists())
}

/// Clears what test processes killed before their guards ran left behind:
/// their mounts (stale after a SIGKILL) and their temporary roots.
fn sweep_stale_roots() {
    let tmp = std::env::temp_dir();
    let owned_by_dead = |p: &Path| {
        p.strip_prefix(&tmp)
            .ok()
            .and_then(|r| r.components().next())
            .is_some_and(|c| dead_owner(&c.as_os_str().to_string_lossy()))
    };
    for m in mount_points().iter().filter(|m| owned_by_dead(m)) {
        detach(m);
    }
    let mounted = mount_points();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let path = entry.path();
        if owned_by_dead(&path) && !mounted.iter().any(|m| m.starts_with(&path)) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// A running simulator and its temporary root.
pub struct Sim {
    child: Child,
    root: PathBuf,
}

fn sim_binary() -> std::io::Result<PathBuf> {
    if let Some(p) = std::env::var_os("HYBRID_SIM_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    Ok(dir.join("hybrid-sim"))
}

impl Sim {
    /// Starts `hybrid-sim --root <temp> ARGS…` and waits (10 s at most) for its
    /// ready line.
    pub fn start(args: &[&str]) -> std::io::Result<Sim> {
        SWEEP.call_once(sweep_stale_roots);
        let bin = sim_binary()?;
        if !bin.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "simulator binary {} not found: build it with `cargo build -p hybrid-sim` \
                     or point HYBRID_SIM_BIN at it",
                    bin.display()
                ),
            ));
        }
        let root = std::env::temp_dir().join(format!(
            "hybrid-sim-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&root)?;
        let mut child = Command::new(&bin)
            .arg("--root")
            .arg(&root)
            .arg("--exit-with-parent")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout was piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            // Keep draining so the simulator never blocks on a full pipe.
            for _ in lines {}
        });
        let sim = Sim { child, root };
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(Ok(line))) if line.starts_with("hybrid-sim: ready") => Ok(sim),
            Ok(other) => Err(std::io::Error::other(format!(
                "hybrid-sim did not report ready (got {other:?}); see its stderr"
            ))),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "hybrid-sim did not report ready within 10 s",
            )),
        }
    }

    /// The temporary root the simulator serves.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads a whole file below the root.
    pub fn read(&self, rel: &str) -> std::io::Result<String> {
        std::fs::read_to_string(self.path(rel))
    }

    /// Writes `data` with a single `write()`, so the errno is the simulator's.
    pub fn write(&self, rel: &str, data: &str) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.path(rel))?;
        let n = f.write(data.as_bytes())?;
        if n != data.len() {
            return Err(std::io::Error::other(format!(
                "short write to {rel}: {n} of {}",
                data.len()
            )));
        }
        Ok(())
    }

    /// `sys/class/remoteproc/remoteprocN/state`, trimmed (empty on error).
    pub fn state(&self, n: u32) -> String {
        self.read(&format!("sys/class/remoteproc/remoteproc{n}/state"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The simulator's event log of core N, one entry per line.
    pub fn events(&self, n: u32) -> Vec<String> {
        self.read(&format!("sim/remoteproc{n}/events"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Power references held on core N.
    pub fn power(&self, n: u32) -> u32 {
        self.read(&format!("sim/remoteproc{n}/power"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Writes `fw` to `lib/firmware/<rel_name>` (creating sub-directories).
    pub fn install_firmware(&self, rel_name: &str, fw: &Firmware) -> PathBuf {
        let path = self.root.join("lib/firmware").join(rel_name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create firmware directory");
        }
        fw.write_to(&path).expect("write firmware");
        path
    }

    fn mounts_below_root(&self) -> Vec<PathBuf> {
        mount_points()
            .into_iter()
            .filter(|p| p.starts_with(&self.root))
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let stale = self.mounts_below_root();
        for m in &stale {
            detach(m);
        }
        if self.mounts_below_root().is_empty() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
        if !stale.is_empty() && !std::thread::panicking() {
            panic!("hybrid-sim left mounts behind: {stale:?}");
        }
    }
}
