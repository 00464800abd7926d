//! `info` on the simulator in each configuration a board can be in: ready, and each thing that
//! can be missing (the character device, debugfs, the rpmsg drivers, a writable firmware
//! directory, any remote processor), a core the boot loader started, and the engines'
//! configuration. Each problem must be named with what to do, and only failures fail.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Firmware, Rt};

/// `info --format json`: the exit code and the checks by name.
fn info(rt: &Rt) -> (i32, serde_json::Value) {
    let o = rt.run(&["info", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("info printed no JSON ({e}): {}{}", o.stdout, o.stderr));
    (o.code, report)
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

/// Check `name` has `status`, and its detail and fix contain the given texts.
fn expect(report: &serde_json::Value, name: &str, status: &str, detail: &str, fix: &str) {
    let c = check(report, name);
    assert_eq!(c["status"], status, "{name}: {c}");
    let text = |k: &str| c[k].as_str().unwrap_or("").to_string();
    assert!(text("detail").contains(detail), "{name}: {c}");
    assert!(text("fix").contains(fix), "{name}: {c}");
}

#[test]
fn a_ready_board_passes_and_names_what_it_has() {
    let rt = Rt::new(&["--model", "Test Board"]);
    let (code, r) = info(&rt);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["failures"], 0, "{r}");
    expect(&r, "kernel", "ok", "Linux ", "");
    expect(
        &r,
        "board",
        "ok",
        "model \"Test Board\", compatible hybrid,sim-board",
        "",
    );
    expect(&r, "remoteproc0", "ok", "m4: offline", "");
    expect(&r, "remoteproc0", "ok", "guard /dev/remoteproc0", "");
    expect(&r, "debugfs", "ok", "", "");
    expect(&r, "rpmsg rpmsg_tty", "ok", "rpmsg_tty", "");
    expect(&r, "rpmsg rpmsg_char", "ok", "rpmsg_chrdev", "");
    expect(&r, "rpmsg rpmsg_ctrl", "ok", "rpmsg_ctrl", "");
    expect(&r, "firmware", "ok", "/lib/firmware/hybrid-runtime", "");
    expect(&r, "state", "ok", "", "");
    expect(&r, "images", "skip", "no image store", "");
    // The text form: one line per check, a summary, and the applet link.
    let link = rt.work.join("hybrid-info");
    std::os::unix::fs::symlink(common::BIN, &link).unwrap();
    let o = rt.output(&mut rt.command_of(&link, &[]));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("ok    remoteproc0"), "{}", o.stdout);
    assert!(o.stdout.contains("0 failed"), "{}", o.stdout);
}

#[test]
fn a_core_in_use_is_named_with_its_container() {
    let rt = Rt::new(&[]);
    rt.create_fw("busy", "fw.elf", &Firmware::new());
    let (_, r) = info(&rt);
    expect(&r, "remoteproc0", "ok", "used by container", "");
    rt.ok(&["delete", "--force", "busy"]);
}

#[test]
fn a_kernel_without_the_character_device_is_a_warning() {
    let rt = Rt::new(&["--processor", "name=m4;cdev=no"]);
    let (code, r) = info(&rt);
    assert_eq!(code, 0, "{r}");
    expect(
        &r,
        "remoteproc0",
        "warn",
        "no /dev/remoteproc0",
        "CONFIG_REMOTEPROC_CDEV",
    );
}

#[test]
fn debugfs_not_mounted_is_a_warning() {
    let rt = Rt::new(&["--no-debugfs"]);
    let (code, r) = info(&rt);
    assert_eq!(code, 0, "{r}");
    expect(
        &r,
        "debugfs",
        "warn",
        "not mounted",
        "mount -t debugfs none /sys/kernel/debug",
    );
}

#[test]
fn missing_rpmsg_drivers_name_their_kernel_options() {
    let rt = Rt::new(&["--rpmsg-drivers", "none"]);
    let (code, r) = info(&rt);
    assert_eq!(code, 0, "{r}");
    expect(&r, "rpmsg rpmsg_tty", "warn", "missing", "CONFIG_RPMSG_TTY");
    expect(
        &r,
        "rpmsg rpmsg_char",
        "warn",
        "missing",
        "CONFIG_RPMSG_CHAR",
    );
    expect(
        &r,
        "rpmsg rpmsg_ctrl",
        "warn",
        "missing",
        "CONFIG_RPMSG_CTRL",
    );
    // NXP's kernels bind their own tty driver.
    let nxp = Rt::new(&["--board", "imx8mp"]);
    let (_, r) = info(&nxp);
    expect(&r, "rpmsg rpmsg_tty", "ok", "imx_rpmsg_tty", "");
    expect(&r, "board", "ok", "NXP i.MX8MPlus EVK board", "");
}

#[test]
fn no_remote_processor_fails_and_says_which_kernel_options() {
    let rt = Rt::new(&["--no-remoteproc"]);
    let (code, r) = info(&rt);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["failures"], 1, "{r}");
    expect(
        &r,
        "remoteproc",
        "fail",
        "no remote processor",
        "CONFIG_REMOTEPROC",
    );
}

#[test]
fn a_core_the_boot_loader_started_is_flagged() {
    let rt = Rt::new(&["--board", "imx8mp", "--attached", "all"]);
    let (code, r) = info(&rt);
    assert_eq!(code, 0, "{r}");
    expect(
        &r,
        "remoteproc0",
        "warn",
        "started before Linux",
        "io.hybrid-runtime.if-running",
    );
}

/// A directory made read-only by a bind mount for the guard's life.
struct ReadOnly<'a>(&'a Path);

impl<'a> ReadOnly<'a> {
    fn new(dir: &'a Path) -> ReadOnly<'a> {
        let mount = |args: &[&str]| {
            let st = Command::new("mount")
                .args(args)
                .arg(dir)
                .arg(dir)
                .status()
                .unwrap();
            assert!(st.success(), "mount {args:?} {}", dir.display());
        };
        mount(&["--bind"]);
        let guard = ReadOnly(dir);
        let st = Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "remount read-only");
        guard
    }
}

impl Drop for ReadOnly<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_read_only_firmware_directory_fails_with_the_way_out() {
    let rt = Rt::new(&[]);
    let fw = rt.sim.path("lib/firmware");
    let _ro = ReadOnly::new(&fw);
    let (code, r) = info(&rt);
    assert_eq!(code, 1, "{r}");
    expect(
        &r,
        "firmware",
        "fail",
        "/lib/firmware is not writable",
        "firmware_class/parameters/path",
    );
}

#[test]
fn engines_configured_for_this_binary_or_another() {
    let rt = Rt::new(&[]);
    let etc = |rel: &str, text: String| {
        let path = rt.sim.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let me = std::fs::canonicalize(common::BIN).unwrap();
    etc(
        "etc/docker/daemon.json",
        serde_json::json!({"runtimes": {"hybrid": {"path": me}}}).to_string(),
    );
    let containerd = include_str!("../contrib/engines/containerd/config.toml");
    etc("etc/containerd/config.toml", containerd.to_string());
    let podman = include_str!("../contrib/engines/podman/containers.conf")
        .replace("/usr/bin/hybrid-runtime", me.to_str().unwrap());
    etc(
        "etc/containers/containers.conf.d/hybrid-runtime.conf",
        podman,
    );
    let (_, r) = info(&rt);
    expect(&r, "docker", "ok", "runtime hybrid →", "");
    expect(&r, "podman", "ok", "hybrid-runtime.conf", "");
    // The example points at /usr/bin/hybrid-runtime, which is not this binary here.
    expect(
        &r,
        "containerd",
        "warn",
        "/usr/bin/hybrid-runtime",
        "point it at",
    );
    expect(&r, "k3s", "skip", "not installed", "");
    etc("etc/docker/daemon.json", String::from("{}"));
    let (_, r) = info(&rt);
    expect(
        &r,
        "docker",
        "warn",
        "no runtime named hybrid",
        "daemon.json",
    );
}
