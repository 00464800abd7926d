//! The simulator's process lifecycle: ready line, clean teardown by the guard,
//! stale mounts cleared, exit when its parent dies, bad arguments refused.
mod common;
use common::*;
use hybrid_sim::harness::Sim;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_hybrid-sim");

fn mounted_below(root: &Path) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(root))
        .count()
}

#[test]
fn guard_unmounts_and_removes_its_root() {
    let sim = Sim::start(&[]).unwrap();
    let root = sim.root().to_path_buf();
    assert_eq!(mounted_below(&root), 3);
    assert!(sim.path("lib/firmware").is_dir());
    drop(sim);
    assert_eq!(mounted_below(&root), 0);
    assert!(!root.exists());
}

#[test]
fn guard_cleans_up_while_a_file_is_held_open() {
    let sim = Sim::start(&[]).unwrap();
    let root = sim.root().to_path_buf();
    let held = Fd::open(&sim.path("dev/kmsg"), libc::O_RDONLY).unwrap();
    drop(sim);
    assert_eq!(mounted_below(&root), 0);
    drop(held);
}

#[test]
fn stale_mounts_are_cleared_and_the_parent_is_followed() {
    let root = std::env::temp_dir().join(format!("hybrid-sim-stale-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    // A simulator killed with SIGKILL leaves its mounts behind.
    let mut first = Command::new(BIN)
        .arg("--root")
        .arg(&root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(first.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("hybrid-sim: ready {}", root.display()));
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(mounted_below(&root), 3);
    // The next one mounts over them; its parent (a shell) then dies.
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{BIN} --root {} --exit-with-parent & sleep 60",
            root.display()
        ))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The stale mounts are replaced by live ones (sys, dev, sim in turn).
    assert!(eventually(|| mounted_below(&root) == 3
        && std::fs::read_to_string(root.join("sim/remoteproc0/power"))
            .is_ok_and(|s| s == "0\n")));
    assert_eq!(
        std::fs::read_to_string(root.join("sys/class/remoteproc/remoteproc0/state")).unwrap(),
        "offline\n"
    );
    shell.kill().unwrap();
    shell.wait().unwrap();
    assert!(eventually(|| mounted_below(&root) == 0));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        vec!["--kernel", "4.19", "--root", "/nonexistent-root"],
        vec![
            "--processor",
            "state=attached",
            "--root",
            "/nonexistent-root",
        ],
        vec![
            "--processor",
            "name=m4;state=sleeping",
            "--root",
            "/nonexistent-root",
        ],
        vec!["--frobnicate"],
        vec![],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("hybrid-sim: "),
            "{args:?}"
        );
    }
    assert!(!Path::new("/nonexistent-root").exists());
}
