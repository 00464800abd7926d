//! Test support for the runtime's integration tests: a simulator, a state root, the built binary
//! run against both with no setting of the machine's, the test process as child subreaper so that
//! it reaps the monitor and reads its exit status as a container engine's shim does, and a guard
//! that deletes every container a test leaves behind, also when it fails.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

pub use hybrid_sim::firmware::Firmware;
use hybrid_sim::harness::Sim;

pub const BIN: &str = env!("CARGO_BIN_EXE_hybrid-runtime");

static SUBREAPER: Once = Once::new();

/// Numbers the files that hold each command's output.
static COUNT: AtomicU32 = AtomicU32::new(0);

/// Variables the runtime reads that a test machine may have set: removed from every call.
const HOST_SETTINGS: &[&str] = &[
    "HYBRID_ROOT",
    "HYBRID_HOST_ROOT",
    "HYBRID_CORE",
    "HYBRID_BOARD",
    "MCU",
    "BOARD",
    "HYBRID_IMAGES",
    "HYBRID_IMAGE_MAX_SIZE",
];

/// How long the guard waits for one `delete --force` before it kills it.
const CLEANUP_LIMIT: Duration = Duration::from_secs(10);

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The command exited with `code` and its stderr says `message`.
    #[track_caller]
    pub fn fails_with(&self, code: i32, message: &str) {
        assert_eq!(self.code, code, "{}", self.stderr);
        assert!(self.stderr.contains(message), "{}", self.stderr);
    }
}

/// A simulator, a state root and a work directory. Dropped, it runs `delete --force` for every
/// container in its state roots before the simulator goes, so a failing or aborted test leaves
/// no monitor, state or running core behind.
pub struct Rt {
    pub root: PathBuf,
    pub work: PathBuf,
    /// The working directory of every command: `work` unless `in_dir` said otherwise.
    pub cwd: PathBuf,
    /// State roots besides `root` that commands were pointed at.
    other_roots: Mutex<Vec<PathBuf>>,
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
            cwd: work.clone(),
            work,
            other_roots: Mutex::new(Vec::new()),
            sim,
        }
    }

    /// Commands run in `dir` (created), as engines run them in the bundle.
    pub fn in_dir(mut self, dir: PathBuf) -> Rt {
        std::fs::create_dir_all(&dir).unwrap();
        self.cwd = dir;
        self
    }

    /// `program` (the runtime or a link to it) in `cwd` with no stdin and an environment that
    /// holds no selector or setting of the machine's and names no config file that exists.
    pub fn bare_command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.cwd).stdin(Stdio::null());
        for k in HOST_SETTINGS {
            c.env_remove(k);
        }
        c.env("HYBRID_CONFIG", self.work.join("no-config.json"));
        c
    }

    /// The runtime run as `program` against this simulator and state root.
    pub fn command_of(&self, program: impl AsRef<OsStr>, args: &[&str]) -> Command {
        let mut c = self.bare_command(program);
        c.arg("--root")
            .arg(&self.root)
            .arg("--host-root")
            .arg(self.sim.root())
            .args(args);
        c
    }

    /// The runtime against this simulator and state root.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(BIN, args)
    }

    /// The runtime against this simulator and another state root, whose containers the guard
    /// deletes too.
    pub fn command_in_root(&self, root: &Path, args: &[&str]) -> Command {
        self.guard_root(root);
        let mut c = self.bare_command(BIN);
        c.arg("--root")
            .arg(root)
            .arg("--host-root")
            .arg(self.sim.root())
            .args(args);
        c
    }

    /// Have the guard delete the containers under `root` too (a root a test names itself).
    pub fn guard_root(&self, root: &Path) {
        let mut roots = self.other_roots.lock().unwrap_or_else(|e| e.into_inner());
        if !roots.iter().any(|r| r == root) {
            roots.push(root.to_path_buf());
        }
    }

    /// Run `c` to its end with its stdout and stderr in files: a successful create leaves the
    /// monitor holding them, as an engine's fifos are held, so they cannot be pipes read to EOF.
    pub fn output(&self, c: &mut Command) -> Out {
        let (out, err) = self.output_files();
        let status = c
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .expect("run hybrid-runtime");
        collect(status.code().unwrap_or(-1), out, err)
    }

    /// `output`, but a command still running after `limit` is killed and reported as code -2.
    pub fn output_within(&self, c: &mut Command, limit: Duration) -> Out {
        let (out, err) = self.output_files();
        let mut child = c
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("run hybrid-runtime");
        let end = Instant::now() + limit;
        let code = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st.code().unwrap_or(-1);
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                break -2;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        collect(code, out, err)
    }

    /// Two fresh files for a command's stdout and stderr.
    pub fn output_files(&self) -> (PathBuf, PathBuf) {
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        (
            self.work.join(format!("cmd-{n}.out")),
            self.work.join(format!("cmd-{n}.err")),
        )
    }

    /// Run the runtime with `args`.
    pub fn run(&self, args: &[&str]) -> Out {
        self.output(&mut self.command(args))
    }

    /// Run the runtime with `args` and `env` added to its environment.
    pub fn run_env(&self, args: &[&str], env: &[(String, String)]) -> Out {
        let mut c = self.command(args);
        c.envs(env.iter().map(|(k, v)| (k, v)));
        self.output(&mut c)
    }

    /// Run `create …`.
    pub fn create(&self, args: &[&str]) -> Out {
        let mut full = vec!["create"];
        full.extend_from_slice(args);
        self.run(&full)
    }

    /// The pid file `create_pid` writes for container `id`.
    pub fn pid_file(&self, id: &str) -> PathBuf {
        self.cwd.join(format!("{id}.pid"))
    }

    /// `create --pid-file <cwd>/<id>.pid ARGS… ID`; panics on failure, returns the pid written,
    /// which must be bare digits.
    pub fn create_pid(&self, args: &[&str], id: &str) -> i32 {
        let pid_file = self.pid_file(id);
        let mut full = vec!["--pid-file", pid_file.to_str().unwrap()];
        full.extend_from_slice(args);
        full.push(id);
        let o = self.create(&full);
        assert_eq!(o.code, 0, "create {id}: {}", o.stderr);
        self.pid(id)
    }

    /// The pid in the pid file of container `id`, which must be bare digits.
    pub fn pid(&self, id: &str) -> i32 {
        let pid = std::fs::read_to_string(self.pid_file(id)).unwrap();
        assert!(
            pid.bytes().all(|b| b.is_ascii_digit()),
            "pid file holds bare digits: {pid:?}"
        );
        pid.parse().unwrap()
    }

    /// Write `fw` as `work/<name>` and create container `id` from it; panics on failure.
    pub fn create_fw(&self, id: &str, name: &str, fw: &Firmware) -> i32 {
        let path = self.work.join(name);
        fw.write_to(&path).unwrap();
        self.create_pid(&[path.to_str().unwrap()], id)
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

    /// Start core `n` through sysfs with a firmware of its own (other.elf), as someone else on
    /// the host would.
    pub fn start_through_sysfs(&self, n: u32) {
        self.sim.install_firmware("other.elf", &Firmware::new());
        let dir = format!("sys/class/remoteproc/remoteproc{n}");
        self.sim
            .write(&format!("{dir}/firmware"), "other.elf")
            .unwrap();
        self.sim.write(&format!("{dir}/state"), "start").unwrap();
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

impl Drop for Rt {
    /// `delete --force` every container left in the state roots this harness used, each bounded
    /// in time; the test's own outcome is left as it is.
    fn drop(&mut self) {
        let mut roots = vec![self.root.clone()];
        roots.append(
            self.other_roots
                .get_mut()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for root in roots {
            for id in names_in(&root) {
                eprintln!(
                    "test guard: delete --force {id} (left in {})",
                    root.display()
                );
                let mut c = self.command_in_root(&root, &["delete", "--force", &id]);
                self.output_within(&mut c, CLEANUP_LIMIT);
            }
        }
    }
}

/// The names in directory `dir`, sorted (none if it cannot be read).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What a command that ended with `code` printed into `out` and `err`; the files are removed.
pub fn collect(code: i32, out: PathBuf, err: PathBuf) -> Out {
    let o = Out {
        code,
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    };
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(err);
    keep_messages(&o.stderr);
    o
}

/// With `HYBRID_TEST_MESSAGES=DIR`, append the runtime's error lines (`hybrid-runtime: …`) to
/// `DIR/<test process id>`: `tests/docs/check` looks each up in docs/troubleshooting.md.
fn keep_messages(stderr: &str) {
    let Some(dir) = std::env::var_os("HYBRID_TEST_MESSAGES") else {
        return;
    };
    let lines: String = stderr
        .lines()
        .filter(|l| l.starts_with("hybrid-runtime: "))
        .map(|l| format!("{l}\n"))
        .collect();
    if lines.is_empty() {
        return;
    }
    let file = Path::new(&dir).join(std::process::id().to_string());
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        use std::io::Write;
        let _ = f.write_all(lines.as_bytes());
    }
}

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

/// Wait until the simulator shows that a write to `file` of core `n` is being held (its `hang`
/// control), and a moment more for the writer to be blocked in it.
pub fn wait_hung(rt: &Rt, n: u32, file: &str, ms: u32) {
    let want = format!("hang {file} {ms}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rt.sim.events(n).contains(&want) {
        assert!(Instant::now() < deadline, "no write to {file} was held");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(20));
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

/// A bundle under `dir` (see `bundle`) whose process is `fw`, written as rootfs/fw.elf.
pub fn fw_bundle(dir: &Path, fw: &Firmware, annotations: &[(&str, &str)], env: &[&str]) -> PathBuf {
    let b = bundle(dir, "/fw.elf", annotations, env);
    fw.write_to(&b.join("rootfs/fw.elf")).unwrap();
    b
}
