//! Test support for the runtime's integration tests: a simulator, a state root, the built binary
//! run against both, and the test process as child subreaper so that it reaps the monitor and
//! reads its exit status as a container engine's shim does.
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;

pub const BIN: &str = env!("CARGO_BIN_EXE_hybrid-runtime");

static SUBREAPER: Once = Once::new();

/// Variables the runtime reads that a test machine may have set: removed from every call.
const HOST_SETTINGS: &[&str] = &[
    "HYBRID_HOST_ROOT",
    "HYBRID_CORE",
    "HYBRID_BOARD",
    "MCU",
    "BOARD",
    "HYBRID_IMAGES",
    "HYBRID_IMAGE_MAX_SIZE",
];

/// What a command printed and how it ended.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Rt {
    pub root: PathBuf,
    pub work: PathBuf,
    pub sim: Sim,
}

impl Rt {
    /// A simulator started with `sim_args` and an empty state root.
    pub fn new(sim_args: &[&str]) -> Rt {
        SUBREAPER.call_once(|| {
            // SAFETY: prctl with integer arguments.
            let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
            assert_eq!(r, 0, "PR_SET_CHILD_SUBREAPER");
        });
        let sim = Sim::start(sim_args).expect("start the simulator (cargo build -p hybrid-sim)");
        let work = sim.path("work");
        std::fs::create_dir_all(&work).unwrap();
        Rt {
            root: sim.path("work/state"),
            work,
            sim,
        }
    }

    /// The runtime against this simulator and state root, with an environment that holds no
    /// selector or setting of the machine's (and no config file) plus `env`.
    fn command(&self, args: &[&str], env: &[(String, String)]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root")
            .arg(&self.root)
            .arg("--host-root")
            .arg(self.sim.root());
        c.args(args).current_dir(&self.work);
        for k in HOST_SETTINGS {
            c.env_remove(k);
        }
        c.env("HYBRID_CONFIG", self.work.join("no-config.json"));
        c.envs(env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Run a command that leaves no child behind (everything but a successful create).
    pub fn run(&self, args: &[&str]) -> Out {
        let o = self
            .command(args, &[])
            .stdin(Stdio::null())
            .output()
            .expect("run hybrid-runtime");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Run a command with `env` added and its stdio in files: a successful create leaves the
    /// monitor holding them, as an engine's fifos are held, so they cannot be pipes read to EOF.
    pub fn run_captured(&self, args: &[&str], env: &[(String, String)]) -> Out {
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let out = self.work.join(format!("cmd-{n}.out"));
        let err = self.work.join(format!("cmd-{n}.err"));
        let status = self
            .command(args, env)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .expect("run hybrid-runtime");
        Out {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    /// Run `create …` (stdio in files, see `run_captured`).
    pub fn create(&self, args: &[&str]) -> Out {
        let mut full = vec!["create"];
        full.extend_from_slice(args);
        self.run_captured(&full, &[])
    }

    /// Write `fw` as `work/<name>` and create container `id` from it; panics on failure.
    pub fn create_fw(&self, id: &str, name: &str, fw: &Firmware) -> i32 {
        let path = self.work.join(name);
        fw.write_to(&path).unwrap();
        let pid_file = self.work.join(format!("{id}.pid"));
        let o = self.create(&[
            "--pid-file",
            pid_file.to_str().unwrap(),
            path.to_str().unwrap(),
            id,
        ]);
        assert_eq!(o.code, 0, "create {id}: {}", o.stderr);
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(
            pid.bytes().all(|b| b.is_ascii_digit()),
            "pid file holds bare digits: {pid:?}"
        );
        pid.parse().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.code, 0, "{args:?} failed: {}", o.stderr);
        o.stdout
    }

    pub fn state(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["state", id])).unwrap()
    }

    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap().to_string()
    }

    pub fn annotation(&self, id: &str, key: &str) -> String {
        self.state(id)["annotations"][key]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    pub fn firmware_copy(&self, id: &str) -> PathBuf {
        self.sim.path("lib/firmware/hybrid-runtime").join(id)
    }

    pub fn claim(&self, n: u32) -> PathBuf {
        self.sim
            .path(&format!("run/hybrid-runtime/cores/remoteproc{n}"))
    }

    /// Nothing of container `id` is left, and core `n` is in `core_state`.
    pub fn assert_no_trace(&self, id: &str, n: u32, core_state: &str) {
        assert!(
            !self.state_dir(id).exists(),
            "state dir of {id} left behind"
        );
        assert!(
            !self.firmware_copy(id).exists(),
            "firmware copy of {id} left behind"
        );
        assert!(
            !self.claim(n).exists(),
            "claim on remoteproc{n} left behind"
        );
        assert_eq!(self.sim.state(n), core_state, "core state");
    }

    /// Poll `cond` every 2 ms for up to `ms`; returns how long it took.
    pub fn wait_for(&self, ms: u64, mut cond: impl FnMut() -> bool) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(ms) {
            if cond() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }
}

static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// How the monitor ended, as its parent (the subreaper) sees it: `Ok(code)` or `Err(signal)`.
pub fn reap(pid: i32) -> Result<i32, i32> {
    let mut status = 0;
    // SAFETY: waitpid on a process this test adopted as subreaper.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(
        r,
        pid,
        "waitpid({pid}): {}",
        std::io::Error::last_os_error()
    );
    let st = std::process::ExitStatus::from_raw(status);
    match st.signal() {
        Some(sig) => Err(sig),
        None => Ok(st.code().unwrap()),
    }
}

pub fn kill(pid: i32, sig: i32) {
    // SAFETY: plain kill(2).
    unsafe { libc::kill(pid, sig) };
}

/// An OCI bundle under `dir`: rootfs with `files`, config.json with `args0`, `annotations`, `env`.
pub fn bundle(dir: &Path, args0: &str, annotations: &[(&str, &str)], env: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    let ann: serde_json::Map<String, serde_json::Value> = annotations
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {"args": [args0], "cwd": "/", "env": env},
        "annotations": ann,
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    dir.to_path_buf()
}
