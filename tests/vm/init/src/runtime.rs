//! Running /bin/hybrid-runtime as an engine would: OCI bundles, commands with
//! a time bound, and the monitor process that stands for each container.
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hybrid_sim::firmware::Firmware;

pub const RUNTIME: &str = "/bin/hybrid-runtime";
pub const STATE_ROOT: &str = "/run/hybrid-vm";
/// The annotation that selects the core.
pub const CORE_KEY: &str = "io.hybrid-runtime.core";
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// What a runtime command did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Where stdout went: for `create`, the container's stdout that the monitor keeps writing.
    pub stdout_path: String,
}

impl Output {
    pub fn ok(&self) -> Result<&Self, String> {
        if self.code == 0 {
            Ok(self)
        } else {
            Err(format!("exit {}: {}", self.code, self.stderr.trim()))
        }
    }
}

/// Starts `hybrid-runtime --root STATE_ROOT ARGS…` with stdio on /dev/null.
pub fn spawn(args: &[&str]) -> std::io::Result<std::process::Child> {
    Command::new(RUNTIME)
        .arg("--root")
        .arg(STATE_ROOT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Runs `hybrid-runtime --root STATE_ROOT ARGS…`, its stdio captured in files
/// (a monitor forked by `create` inherits them, so pipes would never close).
pub fn run(args: &[&str]) -> Output {
    run_as(RUNTIME, args, &[])
}

/// Runs `PROGRAM --root STATE_ROOT ARGS…` with extra environment variables.
pub fn run_as(program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out_path = format!("/tmp/cmd-{n}.out");
    let err_path = format!("/tmp/cmd-{n}.err");
    let spawned = (|| {
        let out = fs::File::create(&out_path)?;
        let err = fs::File::create(&err_path)?;
        Command::new(program)
            .arg("--root")
            .arg(STATE_ROOT)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
    })();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Output {
                code: -1,
                stdout: String::new(),
                stderr: format!("cannot run {program}: {e}"),
                stdout_path: out_path,
            }
        }
    };
    let start = Instant::now();
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                break crate::system::status_code(std::os::unix::process::ExitStatusExt::into_raw(
                    status,
                ))
            }
            Ok(None) if start.elapsed() < COMMAND_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(2))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
        }
    };
    let read = |p: &str| fs::read_to_string(p).unwrap_or_default();
    let mut stderr = read(&err_path);
    if code == -1 {
        stderr.push_str(&format!(
            "\n`hybrid-runtime {}` did not finish within {COMMAND_TIMEOUT:?}",
            args.join(" ")
        ));
    }
    Output {
        code,
        stdout: read(&out_path),
        stderr,
        stdout_path: out_path,
    }
}

/// A bundle whose process is one firmware file, as an engine lays it out.
pub struct Bundle {
    pub id: String,
    pub dir: PathBuf,
}

impl Bundle {
    /// `firmware` None: the entry point names a file that does not exist.
    pub fn new(
        id: &str,
        firmware: Option<&[u8]>,
        annotations: &[(&str, &str)],
    ) -> Result<Bundle, String> {
        let dir = PathBuf::from(format!("/tmp/bundles/{id}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("rootfs")).map_err(|e| format!("bundle dir: {e}"))?;
        if let Some(bytes) = firmware {
            fs::write(dir.join("rootfs/fw.elf"), bytes)
                .map_err(|e| format!("bundle firmware: {e}"))?;
        }
        // Two cores in the VM: pick m4 unless the scenario chooses.
        let mut annotations = annotations.to_vec();
        if !annotations.iter().any(|(k, _)| *k == CORE_KEY) {
            annotations.push((CORE_KEY, "m4"));
        }
        // An empty value means: no such annotation.
        let annotations: Vec<String> = annotations
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("\"{k}\":\"{v}\""))
            .collect();
        let config = format!(
            "{{\"ociVersion\":\"1.0.2\",\"process\":{{\"args\":[\"fw.elf\"],\"cwd\":\"/\"}},\
             \"root\":{{\"path\":\"rootfs\"}},\"annotations\":{{{}}}}}",
            annotations.join(",")
        );
        fs::write(dir.join("config.json"), config).map_err(|e| format!("config.json: {e}"))?;
        Ok(Bundle {
            id: id.to_string(),
            dir,
        })
    }

    /// `create --bundle DIR --pid-file DIR/init.pid ID`.
    pub fn create(&self) -> Output {
        let dir = self.dir.to_string_lossy().into_owned();
        let pid_file = format!("{dir}/init.pid");
        run(&[
            "create",
            "--bundle",
            &dir,
            "--pid-file",
            &pid_file,
            &self.id,
        ])
    }

    /// The monitor's pid from the pid file (bare digits, no newline).
    pub fn monitor_pid(&self) -> Result<i32, String> {
        let text =
            fs::read_to_string(self.dir.join("init.pid")).map_err(|e| format!("pid file: {e}"))?;
        if text.ends_with('\n') || text.is_empty() {
            return Err(format!("pid file must hold bare digits, found {text:?}"));
        }
        text.parse().map_err(|_| format!("pid file holds {text:?}"))
    }

    /// The `status` field of `state ID`.
    pub fn status(&self) -> Result<String, String> {
        let out = run(&["state", &self.id]);
        out.ok()?;
        json_field(&out.stdout, "status")
            .ok_or_else(|| format!("no status in state output: {}", out.stdout.trim()))
    }

    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(format!("{STATE_ROOT}/{}", self.id))
    }
}

/// The string value of `"key"` in a flat JSON object (enough for `state` output).
pub fn json_field(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = json[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// The number value of `"key"` in a flat JSON object.
pub fn json_number(json: &str, key: &str) -> Option<i64> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = json[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '-')
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A firmware image with a trace buffer and the given behaviour script.
pub fn firmware(script: &str) -> Vec<u8> {
    Firmware::new()
        .with_trace(4096)
        .with_rpmsg()
        .script(script)
        .bytes()
}

/// Removes whatever a previous scenario left in the state root and the firmware directory.
pub fn clean() {
    let _ = fs::remove_dir_all(STATE_ROOT);
    let _ = fs::remove_dir_all("/lib/firmware/hybrid-runtime");
    let _ = fs::remove_dir_all("/run/hybrid-runtime");
}

#[cfg(test)]
mod tests {
    use super::{json_field, json_number};

    #[test]
    fn json_field_reads_flat_string_values() {
        let state = r#"{"ociVersion":"1.0.2","id":"life","status": "running","annotations":{"io.hybrid-runtime.guard":"cdev"}}"#;
        assert_eq!(json_field(state, "status").as_deref(), Some("running"));
        assert_eq!(
            json_field(state, "io.hybrid-runtime.guard").as_deref(),
            Some("cdev")
        );
        assert_eq!(json_field(state, "pid"), None);
        assert_eq!(
            json_number(r#"{"status":"running","pid": 42,"x":1}"#, "pid"),
            Some(42)
        );
    }
}
