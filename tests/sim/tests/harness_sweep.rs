//! The guard clears what killed test processes left behind (its own test
//! binary: the sweep runs once per process).
use hybrid_sim::harness::Sim;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn mounts_below(root: &std::path::Path) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| std::path::Path::new(p).starts_with(root))
        .count()
}

#[test]
fn stale_roots_of_dead_test_processes_are_cleared() {
    // A process id that no longer exists stands for a killed test process.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let root = std::env::temp_dir().join(format!("hybrid-sim-{dead}-0"));
    std::fs::create_dir_all(&root).unwrap();
    let mut orphan = Command::new(env!("CARGO_BIN_EXE_hybrid-sim"))
        .arg("--root")
        .arg(&root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(orphan.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    orphan.kill().unwrap();
    orphan.wait().unwrap();
    assert_eq!(mounts_below(&root), 3, "SIGKILL leaves stale mounts");
    let sim = Sim::start(&[]).unwrap();
    assert_eq!(mounts_below(&root), 0);
    assert!(!root.exists());
    assert_eq!(sim.state(0), "offline");
}
