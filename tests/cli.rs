//! The command line as engines and users write it: runc's `--opt=value` form everywhere, an id
//! that argh would take for a word of its own (`help`), help where the global options end, and
//! the state root of an ordinary user.

mod common;

use std::os::unix::process::CommandExt;

use common::{fw_bundle, Firmware, Rt};

#[test]
fn inline_option_values_are_accepted_everywhere() {
    let rt = Rt::new(&[]);
    let b = fw_bundle(&rt.work.join("b"), &Firmware::new(), &[], &[]);
    let pid_file = rt.work.join("c.pid");
    let o = rt.run(&[
        "create",
        &format!("--bundle={}", b.display()),
        &format!("--pid-file={}", pid_file.display()),
        "c",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // containerd's go-runc asks for the list this way.
    let list = rt.ok(&["list", "--format=json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v[0]["id"], "c");
    assert_eq!(v[0]["status"], "created");
    let ps = rt.ok(&["ps", "--format=json", "c"]);
    let pids: Vec<i32> = serde_json::from_str(&ps).unwrap();
    assert_eq!(pids.len(), 1);
    // The global options take the same form.
    let mut c = rt.bare_command(common::BIN);
    c.arg(format!("--root={}", rt.root.display()))
        .arg(format!("--host-root={}", rt.sim.root().display()))
        .args(["state", "c"]);
    let o = rt.output(&mut c);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("\"created\""), "{}", o.stdout);
    // A value after `--` is a positional, never split.
    let o = rt.run(&["kill", "--", "--x=y"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("invalid container id"), "{}", o.stderr);
    rt.ok(&["delete", "--force", "c"]);
}

#[test]
fn a_container_may_be_named_help() {
    let rt = Rt::new(&[]);
    let b = fw_bundle(&rt.work.join("b"), &Firmware::new(), &[], &[]);
    let o = rt.run(&["create", "--bundle", b.to_str().unwrap(), "help"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        !o.stdout.contains("Usage"),
        "create printed help: {}",
        o.stdout
    );
    assert_eq!(rt.status("help"), "created");
    rt.ok(&["start", "help"]);
    assert_eq!(rt.status("help"), "running");
    rt.ok(&["kill", "help", "KILL"]);
    rt.ok(&["delete", "help"]);
    assert!(!rt.state_dir("help").exists());
    // `--help` and `-h` still print a command's help, and change nothing.
    for flag in ["--help", "-h"] {
        let o = rt.run(&["create", flag]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(
            o.stdout.starts_with("Usage: hybrid-runtime create"),
            "{}",
            o.stdout
        );
    }
    assert!(common::names_in(&rt.root).is_empty());
}

#[test]
fn help_after_the_global_options() {
    let rt = Rt::new(&[]);
    let o = rt.run(&["--help"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Global options:"), "{}", o.stdout);
    assert!(o.stdout.contains("  create"), "{}", o.stdout);
    // An applet link with global options before its help.
    let link = rt.work.join("hybrid-state");
    std::os::unix::fs::symlink(common::BIN, &link).unwrap();
    let mut c = rt.command_of(&link, &["--help"]);
    let o = rt.output(&mut c);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.starts_with("Usage: hybrid-runtime state"),
        "{}",
        o.stdout
    );
}

#[test]
fn command_line_errors_exit_2_with_argh_messages() {
    let rt = Rt::new(&[]);
    let o = rt.run(&["list", "--format"]);
    o.fails_with(2, "No value provided for option '--format'");
    let o = rt.run(&["list", "--format=yaml"]);
    o.fails_with(2, "unknown format yaml");
    let o = rt.run(&["logs", "--tail", "many", "x"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("Error parsing option '--tail' with value 'many'"),
        "{}",
        o.stderr
    );
    let o = rt.run(&["start"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("Required positional arguments not provided"),
        "{}",
        o.stderr
    );
    let o = rt.run(&["--log-format", "xml", "list"]);
    o.fails_with(2, "unknown --log-format xml");
}

/// An ordinary user (nobody) with a runtime directory of its own.
fn as_nobody(rt: &Rt, args: &[&str]) -> common::Out {
    let xdg = rt.work.join("xdg-nobody");
    std::fs::create_dir_all(&xdg).unwrap();
    std::os::unix::fs::chown(&xdg, Some(65534), Some(65534)).unwrap();
    let mut c = rt.bare_command(common::BIN);
    c.env("XDG_RUNTIME_DIR", &xdg)
        .arg("--host-root")
        .arg(rt.sim.root())
        .args(args)
        .uid(65534)
        .gid(65534);
    // The files that keep the output are made by root: let nobody write them.
    let (out, err) = rt.output_files();
    for f in [&out, &err] {
        std::fs::File::create(f).unwrap();
        std::os::unix::fs::chown(f, Some(65534), Some(65534)).unwrap();
    }
    let status = c
        .stdout(std::fs::OpenOptions::new().write(true).open(&out).unwrap())
        .stderr(std::fs::OpenOptions::new().write(true).open(&err).unwrap())
        .status()
        .unwrap();
    common::collect(status.code().unwrap_or(-1), out, err)
}

#[test]
fn an_ordinary_user_keeps_state_in_its_runtime_dir_and_is_told_root_is_needed() {
    let rt = Rt::new(&[]);
    // The work tree is root's: let nobody reach the firmware it is given.
    let fwdir = rt.work.join("nobody-fw");
    std::fs::create_dir_all(&fwdir).unwrap();
    Firmware::new().write_to(&fwdir.join("fw.elf")).unwrap();
    for d in [&rt.work, &fwdir] {
        let mut perms = std::fs::metadata(d).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(d, perms).unwrap();
    }
    let o = as_nobody(&rt, &["list"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = as_nobody(
        &rt,
        &["create", fwdir.join("fw.elf").to_str().unwrap(), "mine"],
    );
    o.fails_with(1, "needs root");
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    // Nothing is left, and the state went to the user's runtime directory, not /run.
    let state = rt.work.join("xdg-nobody/hybrid-runtime");
    assert!(
        common::names_in(&state).is_empty(),
        "{:?}",
        common::names_in(&state)
    );
    assert_eq!(rt.sim.state(0), "offline");
}
